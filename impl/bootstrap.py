"""Start-up work: the schema, and the idempotent admin from ADMIN_* settings."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime

from generated.models import Role

from .db import users as user_rows
from .db.database import Db, UniqueViolation
from .security.passwords import PasswordHasher
from .settings import Settings

logger = logging.getLogger(__name__)


async def ensure_admin(db: Db, hasher: PasswordHasher, settings: Settings) -> None:
    if not (settings.admin_email and settings.admin_username and settings.admin_password):
        return
    password_hash = await hasher.hash(settings.admin_password.get_secret_value())
    now = datetime.now(UTC)
    try:
        async with db.write() as database:
            taken = await user_rows.email_taken(database, email=settings.admin_email) or await user_rows.username_taken(
                database, username=settings.admin_username
            )
            if taken:
                return
            await user_rows.insert(
                database,
                values={
                    "id": uuid.uuid4(),
                    "email": settings.admin_email,
                    "username": settings.admin_username,
                    "password_hash": password_hash,
                    "role": Role.admin.value,
                    "is_active": True,
                    "token_version": 0,
                    "created_at": now,
                    "updated_at": now,
                },
            )
    except UniqueViolation:
        return  # another worker or replica created it at the same moment
    logger.info("created admin %s", settings.admin_username)
