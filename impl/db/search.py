"""Ranked keyword search over products (SQLAlchemy Core), the same ranking on SQLite and PostgreSQL.

A query is folded (impl/db/folding.py) and split into words: runs of letters and digits, everything
else separates them (so `%`, `_` and `\\` never act as wildcards). A product matches when every
word matches one of its fields:

- name, category and SKU: a word of three or more characters anywhere (a substring); a shorter
  word at the start of a word (a trigram index cannot find two letters inside a word);
- description: at the start of a word (full text: a word or a word prefix).

Matches come in tiers, best first; within a tier by folded name, then id:

    0  the SKU equals the query (folded)
    1  the name holds the query's words, in order, as whole words
    2  ... in order, the last one as a word prefix
    3  ... in order, anywhere (inside a word too; queries of three or more characters)
    4  the name holds every word (any order; queries of several words)
    5  every word is in the name or the category
    6  every word is in the name, category or SKU
    7  the rest: some word only in the description

A product sits in its best tier only. Tiers are read one at a time, each with the page's limit, so
a broad term never sorts all its matches. Each hit carries its key (tier, folded name, id): a
keyset page resumes after it.

Both databases compare the same text: each searched field as its folded words, joined by single
spaces and padded with a space at either end (`search_text`). Word-start and whole-word tests are
then LIKE patterns (`'% kett%'`, `'% steel kettle %'`), the same on both.

- PostgreSQL computes that text into stored generated columns (`search_name`, `search_category`,
  `search_sku`: `regexp_replace(lower(...))`; `search_description`: its `to_tsvector('simple', ...)`)
  with pg_trgm and full-text GIN indexes (migration 0008). Up to RANK_AT_ONCE matches are ranked in
  one statement (an index bitmap, then a sort); more, and the planner reads tier by tier, a walk of
  the name index for a broad tier.
- SQLite keeps the text in `products_search` (kept current by triggers on `products`, which call
  `py_search_text`, registered on every connection by impl/db/folding.py), with an FTS5 trigram
  table over name, category and SKU and an FTS5 word table over descriptions. SQLite has no
  cost-based choice between those and the name order, so `_SqliteTiers` makes it: it counts a
  tier's index candidates up to CANDIDATES; no more than that are sorted, more are found by walking
  `products_search` in name order (dense enough that a page stops early).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from databases import Database
from sqlalchemy import (
    ColumnElement,
    Integer,
    String,
    Text,
    Uuid,
    and_,
    bindparam,
    case,
    cast,
    column,
    func,
    literal_column,
    not_,
    or_,
    select,
    table,
    tuple_,
)
from sqlalchemy.dialects.postgresql import TSQUERY

from .folding import fold, search_text
from .products import LIVE, ProductRecord
from .records import columns_for, record_of
from .tables import products

SearchKey = tuple[int, str, UUID]  # (tier, folded name, id): where a keyset page resumes
TIERS = 8
REST = TIERS - 1
SHORT = 3  # words shorter than this match name, category and SKU at word starts only
CANDIDATES = 5_000  # SQLite: more index candidates than this and a tier walks the name order instead
# PostgreSQL: this many matches or fewer are ranked in one statement (an index bitmap, then a sort). Walking
# the name index instead tests each row it passes, ~0.1 ms a row with the folding computed on the fly.
RANK_AT_ONCE = 1_000

_COLUMNS = columns_for(products, ProductRecord)


@dataclass(frozen=True, slots=True)
class SearchHit:
    record: ProductRecord
    key: SearchKey


@dataclass(frozen=True, slots=True)
class Terms:
    """A query as search reads it."""

    folded: str  # the whole query, folded and trimmed: compared with the SKU
    words: tuple[str, ...]  # its distinct words, in order

    @classmethod
    def parse(cls, query: str) -> Terms:
        words = search_text(query).split()
        return cls(query.strip().lower(), tuple(dict.fromkeys(words)))

    @property
    def phrase(self) -> str:
        return " ".join(search_text(self.folded).split())


def inner(word: str) -> str:
    """The LIKE pattern of a word in name, category or SKU text."""
    return f"%{word}%" if len(word) >= SHORT else f"% {word}%"


def word_start(word: str) -> str:
    return f"% {word}%"


@dataclass(frozen=True, slots=True)
class Fields:
    """A dialect's view of the searched text: name, category and SKU as padded words, and how a word
    matches the description."""

    name: ColumnElement[str]
    category: ColumnElement[str]
    sku: ColumnElement[str]
    sku_equals: ColumnElement[bool]
    described: Any  # word -> ColumnElement[bool]


def tier_conditions(terms: Terms, fields: Fields) -> dict[int, ColumnElement[bool]]:
    """Each tier's own test (REST has none beyond the match), for the tiers this query can fill."""
    words, phrase = terms.words, terms.phrase
    name, category, sku = fields.name, fields.category, fields.sku
    tiers: dict[int, ColumnElement[bool]] = {
        0: fields.sku_equals,
        1: name.like(f"% {phrase} %"),
        2: name.like(f"% {phrase}%"),
    }
    if len(phrase) >= SHORT:
        tiers[3] = name.like(f"%{phrase}%")
    if len(words) > 1:
        tiers[4] = and_(*(name.like(inner(w)) for w in words))
    tiers[5] = and_(*(or_(name.like(inner(w)), category.like(inner(w))) for w in words))
    tiers[6] = and_(*(or_(name.like(inner(w)), category.like(inner(w)), sku.like(inner(w))) for w in words))
    return tiers


