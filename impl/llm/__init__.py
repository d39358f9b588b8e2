"""A client of OpenAI-compatible chat-completions endpoints (httpx). Third-party libraries only.

LlmError
├── LlmFailed     the provider could not be reached, answered an error, or answered something unusable
└── LlmTimedOut   no full answer within the timeout
"""

from __future__ import annotations

from .chat import ChatClient, ChatMessage, Completion, LlmError, LlmFailed, LlmTimedOut

__all__ = ["ChatClient", "ChatMessage", "Completion", "LlmError", "LlmFailed", "LlmTimedOut"]
