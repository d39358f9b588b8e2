"""Bulk import and export of the catalog as NDJSON: one `ProductCreate` JSON object per line.

Import reads the body as it arrives (`RequestStream.lines`), never whole. Each
line is judged alone, by the spec's own `ProductCreate` schema (the composition
hands in the judge): a bad line is reported by its number and the rest go on.
Good lines are written in batches of `BATCH_LINES`, each in one transaction that
upserts by SKU (a live product with the SKU is replaced, any other line is a new
product), carries the products' vectors for smart search, and announces the
whole batch once on the product change feed (`impl.services.changes`); after
the commit the product cache moves on once and the vector index re-reads the
batch, in this process before the batch's successor is read, and in every other.
So what a client sees is always whole batches: one that disconnects, or sends
past the body limit, keeps the batches committed before.

A SKU repeated within one body is rejected on its later lines; the SKUs seen
are remembered as 8-byte digests, so a million lines cost about 60 MB at most.

Export walks the live products by id (a keyset page at a time, no long
transaction) and writes each as the line import takes, so an export imported
into an empty catalog gives the same catalog.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol
from uuid import UUID

from contract_runtime.problems import FieldIssue
from contract_runtime.streams import Line, RequestStream
from contract_runtime.text import json_value, not_text_issue, surrogate_locations
from generated.models import FieldError, ImportLineError, ImportReport

from ..db import products as product_rows
from ..db.database import Db, UniqueViolation
from ..db.products import ProductRecord
from ..errors import Conflict, InvalidInput
from .changes import ProductChange, ProductChanges

BATCH_LINES = 500
MAX_LINE_BYTES = 64 * 1024  # the longest valid product is about 28 KB of JSON escapes
MAX_REPORTED = 100  # the spec's ImportReport.errors maxItems
EXPORT_PAGE = 2_000
WRITE_ATTEMPTS = 3  # a batch whose SKUs concurrent creates keep taking gives up with 409 after this many
NO_LINES = "The body holds no lines: send one ProductCreate JSON object per line."
SKU_RACE = "Other writes kept creating products with this batch's SKUs while it was written; import it again."

# The fields of a ProductCreate, in the order export writes them.
FIELDS = ("name", "description", "price", "stock", "category", "sku")

JudgeLine = Callable[[Any], list[FieldIssue]]


class VectorIndex(Protocol):
    """Smart search's side of a batch (impl/services/semantic.py): the vectors written with it."""

    async def vector_columns_many(
        self, texts: Sequence[tuple[str, str | None, str | None]]
    ) -> list[dict[str, Any]]: ...


@dataclass(slots=True)
class _Tally:
    created: int = 0
    updated: int = 0
    rejected: int = 0
    errors: list[ImportLineError] = field(default_factory=list)

    def reject(self, line: int, issues: Sequence[FieldIssue]) -> None:
        self.rejected += 1
        if len(self.errors) < MAX_REPORTED:
            errors = [FieldError(loc=list(issue.loc), msg=issue.msg, type=issue.type) for issue in issues]
            self.errors.append(ImportLineError.model_construct(line=line, errors=errors))

    def report(self) -> ImportReport:
        return ImportReport.model_construct(
            created=self.created, updated=self.updated, rejected=self.rejected, errors=self.errors
        )


def _issue(message: str, kind: str, *loc: str) -> FieldIssue:
    return FieldIssue(("body", *loc), message, kind)


def product_values(data: Mapping[str, Any]) -> dict[str, Any]:
    """The columns of a valid ProductCreate line, every field set (a field left out takes its default)."""
    return {
        "name": data["name"],
        "description": data.get("description"),
        # str() gives the shortest decimal that round-trips, e.g. 29.99, never 29.989999...
        "price_cents": int(Decimal(str(data["price"])) * 100),
        "stock": data.get("stock", 0),
        "category": data.get("category"),
        "sku": data["sku"],
    }


