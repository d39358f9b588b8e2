"""The one MetaData and every Table of catalog-api."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    Uuid,
    func,
)
from sqlalchemy.engine import Dialect

from .folding import fold

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on every database (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        moment: datetime = value
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _live(table_name: str) -> dict[str, Any]:
    condition = Column("deleted_at").is_(None)
    return {"sqlite_where": condition, "postgresql_where": condition}


users = Table(
    "users",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("email", String(254), nullable=False),
    Column("username", String(32), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(16), nullable=False),
    Column("is_active", Boolean, nullable=False),
    Column("token_version", Integer, nullable=False, default=0),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("deleted_at", UtcDateTime, nullable=True),
)
Index("uq_users_email_live", func.lower(users.c.email), unique=True, **_live("users"))
Index("uq_users_username_live", func.lower(users.c.username), unique=True, **_live("users"))
Index("ix_users_created_at", users.c.created_at, users.c.id)

products = Table(
    "products",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=True),
    # Exact money: integer cents, answered as a JSON number.
    Column("price_cents", BigInteger, nullable=False),
    Column("stock", Integer, nullable=False),
    Column("category", String(100), nullable=True),
    Column("sku", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("deleted_at", UtcDateTime, nullable=True),
    # Smart search (impl/embeddings): the product's vector as little-endian float32, the model that
    # made it, and the SHA-256 of the text it was made from (current while both still match).
    Column("embedding", LargeBinary, nullable=True),
    Column("embedding_model", String(64), nullable=True),
    Column("embedding_text_sha256", String(64), nullable=True),
)
Index("uq_products_sku_live", products.c.sku, unique=True, **_live("products"))
Index("ix_products_live_created_at", products.c.created_at, products.c.id, **_live("products"))
Index("ix_products_live_price", products.c.price_cents, products.c.id, **_live("products"))
Index("ix_products_live_stock", products.c.stock, products.c.id, **_live("products"))
# fold(): lower() on PostgreSQL, py_lower() on SQLite, as the queries sort (migration 0007).
Index("ix_products_live_name", fold(products.c.name), products.c.id, **_live("products"))
Index("ix_products_live_category_name", products.c.category, fold(products.c.name), products.c.id, **_live("products"))
Index("ix_products_live_category_stock", products.c.category, products.c.stock, products.c.id, **_live("products"))
# A category page in the default order (newest first) or by price walks one index, no sort.
Index(
    "ix_products_live_category_created_at",
    products.c.category,
    products.c.created_at,
    products.c.id,
    **_live("products"),
)
Index(
    "ix_products_live_category_price",
    products.c.category,
    products.c.price_cents,
    products.c.id,
    **_live("products"),
)

refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("jti", String(64), primary_key=True),
    Column("family_id", String(64), nullable=False, index=True),
    Column("user_id", Uuid, ForeignKey("users.id"), nullable=False, index=True),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("used_at", UtcDateTime, nullable=True),
    Column("revoked_at", UtcDateTime, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
)

# What each user viewed lately: one row per (user, product), the newest view's time; services keep
# at most a bounded number per user. Recommendations draw on it.
product_views = Table(
    "product_views",
    metadata,
    Column("user_id", Uuid, ForeignKey("users.id"), primary_key=True),
    Column("product_id", Uuid, ForeignKey("products.id"), primary_key=True),
    Column("viewed_at", UtcDateTime, nullable=False),
)
Index("ix_product_views_user_id_viewed_at", product_views.c.user_id, product_views.c.viewed_at)
Index("ix_product_views_product_id", product_views.c.product_id)

# The popular products of each period (impl/services/popular.py), computed once by the first request that
# needs them and kept for the rest of the period: the list cannot move between two views of one period.
# `product_ids`: the listed products' ids, best first, separated by spaces (empty: none listed).
popular_lists = Table(
    "popular_lists",
    metadata,
    Column("period_start", UtcDateTime, primary_key=True),
    Column("product_ids", Text, nullable=False),
    Column("computed_at", UtcDateTime, nullable=False),
)
