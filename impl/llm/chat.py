"""`POST {base_url}/chat/completions`, as OpenAI and the servers that copy its API answer it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, TypedDict

import httpx


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
            async with asyncio.timeout(self._timeout):
                async with httpx.AsyncClient(timeout=self._timeout, transport=self._transport) as client:
                    response = await client.post(self._url, json=body, headers=self._headers)
        except (TimeoutError, httpx.TimeoutException):
            raise LlmTimedOut(f"The language model provider did not answer within {self._timeout:g} seconds.") from None
        except httpx.HTTPError as exc:
            raise LlmFailed(f"The language model provider could not be reached ({type(exc).__name__}).") from None
        if response.status_code != 200:
            raise LlmFailed(f"The language model provider answered {response.status_code}{_reason(response)}")
        try:
            answer: Any = response.json()
            text = answer["choices"][0]["message"]["content"]
            model = answer.get("model") or self.model
        except (ValueError, LookupError, TypeError, AttributeError):
            raise LlmFailed("The language model provider's answer is not a chat completion.") from None
        if not isinstance(text, str) or not isinstance(model, str):
            raise LlmFailed("The language model provider's answer is not a chat completion.")
        return Completion(text=text, model=model)


def _reason(response: httpx.Response) -> str:
    """`: <the provider's error message>` when it sent one in OpenAI's shape (kept short), else `.`."""
    try:
        message = " ".join(str(response.json()["error"]["message"]).split())[:200]
    except (ValueError, LookupError, TypeError):
        return "."
    return f": {message}" if message else "."