def matches(terms: Terms, fields: Fields) -> ColumnElement[bool]:
    return and_(
        *(
            or_(
                fields.name.like(inner(w)),
                fields.category.like(inner(w)),
                fields.sku.like(inner(w)),
                fields.described(w),
            )
            for w in terms.words
        )
    )


def in_tier(tier: int, tiers: dict[int, ColumnElement[bool]]) -> list[ColumnElement[bool]]:
    """A product is in its best tier only: this tier's test, and none of the better ones."""
    own = [tiers[tier]] if tier in tiers else []
    return own + [not_(condition) for better, condition in tiers.items() if better < tier]


def after_key(sort_name: ColumnElement[str], row_id: ColumnElement[UUID], after: tuple[str, UUID] | None) -> list[Any]:
    if after is None:
        return []
    return [tuple_(sort_name, row_id) > tuple_(bindparam(None, after[0], String()), bindparam(None, after[1], Uuid()))]


class Tiers(Protocol):
    """One dialect's way to read a tier: `count` up to a cap, `keys` of one page in (folded name, id) order."""

    async def matched(self, cap: int) -> int: ...

    def tiers(self) -> Sequence[int]: ...

    async def count(self, tier: int, cap: int) -> int: ...

    async def keys(
        self, tier: int, after: tuple[str, UUID] | None, limit: int, offset: int
    ) -> list[tuple[str, UUID]]: ...


# ------------------------------------------------------------------------------------------------
# PostgreSQL: one statement per tier; the planner picks the index bitmap or the name order.


