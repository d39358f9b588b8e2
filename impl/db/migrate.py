"""Alembic, driven from code: the only way the schema is created or changed.

python -m impl.db.migrate            upgrade to the newest revision
python -m impl.db.migrate current    print the database's revision
"""

from __future__ import annotations

import sys
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    """Bring the database at `url` (the app's async URL) to the newest revision."""
    command.upgrade(alembic_config(url), "head")


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def main(argv: list[str]) -> int:
    from impl.settings import Settings

    url = Settings().resolved_database_url()
    if argv[1:] == ["current"]:
        command.current(alembic_config(url))
        return 0
    if argv[1:]:
        print(__doc__, file=sys.stderr)
        return 2
    upgrade(url)
    print(f"database at revision {head_revision()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
