"""Settings from the environment, one class per concern."""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .addresses import Network, parse_networks
from .security.password_policy import account_words, guess_bits, refusal

logger = logging.getLogger(__name__)

DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent / "data"
MIN_SECRET_BYTES = 32
MIN_PASSWORD_LENGTH, MAX_PASSWORD_LENGTH = 8, 128  # the spec's UserRegister.password
# Words of documented placeholders (.env.example says "change-me-..."), refused in production.
PLACEHOLDER_WORDS = ("change-me", "changeme", "change_me", "placeholder", "replace", "example", "secret-key", "<", ">")
MIN_DISTINCT_CHARACTERS = 12  # "x" * 48 is 48 bytes and no secret
# Production keys: zxcvbn's guess count (words, sequences and repeats cost little), as bits. 128 bits take
# 2**128 offline guesses at a token's HMAC; secrets.token_urlsafe(48) has about 208, token_hex(32) 207.
MIN_SECRET_BITS = 128
GENERATE_HINT = "generate one with: python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"


DATABASE_URL_FORMS = "postgresql+asyncpg://user:password@host:5432/database or sqlite+aiosqlite:///path.db"
# Schemes that name our databases without (or with the usual spelling of) the async driver we use.
ASYNC_SCHEMES = {
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
}


def async_database_url(url: str) -> str:
    """DATABASE_URL with the async driver the app uses (`postgresql://` becomes `postgresql+asyncpg://`).

    Refusals never repeat the URL: it may hold a password."""
    scheme, separator, rest = url.strip().partition("://")
    if not separator:
        raise ValueError(f"is not a database URL; expected {DATABASE_URL_FORMS}")
    driver = ASYNC_SCHEMES.get(scheme.lower())
    if driver is None:
        raise ValueError(f"the scheme {scheme}:// is not supported; expected {DATABASE_URL_FORMS}")
    return f"{driver}://{rest}"


def placeholder_like(key: str) -> bool:
    lowered = key.lower()
    return any(word in lowered for word in PLACEHOLDER_WORDS) or len(set(key)) < MIN_DISTINCT_CHARACTERS


