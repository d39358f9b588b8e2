"""Approximate nearest neighbours by cosine similarity: a usearch HNSW graph over half-precision vectors.

Exact search over a float32 matrix cost 512 MB and about 100 ms a query at 1,000,000 products. The graph
visits a few thousand of them per query instead (p50/p99 and memory measured at 1M in docs/scaling.md),
and half precision keeps its top 5 as exact search's for 0.985 of results at 1M (0.99 or better at 20,000);
8-bit vectors swap near-ties (0.94 at 20,000; `SMART_SEARCH_VECTORS=i8` trades that for 128 bytes a
product). `scripts/eval_smart_search.py ann [--vectors i8]` measures both.

usearch knows integer keys only. A product's key is a slot number, and the slot -> product id map is
one array of 16-byte ids; the id -> slot direction is that array sorted (with the slots: 40 bytes a
product in all), plus a dict of the ids written since it was last sorted, merged into it in one pass
past `_MERGE_AT`. A dict of UUID objects for a million products cost 185 MB (measured), more than the
graph's vectors. A slot is checked against the id it was found for, so a stale sorted entry (the
product left, its slot taken by another) finds nothing.

Not thread-safe: one thread uses an index at a time (the event loop's; a load builds a new one in a
worker thread and hands it over when done).
"""

from __future__ import annotations

from array import array
from collections.abc import Collection, Sequence
from uuid import UUID

import numpy as np
import numpy.typing as npt
from usearch.index import Index

Vectors = npt.NDArray[np.float32]
QUANTIZATION = "f16"
CONNECTIVITY = 16  # neighbours a node keeps (twice that on the bottom level): 8 lost recall (0.97)
EXPANSION_ADD = 64  # 128 built no better a graph on product texts, at a third more time
EXPANSION_SEARCH = 96  # candidates a query keeps (usearch keeps `count` when that is more)
_MERGE_AT = 65_536
_MIN_CAPACITY = 1024
_ID = np.dtype("S16")  # numpy drops an id's trailing zero bytes on reading one: `_uuid` puts them back


def _uuid(raw: bytes) -> UUID:
    return UUID(bytes=raw.ljust(16, b"\0"))


