"""contract_runtime on a small contract of its own: security alternatives, parsing, results, errors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Protocol
from uuid import UUID

import httpx
import pytest
from pydantic import BaseModel

from contract_runtime.asgi import ContractRouter, Message, Receive, Scope, Send
from contract_runtime.binding import bind
from contract_runtime.operations import (
    Contract,
    Operation,
    Parameter,
    RequestBody,
    SecurityRequirement,
    SecurityScheme,
)
from contract_runtime.principal import Principal
from contract_runtime.problems import Problem
from contract_runtime.results import RawJson, Result
from tests.helpers import make_operation

pytestmark = pytest.mark.anyio


class Note(BaseModel):
    text: str


@dataclass(frozen=True, slots=True)
class NoteQuery:
    limit: int = 10


@dataclass(frozen=True, slots=True)
class Note200(Result):
    STATUS: ClassVar[int] = 200
    MEDIA_TYPE: ClassVar[str | None] = "application/json"
    HEADERS: ClassVar[tuple[tuple[str, str], ...]] = (("etag", "ETag"),)
    body: Note | RawJson[Note]
    etag: str | None = None


@dataclass(frozen=True, slots=True)
class Gone204(Result):
    STATUS: ClassVar[int] = 204


class NotesApi(Protocol):
    async def read_note(self, **kwargs: Any) -> Note200: ...

    async def write_note(self, **kwargs: Any) -> Note200: ...

    async def drop_note(self, **kwargs: Any) -> Gone204: ...

    async def who(self, **kwargs: Any) -> Note200: ...


class Noted(Exception):
    pass


class Notes:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    async def read_note(self, **kwargs: Any) -> Note200:
        self.calls.append(kwargs)
        return Note200(body=RawJson(b'{"text":"cached"}'), etag='"e1"')

    async def write_note(self, **kwargs: Any) -> Note200:
        self.calls.append(kwargs)
        return Note200(body=kwargs["body"])

    async def drop_note(self, **kwargs: Any) -> Gone204:
        if str(kwargs["note_id"]).startswith("00000000"):
            raise Noted("no such note")
        raise RuntimeError("a bug")

    async def who(self, **kwargs: Any) -> Note200:
        principal = kwargs["principal"]
        return Note200(body=Note(text="anonymous" if principal is None else principal.subject))


NOTE_ID = Parameter("note_id", "path", "note_id", "string", UUID)
LIMIT = Parameter("limit", "query", "limit", "integer", int)
TAG = Parameter("X-Tag", "header", "x_tag", "string", str)
UUID_PATH = {"properties": {"note_id": {"type": "string", "format": "uuid"}}, "required": ["note_id"]}
ROOT: dict[str, Any] = {
    "x-operations": {
        "readNote": {
            "parameters": {
                "type": "object",
                "properties": {
                    "path": UUID_PATH,
                    "query": {"properties": {"limit": {"type": "integer", "minimum": 1}}},
                    "header": {"properties": {"X-Tag": {"type": "string", "maxLength": 3}}},
                },
            }
        },
        "writeNote": {
            "bodies": {
                "application/json": {
                    "type": "object",
                    "properties": {"text": {"type": "string"}},
                    "required": ["text"],
                    "additionalProperties": False,
                }
            }
        },
        "dropNote": {"parameters": {"properties": {"path": UUID_PATH}}},
    }
}


FUNCTIONS = {"readNote": "read_note", "writeNote": "write_note", "dropNote": "drop_note", "who": "who"}


def op(operation_id: str, method: str, path: str, **extra: Any) -> Operation:
    return make_operation(operation_id, FUNCTIONS[operation_id], method, path, NotesApi, tag="notes", **extra)


CONTRACT = Contract(
    title="notes",
    version="1",
    operations=(
        op("readNote", "GET", "/notes/{note_id}", parameters=(NOTE_ID, LIMIT, TAG), query_type=NoteQuery),
        op(
            "writeNote",
            "POST",
            "/notes",
            bodies=(RequestBody("application/json", Note),),
            security=(SecurityRequirement({"Staff": ("write",)}), SecurityRequirement({"Robots": ()})),
        ),
        op("dropNote", "DELETE", "/notes/{note_id}", parameters=(NOTE_ID,)),
        op("who", "GET", "/notes/whoami", security=(SecurityRequirement({}), SecurityRequirement({"Staff": ()}))),
    ),
    security_schemes={"Staff": SecurityScheme("Staff", "oauth2"), "Robots": SecurityScheme("Robots", "http", "bearer")},
    validation_root=ROOT,
)


class Tokens:
    def __init__(self, known: dict[str, Principal]) -> None:
        self.known = known

    async def authenticate(self, token: str) -> Principal | None:
        return self.known.get(token)


async def inner_app(scope: Scope, receive: Receive, send: Send) -> None:
    start: Message = {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]}
    await send(start)
    await send({"type": "http.response.body", "body": b"docs"})


def map_error(exc: Exception) -> Problem | None:
    return Problem(404, "not-found", "Not found", str(exc)) if isinstance(exc, Noted) else None


@pytest.fixture
def notes() -> Notes:
    return Notes()


@pytest.fixture
def router(notes: Notes) -> ContractRouter:
    @dataclass
    class Implementations:
        notes: Notes

    staff = Tokens({"writer": Principal("w", frozenset({"write"})), "reader": Principal("r")})
    robots = Tokens({"robot": Principal("bot")})
    authenticators = {"Staff": staff, "Robots": robots}
    router = ContractRouter(
        inner_app,
        contract=CONTRACT,
        operations=bind(CONTRACT, Implementations(notes), authenticators),
        authenticators=authenticators,
        map_error=map_error,
        problem_type_prefix="urn:test:",
        passthrough_paths=("/docs",),
    )
    return router


@pytest.fixture
def client(router: ContractRouter) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=router), base_url="http://t")


NOTE = "/notes/7c9e6679-7425-40de-944b-e07fc1f90ae7"


async def test_parameters_arrive_typed_and_the_result_is_written_as_declared(
    client: httpx.AsyncClient, notes: Notes
) -> None:
    response = await client.get(NOTE, params={"limit": "3"}, headers={"X-Tag": "ab"})
    assert response.status_code == 200
    assert response.content == b'{"text":"cached"}'
    assert response.headers["etag"] == '"e1"'
    assert response.headers["content-type"] == "application/json"
    assert notes.calls == [{"note_id": UUID(NOTE.rsplit("/", 1)[1]), "x_tag": "ab", "query": NoteQuery(limit=3)}]


async def test_absent_optional_parameters_take_their_defaults(client: httpx.AsyncClient, notes: Notes) -> None:
    assert (await client.get(NOTE)).status_code == 200
    assert notes.calls == [{"note_id": UUID(NOTE.rsplit("/", 1)[1]), "x_tag": None, "query": NoteQuery()}]


async def test_every_invalid_parameter_is_listed_in_one_422(client: httpx.AsyncClient, notes: Notes) -> None:
    response = await client.get("/notes/not-a-uuid", params={"limit": "0"}, headers={"X-Tag": "long"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    locs = sorted(tuple(error["loc"]) for error in response.json()["errors"])
    assert locs == [("header", "X-Tag"), ("path", "note_id"), ("query", "limit")]
    assert notes.calls == []


async def test_any_one_security_alternative_is_enough(client: httpx.AsyncClient) -> None:
    for token in ("writer", "robot"):
        response = await client.post("/notes", json={"text": token}, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, token
        assert response.json() == {"text": token}


async def test_a_valid_token_without_the_scope_is_403_and_no_token_is_401(client: httpx.AsyncClient) -> None:
    forbidden = await client.post("/notes", json={"text": "x"}, headers={"Authorization": "Bearer reader"})
    assert forbidden.status_code == 403
    assert "write" in forbidden.json()["detail"]
    missing = await client.post("/notes", json={"text": "x"})
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    invalid = await client.post("/notes", json={"text": "x"}, headers={"Authorization": "Bearer nobody"})
    assert invalid.status_code == 401
    assert invalid.headers["www-authenticate"] == 'Bearer error="invalid_token"'


async def test_an_anonymous_alternative_makes_the_principal_optional(client: httpx.AsyncClient) -> None:
    assert (await client.get("/notes/whoami")).json() == {"text": "anonymous"}
    signed_in = await client.get("/notes/whoami", headers={"Authorization": "Bearer reader"})
    assert signed_in.json() == {"text": "r"}


async def test_bodies_are_checked_for_media_type_syntax_and_schema(client: httpx.AsyncClient) -> None:
    auth = {"Authorization": "Bearer robot"}
    assert (await client.post("/notes", content=b"text=x", headers=auth)).status_code == 415
    malformed = await client.post("/notes", content=b"{", headers={**auth, "content-type": "application/json"})
    assert malformed.status_code == 400
    nan = await client.post("/notes", content=b'{"text": NaN}', headers={**auth, "content-type": "application/json"})
    assert nan.status_code == 400
    extra = await client.post("/notes", json={"text": "x", "more": 1}, headers=auth)
    assert extra.status_code == 422
    assert extra.json()["errors"][0]["loc"] == ["body", "more"]


async def test_domain_errors_are_mapped_and_bugs_are_a_500_problem(client: httpx.AsyncClient) -> None:
    mapped = await client.delete("/notes/00000000-0000-4000-8000-000000000000")
    assert mapped.status_code == 404
    assert mapped.json()["type"] == "urn:test:not-found"
    bug = await client.delete(NOTE)
    assert bug.status_code == 500
    assert bug.json()["title"] == "Internal server error"


async def test_routing_follows_the_contract(client: httpx.AsyncClient) -> None:
    assert (await client.get("/notes/whoami")).status_code == 200  # concrete before /notes/{note_id}
    not_allowed = await client.put(NOTE)
    assert not_allowed.status_code == 405
    assert not_allowed.headers["allow"] == "GET, HEAD, DELETE"
    assert (await client.get("/elsewhere")).status_code == 404
    assert (await client.get("/docs")).text == "docs"
    assert (await client.post("/docs")).status_code == 405


async def test_a_parameter_that_is_not_utf8_text_is_a_422_naming_it(client: httpx.AsyncClient, notes: Notes) -> None:
    # The server's decoded path has U+FFFD where the bytes were; the raw path is what tells.
    for path in ("/notes/%ED%A0%80", "/notes/%FF"):
        response = await client.get(path)
        assert response.status_code == 422, path
        assert response.json()["errors"][0] == {
            "loc": ["path", "note_id"],
            "msg": "The value is not text: it holds a lone surrogate or bytes that are not UTF-8.",
            "type": "not_text",
        }
    header = await client.get(NOTE, headers=[(b"X-Tag", b"\xed\xa0\x80")])
    assert [error["loc"] for error in header.json()["errors"]] == [["header", "X-Tag"]]
    query = await client.get(f"{NOTE}?limit=%ED%BF%BF")
    assert [error["loc"] for error in query.json()["errors"]] == [["query", "limit"]]
    body = await client.post(
        "/notes",
        content=b'{"text": "ok", "nested": [{"\\udc00": 1}, "\\ud800"]}',
        headers={"Authorization": "Bearer robot", "Content-Type": "application/json"},
    )
    assert body.status_code == 422
    assert [error["loc"] for error in body.json()["errors"]] == [
        ["body", "nested", 0, "\\udc00"],
        ["body", "nested", 1],
    ]
    assert notes.calls == []


async def answer_of(router: ContractRouter, method: str, path: str) -> list[Message]:
    """The messages `router` sends for a bodiless request, as a server would see them."""
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path, "raw_path": path.encode(), "query_string": b""}
    await router({**scope, "headers": []}, receive, send)
    return sent


async def test_head_is_gets_answer_without_content_at_the_asgi_level(router: ContractRouter, notes: Notes) -> None:
    # httpx drops a HEAD answer's content itself, so this is what the router sends, unfiltered.
    for path in (NOTE, "/docs"):
        get, head = await answer_of(router, "GET", path), await answer_of(router, "HEAD", path)
        assert head[0]["status"] == get[0]["status"] == 200
        fields = [(name, value) for name, value in head[0]["headers"] if name != b"x-request-id"]
        assert fields == [(name, value) for name, value in get[0]["headers"] if name != b"x-request-id"]
        assert b"".join(message.get("body", b"") for message in get[1:]) != b""
        assert [message.get("body", b"") for message in head[1:]] == [b""]
    assert len(notes.calls) == 2  # HEAD reached GET's implementation
