"""PostgreSQL: trigram GIN indexes that serve the case-insensitive substring search.

Search matches `lower(column) LIKE '%q%'` on name, description, category and
SKU; a pg_trgm GIN index on each `lower(column)` lets PostgreSQL answer that
with a bitmap OR of index scans instead of reading every row. SQLite keeps the
portable query without them.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SEARCHED = ("name", "description", "category", "sku")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in SEARCHED:
        op.execute(
            f"CREATE INDEX ix_products_trgm_{column} ON products "
            f"USING gin (lower({column}) gin_trgm_ops) WHERE deleted_at IS NULL"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for column in SEARCHED:
        op.execute(f"DROP INDEX IF EXISTS ix_products_trgm_{column}")
