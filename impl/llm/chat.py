"""`POST {base_url}/chat/completions`, as OpenAI and the servers that copy its API answer it.

A provider's own words never leave this module in an error: an error answer can quote the request
(OpenAI-compatible proxies have echoed the `Authorization` header), so `LlmFailed` says only what
happened (the status, "not a chat completion") and the provider's message goes to this module's log,
with the API key and any `Bearer` credential replaced by `[REDACTED]`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from dataclasses import dataclass
from typing import Any, TypedDict

import httpx

# A completion of the few hundred tokens asked for is a few KB: an answer past this is not one, and is not
# read on (the timeout alone would let a provider fill the memory first).
MAX_ANSWER_BYTES = 1 << 20
# The provider's error message as logged: enough to diagnose, not a megabyte of log line.
LOGGED_MESSAGE_CHARS = 500
REDACTED = "[REDACTED]"
# A credential in any header-like spelling: `Bearer sk-...`, `bearer: ...`, JSON-quoted or not.
_BEARER = re.compile(r"(?i)\b(bearer)\b[\s:=\"']*[^\s\"',;]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")

logger = logging.getLogger(__name__)


class LlmError(Exception):
    """The provider gave no usable answer; the message says why (it never holds the API key)."""


class LlmFailed(LlmError):
    pass


class LlmTimedOut(LlmError):
    pass


class ChatMessage(TypedDict):
    role: str
    content: str


@dataclass(frozen=True, slots=True)
class Completion:
    text: str
    model: str  # as the provider names the model that answered


class ChatClient:
    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str | None,
        timeout_seconds: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.model = model
        self._url = base_url.rstrip("/") + "/chat/completions"
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._api_key = api_key or None
        self._timeout = timeout_seconds
        self._transport = transport

    async def complete(self, messages: list[ChatMessage], *, max_tokens: int, temperature: float = 0.7) -> Completion:
        body = {"model": self.model, "messages": messages, "max_tokens": max_tokens, "temperature": temperature}
        try:
            # The whole exchange is bounded, not only each read: a provider trickling bytes times out too.
            async with (
                asyncio.timeout(self._timeout),
                httpx.AsyncClient(timeout=self._timeout, transport=self._transport) as client,
                client.stream("POST", self._url, json=body, headers=self._headers) as response,
            ):
                status = response.status_code
                content = await _read_capped(response)
        except (TimeoutError, httpx.TimeoutException):
            raise LlmTimedOut(f"The language model provider did not answer within {self._timeout:g} seconds.") from None
        except httpx.HTTPError as exc:
            raise LlmFailed(f"The language model provider could not be reached ({type(exc).__name__}).") from None
        if status != 200:
            logger.warning(
                "the language model provider answered %d: %s", status, _loggable(content, secret=self._api_key)
            )
            if status in (401, 403):
                raise LlmFailed(f"The language model provider refused the credentials (LLM_API_KEY): {status}.")
            raise LlmFailed(f"The language model provider answered {status}.")
        try:
            answer: Any = _parsed(content)
            text = answer["choices"][0]["message"]["content"]
            model = answer.get("model") or self.model
        except (ValueError, LookupError, TypeError, AttributeError):
            raise LlmFailed("The language model provider's answer is not a chat completion.") from None
        if not isinstance(text, str) or not isinstance(model, str):
            raise LlmFailed("The language model provider's answer is not a chat completion.")
        return Completion(text=text, model=model)


async def _read_capped(response: httpx.Response) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            raise LlmFailed(f"The language model provider's answer is larger than {MAX_ANSWER_BYTES} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


def _parsed(content: bytes) -> Any:
    """The JSON value, or ValueError; nesting too deep for the parser (`[[[[...`) is not JSON we read."""
    try:
        return json.loads(content)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def _loggable(content: bytes, *, secret: str | None) -> str:
    """The provider's error message (OpenAI's `error.message`, else the body as text) for one log line:
    credentials redacted before it is cut short (a cut must not leave a key's prefix), control characters
    escaped so it cannot forge lines of its own."""
    try:
        message = str(_parsed(content)["error"]["message"])
    except (ValueError, LookupError, TypeError):
        message = content.decode("utf-8", "replace")
    if secret:
        message = message.replace(secret, REDACTED)
    message = _BEARER.sub(lambda match: f"{match.group(1)} {REDACTED}", message)
    message = " ".join(message.split())
    message = _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", message)
    if len(message) > LOGGED_MESSAGE_CHARS:
        message = message[:LOGGED_MESSAGE_CHARS] + "..."
    return message or "(no message)"
