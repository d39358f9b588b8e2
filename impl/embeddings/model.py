"""The embedding model: WordLlama `l2_supercat` truncated to 128 dimensions, from the files its wheel ships.

WordLlama is a static model (a token embedding table pooled over the text), so
embedding a product is a tokenization and an average: tens of microseconds, on
the event loop's thread if need be. `WordLlama.load()` would look for its
tokenizer in a folder the wheel does not have and fall back to downloading it;
here both files are read from the installed package directly, so nothing is
ever fetched.

The wheel's table has 256 dimensions, trained Matryoshka-style so that a prefix
is a model of its own (WordLlama's `trunc_dim`). The first 128 found as much on
the labelled set (recall@5 0.94 against 0.93) at half the memory and half the
search time (README, "Smart search and recommendations").
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

MODEL_NAME = "wordllama-l2_supercat-128"
DIMENSIONS = 128
_CONFIG = "l2_supercat"
_SHIPPED_DIMENSIONS = 256
BATCH_SIZE = 256

Vectors = npt.NDArray[np.float32]


class Embedder:
    """Turns texts into unit-length float32 vectors (so a dot product is the cosine similarity)."""

    name = MODEL_NAME
    dimensions = DIMENSIONS

    def __init__(self, inference: Any) -> None:
        self._inference = inference

    def embed(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        vectors = np.asarray(self._inference.embed(list(texts), norm=False, batch_size=BATCH_SIZE), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        norms[norms == 0] = 1.0  # a text of no known token: the zero vector, similar to nothing
        unit: Vectors = vectors / norms
        return unit

    def embed_one(self, text: str) -> Vectors:
        vector: Vectors = self.embed([text])[0]
        return vector


_lock = threading.Lock()
_loaded: Embedder | None = None


def load_embedder() -> Embedder:
    """The process's one model, loaded on first use (about a second; later calls return it at once)."""
    global _loaded
    with _lock:
        if _loaded is None:
            _loaded = Embedder(_load_inference())
        return _loaded


def _load_inference() -> Any:
    import wordllama
    from safetensors import safe_open
    from tokenizers import Tokenizer
    from wordllama.inference import WordLlamaInference

    root = Path(wordllama.__file__).parent
    tokenizer = Tokenizer.from_file(str(root / "tokenizers" / f"{_CONFIG}_tokenizer_config.json"))
    with safe_open(str(root / "weights" / f"{_CONFIG}_{_SHIPPED_DIMENSIONS}.safetensors"), framework="np") as weights:
        table = weights.get_tensor("embedding.weight")
    return WordLlamaInference(np.ascontiguousarray(table[:, :DIMENSIONS]), tokenizer)


def product_text(name: str, category: str | None, description: str | None) -> str:
    """What a product is embedded from: its name, category and description."""
    parts = [name]
    if category:
        parts.append(category)
    if description:
        parts.append(description)
    return ". ".join(parts)


def text_sha256(text: str) -> str:
    """What a stored vector records of the text it was made from."""
    return hashlib.sha256(text.encode()).hexdigest()


def to_bytes(vector: Vectors) -> bytes:
    """A vector as stored in the database: little-endian float32."""
    return np.asarray(vector, dtype="<f4").tobytes()


def from_bytes(data: bytes) -> Vectors | None:
    """A stored vector, or None when it is not one of this model's (another size)."""
    if len(data) != DIMENSIONS * 4:
        return None
    vector: Vectors = np.frombuffer(data, dtype="<f4").astype(np.float32)
    return vector