class PostgresTiers:
    def __init__(self, db: Database, terms: Terms) -> None:
        self._db = db
        prefixes = {w: cast(bindparam(None, f"{w}:*", String()), TSQUERY) for w in terms.words}
        fields = Fields(
            name=literal_column("products.search_name", Text()),
            category=literal_column("products.search_category", Text()),
            sku=literal_column("products.search_sku", Text()),
            sku_equals=func.lower(products.c.sku) == terms.folded,
            described=lambda w: literal_column("products.search_description").op("@@")(prefixes[w]),
        )
        self._tiers = tier_conditions(terms, fields)
        self._match = matches(terms, fields)

    def tiers(self) -> Sequence[int]:
        return [*self._tiers, REST]

    def _where(self, tier: int) -> list[ColumnElement[bool]]:
        return [LIVE, self._match, *in_tier(tier, self._tiers)]

    async def matched(self, cap: int) -> int:
        return await _count(self._db, self.matched_query(), cap)

    async def count(self, tier: int, cap: int) -> int:
        return await _count(self._db, select(products.c.id).where(*self._where(tier)), cap)

    def keys_query(self, tier: int, after: tuple[str, UUID] | None, limit: int, offset: int) -> Any:
        """The statement of `keys` (scripts/bench_search.py explains it)."""
        sort_name = fold(products.c.name)
        return (
            select(sort_name.label("sort_name"), products.c.id)
            .where(*self._where(tier), *after_key(sort_name, products.c.id, after))
            .order_by(sort_name, products.c.id)
            .limit(limit)
            .offset(offset)
        )

    def ranked_query(self, after: SearchKey | None, limit: int, offset: int) -> Any:
        """Every match ranked in one statement: no index yields this order, so none is walked."""
        # Literal numbers: bound ones would reach PostgreSQL untyped, and be taken for text.
        tier = case(
            *((condition, literal_column(str(number), Integer())) for number, condition in self._tiers.items()),
            else_=literal_column(str(REST), Integer()),
        )
        sort_name = fold(products.c.name)
        query = select(tier.label("tier"), sort_name.label("sort_name"), products.c.id).where(LIVE, self._match)
        if after is not None:
            resume = tuple_(
                bindparam(None, after[0], Integer()),
                bindparam(None, after[1], String()),
                bindparam(None, after[2], Uuid()),
            )
            query = query.where(tuple_(tier, sort_name, products.c.id) > resume)
        return query.order_by(tier, sort_name, products.c.id).limit(limit).offset(offset)

    async def ranked_keys(self, after: SearchKey | None, limit: int, offset: int) -> list[SearchKey]:
        rows = await self._db.fetch_all(self.ranked_query(after, limit, offset))
        return [(row["tier"], row["sort_name"], row["id"]) for row in rows]

    def matched_query(self) -> Any:
        return select(products.c.id).where(LIVE, self._match)

    async def keys(self, tier: int, after: tuple[str, UUID] | None, limit: int, offset: int) -> list[tuple[str, UUID]]:
        if tier == 0:
            # At most a few products (SKUs differing in case only): read them by the lower(sku) index and
            # order them here. Asked for an order, the planner may walk the whole name index instead:
            # it has no statistics for lower(sku) (a partial index) and guesses 0.5% of rows (measured:
            # 8.6 s at a million products).
            sort_name = fold(products.c.name)
            rows = await self._db.fetch_all(select(sort_name.label("sort_name"), products.c.id).where(*self._where(0)))
            found = sorted((row["sort_name"], row["id"]) for row in rows)
            return [key for key in found if after is None or key > after][offset : offset + limit]
        rows = await self._db.fetch_all(self.keys_query(tier, after, limit, offset))
        return [(row["sort_name"], row["id"]) for row in rows]


async def _count(db: Database, query: Any, cap: int) -> int:
    limited = query.limit(cap + 1).subquery()
    return int(await db.fetch_val(select(func.count()).select_from(limited)) or 0)


# ------------------------------------------------------------------------------------------------
# SQLite: products_search and its two FTS5 tables (migration 0008).

search_rows = table(
    "products_search",
    column("id", Integer()),
    column("product_id", Uuid()),
    column("sort_name", String()),
    column("name", String()),
    column("category", String()),
    column("sku", String()),
    column("description", String()),
)
TRIGRAMS = "products_search_trigrams"  # FTS5 trigram over name, category, sku
WORDS = "products_search_words"  # FTS5 unicode61 over description


def _quoted(text: str) -> str | None:
    """An FTS5 phrase; None when the trigram index cannot find it (under three characters)."""
    return f'"{text}"' if len(text) >= SHORT else None


def _trigram(word: str) -> str | None:
    return _quoted(word if len(word) >= SHORT else f" {word}")


def _all_of(columns: str, words: Sequence[str]) -> str | None:
    """An FTS5 query: every word (that the trigram index can find) in one of `columns`."""
    phrases = [p for p in (_trigram(w) for w in words) if p is not None]
    return " AND ".join(f"{columns} : {p}" for p in phrases) or None