class Settings(BaseSettings):
    """Everything the app reads from the environment (names as upper case)."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str | None = None
    redis_url: str | None = None
    cache_prefix: str = "catalog:v1:"
    cache_ttl_seconds: int = Field(default=120, ge=1)
    # With Redis: each process keeps answers this long at most (0: off); the staleness bound across processes.
    cache_local_ttl_ms: int = Field(default=100, ge=0, le=1000)
    cache_local_max_bytes: int = Field(default=32 * 1024 * 1024, ge=0)
    # Without Redis: the in-process cache's size, keys and bodies counted.
    cache_memory_max_bytes: int = Field(default=32 * 1024 * 1024, ge=1024)
    secret_key: SecretStr | None = None
    access_token_minutes: int = Field(default=15, ge=1)
    refresh_token_days: int = Field(default=7, ge=1)
    # Two refreshes with one token this close together are one (two tabs); a later replay ends every token.
    refresh_reuse_grace_seconds: float = Field(default=5, ge=0, le=5)
    bcrypt_rounds: int = Field(default=12, ge=4, le=31)
    password_hash_concurrency: int = Field(default=2, ge=1)
    password_hash_max_wait_seconds: float = Field(default=1.0, gt=0, le=30)
    # Requests are bounded before they are read (413, 414, 431, 408; 0 turns one off).
    # 64 KiB holds the largest valid request, a product with every text field at its
    # maximum length written as JSON escapes (about 28 KB).
    max_body_bytes: int = Field(default=64 * 1024, ge=0)
    max_url_bytes: int = Field(default=8 * 1024, ge=0)
    max_header_bytes: int = Field(default=16 * 1024, ge=0)
    body_timeout_seconds: float = Field(default=10.0, ge=0)
    # POST /products/import's body, read as it arrives (the timeout above then bounds each wait for more).
    import_max_bytes: int = Field(default=1024**3, ge=0)
    # Requests one process serves at once; past it, operations answer 503 with Retry-After.
    max_in_flight: int = Field(default=512, ge=0)
    # PostgreSQL: the longest wait to connect, for a pooled connection, and for each statement; past it, 503.
    database_timeout_seconds: float = Field(default=5.0, gt=0)
    # uvicorn, as `python -m impl.serve` (scripts/serve, the image) runs it: on SIGTERM, in-flight requests
    # get this long to finish; an idle keep-alive connection is closed after this long; past this many
    # connections and requests at once, uvicorn itself answers 503 (a backstop above MAX_IN_FLIGHT).
    shutdown_timeout_seconds: int = Field(default=8, ge=1)
    keep_alive_timeout_seconds: int = Field(default=5, ge=1)
    limit_concurrency: int = Field(default=1024, ge=1)
    # A connection whose request head (request line and headers) is not complete this long after the
    # connection opened, or after the previous answer, is closed (408 if part of a head came).
    header_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    # The reverse proxies whose X-Forwarded-For (and X-Forwarded-Proto) are believed: comma-separated
    # addresses or CIDR networks. Empty (the default): the headers are ignored and the limits key on
    # the connection's peer address (impl/http/forwarding.py).
    trusted_proxies: str = ""
    # The abuse limits' counters: a Redis that never evicts (maxmemory-policy noeviction), so a flood of cached
    # answers cannot push a lockout out; unset: REDIS_URL's. `python -m impl.serve` checks the policy.
    limits_redis_url: str | None = None
    # Abuse limits (0 turns one off), shared through Redis when LIMITS_REDIS_URL or REDIS_URL is set.
    # Login, registration and refresh from one address, per minute, together.
    rate_limit_per_address_per_minute: int = Field(default=120, ge=0)
    # Failed logins in a window: per account from one address, then per account from addresses
    # it has not signed in from lately (its own addresses are never locked out by others).
    login_failures_per_account_address: int = Field(default=10, ge=0)
    login_failures_per_account: int = Field(default=100, ge=0)
    login_failure_window_seconds: int = Field(default=900, ge=1)
    # Browser origins allowed to call the API (comma-separated `scheme://host[:port]`); empty: none.
    cors_origins: str = ""
    # The source revision /health reports; the image records it at build time (else git's HEAD, if any).
    build_revision: str | None = None
    # Log lines: `text` (time level logger [request id] message) or `json` (one object per line); the level shown.
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # The one access line per request (at INFO); off for benchmarks, or where a proxy logs requests.
    access_log: bool = True
    # Smart search and recommendations (impl/services/semantic.py, ai.py): load the embedding model and the
    # index at start-up, in the background (else on the first request); recommendations cached per user this
    # long; views kept per user.
    smart_search_preload: bool = True
    # The precision smart search's index keeps its vectors in (impl/embeddings/index.py): `f16` (top 5 as
    # exact search's for 0.985 of results at 1M) or `i8` (128 bytes a product less; near-ties swap: 0.94).
    smart_search_vectors: Literal["f16", "i8"] = "f16"
    recommendations_ttl_seconds: int = Field(default=3600, ge=1)
    view_history_size: int = Field(default=50, ge=1, le=1000)
    # Popular recommendations (impl/services/popular.py), for users without a usable history: computed once per
    # POPULAR_PERIOD_HOURS from accounts active and at least POPULAR_MIN_ACCOUNT_AGE_HOURS old when the period
    # began; a product is listed from POPULAR_MIN_VIEWERS such viewers plus a secret extra of 0 to
    # POPULAR_THRESHOLD_NOISE, drawn per product and period. One more view changes a period's list with a
    # chance of at most 1 in (POPULAR_THRESHOLD_NOISE + 1).
    popular_min_viewers: int = Field(default=10, ge=3)
    popular_min_account_age_hours: float = Field(default=24, ge=1)
    popular_period_hours: float = Field(default=24, gt=0)
    popular_threshold_noise: int = Field(default=10, ge=0, le=1000)
    # Views waiting in this process for the background writer (impl/services/views.py): past it the oldest
    # is dropped (counted); a crash loses at most this many.
    view_queue_size: int = Field(default=10_000, ge=1, le=1_000_000)
    # Description drafts: an OpenAI-compatible chat-completions endpoint (`{LLM_BASE_URL}/chat/completions`);
    # unset: POST /products/{id}/generate-description answers 503. The longest wait for its answer (504 past it).
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: SecretStr | None = None
    llm_timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    admin_email: str | None = None
    admin_username: str | None = None
    admin_password: SecretStr | None = None

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, value: str) -> str:
        parse_networks(value)  # refused here, at start, in one line
        return value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, url: str | None) -> str | None:
        return async_database_url(url) if url else url

    @model_validator(mode="after")
    def _admin_password_like_any_password(self) -> Settings:
        password = self.admin_password.get_secret_value() if self.admin_password is not None else None
        if password and not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
            raise ValueError(
                f"ADMIN_PASSWORD must be {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters, like any password"
            )
        if password:
            words = account_words(username=self.admin_username, email=self.admin_email)
            reason = refusal(password, user_inputs=words)
            if reason is not None:  # the reason never repeats the password: this line goes to the log
                raise ValueError(f"ADMIN_PASSWORD {reason}")
        return self

    @model_validator(mode="after")
    def _strong_secret(self) -> Settings:
        if self.secret_key is None:
            if self.environment == "production":
                raise ValueError(f"SECRET_KEY is required when ENVIRONMENT=production; {GENERATE_HINT}")
            return self  # development and tests: a key generated into the data folder
        key = self.secret_key.get_secret_value()
        if len(key.encode()) < MIN_SECRET_BYTES:
            raise ValueError(f"SECRET_KEY must be at least {MIN_SECRET_BYTES} bytes; {GENERATE_HINT}")
        if self.environment == "production" and placeholder_like(key):
            raise ValueError(f"SECRET_KEY looks like a placeholder, not a random key; {GENERATE_HINT}")
        if self.environment == "production" and (bits := guess_bits(key)) < MIN_SECRET_BITS:
            raise ValueError(
                f"SECRET_KEY is too easy to guess (about {bits:.0f} bits by zxcvbn's estimate, "
                f"at least {MIN_SECRET_BITS} needed); {GENERATE_HINT}"
            )
        return self

    def counters_redis_url(self) -> str | None:
        """Where the abuse counters live: LIMITS_REDIS_URL, else REDIS_URL, else (None) in process."""
        return self.limits_redis_url or self.redis_url

    def allowed_origins(self) -> frozenset[str]:
        return frozenset(origin.strip().rstrip("/") for origin in self.cors_origins.split(",") if origin.strip())

    def trusted_proxy_networks(self) -> tuple[Network, ...]:
        return parse_networks(self.trusted_proxies)

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite+aiosqlite:///{self.data_dir / 'catalog.db'}"

    def resolved_secret(self) -> str:
        """SECRET_KEY, or (development only) one generated once and kept in the data dir."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = self.data_dir / "secret_key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            # Workers starting together each generate one: the first link wins, and all read the winner's.
            draft = path.with_name(f".secret_key.{os.getpid()}")
            draft.write_text(secrets.token_urlsafe(48))
            draft.chmod(0o600)
            try:
                with contextlib.suppress(FileExistsError):
                    os.link(draft, path)
            finally:
                draft.unlink()
        logger.warning("SECRET_KEY is not set: using the generated key in %s (development only)", path)
        return path.read_text().strip()


class InvalidSettings(SystemExit):
    """Settings the app refuses: one line for the operator, and a non-zero exit."""


def _described(error: Any) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    where = ".".join(str(part) for part in error["loc"]).upper()
    return f"{where}: {message}" if where else message


def load_settings() -> Settings:
    """Settings from the environment, or a one-line refusal naming what is wrong."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(_described(error) for error in exc.errors())
        raise InvalidSettings(f"catalog-api: invalid settings: {problems}") from None
