"""The domain side loads no web framework: checked in a fresh interpreter, as a user would import it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FRAMEWORK_FREE = ("impl/services", "impl/db", "impl/cache", "impl/security", "generated/interfaces")
WEB_STACK = ("fastapi", "starlette", "jsonschema_rs")


def modules_under(folder: str) -> list[str]:
    return sorted(
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for path in (ROOT / folder).rglob("*.py")
    )


def test_the_layer_folders_hold_modules() -> None:
    for folder in FRAMEWORK_FREE:
        assert modules_under(folder), folder


def web_modules_after_importing(modules: list[str]) -> list[str]:
    """The web-stack modules loaded after importing `modules` into a fresh interpreter."""
    program = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {WEB_STACK!r})))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, check=True, timeout=120
    )
    loaded: list[str] = json.loads(result.stdout)
    return loaded


def test_importing_services_data_cache_security_and_interfaces_loads_no_web_framework() -> None:
    modules = [module for folder in FRAMEWORK_FREE for module in modules_under(folder)]
    assert web_modules_after_importing(modules) == []


def test_the_check_would_see_a_framework_import() -> None:
    assert "starlette" in web_modules_after_importing(["impl.app"])
