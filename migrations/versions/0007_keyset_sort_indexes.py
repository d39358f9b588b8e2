"""Every sort, with and without a category filter, walks an index: pages by cursor cost the same at any depth.

A cursor page asks for the rows after a position in (sort key, id) order; an
index on those keys of the live rows answers it by seeking to the position and
reading one page. Two were missing, and one never served SQLite:

- (category, folded name, id) and (category, stock, id): a category page sorted by
  name or stock sorted every product of the category.
- On SQLite, names are folded by `py_lower()` (impl/db/folding.py: Python's
  lower(), which folds more than SQLite's ASCII-only lower()), so the index on
  `lower(name)` matched no query and every name sort sorted the whole table. It
  is rebuilt on `py_lower(name)`. A connection that writes products must then
  know py_lower() (the app's do, and migrations/env.py registers it for
  migrations); a bare `sqlite3` shell can still read but not write products.

PostgreSQL folds with lower(), as before.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

LIVE = sa.text("deleted_at IS NULL")


def _fold_name() -> sa.TextClause:
    return sa.text("py_lower(name)" if op.get_bind().dialect.name == "sqlite" else "lower(name)")


def _index(name: str, columns: list[str | sa.TextClause]) -> None:
    op.create_index(name, "products", columns, postgresql_where=LIVE, sqlite_where=LIVE)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.drop_index("ix_products_live_name", table_name="products")
        _index("ix_products_live_name", [_fold_name(), "id"])
    _index("ix_products_live_category_name", ["category", _fold_name(), "id"])
    _index("ix_products_live_category_stock", ["category", "stock", "id"])


def downgrade() -> None:
    op.drop_index("ix_products_live_category_stock", table_name="products")
    op.drop_index("ix_products_live_category_name", table_name="products")
    if op.get_bind().dialect.name == "sqlite":
        op.drop_index("ix_products_live_name", table_name="products")
        _index("ix_products_live_name", [sa.text("lower(name)"), "id"])
