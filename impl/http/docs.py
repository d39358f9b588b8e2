"""openapi.yaml served verbatim, and the documentation pages that render it, with no network.

Swagger UI and ReDoc come from the pinned `fastapi-offline` package and are
served by the app itself: the pages reference nothing outside this origin.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import fastapi_offline
import yaml
from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse, RedirectResponse, Response

SPEC_PATH = Path(__file__).resolve().parents[2] / "openapi.yaml"
ASSETS_DIR = Path(fastapi_offline.__file__).resolve().parent / "static"
ASSETS_PATH = "/docs/assets"
# file name -> media type: what the two pages load
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "redoc.standalone.js": "text/javascript",
    "favicon.png": "image/png",
}
# The assets change only with the pinned package: caches may keep them a day.
ASSET_CACHE_CONTROL = "public, max-age=86400"
DOC_PATHS = (
    "/",
    "/openapi.json",
    "/openapi.yaml",
    "/docs",
    "/docs/oauth2-redirect",
    "/redoc",
    *(f"{ASSETS_PATH}/{name}" for name in ASSETS),
)


_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)
_EXTERNAL = re.compile(r"""<(script|link)\b[^>]*?\b(?:src|href)="(https://[^/"]+)/""")


def content_security_policy(page: str) -> str:
    """A policy that admits exactly what `page` loads: its inline scripts by hash, its origins by name."""
    hashes = [
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(page)
    ]
    scripts = sorted({origin for tag, origin in _EXTERNAL.findall(page) if tag == "script"})
    links = sorted({origin for tag, origin in _EXTERNAL.findall(page) if tag == "link"})
    # The renderers inject style attributes and load their web worker from a blob.
    directives = {
        "default-src": ["'none'"],
        "script-src": ["'self'", *scripts, *hashes],
        "style-src": ["'self'", "'unsafe-inline'", *links],
        "img-src": ["'self'", "data:", *links],
        "font-src": ["'self'", "data:", "https://fonts.gstatic.com"] if links else ["'self'", "data:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


def _guarded(page: HTMLResponse) -> HTMLResponse:
    page.headers["Content-Security-Policy"] = content_security_policy(bytes(page.body).decode())
    return page


@cache
def spec_text() -> str:
    return SPEC_PATH.read_text(encoding="utf-8")


@cache
def spec_document() -> dict[str, Any]:
    document = yaml.safe_load(spec_text())
    assert isinstance(document, dict)
    return document


@cache
def spec_json() -> bytes:
    return json.dumps(spec_document(), ensure_ascii=False).encode()


def install_spec_routes(app: FastAPI) -> None:
    title = str(spec_document()["info"]["title"])
    favicon = f"{ASSETS_PATH}/favicon.png"

    @app.get("/", include_in_schema=False)
    async def home() -> RedirectResponse:
        return RedirectResponse("/docs", status_code=307)

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi_json() -> Response:
        return Response(spec_json(), media_type="application/json")

    @app.get("/openapi.yaml", include_in_schema=False)
    async def openapi_yaml() -> Response:
        return Response(spec_text(), media_type="application/yaml")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        page = get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{title} - docs",
            oauth2_redirect_url="/docs/oauth2-redirect",
            swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=favicon,
            # The token survives a reload of the page, so "Try it out" stays signed in.
            swagger_ui_parameters={"persistAuthorization": True},
        )
        return _guarded(page)

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return _guarded(get_swagger_ui_oauth2_redirect_html())

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        page = get_redoc_html(
            openapi_url="/openapi.json",
            title=f"{title} - ReDoc",
            redoc_js_url=f"{ASSETS_PATH}/redoc.standalone.js",
            redoc_favicon_url=favicon,
            with_google_fonts=False,
        )
        return _guarded(page)

    for name, media_type in ASSETS.items():
        app.add_api_route(f"{ASSETS_PATH}/{name}", _asset_route(name, media_type), include_in_schema=False)


def _asset_route(name: str, media_type: str) -> Any:
    content = (ASSETS_DIR / name).read_bytes()

    async def asset() -> Response:
        return Response(content, media_type=media_type, headers={"Cache-Control": ASSET_CACHE_CONTROL})

    return asset
