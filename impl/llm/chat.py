"""`POST {base_url}/chat/completions`, as OpenAI and the servers that copy its API answer it."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any, TypedDict

import httpx

# A completion of the few hundred tokens asked for is a few KB: an answer past this is not one, and is not
# read on (the timeout alone would let a provider fill the memory first).
MAX_ANSWER_BYTES = 1 << 20


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
        if status in (401, 403):  # its message can quote part of the key: not passed on
            raise LlmFailed(f"The language model provider refused the credentials (LLM_API_KEY): {status}.")
        if status != 200:
            raise LlmFailed(f"The language model provider answered {status}{_reason(content)}")
        try:
            answer: Any = json.loads(content)
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


def _reason(content: bytes) -> str:
    """`: <the provider's error message>` when it sent one in OpenAI's shape (kept short), else `.`."""
    try:
        message = " ".join(str(json.loads(content)["error"]["message"]).split())[:200]
    except (ValueError, LookupError, TypeError):
        return "."
    return f": {message}" if message else "."
