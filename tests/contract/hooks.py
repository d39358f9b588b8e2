"""Schemathesis hooks of the contract run: deep fuzzing that cannot lock itself out.

Loaded by `scripts/contract` (SCHEMATHESIS_HOOKS) and usable against any deployment
of this API: set CONTRACT_BASE_URL, CONTRACT_ADMIN_USERNAME and CONTRACT_ADMIN_PASSWORD
(an admin the run may sign in as; tests/contract/README.md). What they do:

- **The signed-in admin is never the target of an account-changing operation.** The
  fuzzer signs in as that admin, and for it a rename, a deactivation, a demotion
  (legal once it has promoted someone else) or a delete are all valid requests: any
  of them ends every later token fetch. So every case of `PUT /users/{id}`,
  `PUT /users/{id}/role` and `DELETE /users/{id}` whose `user_id` names the admin's
  own account (in any spelling of the UUID) is dropped where it is generated
  (`filter_case`, which the coverage, fuzzing and stateful phases apply;
  `before_add_examples` for the examples phase), and `before_call` refuses to send one
  that got past them: the run errors instead of silently testing nothing. Every other
  account, admins the fuzzer promoted included, stays fair game, and the server keeps
  all its rules (the last admin, own-credential changes need the password, ...).
- **Logins and refreshes get live credentials.** In the fuzzing phase Hypothesis
  decides, per schema-valid login or refresh, whether it keeps its generated
  credentials (the 401 path) or gets live ones: a refresh token issued a moment ago,
  or the username and password of a fixture account (registered again when the fuzzer
  has deleted, deactivated or renamed it). In the stateful phase every schema-valid one
  gets live ones, so sequences start with a session; a step that follows a link then
  gets the link's values, which Schemathesis merges over the hooks' body. So
  `POST /auth/refresh` and the logins answer 200 as well as 401, and the links that
  follow them are walked. Reusing such a token ends only the fixture account's
  sessions. The examples and coverage phases send what they generate.
- **What must be unique is, where it matters.** A schema-valid request that sets a
  username, an email or a SKU gets a random suffix on it (the email a fresh address):
  always in the stateful phase, in half the cases in fuzzing (Hypothesis's choice).
  Schemathesis reuses the values it has seen, so most registrations, renames and
  product creations were 409s: the links from them were rarely followed, and on
  PostgreSQL every schema-valid `PUT /users/{id}` of a 1,000-example fuzzing run was
  refused (Schemathesis's warning "validation mismatch"). And Hypothesis replays a
  scenario's first steps while it explores: a creation that succeeded once and
  conflicts on the replay made it call the scenario flaky and end the phase. The
  other half of the fuzzing, and the examples and coverage phases, send the
  generated values, duplicates included.
- **`{id}` operations find data.** Before the first case, a few products and users
  are created through the API; in the same half of the fuzzing a schema-valid
  `product_id` or `user_id` is replaced by one of theirs, and the rest keep the
  generated or reused UUID (the 404 path; Schemathesis also reuses the ids its own
  requests created).
- **Rules the spec states in prose are not contract failures.** Some refusals cannot
  be written in JSON Schema, so `positive_data_acceptance` would report them as
  schema-valid requests rejected: a password the common-password policy refuses (422,
  `password-policy` on `body.password`), and `max_price` below `min_price` on
  `GET /products` (422 on `query.max_price`, accepted only when the request's
  `min_price` is indeed above its `max_price`). A 422 whose every error is one of
  those is accepted (`filter_failure`); and so are a `page` past the page window
  (`page` × `page_size` above 10,000, a 422 on `query.page` that points to cursors)
  and a `cursor` the API did not issue for the query (a 422 on `query.cursor`: the
  fuzzer makes its cursors up). Any other 422 to a schema-valid request still
  fails the run.
- **Every link declared in openapi.yaml is followed.** At the end the links the
  stateful phase followed are compared with those the spec declares, and one never
  followed fails the run (CONTRACT_LINK_COUNTS=1 lists how often each was followed).
  Links Schemathesis infers from `Location` headers are counted, not required.
- **Progress** when the output is not a terminal (CI logs): a line a minute with the
  requests sent so far and the operation at hand.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import threading
import time
import uuid
from typing import Any, NamedTuple

import requests
import schemathesis
import yaml
from hypothesis import strategies as st
from schemathesis import cli
from schemathesis.engine import Status, events
from schemathesis.engine.run import PhaseName
from schemathesis.generation.meta import TestPhase

API = "/api/v1"
REGISTER = "POST /api/v1/auth/register"
LOGINS = frozenset({"POST /api/v1/auth/login", "POST /api/v1/auth/login/json"})
REFRESH = "POST /api/v1/auth/refresh"
# Fields that must be unique, per operation that sets them: made so in the stateful phase, and in half the fuzzing.
UNIQUE_FIELDS = {
    REGISTER: ("username", "email"),
    "PUT /api/v1/users/{user_id}": ("username", "email"),
    "POST /api/v1/products": ("sku",),
    "PUT /api/v1/products/{product_id}": ("sku",),
}
# Operations that change or end the account in their path: never aimed at the signed-in admin.
ACCOUNT_CHANGING = frozenset(
    {
        "PUT /api/v1/users/{user_id}",
        "PUT /api/v1/users/{user_id}/role",
        "DELETE /api/v1/users/{user_id}",
    }
)
# A schema-valid stand-in that `before_call` replaces by a live credential.
LIVE = "contract-live-credential"
FIXTURE_PRODUCTS = 5
FIXTURE_USERS = 5
PASSWORD_POLICY_RULE = "password-policy"
# The product lists' page window and cursor rules (impl/services/products.py: PAGE_WINDOW, start_of).
PAGE_WINDOW = 10_000
PAGE_WINDOW_RULE = "page-window"
CURSOR_RULE = "cursor"
PROGRESS_EVERY_SECONDS = 60.0
TIMEOUT = 30.0

# POST /products/import takes NDJSON, which Schemathesis cannot make from a string schema: a body of up to five
# lines: a product first (its SKU random, so most create; or one the schema refuses), then products or arbitrary
# bytes (not UTF-8, not JSON, blank), so the run sees created, updated and rejected lines. The spec asks for a
# line that is not blank (`pattern`), which the first always is.
_PRODUCT_LINE = st.one_of(
    st.builds(
        lambda n, price: json.dumps({"name": f"Imported {n}", "price": price, "sku": f"IMP-{n}"}).encode(),
        st.integers(0, 10**12),
        st.sampled_from([0.01, 9.99, 1234.5]),
    ),
    st.fixed_dictionaries({"name": st.text(max_size=3), "price": st.integers(-5, 5)}).map(
        lambda item: json.dumps(item).encode()
    ),
)
schemathesis.openapi.media_type(
    "application/x-ndjson",
    st.tuples(_PRODUCT_LINE, st.lists(st.one_of(_PRODUCT_LINE, st.binary(max_size=40)), max_size=4)).map(
        lambda lines: b"\n".join([lines[0], *lines[1]])
    ),
)


def _setting(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"tests/contract/hooks.py needs {name} (see tests/contract/README.md)")
    return value


def _canonical_uuid(value: object) -> str | None:
    """The UUID a path value names, in canonical form; None when it names none."""
    if not isinstance(value, str):
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


class Fixtures(NamedTuple):
    admin_id: str
    product_ids: tuple[str, ...]
    user_ids: tuple[str, ...]


class Deployment:
    """The API under test as the hooks reach it: the fixtures and the fixture account."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._http = requests.Session()
        self._fixtures: Fixtures | None = None
        self._account: tuple[str, str] | None = None  # (username, password) of the fixture account

    @property
    def base_url(self) -> str:
        return _setting("CONTRACT_BASE_URL").rstrip("/")

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None, token: str = "") -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self._http.request(method, self.base_url + API + path, json=body, headers=headers, timeout=TIMEOUT)

    @staticmethod
    def _expect(response: Any, status: int, what: str) -> dict[str, Any]:
        if response.status_code != status:
            raise RuntimeError(f"contract fixtures: {what} answered {response.status_code}: {response.text[:300]}")
        body: dict[str, Any] = response.json()
        return body

    def _login(self, username: str, password: str) -> Any:
        return self._request("POST", "/auth/login/json", {"username": username, "password": password})

    def _register(self, kind: str) -> tuple[str, str, str]:
        """A new account of role user: (id, username, password)."""
        tag = secrets.token_hex(6)
        username, password = f"contract-{kind}-{tag}", secrets.token_urlsafe(24)
        body = {"email": f"{username}@example.com", "username": username, "password": password}
        user = self._expect(self._request("POST", "/auth/register", body), 201, "registering a fixture account")
        return str(user["id"]), username, password

    def fixtures(self) -> Fixtures:
        with self._lock:
            if self._fixtures is None:
                self._fixtures = self._create_fixtures()
            return self._fixtures

    def _create_fixtures(self) -> Fixtures:
        username, password = _setting("CONTRACT_ADMIN_USERNAME"), _setting("CONTRACT_ADMIN_PASSWORD")
        token = str(self._expect(self._login(username, password), 200, "the admin's login")["access_token"])
        admin = self._expect(self._request("GET", "/auth/me", token=token), 200, "GET /auth/me as the admin")
        if admin.get("role") != "admin":
            raise RuntimeError(f"contract fixtures: {username} is not an admin")
        run = secrets.token_hex(4)
        products = []
        for n in range(FIXTURE_PRODUCTS):
            product = {
                "name": f"Contract fixture {n}",
                "price": 10 + n,
                "stock": n,
                "category": "contract-fixtures",
                "sku": f"CONTRACT-{run}-{n}",
            }
            created = self._expect(self._request("POST", "/products", product, token), 201, "creating a product")
            products.append(str(created["id"]))
        users = tuple(self._register("user")[0] for _ in range(FIXTURE_USERS))
        return Fixtures(admin_id=str(uuid.UUID(str(admin["id"]))), product_ids=tuple(products), user_ids=users)

    def _live_login(self) -> tuple[tuple[str, str], dict[str, Any]]:
        """The fixture account's credentials and a fresh token pair, registering the account again if needed."""
        if self._account is not None:
            response = self._login(*self._account)
            if response.status_code == 200:
                return self._account, response.json()
        # First use, or the fuzzer deleted, deactivated, renamed or re-passworded it: a new one.
        _, username, password = self._register("account")
        self._account = (username, password)
        return self._account, self._expect(self._login(username, password), 200, "the fixture account's login")

    def live_credentials(self) -> tuple[str, str]:
        with self._lock:
            return self._live_login()[0]

    def fresh_refresh_token(self) -> str:
        """A refresh token never used, issued a moment ago to the fixture account."""
        with self._lock:
            return str(self._live_login()[1]["refresh_token"])


