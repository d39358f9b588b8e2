"""Smart search and recommendations: product embeddings and each user's recent views.

`products.embedding` holds the product's vector (little-endian float32; NULL
until computed), `embedding_model` the model that made it and
`embedding_text_sha256` the hash of the text it was made from. A blob works on SQLite and
PostgreSQL alike; search runs in the API process (impl/embeddings), so no
pgvector. Existing products get their vectors when the API first loads its
index, or from `scripts/embed`.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from impl.db.tables import UtcDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("products") as batch:
        batch.add_column(sa.Column("embedding", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("embedding_model", sa.String(64), nullable=True))
        batch.add_column(sa.Column("embedding_text_sha256", sa.String(64), nullable=True))
    op.create_table(
        "product_views",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("viewed_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_product_views_user_id_users"),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"], name="fk_product_views_product_id_products"),
        sa.PrimaryKeyConstraint("user_id", "product_id", name="pk_product_views"),
    )
    op.create_index("ix_product_views_user_id_viewed_at", "product_views", ["user_id", "viewed_at"])
    op.create_index("ix_product_views_product_id", "product_views", ["product_id"])


def downgrade() -> None:
    op.drop_table("product_views")
    # Never by copying the table (batch mode's way on SQLite): the copy would lose the expression index
    # ix_products_live_name, which reflection cannot see. SQLite 3.35+ drops a column in place.
    with op.batch_alter_table("products", recreate="never") as batch:
        batch.drop_column("embedding_text_sha256")
        batch.drop_column("embedding_model")
        batch.drop_column("embedding")