@dataclass(frozen=True, slots=True)
class _Driver:
    """Where a tier's candidates come from: FTS5 queries whose rows hold every product of the tier."""

    trigrams: str | None = None
    words: str | None = None

    def rowids(self) -> Any:
        parts: list[Any] = []
        if self.trigrams is not None:
            fts: Any = literal_column(TRIGRAMS)
            parts.append(
                select(literal_column("rowid")).select_from(table(TRIGRAMS)).where(fts.op("MATCH")(self.trigrams))
            )
        if self.words is not None:
            fts = literal_column(WORDS)
            parts.append(select(literal_column("rowid")).select_from(table(WORDS)).where(fts.op("MATCH")(self.words)))
        return parts


class _SqliteTiers:
    def __init__(self, db: Database, terms: Terms) -> None:
        self._db = db
        self._terms = terms
        s = search_rows.c
        fields = Fields(
            name=s.name,
            category=s.category,
            sku=s.sku,
            # The SKU's words are the query's (indexed), and the SKU itself is the query.
            sku_equals=and_(
                s.sku == f" {terms.phrase} ",
                select(products.c.id)
                .where(products.c.id == s.product_id, fold(products.c.sku) == terms.folded)
                .exists(),
            ),
            described=lambda w: s.description.like(word_start(w)),
        )
        self._tiers = tier_conditions(terms, fields)
        self._match = matches(terms, fields)
        phrase, words = terms.phrase, terms.words
        self._drivers: dict[int, _Driver | None] = {
            0: _Driver(trigrams=f'sku : " {phrase} "'),
            1: _Driver(trigrams=f'name : " {phrase} "'),
            2: _optional(f"name : {_quoted(f' {phrase}')}" if _quoted(f" {phrase}") else None),
            3: _optional(f"name : {_quoted(phrase)}" if _quoted(phrase) else None),
            4: _optional(_all_of("name", words) if all(_trigram(w) for w in words) else None),
            5: _optional(_all_of("{name category}", words) if all(_trigram(w) for w in words) else None),
            6: _optional(_all_of("{name category sku}", words) if all(_trigram(w) for w in words) else None),
        }
        self._word_counts: dict[str, int] = {}
        self._tier_counts: dict[int, int] = {}

    def tiers(self) -> Sequence[int]:
        return [*self._tiers, REST]

    async def _fts_count(self, driver: _Driver) -> int:
        """Index candidates, counted up to CANDIDATES + 1 per FTS table."""
        total = 0
        for rowids in driver.rowids():
            total += await _count(self._db, rowids, CANDIDATES)
        return total

    def _word_driver(self, word: str) -> _Driver | None:
        trigram = _trigram(word)
        if trigram is None:
            return None  # a one-letter word: no index finds it in name, category or SKU
        return _Driver(trigrams=f"{{name category sku}} : {trigram}", words=f'description : "{word}"*')

    async def _rest_driver(self) -> _Driver | None:
        """The rarest word's candidates (every match holds each word), None when all are too many."""
        best: tuple[int, _Driver] | None = None
        for word in self._terms.words:
            driver = self._word_driver(word)
            if driver is None:
                continue
            count = self._word_counts.get(word)
            if count is None:
                count = self._word_counts[word] = await self._fts_count(driver)
            if best is None or count < best[0]:
                best = (count, driver)
        return None if best is None or best[0] > CANDIDATES else best[1]

    async def _driver(self, tier: int) -> _Driver | None:
        if tier == REST:
            return await self._rest_driver()
        driver = self._drivers.get(tier)
        if driver is None:
            return None
        count = self._tier_counts.get(tier)
        if count is None:
            count = self._tier_counts[tier] = await self._fts_count(driver)
        return driver if count <= CANDIDATES else None

    async def nothing_matches(self) -> bool:
        """True when some word is in no index at all: an empty answer without reading a row."""
        for word in self._terms.words:
            driver = self._word_driver(word)
            if driver is not None:
                count = self._word_counts.get(word)
                if count is None:
                    count = self._word_counts[word] = await self._fts_count(driver)
                if count == 0:
                    return True
        return False

    async def _where(self, tier: int | None) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = [self._match]
        if tier is not None:
            conditions += in_tier(tier, self._tiers)
            driver = await self._driver(tier)
        else:
            driver = await self._rest_driver()
        if driver is not None:
            rowids = driver.rowids()
            source = rowids[0] if len(rowids) == 1 else rowids[0].union(*rowids[1:])
            conditions.append(search_rows.c.id.in_(source))
        return conditions

    async def matched(self, cap: int) -> int:
        if await self.nothing_matches():
            return 0
        if len(self._terms.words) == 1 and max(self._word_counts.values(), default=0) > cap:
            return cap + 1  # one word: its index candidates are its matches
        return await _count(self._db, select(search_rows.c.id).where(*await self._where(None)), cap)

    async def count(self, tier: int, cap: int) -> int:
        where = await self._where(tier)
        return await _count(self._db, select(search_rows.c.id).where(*where), cap)

    async def keys(self, tier: int, after: tuple[str, UUID] | None, limit: int, offset: int) -> list[tuple[str, UUID]]:
        s = search_rows.c
        query = (
            select(s.sort_name, s.product_id)
            .where(*await self._where(tier), *after_key(s.sort_name, s.product_id, after))
            .order_by(s.sort_name, s.product_id)
            .limit(limit)
            .offset(offset)
        )
        return [(row["sort_name"], row["product_id"]) for row in await self._db.fetch_all(query)]