class VectorIndex:
    def __init__(self, dimensions: int, *, quantization: str = QUANTIZATION) -> None:
        self.dimensions = dimensions
        self.quantization = quantization
        self._reset()

    def _reset(self) -> None:
        self._graph = Index(
            ndim=self.dimensions,
            metric="cos",
            dtype=self.quantization,
            connectivity=CONNECTIVITY,
            expansion_add=EXPANSION_ADD,
            expansion_search=EXPANSION_SEARCH,
        )
        self._ids = np.zeros(_MIN_CAPACITY, dtype=_ID)  # by slot; empty once the product has left
        self._used = 0  # slots handed out
        self._free = array("q")  # slots of removed products, taken again before new ones
        self._sorted = np.zeros(0, dtype=_ID)
        self._sorted_slots = np.zeros(0, dtype=np.int64)
        self._recent: dict[UUID, int] = {}

    def __len__(self) -> int:
        return len(self._graph)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, UUID) and self._slot(key) is not None

    @property
    def graph_bytes(self) -> int:
        """What usearch says its graph and vectors take (the id maps are on top: 24 bytes a product)."""
        return int(self._graph.memory_usage)

    def replace_all(self, keys: Sequence[UUID], vectors: Vectors) -> None:
        """Everything at once: `vectors[i]` is the vector of `keys[i]`."""
        self._reset()
        self.add_many(keys, vectors)

    def add_many(self, keys: Sequence[UUID], vectors: Vectors, *, threads: int = 1) -> None:
        """`put` of many: `vectors[i]` is the vector of `keys[i]` (a key twice: the last one holds)."""
        if not keys:
            return
        latest = {key: row for row, key in enumerate(keys)}
        slots = np.fromiter((self._slot_for_put(key) for key in latest), dtype=np.uint64, count=len(latest))
        rows = np.fromiter(latest.values(), dtype=np.int64, count=len(latest))
        self._graph.add(slots, np.asarray(vectors, dtype=np.float32)[rows], threads=threads)
        if len(self._recent) >= _MERGE_AT:
            self._merge()

    def put(self, key: UUID, vector: Vectors) -> None:
        self._graph.add(self._slot_for_put(key), np.asarray(vector, dtype=np.float32))
        if len(self._recent) >= _MERGE_AT:
            self._merge()

    def remove(self, key: UUID) -> None:
        slot = self._slot(key)
        if slot is None:
            return
        self._graph.remove(slot)
        self._ids[slot] = b""
        self._recent.pop(key, None)
        self._free.append(slot)

    def vector(self, key: UUID) -> Vectors | None:
        """The stored vector (as rounded to the index's precision, made unit length again)."""
        slot = self._slot(key)
        if slot is None:
            return None
        vector = np.asarray(self._graph.get(slot, dtype="f32"), dtype=np.float32).reshape(-1)
        norm = float(np.linalg.norm(vector))
        unit: Vectors = vector / norm if norm else vector
        return unit

    def nearest(self, query: Vectors, k: int, *, exclude: Collection[UUID] = ()) -> list[tuple[UUID, float]]:
        """The `k` keys most similar to `query` (a unit vector), best first, none of `exclude`; ties by age."""
        size = len(self._graph)
        excluded = {slot for slot in (self._slot(key) for key in exclude) if slot is not None}
        wanted = min(k, size - len(excluded))
        if wanted <= 0:
            return []
        count = min(size, wanted + len(excluded))
        matches = self._graph.search(np.asarray(query, dtype=np.float32), count)
        found = sorted(
            (float(distance), int(slot))
            for slot, distance in zip(matches.keys[: len(matches)], matches.distances[: len(matches)], strict=True)
            if int(slot) not in excluded
        )
        return [
            (_uuid(self._ids[slot]), float(np.clip(1.0 - distance, -1.0, 1.0))) for distance, slot in found[:wanted]
        ]

    # --- the id <-> slot maps ------------------------------------------------------------------------------------

    def _slot(self, key: UUID) -> int | None:
        slot = self._recent.get(key)
        if slot is not None:
            return slot
        raw = key.bytes
        at = int(np.searchsorted(self._sorted, raw))
        if at < len(self._sorted):
            slot = int(self._sorted_slots[at])
            if self._ids[slot] == raw.rstrip(b"\0"):  # else the product left (or moved to a newer slot)
                return slot
        return None

    def _slot_for_put(self, key: UUID) -> int:
        """The key's slot, emptied in the graph for a new vector (usearch takes a removed key again), or a
        new one: a slot freed by a removal first, so the slots stay as many as the products."""
        slot = self._slot(key)
        if slot is not None:
            self._graph.remove(slot)
            return slot
        if self._free:
            slot = self._free.pop()
        else:
            slot = self._used
            self._used += 1
            if slot == len(self._ids):
                grown = np.zeros(len(self._ids) * 2, dtype=_ID)
                grown[:slot] = self._ids
                self._ids = grown
        self._ids[slot] = key.bytes
        self._recent[key] = slot
        return slot

    def _merge(self) -> None:
        """Fold `_recent` into the sorted arrays, dropping the entries of products that left (their slot is
        empty or holds another product now). An id is in one slot at a time, so entries of one id agree."""
        live = self._ids[self._sorted_slots] == self._sorted
        old_ids, old_slots = self._sorted[live], self._sorted_slots[live]
        new_slots = np.fromiter(self._recent.values(), dtype=np.int64, count=len(self._recent))
        new_ids = self._ids[new_slots]
        order = np.argsort(new_ids, kind="stable")
        new_ids, new_slots = new_ids[order], new_slots[order]
        at = np.searchsorted(old_ids, new_ids)
        merged, merged_slots = np.insert(old_ids, at, new_ids), np.insert(old_slots, at, new_slots)
        first = np.ones(len(merged), dtype=bool)  # a product removed and written again is in both
        first[1:] = merged[1:] != merged[:-1]
        self._sorted, self._sorted_slots = merged[first], merged_slots[first]
        self._recent = {}
