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
the text adds one UPDATE), so a product row and its vector never disagree. If
embedding fails, the write stands without a vector, and the next re-read of the
product (or load) embeds it.

The index follows the product change feed (`impl.services.changes`), the one
way it hears of writes: for every committed write, in every process, it
re-reads the products named from the database (embedding them if their vector
is not current), one round at a time. The writer's process does so before the
write answers, so **in the writing process a product is found by smart search
from the moment its write has answered** (and never after its delete); other
processes within milliseconds of the commit, answering from their previous
vector until then. When the feed is lost (the LISTEN connection), the index is
read whole again once it is back. Answers built from the index are cached under
its `version` (this process and its count of changes) besides the products
generation, so such an answer is never served again once the process has applied
the write.
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

import numpy as np

from ..db import embeddings as embedding_rows
from ..db.database import Db
from ..db.embeddings import EmbeddingRow
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
from .changes import ProductChange

logger = logging.getLogger(__name__)

LOAD_PAGE = 5_000
REFRESH_BATCH = 200  # products re-read in one query


class SemanticIndex:
    def __init__(self, db: Db, *, vectors: str = QUANTIZATION) -> None:
        self._db = db
        self._vectors = vectors
        self._index = VectorIndex(DIMENSIONS, quantization=vectors)
        self._embedder: Embedder | None = None
        self._loaded = False
        self._loading: asyncio.Future[None] | None = None
        self._dirty: set[UUID] = set()  # written while a load was reading
        self._incoming: set[UUID] = set()  # named by the feed, not yet re-read
        self._waiting: list[asyncio.Future[None]] = []  # told once the next round has re-read them
        self._wake = asyncio.Event()
        self._applier: asyncio.Future[None] | None = None
        self._missed = False  # the feed was lost while the index was loaded
        self._reload_wanted = False  # changes may have been missed: reload whole, in the background
        self._origin = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"  # names this process's index in cache keys
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
        if self._applier is not None:
            self._applier.cancel()
        for applied in self._waiting:  # nothing re-reads them any more: no writer waits for it
            if not applied.done():
                applied.set_result(None)

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
                embedder = await self.embedder()
                embedded = await asyncio.to_thread(embedder.embed, texts)  # up to REFRESH_BATCH texts
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

    # --- the product change feed ------------------------------------------------------------------------------------

    async def changed(self, change: ProductChange) -> None:
        """A committed write, any process's (the index follows the product change feed): once this returns,
        the index holds what the database holds for the changed products (or, while a load reads the catalog,
        that load re-reads them when it ends). Never raises: on a failure the next request reloads the index."""
        if self._loading is not None:
            self._dirty.update(change.product_ids)
        if not self._loaded:
            return  # the next load reads them
        applied: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._incoming.update(change.product_ids)
        self._waiting.append(applied)
        self._wake_applier()
        await asyncio.shield(applied)

    def following(self, followed: bool) -> None:
        """The feed's state: changes missed while it was lost are caught up by reading the catalog again,
        the index answering as it was meanwhile."""
        if not followed:
            self._missed = self._missed or self._loaded or self._loading is not None
        elif self._missed:
            self._missed = False
            self._reload_wanted = True
            self._wake_applier()

    def _wake_applier(self) -> None:
        if self._applier is None or self._applier.done():
            self._applier = asyncio.ensure_future(self._apply_incoming())
        self._wake.set()

    async def _apply_incoming(self) -> None:
        """One round at a time, so a product's rows are read, and put, in the order of its writes."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            incoming, self._incoming = self._incoming, set()
            waiting, self._waiting = self._waiting, []
            try:
                if self._reload_wanted:
                    self._reload_wanted = False
                    if self._loaded:
                        await self._load_once()
                    if incoming and self._loaded:
                        await self._refresh(incoming)
                elif incoming and self._loaded:
                    await self._refresh(incoming)
            except Exception as exc:
                logger.warning("smart search index not refreshed from the product change feed: %s", exc)
                self._loaded = False  # reloaded whole by the next request
            finally:
                for applied in waiting:
                    if not applied.done():
                        applied.set_result(None)

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
