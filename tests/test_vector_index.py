"""The approximate nearest-neighbour index behind smart search, against exact search over the same vectors.

Recall@5 on the labelled set (tests/eval/smart_search.json) must be within 0.02 of exact search's, and on
20,000 real embeddings of generated product texts the index's top 5 must agree with the exact top 5 for
at least 98% of the results. The index must also stay coherent through puts, replacements, removals and
the merges of its id maps (tests/test_ai.py covers the same through HTTP, on a small catalog).
"""

from __future__ import annotations

import json
import random
import uuid
from pathlib import Path

import numpy as np
import pytest

import impl.embeddings.index as index_module
from impl.embeddings import load_embedder, product_text
from impl.embeddings.index import VectorIndex, Vectors

LABELLED = json.loads((Path(__file__).parent / "eval" / "smart_search.json").read_text())
K = 5


def exact_top(matrix: Vectors, keys: list[uuid.UUID], query: Vectors, k: int) -> list[uuid.UUID]:
    scores = matrix @ query
    return [keys[row] for row in np.argsort(-scores, kind="stable")[:k]]


def index_of(keys: list[uuid.UUID], matrix: Vectors, quantization: str = "f16") -> VectorIndex:
    index = VectorIndex(matrix.shape[1], quantization=quantization)
    index.add_many(keys, matrix)
    return index


@pytest.mark.parametrize("quantization", ["f16", "i8"])
def test_recall_at_5_on_the_labelled_set_is_within_0_02_of_exact_search(quantization: str) -> None:
    embedder = load_embedder()
    products = LABELLED["products"]
    keys = [uuid.uuid4() for _ in products]
    sku_of = dict(zip(keys, (product["sku"] for product in products), strict=True))
    matrix = embedder.embed([product_text(p["name"], p.get("category"), p.get("description")) for p in products])
    index = index_of(keys, matrix, quantization)
    exact_recall, ann_recall = [], []
    for query in LABELLED["queries"]:
        vector = embedder.embed_one(query["q"])
        relevant = set(query["relevant"])
        exact = {sku_of[key] for key in exact_top(matrix, keys, vector, K)}
        found = {sku_of[key] for key, _ in index.nearest(vector, K)}
        exact_recall.append(len(exact & relevant) / len(relevant))
        ann_recall.append(len(found & relevant) / len(relevant))
    exact_mean, ann_mean = float(np.mean(exact_recall)), float(np.mean(ann_recall))
    assert exact_mean >= 0.7, exact_mean  # the model itself still finds by meaning
    assert ann_mean >= exact_mean - 0.02, (ann_mean, exact_mean)


ADJECTIVES = ["compact", "portable", "wireless", "stainless", "insulated", "ergonomic", "waterproof", "vintage"]
NOUNS = ["lamp", "bottle", "chair", "headphones", "jacket", "tent", "knife", "speaker", "blanket", "drill", "kettle"]
CATEGORIES = ["Home", "Kitchen", "Outdoors", "Electronics", "Office", "Sports", "Garden", "Tools", "Toys", "Beauty"]
WORDS = ["keeps", "warm", "light", "quiet", "durable", "easy", "clean", "fast", "strong", "soft", "travel", "gift"]
MATERIALS = ["oak", "steel", "wool", "bamboo", "glass", "leather", "linen", "ceramic", "copper", "cotton"]


def generated_texts(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    texts = []
    for number in range(count):
        name = f"{rng.choice(ADJECTIVES)} {rng.choice(MATERIALS)} {rng.choice(NOUNS)} {number}"
        description = " ".join(rng.choices(WORDS + MATERIALS, k=10))
        texts.append(product_text(name, rng.choice(CATEGORIES), description))
    return texts


def test_top_5_agrees_with_exact_search_on_20000_product_embeddings() -> None:
    embedder = load_embedder()
    matrix = embedder.embed(generated_texts(20_000, seed=1))
    keys = [uuid.uuid4() for _ in range(len(matrix))]
    index = index_of(keys, matrix)
    queries = embedder.embed(generated_texts(300, seed=2))
    overlap = [
        len(set(exact_top(matrix, keys, query, K)) & {key for key, _ in index.nearest(query, K)}) / K
        for query in queries
    ]
    assert float(np.mean(overlap)) >= 0.98, float(np.mean(overlap))


SCORE_ERROR = {"f16": 1e-3, "i8": 0.02}  # how far a score may be from the exact cosine, 16 dimensions


def unit(rng: np.random.Generator, dimensions: int) -> Vectors:
    vector = rng.standard_normal(dimensions).astype(np.float32)
    result: Vectors = vector / np.linalg.norm(vector)
    return result


@pytest.mark.parametrize("quantization", ["f16", "i8"])
def test_puts_replacements_and_removals_keep_the_index_equal_to_what_was_written(
    monkeypatch: pytest.MonkeyPatch, quantization: str
) -> None:
    monkeypatch.setattr(index_module, "_MERGE_AT", 40)  # many merges of the id maps in a short run
    rng = np.random.default_rng(5)
    choose = random.Random(5)
    # ids ending and starting in zero bytes: numpy's fixed-width bytes drop trailing zeros
    ids = [uuid.uuid4() for _ in range(200)] + [uuid.UUID(bytes=bytes(15) + b"\1"), uuid.UUID(bytes=b"\1" + bytes(15))]
    index = VectorIndex(16, quantization=quantization)
    written: dict[uuid.UUID, Vectors] = {}
    for _ in range(2_000):
        key, roll = choose.choice(ids), choose.random()
        if roll < 0.55:
            written[key] = unit(rng, 16)
            index.put(key, written[key])
        elif roll < 0.8:
            index.remove(key)
            written.pop(key, None)
        else:
            batch = choose.sample(ids, 15)
            vectors = np.stack([unit(rng, 16) for _ in batch])
            index.add_many(batch, vectors)
            written.update(zip(batch, vectors, strict=True))
        assert len(index) == len(written)
    for key in ids:
        assert (key in index) == (key in written)
        stored = index.vector(key)
        if key in written:
            assert stored is not None
            assert float(stored @ written[key]) > 0.999
        else:
            assert stored is None
    keys = list(written)
    matrix = np.stack([written[key] for key in keys])
    query = unit(rng, 16)
    excluded = keys[:3]
    found = index.nearest(query, 10, exclude=excluded)
    expected = [key for key in exact_top(matrix, keys, query, 13) if key not in excluded][:10]
    if quantization == "f16":
        assert [key for key, _ in found] == expected
    else:  # 8 bits swap near-ties: every key found is within rounding of the exact tenth best
        exact = {key: float(written[key] @ query) for key in keys}
        assert len(found) == 10
        assert all(exact[key] >= exact[expected[-1]] - SCORE_ERROR[quantization] for key, _ in found)
        assert not {key for key, _ in found} & set(excluded)
    scores = [score for _, score in found]
    assert scores == sorted(scores, reverse=True)
    assert scores[0] == pytest.approx(float(np.max(matrix @ query)), abs=SCORE_ERROR[quantization])
    assert len(index.nearest(query, 10_000)) == len(written)
    assert index.nearest(query, 0) == []
    assert VectorIndex(16).nearest(query, 5) == []