DEPLOYMENT = Deployment()


def _phase(case: Any) -> TestPhase | None:
    meta = case.meta
    return None if meta is None else meta.phase.name


def _is_positive(case: Any) -> bool:
    meta = case.meta
    return meta is not None and meta.generation.mode.is_positive


def aims_at_admin(case: Any) -> bool:
    """Whether this case would change or end the signed-in admin's own account."""
    if case.operation.label not in ACCOUNT_CHANGING:
        return False
    target = _canonical_uuid((case.path_parameters or {}).get("user_id"))
    return target is not None and target == DEPLOYMENT.fixtures().admin_id


@schemathesis.hook
def filter_case(context: Any, case: Any) -> bool:
    return not aims_at_admin(case)


@schemathesis.hook
def before_add_examples(context: Any, examples: list[Any]) -> None:
    # The examples phase does not apply filter_case; its missing path values may come from earlier answers.
    examples[:] = [case for case in examples if not aims_at_admin(case)]


def _may_get_live_credentials(case: Any) -> bool:
    """A schema-valid login or refresh of the fuzzing or the stateful phase.

    A stateful step that follows a link gets the link's values afterwards: Schemathesis
    merges them into the body the hooks produced (`merge_body`, its default for links).
    """
    label, body = case.operation.label, case.body
    if label not in LOGINS and label != REFRESH:
        return False
    if _phase(case) not in (TestPhase.FUZZING, TestPhase.STATEFUL) or not _is_positive(case):
        return False
    if not isinstance(body, dict):
        return False
    if label == REFRESH:
        return isinstance(body.get("refresh_token"), str)
    return isinstance(body.get("username"), str) and isinstance(body.get("password"), str)


