# syntax=docker/dockerfile:1
# catalog-api image: the runtime environment exactly as uv.lock pins it, and only
# the files the app reads at run time (impl/, generated/, migrations/, openapi.yaml).
#
#   docker build -t catalog-api .
#   docker run --rm --env-file prod.env catalog-api python -m impl.db.migrate  # schema first
#   docker run -p 8000:8000 --env-file prod.env catalog-api
# with DATABASE_URL, REDIS_URL, ENVIRONMENT=production and SECRET_KEY in prod.env
# (docker-compose.yml does all of this).
#
# BASE must provide Python 3.11+ as `python3` with venv and pip; both stages use
# it, so the venv's interpreter links stay valid.
ARG BASE=python:3.11-slim

FROM ${BASE} AS builder

ARG UV_VERSION=0.13.9
# uv goes into its own venv (Debian's system Python refuses `pip install`).
RUN python3 -m venv /opt/uv \
    && /opt/uv/bin/pip install --no-cache-dir --disable-pip-version-check "uv==${UV_VERSION}"

# uv trusts the base's CA bundle (the system's, plus whatever the base adds to it),
# not only its built-in roots: builds behind a TLS-inspecting proxy work too.
ENV UV_PROJECT_ENVIRONMENT=/app/.venv \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    UV_PYTHON=python3 \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy

WORKDIR /app
# Dependencies only: this layer is rebuilt when the lock changes, not the code.
COPY pyproject.toml uv.lock ./
RUN --mount=type=cache,target=/root/.cache/uv \
    /opt/uv/bin/uv sync --frozen --no-dev --no-install-project


FROM ${BASE} AS runtime

# The source revision /health reports (e.g. --build-arg BUILD_REVISION=$(git rev-parse --short HEAD)).
ARG BUILD_REVISION=""
ENV BUILD_REVISION=${BUILD_REVISION} \
    PATH=/app/.venv/bin:$PATH \
    VIRTUAL_ENV=/app/.venv \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONFAULTHANDLER=1 \
    DATA_DIR=/app/data \
    PORT=8000

# A fixed numeric uid/gid, so orchestrators can check runAsNonRoot.
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin app

WORKDIR /app
COPY --from=builder /app/.venv /app/.venv
COPY openapi.yaml ./
COPY migrations/ ./migrations/
COPY contract_runtime/ ./contract_runtime/
COPY generated/ ./generated/
COPY impl/ ./impl/
# Code stays root-owned and read-only to the app; only DATA_DIR is writable
# (used solely by the embedded SQLite default, never with DATABASE_URL set).
RUN python -m compileall -q contract_runtime impl generated migrations \
    && mkdir -p /app/data \
    && chown app:app /app/data

USER 10001:10001
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('PORT', '8000'), timeout=4)"]

# One process per container: scale with replicas (or set WEB_CONCURRENCY).
# PORT (default 8000) moves the listener, e.g. with --network host.
# impl/serve.py runs uvicorn as scripts/serve does: X-Forwarded-For believed only from
# TRUSTED_PROXIES (none by default), HEADER_TIMEOUT_SECONDS on each request head, and the
# settings' SHUTDOWN_TIMEOUT_SECONDS (on SIGTERM, requests in flight get this long to
# finish: 8 s, within `docker stop`'s 10 s; raise both together), KEEP_ALIVE_TIMEOUT_SECONDS
# and LIMIT_CONCURRENCY.
CMD ["sh", "-c", "exec python -m impl.serve --host 0.0.0.0 --port \"${PORT:-8000}\""]
