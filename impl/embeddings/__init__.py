"""Text embeddings computed locally, and approximate nearest-neighbour search over them.

`model` loads the embedding model shipped inside the `wordllama` wheel (no
network, ever) once per process; `index` keeps unit vectors in a usearch HNSW graph (half
precision) and answers top-k by cosine similarity. Third-party libraries only.
"""

from __future__ import annotations

from .index import VectorIndex
from .model import DIMENSIONS, MODEL_NAME, Embedder, from_bytes, load_embedder, product_text, text_sha256, to_bytes

__all__ = [
    "DIMENSIONS",
    "MODEL_NAME",
    "Embedder",
    "VectorIndex",
    "from_bytes",
    "load_embedder",
    "product_text",
    "text_sha256",
    "to_bytes",
]
