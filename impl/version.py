"""What is running: the API's version (the spec's, which is the package's) and the source revision."""

from __future__ import annotations

import subprocess
from pathlib import Path

from generated.operations import CONTRACT

VERSION = CONTRACT.version
ROOT = Path(__file__).resolve().parent.parent


def source_revision(configured: str | None) -> str | None:
    """BUILD_REVISION when the build recorded one (the image does), else the checkout's git HEAD, else None."""
    if configured:
        return configured
    if not (ROOT / ".git").exists():
        return None
    try:
        found = subprocess.run(  # noqa: S603 - fixed arguments, nothing from a request
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],  # noqa: S607 - git from PATH
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return found.stdout.strip() or None
