"""Popular recommendations: one list per period, computed once and kept (impl/services/popular.py).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from impl.db.tables import UtcDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "popular_lists",
        sa.Column("period_start", UtcDateTime(), nullable=False),
        sa.Column("product_ids", sa.Text(), nullable=False),
        sa.Column("computed_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("period_start", name="pk_popular_lists"),
    )


def downgrade() -> None:
    op.drop_table("popular_lists")