def _with_live_credentials(case: Any) -> Any:
    if case.operation.label == REFRESH:
        case.body = {**case.body, "refresh_token": LIVE}
    else:
        case.body = {**case.body, "username": LIVE, "password": LIVE}
    return case


def _with_path(case: Any, name: str, chosen: str) -> Any:
    case.path_parameters = {**case.path_parameters, name: chosen}
    return case


@schemathesis.hook
def flatmap_case(context: Any, case: Any) -> Any:
    """Hypothesis's choices: live credentials for logins and refreshes, fixture ids for {id} operations.

    The same draws for every case, whatever the API answered before: a replayed scenario
    that drew differently would end the stateful phase as flaky.
    """
    return st.tuples(st.booleans(), st.integers(min_value=0, max_value=max(FIXTURE_PRODUCTS, FIXTURE_USERS) - 1)).map(
        lambda choice: _apply_choice(case, *choice)
    )


def _apply_choice(case: Any, live: bool, fixture: int) -> Any:
    if _may_get_live_credentials(case):
        # A stateful first step is there to start a sequence: always live; fuzzing tries both.
        return _with_live_credentials(case) if live or _phase(case) == TestPhase.STATEFUL else case
    if not live or _phase(case) != TestPhase.FUZZING:
        return case
    # Fuzzing, the "live" half: an existing target and values nobody has, so the change can succeed.
    if case.path_parameters:
        fixtures = DEPLOYMENT.fixtures()
        for name, ids in (("product_id", fixtures.product_ids), ("user_id", fixtures.user_ids)):
            if _canonical_uuid(case.path_parameters.get(name)) is not None:
                case = _with_path(case, name, ids[fixture % len(ids)])
                break
    label = case.operation.label
    if label in UNIQUE_FIELDS and _is_positive(case) and isinstance(case.body, dict):
        case.body = _unique(case.body, UNIQUE_FIELDS[label])
    return case


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    label = case.operation.label
    if aims_at_admin(case):
        # filter_case drops these where they are generated; reaching here is a bug of these hooks.
        raise RuntimeError(f"refusing to send {label} at the signed-in admin's own account")
    body = case.body if isinstance(case.body, dict) else {}
    if label == REFRESH and body.get("refresh_token") == LIVE:
        case.body = {**body, "refresh_token": DEPLOYMENT.fresh_refresh_token()}
    elif label in LOGINS and LIVE in (body.get("username"), body.get("password")):
        # A link may have set one of them already (it merges field by field): only stand-ins are replaced.
        live = dict(zip(("username", "password"), DEPLOYMENT.live_credentials(), strict=True))
        case.body = {**body, **{name: live[name] for name in live if body.get(name) == LIVE}}
    elif label in UNIQUE_FIELDS and body and _phase(case) == TestPhase.STATEFUL and _is_positive(case):
        case.body = _unique(body, UNIQUE_FIELDS[label])
    _PROGRESS.note(case)


