"""An OpenAI-compatible chat-completions server on loopback, for the description-draft tests.

A real HTTP server (threads, `http.server`) answering `POST /v1/chat/completions`
the way OpenAI does. What it answers is chosen by the request's `model`:

- anything else: 200 with one choice whose content names the product (the last user message);
- `fake-error`: 500 with OpenAI's error body;
- `fake-garbage`: 200 with a body that is not JSON;
- `fake-empty`: 200 with an empty completion;
- `fake-slow`: waits `slow_seconds` before answering 200;
- `fake-cut`: 200 with a completion cut inside an escaped emoji pair (a lone surrogate, as a
  provider stopping at `max_tokens` can send), in the text and in the model's name;
- `fake-huge`: 200 with a 2 MB completion;
- `fake-unauthorized`: 401 with OpenAI's error body, which quotes part of the key;
- `fake-echo-<status>` (e.g. `fake-echo-429`): that status with OpenAI's error body whose message quotes
  the request's `Authorization` header whole, as some proxies do;
- `fake-echo-text`: 500 with a plain-text body quoting the `Authorization` header;
- `fake-deep-array`, `fake-deep-object`: 200 with JSON nested 100,000 levels deep.

Every request it received is kept in `requests` (path, headers, parsed body).

`python -m tests.fake_llm --port N` serves it until killed: scripts/contract starts one
so that the contract run's server has a model (`LLM_BASE_URL`, `LLM_MODEL`) and
`generateProductDescription` answers 200, not only 503 (schemathesis counts any 5xx
as a server error).
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DEPTH = 100_000  # nesting of the fake-deep-* answers: far past any JSON parser's recursion limit


@dataclass
class FakeLlm:
    base_url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    slow_seconds: float = 3.0


def _completion(model: str, content: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
    }


def make_server(port: int = 0) -> tuple[ThreadingHTTPServer, FakeLlm]:
    state = FakeLlm(base_url="")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (the timeout test)

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            body = json.loads(raw)
            state.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
            if self.path != "/v1/chat/completions":
                self._send(
                    404, json.dumps({"error": {"message": "not found", "type": "invalid_request_error"}}).encode()
                )
                return
            model = body["model"]
            if model == "fake-error":
                error = {"error": {"message": "The server had an error.", "type": "server_error", "code": None}}
                self._send(500, json.dumps(error).encode())
            elif model == "fake-garbage":
                self._send(200, b"<html>not json</html>", "text/html")
            elif model == "fake-empty":
                self._send(200, json.dumps(_completion(model, "  \n ")).encode())
            elif model == "fake-huge":
                self._send(200, json.dumps(_completion(model, "x" * 2_000_000)).encode())
            elif model == "fake-unauthorized":
                message = "Incorrect API key provided: sk-te****st. You can find your API key at ..."
                error = {"error": {"message": message, "type": "invalid_request_error", "code": "invalid_api_key"}}
                self._send(401, json.dumps(error).encode())
            elif model.startswith("fake-echo-"):
                quoted = f"Authorization: {self.headers.get('Authorization')}"
                if model == "fake-echo-text":
                    self._send(500, f"upstream rejected the request headers ({quoted})".encode(), "text/plain")
                else:
                    message = f"Request rejected by the gateway; headers received: {quoted}"
                    error = {"error": {"message": message, "type": "invalid_request_error", "code": None}}
                    self._send(int(model.removeprefix("fake-echo-")), json.dumps(error).encode())
            elif model == "fake-deep-array":
                self._send(200, b"[" * DEPTH + b"]" * DEPTH)
            elif model == "fake-deep-object":
                self._send(200, b'{"a":' * DEPTH + b"0" + b"}" * DEPTH)
            elif model == "fake-cut":
                self._send(200, json.dumps(_completion("cut-\ud83d", "Sturdy and warm \ud83d")).encode())
            else:
                if model == "fake-slow":
                    time.sleep(state.slow_seconds)
                prompt = body["messages"][-1]["content"]
                name = next(line for line in prompt.splitlines() if line.startswith("Name: "))[6:]
                text = f"{name}: a dependable choice.\tBuilt to last.\x07"
                self._send(200, json.dumps(_completion(model + "-2026", text)).encode())

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    return server, state


@contextmanager
def fake_llm_server() -> Iterator[FakeLlm]:
    server, state = make_server()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(description="An OpenAI-compatible chat-completions server for tests.")
    parser.add_argument("--port", type=int, required=True)
    server, state = make_server(parser.parse_args().port)
    print(state.base_url, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
