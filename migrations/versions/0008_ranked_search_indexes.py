"""Ranked keyword search (impl/db/search.py): indexes over each field's folded words.

Search compares `search_text(field)`: the folded words, joined by single spaces, padded with a
space at either end.

PostgreSQL: that text of name, category and SKU in stored generated columns (search_name, ...)
with pg_trgm GIN indexes (substrings and word starts as LIKE patterns), the description's words
as a stored `to_tsvector('simple', ...)` with a GIN index (word and word-prefix matches), and a
B-tree on lower(sku) for the exact-SKU tier. The app never writes these columns; the MetaData
leaves them out (impl/db/search.py reads them on PostgreSQL only). They replace the
trigram indexes on lower(column) of 0002 and the statistics of 0003 (an expression index carries
its own statistics). Both extensions are stock PostgreSQL 15 (pg_trgm is already required by 0002).

SQLite: `products_search` holds that text of every live product (and its folded name, the sort
key), kept current by triggers on `products`; two FTS5 tables index it with external content: a
trigram one over name, category and SKU, a word (unicode61) one over descriptions. The triggers
call py_search_text(), which every connection of the app registers (impl/db/folding.py).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _words(column: str) -> str:
    # impl/db/search.py's search_words(), as the planner must see it to use these indexes.
    return f"(' ' || regexp_replace(lower(coalesce({column}, '')), '[^[:alnum:]]+', ' ', 'g') || ' ')"


# Stored, so that a row is tested by reading its text, not by folding it again (~0.1 ms a row computed).
POSTGRES_COLUMNS = {
    "search_name": f"text GENERATED ALWAYS AS ({_words('name')}) STORED",
    "search_category": f"text GENERATED ALWAYS AS ({_words('category')}) STORED",
    "search_sku": f"text GENERATED ALWAYS AS ({_words('sku')}) STORED",
    "search_description": (
        f"tsvector GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, {_words('description')})) STORED"
    ),
}
POSTGRES_INDEXES = {
    "ix_products_search_name": "USING gin (search_name gin_trgm_ops)",
    "ix_products_search_category": "USING gin (search_category gin_trgm_ops)",
    "ix_products_search_sku": "USING gin (search_sku gin_trgm_ops)",
    "ix_products_search_description": "USING gin (search_description)",
    "ix_products_live_lower_sku": "(lower(sku))",
}
OLD_SEARCHED = ("name", "description", "category", "sku")

SEARCH_COLUMNS = "product_id, sort_name, name, category, sku, description"
SEARCH_VALUES = (
    "{row}.id, py_lower({row}.name), py_search_text({row}.name), py_search_text({row}.category), "
    "py_search_text({row}.sku), py_search_text({row}.description)"
)
SQLITE_SCHEMA = (
    "CREATE TABLE products_search (id INTEGER PRIMARY KEY, product_id CHAR(32) NOT NULL UNIQUE,"
    " sort_name TEXT NOT NULL, name TEXT NOT NULL, category TEXT NOT NULL, sku TEXT NOT NULL,"
    " description TEXT NOT NULL)",
    "CREATE INDEX ix_products_search_sort ON products_search (sort_name, product_id)",
    # Pre-folded text: the tokenizers compare it as it is (no case folding, no diacritics removed of their own).
    "CREATE VIRTUAL TABLE products_search_trigrams USING fts5(name, category, sku,"
    " content='products_search', content_rowid='id', tokenize='trigram case_sensitive 1')",
    "CREATE VIRTUAL TABLE products_search_words USING fts5(description,"
    " content='products_search', content_rowid='id', tokenize='unicode61 remove_diacritics 0')",
    "CREATE TRIGGER products_search_indexed AFTER INSERT ON products_search BEGIN"
    " INSERT INTO products_search_trigrams (rowid, name, category, sku)"
    " VALUES (new.id, new.name, new.category, new.sku);"
    " INSERT INTO products_search_words (rowid, description) VALUES (new.id, new.description);"
    " END",
    "CREATE TRIGGER products_search_unindexed AFTER DELETE ON products_search BEGIN"
    " INSERT INTO products_search_trigrams (products_search_trigrams, rowid, name, category, sku)"
    " VALUES ('delete', old.id, old.name, old.category, old.sku);"
    " INSERT INTO products_search_words (products_search_words, rowid, description)"
    " VALUES ('delete', old.id, old.description);"
    " END",
    f"CREATE TRIGGER products_search_inserted AFTER INSERT ON products WHEN new.deleted_at IS NULL BEGIN"  # noqa: S608
    f" INSERT INTO products_search ({SEARCH_COLUMNS}) VALUES ({SEARCH_VALUES.format(row='new')});"
    f" END",
    f"CREATE TRIGGER products_search_updated AFTER UPDATE OF name, category, sku, description, deleted_at"  # noqa: S608
    f" ON products BEGIN"
    f" DELETE FROM products_search WHERE product_id = old.id;"
    f" INSERT INTO products_search ({SEARCH_COLUMNS}) SELECT {SEARCH_VALUES.format(row='new')}"
    f" WHERE new.deleted_at IS NULL;"
    f" END",
    "CREATE TRIGGER products_search_deleted AFTER DELETE ON products BEGIN"
    " DELETE FROM products_search WHERE product_id = old.id;"
    " END",
)
SQLITE_DROP = (
    "DROP TRIGGER products_search_deleted",
    "DROP TRIGGER products_search_updated",
    "DROP TRIGGER products_search_inserted",
    "DROP TABLE products_search_words",
    "DROP TABLE products_search_trigrams",
    "DROP TABLE products_search",
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for column in OLD_SEARCHED:
            op.execute(f"DROP INDEX IF EXISTS ix_products_trgm_{column}")
            op.execute(f"DROP STATISTICS IF EXISTS st_products_lower_{column}")
        columns = ", ".join(f"ADD COLUMN {name} {definition}" for name, definition in POSTGRES_COLUMNS.items())
        op.execute(f"ALTER TABLE products {columns}")
        for name, definition in POSTGRES_INDEXES.items():
            op.execute(f"CREATE INDEX {name} ON products {definition} WHERE deleted_at IS NULL")
        op.execute("ANALYZE products")
        return
    for statement in SQLITE_SCHEMA:
        op.execute(statement)
    op.execute(
        f"INSERT INTO products_search ({SEARCH_COLUMNS}) SELECT {SEARCH_VALUES.format(row='products')}"  # noqa: S608
        " FROM products WHERE deleted_at IS NULL"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in POSTGRES_INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")
        op.execute("ALTER TABLE products " + ", ".join(f"DROP COLUMN {name}" for name in POSTGRES_COLUMNS))
        for column in OLD_SEARCHED:
            op.execute(
                f"CREATE INDEX ix_products_trgm_{column} ON products "
                f"USING gin (lower({column}) gin_trgm_ops) WHERE deleted_at IS NULL"
            )
            op.execute(f"CREATE STATISTICS st_products_lower_{column} ON (lower({column})) FROM products")
        op.execute("ANALYZE products")
        return
    for statement in SQLITE_DROP:
        op.execute(statement)
