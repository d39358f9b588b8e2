"""Start-up work: the schema, and the idempotent admin from ADMIN_* settings."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime

from generated.models import Role

from .db import users as user_rows
from .db.database import Db, UniqueViolation
from .security.passwords import NOBODY, PasswordHasher
from .settings import Settings

logger = logging.getLogger(__name__)


class BootstrapConflict(RuntimeError):
    """ADMIN_EMAIL or ADMIN_USERNAME already names someone else's account."""


async def ensure_admin(db: Db, hasher: PasswordHasher, settings: Settings) -> None:
    if not (settings.admin_email and settings.admin_username and settings.admin_password):
        return
    by_email = await user_rows.find_by_login(db.database, login=settings.admin_email)
    by_name = await user_rows.find_by_login(db.database, login=settings.admin_username)
    if by_email is not None or by_name is not None:
        if by_email is not None and by_name is not None and by_email.id == by_name.id:
            return  # created at an earlier start
        message = (
            f"ADMIN_EMAIL {settings.admin_email!r} and ADMIN_USERNAME {settings.admin_username!r} do not name one "
            "account: one of them already belongs to another user; no admin was created"
        )
        if settings.environment == "production":
            raise BootstrapConflict(message)
        logger.error(message)
        return
    password_hash = await hasher.hash(settings.admin_password.get_secret_value(), requester=NOBODY)
    now = datetime.now(UTC)
    try:
        async with db.write() as database:
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
