"""Exact nearest neighbours by cosine similarity over one in-process float32 matrix.

Rows are unit vectors, so a query is one matrix-vector product and a partial
sort, bound by memory bandwidth: 100,000 products of 128 dimensions are 51 MB
(figures in the README, "Smart search and recommendations"). Not thread-safe:
one event loop owns it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Generic, TypeVar

import numpy as np
import numpy.typing as npt

K = TypeVar("K")
Vectors = npt.NDArray[np.float32]
_MIN_CAPACITY = 1024


class VectorIndex(Generic[K]):
    def __init__(self, dimensions: int) -> None:
        self.dimensions = dimensions
        self._keys: list[K] = []
        self._rows: dict[K, int] = {}
        self._matrix: Vectors = np.zeros((_MIN_CAPACITY, dimensions), dtype=np.float32)

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, key: object) -> bool:
        return key in self._rows

    def replace_all(self, keys: Sequence[K], vectors: Vectors) -> None:
        """Everything at once (a load): `vectors[i]` is the vector of `keys[i]`."""
        capacity = max(_MIN_CAPACITY, len(keys) * 2)
        matrix = np.zeros((capacity, self.dimensions), dtype=np.float32)
        matrix[: len(keys)] = vectors
        self._matrix = matrix
        self._keys = list(keys)
        self._rows = {key: row for row, key in enumerate(self._keys)}

    def put(self, key: K, vector: Vectors) -> None:
        row = self._rows.get(key)
        if row is None:
            row = len(self._keys)
            if row == len(self._matrix):
                grown = np.zeros((len(self._matrix) * 2, self.dimensions), dtype=np.float32)
                grown[:row] = self._matrix[:row]
                self._matrix = grown
            self._keys.append(key)
            self._rows[key] = row
        self._matrix[row] = vector

    def remove(self, key: K) -> None:
        row = self._rows.pop(key, None)
        if row is None:
            return
        last = len(self._keys) - 1
        if row != last:  # the last row moves into the hole
            moved = self._keys[last]
            self._keys[row] = moved
            self._rows[moved] = row
            self._matrix[row] = self._matrix[last]
        self._keys.pop()

    def vector(self, key: K) -> Vectors | None:
        row = self._rows.get(key)
        return None if row is None else self._matrix[row].copy()

    def nearest(self, query: Vectors, k: int, *, exclude: Collection[K] = ()) -> list[tuple[K, float]]:
        """The `k` keys most similar to `query` (a unit vector), best first, none of `exclude`; ties by position."""
        size = len(self._keys)
        if size == 0 or k <= 0:
            return []
        scores = self._matrix[:size] @ np.asarray(query, dtype=np.float32)
        excluded = [self._rows[key] for key in exclude if key in self._rows]
        if excluded:
            scores[excluded] = -np.inf
        wanted = min(k, size - len(excluded))
        if wanted <= 0:
            return []
        top = np.argpartition(-scores, wanted - 1)[:wanted] if wanted < size else np.arange(size)
        ordered = top[np.lexsort((top, -scores[top]))]
        return [(self._keys[row], float(np.clip(scores[row], -1.0, 1.0))) for row in ordered]
