"""The catalog's vectors in memory, coherent with the database, for smart search and similar products.

One `VectorIndex` per process (an approximate nearest-neighbour graph, impl/embeddings/index.py)
holds a unit vector per live product. It is built on first use (or by `warm()` at start-up, in the
background, off the event loop: the previous index answers until the new one is whole), from the
vectors stored with the products; a product whose vector is missing, or was made
by another model or from another text (its hash differs), is embedded then and
its vector stored.

Writes: `ProductService` asks `vector_columns` for the vector of a product's
text (tens of microseconds: a static model) and writes it in the same
transaction as the product (a create's INSERT carries it; an update that changes
the text adds one UPDATE), so a product row and its vector never disagree. After
the commit, before the write answers and before the product cache moves on,
`product_written` puts the vector in this process's index. So **in the writing
process a product is found by smart search from the moment its write has
answered** (and never after its delete). If embedding fails, the write stands
without a vector, and the next load embeds it.

Other processes (with Redis): every write is published on a channel of its
own; each process re-reads the products named there from the database (embedding
them if their vector is not current). When the subscription is lost, the index
is reloaded whole once it is back. Until a message arrives (milliseconds), another
process answers from its previous vector. Answers built from the index are cached
under its `version` (this process and its count of changes) besides the products
generation, so such an answer is never served again once the process has applied
the write. Without Redis the API is one process.
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from uuid import UUID

import numpy as np

from ..cache import Cache
from ..db import embeddings as embedding_rows
from ..db.database import Db
from ..db.embeddings import EmbeddingRow
from ..db.products import ProductRecord
from ..embeddings import (
    DIMENSIONS,
    MODEL_NAME,
    Embedder,
    VectorIndex,
    from_bytes,
    load_embedder,
    product_text,
    text_sha256,
)
from ..embeddings import to_bytes as vector_bytes
from ..embeddings.index import QUANTIZATION
from ..embeddings.model import Vectors

logger = logging.getLogger(__name__)

CHANNEL = "products:embedded"
LOAD_PAGE = 5_000
REFRESH_BATCH = 200  # products re-read in one query


class SemanticIndex:
    def __init__(self, db: Db, cache: Cache, *, vectors: str = QUANTIZATION) -> None:
        self._db = db
        self._cache = cache
        self._vectors = vectors
        self._index = VectorIndex(DIMENSIONS, quantization=vectors)
        self._embedder: Embedder | None = None
        self._loaded = False
        self._loading: asyncio.Future[None] | None = None
        self._dirty: set[UUID] = set()  # written while a load was reading
        self._incoming: set[UUID] = set()  # named by other processes, not yet re-read
        self._wake = asyncio.Event()
        self._reload_wanted = False  # messages may have been missed: reload whole, in the background
        self._origin = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"  # our own messages are skipped
        self._changes = 0

    async def version(self) -> str:
        """Names this process's index as it is now (loaded first): answers built from it are cached under it."""
        await self.index()
        return f"{self._origin}.{self._changes}"

    # --- the model and the index -------------------------------------------------------------------------------

    async def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = await asyncio.to_thread(load_embedder)  # about a second, once per process
        return self._embedder

    async def index(self) -> VectorIndex:
        """The loaded index (loading it first if need be; concurrent callers share one load)."""
        if not self._loaded:
            await self._load_once()
        return self._index

    async def _load_once(self) -> None:
        """Read the whole index from the database, or join the load already running. Until a reload ends,
        the loaded index keeps answering; writes meanwhile are re-read once it has."""
        if self._loading is None:
            self._loading = asyncio.ensure_future(self._load())
        loading = self._loading
        try:
            await asyncio.shield(loading)
        finally:
            if loading.done() and self._loading is loading:
                self._loading = None  # a failed load is tried again by the next request

    async def warm(self) -> None:
        """Load the model and the index ahead of the first request (errors are logged, not raised)."""
        try:
            await self.index()
        except Exception as exc:
            logger.warning("smart search index not loaded at start-up (the first request tries again): %s", exc)

    def close(self) -> None:
        """At shutdown: a load still running stops (it would outlive the database connection)."""
        if self._loading is not None:
            self._loading.cancel()

    async def embed_query(self, text: str) -> Vectors:
        return (await self.embedder()).embed_one(text)

    async def _load(self) -> None:
        """Build a new index page by page, off the event loop (minutes at 1M: docs/scaling.md), and hand it
        over when whole; the old one answers meanwhile. A page's vectors are held only while it is added."""
        embedder = await self.embedder()
        built = VectorIndex(DIMENSIONS, quantization=self._vectors)
        after: UUID | None = None
        self._dirty.clear()
        while True:
            rows = await embedding_rows.live_rows(self._db.database, after=after, limit=LOAD_PAGE)
            keys: list[UUID] = []
            vectors: list[Vectors] = []
            stale: list[EmbeddingRow] = []
            for row in rows:
                vector = stored_vector(row)
                if vector is None:
                    stale.append(row)
                else:
                    keys.append(row.id)
                    vectors.append(vector)
            if stale:
                logger.info("embedding %d products whose vectors are missing or out of date", len(stale))
                texts = [product_text(row.name, row.category, row.description) for row in stale]
                embedded = await asyncio.to_thread(embedder.embed, texts)
                await self._store(list(zip(stale, embedded, strict=True)))
                keys.extend(row.id for row in stale)
                vectors.extend(embedded)
            if keys:
                await asyncio.to_thread(built.add_many, keys, np.vstack(vectors))
            if len(rows) < LOAD_PAGE:
                break
            after = rows[-1].id
        self._index = built
        self._changes += 1
        self._loaded = True
        dirty, self._dirty = self._dirty, set()
        await self._refresh(dirty)

    async def _store(self, vectors: list[tuple[EmbeddingRow, Vectors]]) -> None:
        """Store vectors made from the rows as read, in one transaction; a row changed since keeps its own.

        A failure is logged: the vectors are searched in memory all the same, and a later
        load or refresh embeds those products again."""
        try:
            async with self._db.write() as db:
                for row, vector in vectors:
                    text = product_text(row.name, row.category, row.description)
                    await embedding_rows.store(
                        db, product_id=row.id, columns=columns_of(vector, text), text_updated_at=row.updated_at
                    )
        except Exception as exc:
            logger.warning("could not store %d product vectors: %s", len(vectors), exc)

    async def _refresh(self, product_ids: Iterable[UUID]) -> None:
        """Make the index hold what the database holds now for these products (read in batches)."""
        wanted = list(product_ids)
        for start in range(0, len(wanted), REFRESH_BATCH):
            batch = wanted[start : start + REFRESH_BATCH]
            rows = {row.id: row for row in await embedding_rows.live_rows_of(self._db.database, ids=batch)}
            stale: list[EmbeddingRow] = []
            for product_id in batch:
                self._changes += 1
                row = rows.get(product_id)
                if row is None:
                    self._index.remove(product_id)
                    continue
                vector = stored_vector(row)
                if vector is None:
                    stale.append(row)
                else:
                    self._index.put(row.id, vector)
            if stale:
                texts = [product_text(row.name, row.category, row.description) for row in stale]
                embedded = (await self.embedder()).embed(texts)
                await self._store(list(zip(stale, embedded, strict=True)))
                for row, vector in zip(stale, embedded, strict=True):
                    self._index.put(row.id, vector)

    # --- writes ---------------------------------------------------------------------------------------------------

    async def prepare(self) -> None:
        """Load the model now (about a second, once per process), so a write transaction never waits for it."""
        try:
            await self.embedder()
        except Exception as exc:  # vector_columns answers empty then: the write stands without a vector
            logger.warning("the embedding model did not load: %s", exc)

    async def vector_columns(self, *, name: str, category: str | None, description: str | None) -> dict[str, Any]:
        """The columns that store the vector of this text with the product; empty if it cannot be made."""
        text = product_text(name, category, description)
        try:
            vector = (await self.embedder()).embed_one(text)
        except Exception as exc:  # the product is written without; the next load embeds it
            logger.warning("a product's text was not embedded: %s", exc)
            return {}
        return columns_of(vector, text)

    async def vector_columns_many(self, texts: Sequence[tuple[str, str | None, str | None]]) -> list[dict[str, Any]]:
        """`vector_columns` of many products (name, category, description) in one pass of the model, off the
        event loop; all empty if the model fails (those products are embedded by the next load)."""
        joined = [product_text(name, category, description) for name, category, description in texts]
        try:
            embedder = await self.embedder()
            vectors = await asyncio.to_thread(embedder.embed, joined)
        except Exception as exc:
            logger.warning("%d products' texts were not embedded: %s", len(joined), exc)
            return [{} for _ in joined]
        return [columns_of(vector, text) for vector, text in zip(vectors, joined, strict=True)]

    def vectors_written(self, columns_by_id: Mapping[UUID, Mapping[str, Any]]) -> None:
        """After a committed write of many products (an import's batch), with the columns `vector_columns_many`
        made for them: this process's index holds them at once. Other processes hear of the batch from the
        database's announcement (PostgreSQL) and re-read it; empty columns mean no vector was made."""
        if self._loading is not None:
            self._dirty.update(columns_by_id)
        if not self._loaded:
            return
        for product_id, columns in columns_by_id.items():
            stored = columns.get("embedding")
            vector = None if stored is None else from_bytes(stored)
            if vector is None:  # the model failed: the next request reloads the index, embedding what is missing
                self._loaded = False
                return
            self._index.put(product_id, vector)
            self._changes += 1

    async def product_written(self, record: ProductRecord) -> None:
        """After a committed create or update (before the product cache moves on); never raises."""
        try:
            if self._loaded:
                text = product_text(record.name, record.category, record.description)
                self._index.put(record.id, (await self.embedder()).embed_one(text))
                self._changes += 1
            if self._loading is not None:
                self._dirty.add(record.id)
            await self._tell_others(record.id)
        except Exception as exc:  # the write stands; the next request reloads the index from the database
            logger.warning("smart search index not updated for product %s, reloading: %s", record.id, exc)
            self._loaded = False

    async def product_deleted(self, product_id: UUID) -> None:
        self._index.remove(product_id)
        self._changes += 1
        if self._loading is not None:
            self._dirty.add(product_id)
        await self._tell_others(product_id)

    async def _tell_others(self, product_id: UUID) -> None:
        if self._cache.shared:
            await self._cache.publish(CHANNEL, f"{self._origin} {product_id}".encode())

    # --- other processes ------------------------------------------------------------------------------------------

    async def follow(self) -> None:
        """Until cancelled: apply other processes' writes; reload whole after a lost subscription."""
        if not self._cache.shared:
            return
        lost = False

        def on_message(message: bytes) -> None:
            origin, _, product_id = message.decode("ascii", "replace").partition(" ")
            if origin == self._origin:
                return
            try:
                self._incoming.add(UUID(product_id))
            except ValueError:
                return
            self._wake.set()

        def on_state(subscribed: bool) -> None:
            nonlocal lost
            if not subscribed:
                lost = True
            elif lost:  # messages may have been missed: read everything again, answering from the old meanwhile
                lost = False
                self._reload_wanted = True
                self._wake.set()

        applier = asyncio.create_task(self._apply_incoming())
        try:
            await self._cache.listen(CHANNEL, on_message, on_state)
        finally:
            applier.cancel()
            await asyncio.wait({applier}, timeout=1)

    def announced(self, product_id: UUID) -> None:
        """A committed write of `product_id` announced by the database (any process's): re-read its row. The
        database's announcement reaches every process even when the writer could not publish to Redis."""
        self._incoming.add(product_id)
        self._wake.set()

    async def _apply_incoming(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            incoming, self._incoming = self._incoming, set()
            try:
                if not self._loaded:
                    await self.index()
                elif self._reload_wanted:
                    self._reload_wanted = False
                    await self._load_once()
                elif incoming:
                    await self._refresh(incoming)
            except Exception as exc:
                logger.warning("smart search index not refreshed from other processes' writes: %s", exc)
                self._loaded = False  # reloaded whole by the next request

    # --- queries --------------------------------------------------------------------------------------------------

    async def nearest(self, query: Vectors, k: int, *, exclude: Iterable[UUID] = ()) -> list[tuple[UUID, float]]:
        index = await self.index()
        return index.nearest(query, k, exclude=set(exclude))

    async def vector_of(self, product_id: UUID) -> Vectors | None:
        """The product's vector as this process holds it; None when it is not in the index."""
        return (await self.index()).vector(product_id)

    async def vector_for(self, product_id: UUID) -> Vectors | None:
        """The vector of a product the database holds live, re-read when this process has none yet."""
        vector = await self.vector_of(product_id)
        if vector is None:
            await self._refresh([product_id])
            vector = self._index.vector(product_id)
        return vector


def columns_of(vector: Vectors, text: str) -> dict[str, Any]:
    return {
        "embedding": vector_bytes(vector),
        "embedding_model": MODEL_NAME,
        "embedding_text_sha256": text_sha256(text),
    }


def stored_vector(row: EmbeddingRow) -> Vectors | None:
    """The row's stored vector when it is this model's, of the row's text as it is now."""
    stored = row.current_for(MODEL_NAME, text_sha256(product_text(row.name, row.category, row.description)))
    return None if stored is None else from_bytes(stored)