def export_line(record: ProductRecord) -> bytes:
    values: dict[str, Any] = {
        "name": record.name,
        "description": record.description,
        "price": float(Decimal(record.price_cents) / 100),
        "stock": record.stock,
        "category": record.category,
        "sku": record.sku,
    }
    present = {name: values[name] for name in FIELDS if values[name] is not None}
    return json.dumps(present, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


class ProductTransfer:
    def __init__(
        self,
        db: Db,
        changes: ProductChanges,
        *,
        judge_line: JudgeLine,
        index: VectorIndex | None = None,
    ) -> None:
        self._db = db
        self._changes = changes
        self._judge = judge_line
        self._index = index

    async def import_lines(self, body: RequestStream) -> ImportReport:
        tally = _Tally()
        seen: set[bytes] = set()  # digests of the SKUs of earlier good lines
        batch: list[dict[str, Any]] = []
        async for line in body.lines(max_line_bytes=MAX_LINE_BYTES):
            parsed = self._parse(line, tally)
            if parsed is None:
                continue
            digest = hashlib.blake2b(parsed["sku"].encode(), digest_size=8).digest()
            if digest in seen:
                tally.reject(line.number, [_issue("This SKU is on an earlier line of this body.", "duplicate", "sku")])
                continue
            seen.add(digest)
            batch.append(product_values(parsed))
            if len(batch) == BATCH_LINES:
                await self._write(batch, tally)
                batch = []
        if batch or tally.created or tally.updated or tally.rejected:
            await self._write(batch, tally)
            return tally.report()
        raise InvalidInput(None, NO_LINES, rule="empty")

    def _parse(self, line: Line, tally: _Tally) -> dict[str, Any] | None:
        """The line's product when it is a valid ProductCreate; None for a blank line or a rejected one."""
        if line.data is None:
            tally.reject(line.number, [_issue(f"The line is longer than {MAX_LINE_BYTES} bytes.", "too_long")])
            return None
        if not line.data.strip():
            return None
        try:
            data = json_value(line.data.decode("utf-8"))
        except UnicodeDecodeError:
            tally.reject(line.number, [_issue("The line is not valid UTF-8.", "not_text")])
            return None
        except (ValueError, RecursionError):
            tally.reject(line.number, [_issue("The line is not valid JSON.", "json_invalid")])
            return None
        not_text = [not_text_issue(("body", *loc)) for loc in surrogate_locations(data)]
        issues = not_text or self._judge(data)
        if issues:
            tally.reject(line.number, issues)
            return None
        assert isinstance(data, dict)  # the schema is an object
        return data

    async def _write(self, batch: list[dict[str, Any]], tally: _Tally) -> None:
        if not batch:
            return
        vectors: list[dict[str, Any]] = [{} for _ in batch]
        if self._index is not None:
            texts = [(row["name"], row["category"], row["description"]) for row in batch]
            vectors = await self._index.vector_columns_many(texts)
        for _ in range(WRITE_ATTEMPTS):
            try:
                created, updated, change = await self._write_once(batch, vectors)
            except UniqueViolation:
                continue  # a concurrent create took one of the SKUs between our look-up and our insert
            break
        else:
            raise Conflict(SKU_RACE)
        tally.created += created
        tally.updated += updated
        await self._changes.committed(change)

    async def _write_once(
        self, batch: list[dict[str, Any]], vectors: list[dict[str, Any]]
    ) -> tuple[int, int, ProductChange]:
        now = datetime.now(UTC)
        inserts: list[dict[str, Any]] = []
        replacements: list[dict[str, Any]] = []
        written: list[UUID] = []
        async with self._db.write() as db:
            existing = await product_rows.live_ids_by_sku(db, skus=[row["sku"] for row in batch])
            for row, vector in zip(batch, vectors, strict=True):
                product_id = existing.get(row["sku"])
                if product_id is None:
                    product_id = uuid.uuid4()
                    inserts.append({"id": product_id, **row, **vector, "created_at": now, "updated_at": now})
                else:
                    replacements.append({"id": product_id, **row, **vector, "updated_at": now})
                written.append(product_id)
            await product_rows.insert_many(db, rows=_uniform(inserts))
            await product_rows.replace_many(db, rows=_uniform(replacements))
            change = await self._changes.announce(db, written)
        return len(inserts), len(replacements), change

    async def export_lines(self) -> AsyncIterator[bytes]:
        after: UUID | None = None
        while True:
            records = await product_rows.live_after(self._db.database, after_id=after, limit=EXPORT_PAGE)
            if records:
                yield b"".join(export_line(record) for record in records)
            if len(records) < EXPORT_PAGE:
                return
            after = records[-1].id


def _uniform(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with the same columns (a multi-row statement needs them): a vector missing from some is left out
    of all, and those products are embedded by the next index load."""
    if not rows:
        return rows
    common = set(rows[0]).intersection(*rows[1:])
    return [{name: value for name, value in row.items() if name in common} for row in rows]