def _unique(body: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    """The body with each unique field it sets made unique by a random suffix."""
    tag = secrets.token_hex(4)
    unique = dict(body)
    if "username" in fields and isinstance(body.get("username"), str):
        unique["username"] = f"{body['username'][:20]}-{tag}"
    if "email" in fields and isinstance(body.get("email"), str):
        unique["email"] = f"contract-{tag}@example.com"
    if "sku" in fields and isinstance(body.get("sku"), str):
        unique["sku"] = f"{body['sku'][:50]}-{tag}"
    return unique


@schemathesis.hook
def filter_failure(context: Any, failure: Any, case: Any, response: Any) -> bool:
    """Keep every failure except a 422 to a schema-valid request that only states rules the spec states in prose."""
    if failure.code != "ST202" or response.status_code != 422:
        return True
    try:
        errors = response.json().get("errors") or []
    except (ValueError, AttributeError):
        return True
    return not (errors and all(_prose_rule(error, case) for error in errors))


def _prose_rule(error: object, case: Any) -> bool:
    """Whether this 422 error is one of the rules JSON Schema cannot say, and this request broke it."""
    if not isinstance(error, dict):
        return False
    where, kind = error.get("loc"), error.get("type")
    # UserRegister / UserUpdate password: not common or easy to guess (zxcvbn; "password-policy").
    if where == ["body", "password"] and kind == PASSWORD_POLICY_RULE:
        return True
    # GET /products and /products/search, page: "`page` × `page_size` at most 10,000 (past it a 422 that
    # names `cursor`)".
    if where == ["query", "page"] and kind == PAGE_WINDOW_RULE:
        query = case.query or {}
        try:
            return int(query.get("page", 1)) * int(query.get("page_size", 10)) > PAGE_WINDOW
        except (TypeError, ValueError):
            return False
    # The same, cursor: "A cursor of another query, or one this API did not issue, is a 422 on `cursor`"
    # (and with a page other than 1). The fuzzer makes cursors up; those the API issues come in answers,
    # which it does not send back, so every cursor it sends is one of those.
    if where == ["query", "cursor"] and kind == CURSOR_RULE:
        return bool((case.query or {}).get("cursor"))
    # GET /products max_price: "not below `min_price` (422)".
    if where == ["query", "max_price"]:
        query = case.query or {}
        try:
            return float(query["min_price"]) > float(query["max_price"])
        except (KeyError, TypeError, ValueError):
            return False
    return False


class Progress:
    """A line a minute on stderr when nobody watches a terminal (Schemathesis's live display needs one)."""

    def __init__(self) -> None:
        self._enabled = not sys.stdout.isatty()
        self._started = time.monotonic()
        self._next = self._started + PROGRESS_EVERY_SECONDS
        self._calls = 0

    def note(self, case: Any) -> None:
        self._calls += 1
        now = time.monotonic()
        if not self._enabled or now < self._next:
            return
        self._next = now + PROGRESS_EVERY_SECONDS
        elapsed = int(now - self._started)
        phase = _phase(case)
        print(
            f"[contract] {elapsed // 60}m{elapsed % 60:02d}s: {self._calls:,} requests;"
            f" now {phase.value if phase else '?'}: {case.operation.label}",
            file=sys.stderr,
            flush=True,
        )


_PROGRESS = Progress()


def declared_links(spec_path: str) -> set[str]:
    """Every link of the spec, named as Schemathesis names a transition."""
    with open(spec_path, encoding="utf-8") as spec_file:
        spec = yaml.safe_load(spec_file)
    methods = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
    operations = [
        (f"{method.upper()} {path}", operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in methods
    ]
    by_id = {operation["operationId"]: label for label, operation in operations}
    return {
        f"{label} -> [{status}] {name} -> {by_id[link['operationId']]}"
        for label, operation in operations
        for status, response in operation.get("responses", {}).items()
        for name, link in (response.get("links") or {}).items()
    }


@cli.handler()
class LinkCoverage(cli.EventHandler[Any]):
    """Fails the run when the stateful phase never followed a link the spec declares."""

    def __init__(self, *args: Any, **params: Any) -> None:
        self._location = str(params.get("location") or "")
        self._followed: dict[str, int] = {}
        self._inferred: set[str] = set()
        self._scenarios = 0

    def handle_event(self, ctx: Any, event: Any) -> None:
        # Counted as Schemathesis's own "API Links: N covered" counts them.
        if (
            isinstance(event, events.ScenarioFinished)
            and event.phase == PhaseName.STATEFUL_TESTING
            and not event.is_final
            and event.status not in (Status.INTERRUPTED, Status.SKIP, None)
        ):
            self._scenarios += 1
            for node in event.recorder.cases.values():
                if node.transition is not None and node.is_transition_applied:
                    self._followed[node.transition.id] = self._followed.get(node.transition.id, 0) + 1
                    if node.transition.is_inferred:
                        self._inferred.add(node.transition.id)

    def shutdown(self, ctx: Any) -> None:
        if not self._scenarios or not os.path.isfile(self._location):
            return
        declared = declared_links(self._location)
        missed = sorted(declared - self._followed.keys())
        least = min((self._followed.get(link, 0) for link in declared), default=0)
        print(
            f"Links declared in the spec: {len(declared) - len(missed)} of {len(declared)} followed"
            f" (each at least {least} times); inferred by Schemathesis: {len(self._inferred)} followed"
        )
        if os.environ.get("CONTRACT_LINK_COUNTS"):
            for link in sorted(declared):
                print(f"  {self._followed.get(link, 0):5d}  {link}")
        if missed:
            print("Declared links never followed (each fails the run):")
            for link in missed:
                print(f"  - {link}")
            ctx.exit_code = 1