def _optional(query: str | None) -> _Driver | None:
    return None if query is None else _Driver(trigrams=query)


# ------------------------------------------------------------------------------------------------


def _tiers_for(db: Database, terms: Terms) -> Tiers:
    return _SqliteTiers(db, terms) if db.url.dialect == "sqlite" else PostgresTiers(db, terms)


async def count_matches(db: Database, *, query: str, cap: int) -> int:
    """The number of products matching `query`, counted no further than `cap + 1`."""
    terms = Terms.parse(query)
    if not terms.words:
        return 0
    return await _tiers_for(db, terms).matched(cap)


async def search(
    db: Database, *, query: str, limit: int, after: SearchKey | None = None, offset: int = 0
) -> list[SearchHit]:
    """Up to `limit` matches of `query` in rank order: those after the key `after`, or past `offset` of them."""
    terms = Terms.parse(query)
    if not terms.words or limit <= 0:
        return []
    reader = _tiers_for(db, terms)
    if isinstance(reader, _SqliteTiers) and await reader.nothing_matches():
        return []
    if isinstance(reader, PostgresTiers) and await reader.matched(RANK_AT_ONCE) <= RANK_AT_ONCE:
        return await _hits(db, await reader.ranked_keys(after, limit, offset))
    keys: list[tuple[int, str, UUID]] = []
    for tier in reader.tiers():
        if after is not None and tier < after[0]:
            continue
        resume = (after[1], after[2]) if after is not None and tier == after[0] else None
        if offset > 0:
            counted = await reader.count(tier, offset)
            if counted <= offset:
                offset -= counted
                continue
        found = await reader.keys(tier, resume, limit - len(keys), offset)
        offset = 0
        keys += [(tier, sort_name, product_id) for sort_name, product_id in found]
        if len(keys) >= limit:
            break
    return await _hits(db, keys)


async def _hits(db: Database, keys: list[SearchKey]) -> list[SearchHit]:
    if not keys:
        return []
    # One bound value per id: `databases` would not convert an expanding IN list's UUIDs on SQLite.
    ids = [bindparam(None, key[2], Uuid()) for key in keys]
    rows = await db.fetch_all(select(*_COLUMNS).where(products.c.id.in_(ids), products.c.deleted_at.is_(None)))
    records = {row["id"]: record_of(ProductRecord, row) for row in rows}
    # A product deleted between the two reads is left out rather than answered.
    return [SearchHit(records[key[2]], key) for key in keys if key[2] in records]
