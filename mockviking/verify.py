"""``mockviking verify``: check a running server, mockviking or a real OpenViking, against the contract.

The command is a client of any server; it never imports Flask. Against ``--base-url`` it runs,
in order of the report:

1. **examples**: every ``requestBody`` example of the contract, sent to its operation with fresh
   session and account ids; the answer must be documented and match its response schema.
2. **properties**: schemathesis 4.x (its engine, as ``st run`` uses it) over every operation:
   positive and negative generation, the coverage and fuzzing phases, every default check
   that applies (not_a_server_error, status_code_conformance, content_type_conformance,
   response_schema_conformance, response_headers_conformance, positive_data_acceptance,
   negative_data_rejection, missing_required_header, unsupported_method,
   allow_header_conformance, object_level_authorization, ensure_resource_availability).
   Two allowances, both from the contract: an operation that declares a 501 may answer it,
   and one that declares a 412 may answer it to valid data (a finished task's cancel).
3. **stateful**: scenarios that follow the contract's OpenAPI links
   (``schema.as_state_machine()``), with the same checks (use_after_free is off: a write or
   ``auto_create=true`` brings a deleted session back, by design of the API).
4. **rules**: what no schema can say, each a named check whose failure names the difference:
   batch, commit, auto_create, isolation, error_codes.
5. **seed superset**: the fields the seed documents ask for beyond the real server's answers
   (``user.agent_id``, the eight ``memories_extracted`` categories, the five
   ``llm_token_usage`` counters, ``session_id``/``message_count``/``pending_tokens`` on add
   message), reported apart from drift because the real server omits some of them.

Credentials: ``--root-key`` provisions a fresh account ``verify-<random>`` with two users (so
isolation can be checked); ``--api-key`` uses that key for everything (admin operations then
answer 403, which the contract allows; isolation is skipped); a dev-mode server needs neither
(its identities come from ``X-OpenViking-Account``/``X-OpenViking-User``, fixed to valid
values, since a contract cannot make a header's schema depend on the server's mode).

Exit codes: 0 when every check holds, 1 on any difference, 2 on bad usage or an unreachable
server (``cannot reach URL: ...``). Progress goes to stderr, the Markdown summary to stdout
(and ``--markdown``), a JUnit XML report to ``--junit-xml``.

schemathesis and hypothesis are imported when the command runs: install
``mockviking[test]`` (or ``schemathesis``) to use it.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
import http.client
import json
import re
import secrets
import threading
import time
import typing as t
import urllib.parse
import xml.etree.ElementTree as ET
from pathlib import Path

import click
import jsonschema
import jsonschema.exceptions

from mockviking import __version__
from mockviking.contract.spec import Contract, SpecError, default_spec_path, load_contract
from mockviking.web.errors import STATUS as CODE_TO_STATUS

#: Phases in report order, with their titles.
PHASES: dict[str, str] = {
    "setup": "Setup",
    "examples": "Contract examples",
    "properties": "Property-based requests (schemathesis)",
    "stateful": "Stateful sequences through the contract's links",
    "rules": "Cross-request rules",
    "superset": "Seed superset",
}

#: The phases ``--phases`` may name, in the order they run.
SELECTABLE_PHASES = ("examples", "rules", "superset", "properties", "stateful")

#: The memory categories the seed documents list (``total`` aside).
SEED_MEMORY_CATEGORIES = ("profile", "preferences", "entities", "events", "cases", "patterns", "tools", "skills")
#: The token counters of ``llm_token_usage``.
SEED_TOKEN_COUNTERS = ("prompt_tokens", "completion_tokens", "total_tokens", "cached_tokens", "reasoning_tokens")
#: What an add-message answer carries in the seed documents (plus pending tokens, as the real server).
SEED_ADD_MESSAGE_FIELDS = ("session_id", "message_count", "pending_tokens")

#: The agent id sent where ``user.agent_id`` is checked.
AGENT_ID = "verify-agent"
#: Steps per stateful scenario.
STATEFUL_STEPS = 6
#: Stateful scenarios per Hypothesis run (the time limit is checked between runs).
STATEFUL_BATCH = 5
#: schemathesis workers. One: generation is CPU-bound in this process (more threads do not go
#: faster), and parallel requests make state-dependent answers look flaky to Hypothesis.
WORKERS = 1
#: Seconds a single request may take.
REQUEST_TIMEOUT = 30.0
#: Shares of --time-limit after which the property and stateful phases are stopped.
PROPERTIES_SHARE = 0.6
STATEFUL_SHARE = 0.9
#: How much of a body goes into evidence.
EVIDENCE_CHARS = 700
#: Distinct failures kept per (operation, phase).
MAX_FAILURES_PER_CASE = 8


class VerifyUsageError(click.ClickException):
    """Bad usage, or a server that cannot be reached: exit code 2, like click's usage errors."""

    exit_code = 2


class Unreachable(Exception):
    """A request got no HTTP answer at all."""


# -- results ------------------------------------------------------------------------------------


@dataclasses.dataclass
class Finding:
    """One difference: what exactly differs, and the requests and answers that show it."""

    text: str
    evidence: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Result:
    """One check (or one operation of a phase) and how it went."""

    phase: str
    name: str
    status: str  # "passed", "failed" or "skipped"
    detail: str = ""
    #: For failures: the differences found.
    findings: list[Finding] = dataclasses.field(default_factory=list)
    seconds: float = 0.0
    requests: int = 0

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    @property
    def headline(self) -> str:
        """The first line of the first finding (or the detail)."""
        if self.failed and self.findings:
            return self.findings[0].text.splitlines()[0]
        return self.detail


@dataclasses.dataclass
class Exchange:
    """A request this tool sent and the answer it got."""

    method: str
    path: str
    status: int
    body: bytes
    content_type: str
    request_body: bytes | None = None
    request_headers: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def json(self) -> t.Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def result(self) -> t.Any:
        body = self.json
        return body.get("result") if isinstance(body, dict) else None

    def describe(self) -> str:
        return exchange_text(self.method, self.path, self.request_body, self.status, self.body,
                             _shown_headers(self.request_headers))


def _shown_headers(headers: t.Mapping[str, str]) -> dict[str, str]:
    """The request headers worth showing (keys are shortened, never printed whole)."""
    shown: dict[str, str] = {}
    for name, value in headers.items():
        lowered = name.lower()
        if lowered in ("x-api-key", "authorization"):
            shown[name] = _redact(value)
        elif lowered.startswith("x-openviking-"):
            shown[name] = value
    return shown


def _redact(value: str) -> str:
    """A key as reports show it: its first characters only."""
    return value[:6] + "…" if len(value) > 8 else "…"


def exchange_text(
    method: str,
    path: str,
    request_body: bytes | None,
    status: int | None,
    body: bytes | None,
    headers: t.Mapping[str, str] | None = None,
) -> str:
    """A request and its answer as a few readable lines."""
    lines = [f"> {method} {path}"]
    for name, value in (headers or {}).items():
        lines.append(f"> {name}: {value}")
    if request_body:
        lines.append("> " + _clip(request_body))
    if status is None:
        lines.append("< (no answer)")
    else:
        lines.append(f"< {status} " + _clip(body or b""))
    return "\n".join(lines)


def _clip(data: bytes | str, limit: int = EVIDENCE_CHARS) -> str:
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    text = " ".join(text.split("\n"))
    return text if len(text) <= limit else text[:limit] + f"… ({len(text)} chars)"


class RuleFailed(Exception):
    """A cross-request rule does not hold: the message names the difference."""

    def __init__(self, message: str, evidence: t.Sequence[Exchange] = ()) -> None:
        super().__init__(message)
        self.evidence = list(evidence)


# -- error envelopes seen during the run --------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SeenError:
    """An error envelope some answer carried."""

    source: str
    method: str
    path: str
    status: int
    code: str
    message: str


class Observer:
    """Collects the error envelopes of every answer of the run, whoever sent the request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.errors: list[SeenError] = []
        self.answers = 0

    def saw(self, source: str, method: str, path: str, status: int, body: bytes | None) -> None:
        envelope = _error_envelope(body)
        with self._lock:
            self.answers += 1
            if envelope is not None:
                code, message = envelope
                self.errors.append(SeenError(source, method, path, status, code, message))


def _error_envelope(body: bytes | None) -> tuple[str, str] | None:
    if not body or b'"error"' not in body:
        return None
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    if not isinstance(parsed, dict) or parsed.get("status") != "error":
        return None
    error = parsed.get("error")
    if not isinstance(error, dict):
        return None
    return str(error.get("code")), str(error.get("message", ""))


# -- a small HTTP client (stdlib only) ----------------------------------------------------------


class Http:
    """Sends requests to the server under test and tells the observer about every answer."""

    def __init__(self, base_url: str, observer: Observer, timeout: float = REQUEST_TIMEOUT) -> None:
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise VerifyUsageError(f"--base-url must be an http(s) URL, not {base_url!r}")
        self.scheme = parts.scheme
        self.host = parts.hostname
        try:
            self.port = parts.port
        except ValueError as exc:
            raise VerifyUsageError(f"--base-url has an invalid port: {base_url!r}") from exc
        self.prefix = parts.path.rstrip("/")
        self.observer = observer
        self.timeout = timeout
        self.sent = 0

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: t.Mapping[str, str] | None = None,
        body: t.Any = None,
        query: t.Mapping[str, str] | None = None,
        source: str = "rules",
    ) -> Exchange:
        target = self.prefix + path
        if query:
            target += "?" + urllib.parse.urlencode(query)
        data = None if body is None else json.dumps(body, separators=(",", ":")).encode("utf-8")
        sent_headers = {"Accept": "application/json", **(headers or {})}
        if data is not None:
            sent_headers["Content-Type"] = "application/json"
        connection_class = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
        connection = connection_class(self.host, self.port, timeout=self.timeout)
        shown = path + ("?" + urllib.parse.urlencode(query) if query else "")
        try:
            connection.request(method, target, body=data, headers=sent_headers)
            response = connection.getresponse()
            raw = response.read()
            content_type = response.getheader("Content-Type") or ""
            status = response.status
        except (OSError, http.client.HTTPException) as exc:
            raise Unreachable(f"{method} {self.prefix + shown}: {exc or type(exc).__name__}") from exc
        finally:
            connection.close()
        self.sent += 1
        self.observer.saw(source, method, shown, status, raw)
        return Exchange(method, shown, status, raw, content_type, data, dict(headers or {}))


# -- the contract's response schemas ------------------------------------------------------------


class ResponseChecker:
    """Checks an answer against what the contract documents for its operation and status."""

    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        self._validators: dict[str, t.Any] = {}

    def resolve(self, node: t.Any, pointer: str) -> tuple[t.Any, str]:
        seen = 0
        while isinstance(node, dict) and isinstance(node.get("$ref"), str) and seen < 20:
            ref = node["$ref"]
            if not ref.startswith("#"):
                break
            pointer = ref[1:]
            node = self.contract.schema_at(pointer)
            seen += 1
        return node, pointer

    def problems(self, path: str, method: str, exchange: Exchange) -> list[str]:
        """What is wrong with this answer, per the contract (empty when nothing is)."""
        escaped = path.replace("~", "~0").replace("/", "~1")
        base = f"/paths/{escaped}/{method.lower()}/responses"
        responses = self.contract.schema_at(base)
        status = str(exchange.status)
        key = next((k for k in (status, f"{status[0]}XX", "default") if k in responses), None)
        label = f"{method.upper()} {path}"
        if key is None:
            documented = ", ".join(sorted(responses))
            return [f"{label} answered {status}, which the contract does not document (documented: {documented})"]
        node, pointer = self.resolve(responses[key], f"{base}/{key.replace('/', '~1')}")
        content = node.get("content") if isinstance(node, dict) else None
        if not isinstance(content, dict) or "application/json" not in content:
            return []
        if not exchange.content_type.lower().startswith("application/json"):
            return [f"{label} answered {status} with Content-Type {exchange.content_type!r}, "
                    f"the contract documents application/json"]
        body = exchange.json
        if body is None:
            return [f"{label} answered {status} with a body that is not JSON: {_clip(exchange.body, 200)}"]
        schema_pointer = f"{pointer}/content/application~1json/schema"
        validator = self._validators.get(schema_pointer)
        if validator is None:
            validator = self.contract.validator(schema_pointer)
            self._validators[schema_pointer] = validator
        errors = list(validator.iter_errors(body))
        if not errors:
            return []
        best = jsonschema.exceptions.best_match(errors)
        found = [best, *[e for e in errors if e is not best]][:3]
        return [
            f"{label} answered {status}: at {_json_path(e.absolute_path)}: {e.message}"
            for e in found
        ]


def _json_path(parts: t.Iterable[t.Any]) -> str:
    path = "$"
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


# -- the target and its identities --------------------------------------------------------------


@dataclasses.dataclass
class Identity:
    """Who a request is sent as: its headers, and the account/user it resolves to."""

    name: str
    headers: dict[str, str]
    account_id: str
    user_id: str


@dataclasses.dataclass
class Target:
    """The server under test, as the setup found it."""

    base_url: str
    mode: str  # "api_key" or "dev"
    credentials: str  # "root key", "api key" or "none (dev mode)"
    version: str
    run_id: str
    user_a: Identity
    user_b: Identity | None
    root_headers: dict[str, str] | None
    #: The account admin operations are sent for: the provisioned one with a root key; with a
    #: user key, an account that does not exist, so an admin key never adds users to its own.
    account_id: str
    notes: list[str] = dataclasses.field(default_factory=list)

    def session_id(self, label: str) -> str:
        return f"verify-{self.run_id}-{label}"


# -- the run ------------------------------------------------------------------------------------


@dataclasses.dataclass
class Options:
    base_url: str
    api_key: str | None
    root_key: str | None
    max_examples: int
    time_limit: float
    spec_path: Path
    seed: int
    #: The phases to run (all of SELECTABLE_PHASES by default).
    phases: frozenset[str] = frozenset()


class Verifier:
    """One verification run against one server."""

    def __init__(self, options: Options, progress: t.Callable[[str], None]) -> None:
        self.options = options
        self.progress = progress
        self.observer = Observer()
        self.http = Http(options.base_url.rstrip("/"), self.observer)
        try:
            self.contract = load_contract(options.spec_path)
        except SpecError as exc:
            raise VerifyUsageError(str(exc)) from exc
        self.checker = ResponseChecker(self.contract)
        self.results: list[Result] = []
        self.started = time.monotonic()
        self.started_at = datetime.datetime.now(datetime.timezone.utc)
        self.target: Target | None = None
        self.seconds = 0.0
        #: Keys to keep out of every report (longest first, so no key is half-replaced).
        self.secrets = sorted({k for k in (options.api_key, options.root_key) if k}, key=len, reverse=True)

    # -- bookkeeping ---------------------------------------------------------------------------

    def add(self, result: Result) -> Result:
        # Keys never reach a report: schemathesis' curl commands, echoed bodies... are redacted.
        result.detail = self.redact(result.detail)
        for finding in result.findings:
            finding.text = self.redact(finding.text)
            finding.evidence = [self.redact(text) for text in finding.evidence]
        self.results.append(result)
        mark = {"passed": "ok", "failed": "FAILED", "skipped": "skipped"}[result.status]
        line = f"[{result.phase}] {result.name}: {mark}"
        if result.detail and not result.failed:
            line += f" ({result.detail})"
        if result.failed and result.findings:
            line += f": {result.headline[:300]}"
        self.progress(line)
        return result

    def redact(self, text: str) -> str:
        """``text`` without keys, and with lone surrogates (generated data...) made printable."""
        for secret in self.secrets:
            text = text.replace(secret, _redact(secret))
        return text.encode("utf-8", "backslashreplace").decode("utf-8")

    def budget_until(self, share: float) -> float:
        return self.options.time_limit * share - (time.monotonic() - self.started)

    def run(self) -> None:
        target = self.setup()
        self.target = target
        phases = self.options.phases or frozenset(SELECTABLE_PHASES)
        if "examples" in phases:
            self.run_examples(target)
        if "rules" in phases:
            self.run_rules(target)
        if "superset" in phases:
            self.run_superset(target)
        if "properties" in phases:
            self.run_properties(target)
        if "stateful" in phases:
            self.run_stateful(target)
        if "rules" in phases:
            # Last: it judges every error envelope the run has seen.
            self.check_error_codes()
        self.seconds = time.monotonic() - self.started

    # -- setup ---------------------------------------------------------------------------------

    def setup(self) -> Target:
        """Find the server's mode, and the identities to send requests as."""
        options = self.options
        self.progress(f"[setup] checking {options.base_url}")
        try:
            health = self.http.request("GET", "/health", source="setup")
        except Unreachable as exc:
            raise VerifyUsageError(f"cannot reach URL: {options.base_url} ({exc})") from exc
        info = health.json if isinstance(health.json, dict) else {}
        mode = info.get("auth_mode")
        version = str(info.get("version", "?"))
        if health.status != 200 or mode not in ("api_key", "dev"):
            self.add(Result("setup", "health", "failed",
                            findings=[Finding("GET /health did not answer 200 with auth_mode api_key or dev",
                                              [health.describe()])], requests=1))
            if mode not in ("api_key", "dev"):
                mode = "dev" if options.api_key is None and options.root_key is None else "api_key"
        run_id = secrets.token_hex(4)
        account = f"verify-{run_id}"
        notes: list[str] = []
        if mode == "dev":
            if options.api_key or options.root_key:
                notes.append("The server runs in dev mode: the given key is not used; identities come from "
                             "X-OpenViking-Account / X-OpenViking-User.")
            a = Identity("user A", _dev_headers(account, "verify-a"), account, "verify-a")
            b = Identity("user B", _dev_headers(account, "verify-b"), account, "verify-b")
            target = Target(options.base_url, "dev", "none (dev mode)", version, run_id, a, b, None, account, notes)
        elif options.root_key is not None:
            target = self._provision(options.root_key, version, run_id, account, notes)
        elif options.api_key is not None:
            target = self._with_api_key(options.api_key, version, run_id, notes)
        else:
            raise VerifyUsageError(
                f"{options.base_url} runs in api_key mode: give --api-key KEY (a user key) or "
                "--root-key KEY (to provision fresh test users)"
            )
        self.add(Result("setup", "identities", "passed",
                        detail=f"{target.mode} mode, {target.credentials}, user A "
                               f"{target.user_a.account_id}/{target.user_a.user_id}"))
        return target

    def _whoami(self, key: str, option: str) -> dict[str, t.Any]:
        ex = self.http.request("GET", "/health", headers={"X-API-Key": key}, source="setup")
        if ex.status in (401, 403):
            raise VerifyUsageError(f"{option} was refused by the server: {ex.status} {_clip(ex.body, 300)}")
        info = ex.json
        return info if isinstance(info, dict) else {}

    def _provision(self, root_key: str, version: str, run_id: str, account: str, notes: list[str]) -> Target:
        role = self._whoami(root_key, "--root-key").get("role")
        if role not in (None, "root"):
            raise VerifyUsageError(f"--root-key is not a root key (the server says role {role!r}); use --api-key")
        root = {"X-API-Key": root_key}
        created = self.http.request("POST", "/api/v1/admin/accounts", headers=root, source="setup",
                                    body={"account_id": account, "admin_user_id": "verify-a"})
        if created.status in (401, 403):
            raise VerifyUsageError(f"--root-key may not create accounts: {created.status} {_clip(created.body, 300)}")
        key_a = (created.result or {}).get("user_key") if isinstance(created.result, dict) else None
        added = self.http.request("POST", f"/api/v1/admin/accounts/{account}/users", headers=root,
                                  source="setup", body={"user_id": "verify-b", "role": "user"})
        key_b = (added.result or {}).get("user_key") if isinstance(added.result, dict) else None
        if not isinstance(key_a, str) or not isinstance(key_b, str):
            raise VerifyUsageError(
                "cannot provision test users with --root-key:\n" + created.describe() + "\n" + added.describe()
            )
        notes.append(f"Provisioned account {account} (admin verify-a, user verify-b) with the root key; "
                     "the real server keeps it after the run.")
        self.secrets = sorted({*self.secrets, key_a, key_b}, key=len, reverse=True)
        a = Identity("user A (verify-a, admin)", {"X-API-Key": key_a}, account, "verify-a")
        b = Identity("user B (verify-b, user)", {"X-API-Key": key_b}, account, "verify-b")
        return Target(self.options.base_url, "api_key", "root key", version, run_id, a, b, root, account, notes)

    def _with_api_key(self, key: str, version: str, run_id: str, notes: list[str]) -> Target:
        info = self._whoami(key, "--api-key")
        if info.get("role") == "root":
            raise VerifyUsageError("--api-key is the root key, which session routes refuse: use --root-key")
        account = str(info.get("account_id") or "default")
        user = str(info.get("user_id") or "default")
        notes.append("Only one key was given (--api-key): the isolation rule needs two users and is skipped; "
                     "give --root-key to check it.")
        a = Identity(f"{account}/{user}", {"X-API-Key": key}, account, user)
        return Target(self.options.base_url, "api_key", "api key", version, run_id, a, None, None,
                      f"verify-{run_id}", notes)

    # -- 1. the contract's examples ------------------------------------------------------------

    def run_examples(self, target: Target) -> None:
        self.progress("[examples] sending every requestBody example of the contract")
        document = self.contract.document
        counter = 0
        for path, item in document["paths"].items():
            for method, operation in item.items():
                if not isinstance(operation, dict) or "requestBody" not in operation:
                    continue
                body_node, _ = self.checker.resolve(operation["requestBody"], "")
                media = body_node.get("content", {}).get("application/json", {})
                examples = dict(media.get("examples") or {})
                if "example" in media:
                    examples["example"] = {"value": media["example"]}
                for name, example in examples.items():
                    example, _ = self.checker.resolve(example, "")
                    if not isinstance(example, dict) or "value" not in example:
                        continue
                    counter += 1
                    self._send_example(target, path, method, operation, name, example["value"], counter)

    def _send_example(
        self, target: Target, path: str, method: str, operation: dict[str, t.Any], name: str, value: t.Any,
        counter: int,
    ) -> None:
        op_id = operation.get("operationId", f"{method.upper()} {path}")
        label = f"{op_id}: {name}"
        started = time.monotonic()
        sent = self.http.sent
        is_admin = operation.get("x-openviking-access") == "admin"
        headers = dict(target.root_headers if is_admin and target.root_headers else target.user_a.headers)
        body = copy.deepcopy(value)
        session_id = target.session_id(f"ex{counter}")
        # Fresh ids: the example's own would collide with earlier runs (the real server keeps data).
        if isinstance(body, dict) and "session_id" in body:
            body["session_id"] = session_id
        if op_id == "create_account" and isinstance(body, dict):
            body["account_id"] = f"{target.account_id}-ex{counter}"
        params = {"session_id": session_id, "account_id": target.account_id}
        concrete = path
        for param, replacement in params.items():
            concrete = concrete.replace("{" + param + "}", urllib.parse.quote(replacement, safe=""))
        evidence: list[Exchange] = []
        try:
            if "{session_id}" in path and "404" in operation.get("responses", {}):
                # The operation needs an existing session with messages (commit, ...).
                for role, content in (("user", "hello"), ("assistant", "hi")):
                    evidence.append(self.http.request(
                        "POST", f"/api/v1/sessions/{session_id}/messages", headers=headers, source="examples",
                        body={"role": role, "content": content}))
            exchange = self.http.request(method.upper(), concrete, headers=headers, body=body, source="examples")
        except Unreachable as exc:
            self.add(Result("examples", label, "failed",
                            findings=[Finding(f"no answer: {exc}", [e.describe() for e in evidence])]))
            return
        evidence.append(exchange)
        # Without the root key, admin operations are refused (they go to an account of nobody's).
        expected = {200} if not is_admin or target.root_headers else {401, 403, 404}
        problems = []
        if exchange.status not in expected:
            want = " or ".join(str(code) for code in sorted(expected))
            problems.append(f"{method.upper()} {path} with example {name!r} answered {exchange.status}, "
                            f"expected {want}")
        problems += self.checker.problems(path, method, exchange)
        shown = [e.describe() for e in evidence]
        result = Result("examples", label, "failed" if problems else "passed", detail=f"{exchange.status}",
                        findings=[Finding(problem, shown if i == 0 else []) for i, problem in enumerate(problems)],
                        seconds=time.monotonic() - started, requests=self.http.sent - sent)
        self.add(result)

    # -- 4. cross-request rules ----------------------------------------------------------------

    def rule(self, phase: str, name: str, check: t.Callable[[], str], *, skip: str | None = None) -> None:
        if skip is not None:
            self.add(Result(phase, name, "skipped", detail=skip))
            return
        started = time.monotonic()
        sent = self.http.sent
        try:
            detail = check()
        except RuleFailed as exc:
            self.add(Result(phase, name, "failed", findings=[Finding(str(exc), [e.describe() for e in exc.evidence])],
                            seconds=time.monotonic() - started, requests=self.http.sent - sent))
            return
        except Unreachable as exc:
            self.add(Result(phase, name, "failed", findings=[Finding(f"no answer: {exc}")],
                            seconds=time.monotonic() - started, requests=self.http.sent - sent))
            return
        self.add(Result(phase, name, "passed", detail=detail,
                        seconds=time.monotonic() - started, requests=self.http.sent - sent))

    def run_rules(self, target: Target) -> None:
        self.progress("[rules] checking the cross-request rules")
        rules = DomainRules(self, target)
        self.rule("rules", "batch", rules.batch)
        self.rule("rules", "commit", rules.commit)
        self.rule("rules", "commit skipped", rules.commit_skipped)
        self.rule("rules", "auto_create", rules.auto_create)
        skip = None
        if target.user_b is None:
            skip = "needs two users: give --root-key (or run against a dev-mode server)"
        self.rule("rules", "isolation", rules.isolation, skip=skip)
        # A few requests the contract refuses, so error envelopes are seen whatever the time limit.
        self.rule("rules", "error probes", rules.error_probes)

    def run_superset(self, target: Target) -> None:
        self.progress("[superset] checking the seed documents' superset fields")
        rules = DomainRules(self, target)
        self.rule("superset", "add message: session_id, message_count, pending_tokens", rules.add_message_fields)
        self.rule("superset", "user.agent_id", rules.agent_id)
        self.rule("superset", "memories_extracted: 8 seed categories", rules.memory_categories)
        self.rule("superset", "llm_token_usage: 5 counters", rules.token_counters)

    def check_error_codes(self) -> None:
        """Every error envelope seen during the run has the status its code maps to."""
        started = time.monotonic()
        mismatched: dict[tuple[str, int], list[SeenError]] = {}
        for seen in self.observer.errors:
            expected = CODE_TO_STATUS.get(seen.code)
            if seen.code == "UNKNOWN" and seen.status >= 400:
                # The real server's code for framework errors (405 Method Not Allowed, ...).
                continue
            if expected != seen.status:
                mismatched.setdefault((seen.code, seen.status), []).append(seen)
        total = len(self.observer.errors)
        if not mismatched:
            self.add(Result("rules", "error_codes", "passed", seconds=time.monotonic() - started,
                            detail=f"{total} error envelopes of {self.observer.answers} answers, "
                                   "each with its code's status"))
            return
        findings = []
        for (code, status), seen_list in sorted(mismatched.items()):
            expected = CODE_TO_STATUS.get(code)
            first = seen_list[0]
            if expected is None:
                text = (f"error code {code!r} (answered {status}, {len(seen_list)}×) is not an "
                        f"OpenViking error code; known: {', '.join(CODE_TO_STATUS)}")
            else:
                text = (f"error code {code} answered with HTTP {status} {len(seen_list)}×, "
                        f"but {code} maps to {expected} (first: {first.method} {first.path})")
            shown = (f"{first.method} {first.path} → {status} "
                     f"{{\"code\": \"{code}\", \"message\": {json.dumps(first.message[:200])}}} "
                     f"[seen by {first.source}]")
            findings.append(Finding(text, [shown]))
        self.add(Result("rules", "error_codes", "failed", findings=findings,
                        detail=f"{total} error envelopes", seconds=time.monotonic() - started))

    # -- 2. properties (schemathesis engine) ---------------------------------------------------

    def schemathesis_config(self, target: Target, phases: dict[str, t.Any]) -> t.Any:
        import schemathesis

        document = self.contract.document
        operations = [
            op for item in document["paths"].values() for op in item.values()
            if isinstance(op, dict) and "operationId" in op
        ]
        data: dict[str, t.Any] = {
            "base-url": self.options.base_url.rstrip("/"),
            "seed": self.options.seed,
            "workers": WORKERS,
            "request-timeout": REQUEST_TIMEOUT,
            "cache": {"enabled": False},
            "generation": {
                "mode": "all",  # positive and negative
                "max-examples": self.options.max_examples,
                "database": "none",
            },
            "phases": phases,
            "output": {"sanitization": {"enabled": False}},
            # Writes and auto_create=true bring a deleted session back, by design of the API.
            "checks": {"use_after_free": {"enabled": False}},
            "headers": dict(target.user_a.headers),
        }
        # Fixed to user A in every mode: in dev mode they name the caller and must be valid; in
        # api_key mode the server resolves the caller from the key (they then match it).
        data["parameters"] = _identity_parameters(target.user_a)
        overrides: list[dict[str, t.Any]] = []
        admin_ids = [op["operationId"] for op in operations if op.get("x-openviking-access") == "admin"]
        if target.root_headers and admin_ids:
            overrides.append({"include-operation-id": admin_ids, "headers": dict(target.root_headers)})
        scoped = [op["operationId"] for op in operations
                  if op.get("x-openviking-access") == "admin" and any(
                      p.get("$ref", "").endswith("/AccountIdPath") for p in op.get("parameters", []))]
        if scoped:
            # Users are only ever added to the run's own account.
            overrides.append({"include-operation-id": scoped, "parameters": {"path.account_id": target.account_id}})
        declared_501 = [op["operationId"] for op in operations if "501" in op.get("responses", {})]
        if declared_501:
            # The contract's "not served by mockviking" answer; no other 5xx is allowed anywhere.
            overrides.append({"include-operation-id": declared_501,
                              "checks": {"not_a_server_error": {"expected-statuses": ["2xx", "3xx", "4xx", "501"]}}})
        declared_412 = [op["operationId"] for op in operations if "412" in op.get("responses", {})]
        if declared_412:
            # Cancelling a finished task is a valid request the contract answers 412 (state, not data).
            statuses = ["2xx", "3xx", "401", "403", "404", "409", "412", "429", "5xx"]
            overrides.append({"include-operation-id": declared_412,
                              "checks": {"positive_data_acceptance": {"expected-statuses": statuses}}})
        data["operations"] = overrides
        return schemathesis.Config.from_dict(data)

    def load_schema(self, target: Target, phases: dict[str, t.Any]) -> t.Any:
        import schemathesis

        config = self.schemathesis_config(target, phases)
        return schemathesis.openapi.from_path(str(self.options.spec_path), config=config)

    def run_properties(self, target: Target) -> None:
        from schemathesis import engine
        from schemathesis.engine import events

        budget = self.budget_until(PROPERTIES_SHARE)
        self.progress(f"[properties] schemathesis coverage + fuzzing, positive and negative, "
                      f"{self.options.max_examples} examples per operation (budget {budget:.0f} s)")
        if budget <= 0:
            self.add(Result("properties", "all operations", "skipped", detail="no time left (--time-limit)"))
            return
        schema = self.load_schema(target, {
            "examples": {"enabled": False},  # the examples phase above sends them, with fresh ids
            "coverage": {"enabled": True},
            "fuzzing": {"enabled": True},
            "stateful": {"enabled": False},  # the stateful phase below
        })
        stream = engine.from_schema(schema).execute()
        timer = threading.Timer(budget, stream.stop)
        timer.daemon = True
        timer.start()
        ran: set[str] = set()
        stop_reason = None
        try:
            for event in stream:
                if isinstance(event, events.ScenarioFinished):
                    if event.label is None:
                        continue
                    ran.add(event.label)
                    self._scenario_result("properties", event)
                elif isinstance(event, events.NonFatalError):
                    self.add(Result("properties", f"{event.label} [error]", "failed",
                                    findings=[Finding(f"{event.info.title}: {event.info.message}")]))
                elif isinstance(event, events.FatalError):
                    self.add(Result("properties", "engine", "failed",
                                    findings=[Finding(f"schemathesis: {event.exception!r}")]))
                elif isinstance(event, events.EngineFinished):
                    stop_reason = str(event.stop_reason.value)
                    for failure in event.failures:
                        self.add(Result("properties", f"{failure.operation or 'run'} [after run]", "failed",
                                        findings=[Finding(_failure_text(failure))]))
        finally:
            timer.cancel()
        if stop_reason in ("interrupted", "max_time"):
            labels = {result.ok().label for result in schema.get_all_operations()}
            missed = sorted(labels - ran)
            self._note(f"The property phase stopped at its share of --time-limit ({budget:.0f} s); "
                       f"{len(ran)} operation(s) were reached" + (f", not: {', '.join(missed)}" if missed else "")
                       + ".")
            self.add(Result("properties", "time limit", "skipped",
                            detail=f"stopped after {budget:.0f} s with {len(missed)} operation(s) not reached; "
                                   "raise --time-limit to test further"))
        elif stop_reason == "server_unavailable":
            self.add(Result("properties", "server", "failed",
                            findings=[Finding("the server stopped answering during the run")]))

    def _note(self, text: str) -> None:
        if self.target is not None:
            self.target.notes.append(text)

    def _scenario_result(self, phase: str, event: t.Any) -> None:
        recorder = event.recorder
        for interaction in recorder.interactions.values():
            response = interaction.response
            if response is not None:
                self.observer.saw(phase, interaction.request.method, _url_path(interaction.request.uri),
                                  response.status_code, response.content)
        failures: dict[tuple[str, str, str], list[str]] = {}
        checks_run: set[str] = set()
        for case_id, checks in recorder.checks.items():
            for check in checks:
                checks_run.add(check.name)
                if check.failure_info is None or str(check.status.value) != "failure":
                    continue
                failure = check.failure_info.failure
                key = (check.name, failure.title, failure.message)
                if key in failures or len(failures) >= MAX_FAILURES_PER_CASE:
                    continue
                failures[key] = _interaction_evidence(recorder, case_id, check.failure_info.code_sample)
        name = f"{event.label} [{event.phase.value}]"
        requests = len(recorder.interactions)
        detail = f"{requests} requests"
        if checks_run:
            detail += f"; {len(checks_run)} checks"
        if failures:
            findings = [Finding(f"{check}: {title}" + (f"\n{message}" if message else ""), evidence)
                        for (check, title, message), evidence in failures.items()]
            self.add(Result(phase, name, "failed", detail=detail, findings=findings,
                            seconds=event.elapsed_time, requests=requests))
        elif str(event.status.value) == "skip":
            self.add(Result(phase, name, "skipped", detail=event.skip_reason or "skipped", requests=requests))
        elif str(event.status.value) == "error":
            self.add(Result(phase, name, "failed", detail=detail, seconds=event.elapsed_time, requests=requests,
                            findings=[Finding("schemathesis reported an error for this operation "
                                              "(see the progress output)")]))
        else:
            self.add(Result(phase, name, "passed", detail=detail, seconds=event.elapsed_time, requests=requests))

    # -- 3. stateful (the contract's links) ----------------------------------------------------

    def run_stateful(self, target: Target) -> None:
        import hypothesis
        from schemathesis.core.failures import Failure, FailureGroup

        budget = self.budget_until(STATEFUL_SHARE)
        scenarios = self.options.max_examples
        self.progress(f"[stateful] {scenarios} scenarios of up to {STATEFUL_STEPS} steps through the links "
                      f"(budget {budget:.0f} s)")
        if budget <= 0:
            self.add(Result("stateful", "links", "skipped", detail="no time left (--time-limit)"))
            return
        schema = self.load_schema(target, {"stateful": {"enabled": True, "max-steps": STATEFUL_STEPS}})
        deadline = time.monotonic() + budget
        fixed = _identity_headers(target.user_a)
        observer = self.observer
        created: set[str] = set()
        followed: set[str] = set()
        failures: dict[tuple[str, str, str], list[str]] = {}
        scenario: list[str] = []
        counters = {"scenarios": 0, "requests": 0}
        base = schema.as_state_machine()

        class Links(base):  # type: ignore[misc, valid-type]
            def setup(self) -> None:
                super().setup()
                scenario.clear()
                counters["scenarios"] += 1

            def before_call(self, case: t.Any) -> None:
                super().before_call(case)
                if fixed and any(p.name in fixed for p in case.operation.headers):
                    case.headers = {**(case.headers or {}), **fixed}

            def after_call(self, response: t.Any, case: t.Any) -> None:
                super().after_call(response, case)
                counters["requests"] += 1
                label = case.operation.label
                observer.saw("stateful", case.method, case.formatted_path, response.status_code, response.content)
                scenario.append(f"[{response.status_code}] {case.method} {case.formatted_path}")
                body = _json_or_none(response.content)
                result = body.get("result") if isinstance(body, dict) else None
                if case.operation.definition.raw.get("operationId") == "create_session" and isinstance(result, dict):
                    created.add(str(result.get("session_id")))
                elif case.path_parameters and case.path_parameters.get("session_id") in created \
                        and response.status_code == 200:
                    followed.add(label)

            def validate_response(self, response: t.Any, case: t.Any, additional_checks: t.Any = None,
                                  **kwargs: t.Any) -> None:
                try:
                    super().validate_response(response, case, additional_checks, **kwargs)
                except (FailureGroup, Failure) as exc:
                    found = list(exc.exceptions) if isinstance(exc, FailureGroup) else [exc]
                    for failure in found:
                        name = failure.checks[0] if failure.checks else type(failure).__name__
                        key = (f"{case.operation.label}: {name}", failure.title, failure.message)
                        if key not in failures and len(failures) < 3 * MAX_FAILURES_PER_CASE:
                            steps = "\n".join(scenario)
                            failures[key] = [
                                f"scenario steps:\n{steps}",
                                exchange_text(case.method, case.formatted_path, _request_body(response),
                                              response.status_code, response.content),
                                case.as_curl_command(),
                            ]

        started = time.monotonic()
        problem: str | None = None
        stopped = False
        # Scenarios run in small batches, each its own Hypothesis run (seeded from --seed), so the
        # time limit is checked between batches: Hypothesis cannot be stopped cleanly mid-run.
        # Failures are recorded, never raised, so nothing is replayed or shrunk.
        done = 0
        batch = 0
        while done < scenarios and problem is None:
            if time.monotonic() >= deadline:
                stopped = True
                break
            size = min(STATEFUL_BATCH, scenarios - done)
            settings = hypothesis.settings(
                max_examples=size,
                stateful_step_count=STATEFUL_STEPS,
                deadline=None,
                database=None,
                derandomize=False,
                suppress_health_check=list(hypothesis.HealthCheck),
                phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
                print_blob=False,
            )
            machine = hypothesis.seed(self.options.seed + batch)(Links)
            try:
                machine.run(settings=settings)
            except Exception as exc:  # noqa: BLE001 - reported, not raised
                problem = f"the stateful run stopped with {type(exc).__name__}: {str(exc)[:500]}"
            done += size
            batch += 1
        requests = counters["requests"]
        detail = (f"{counters['scenarios']} scenarios, {requests} requests; "
                  f"link targets reached a created session: {', '.join(sorted(followed)) or 'none'}")
        if stopped:
            self._note(f"The stateful phase stopped at its share of --time-limit after {counters['scenarios']} "
                       "scenario(s).")
        findings = [Finding(f"{label}: {title}" + (f"\n{message}" if message else ""), evidence)
                    for (label, title, message), evidence in failures.items()]
        if problem is not None:
            findings.append(Finding(problem))
        if findings:
            self.add(Result("stateful", "links", "failed", detail=detail, findings=findings,
                            seconds=time.monotonic() - started, requests=requests))
        else:
            self.add(Result("stateful", "links", "passed", detail=detail,
                            seconds=time.monotonic() - started, requests=requests))


# -- the rules, one method each -----------------------------------------------------------------


class DomainRules:
    """Cross-request rules and the seed superset, each run on its own fresh session."""

    def __init__(self, verifier: Verifier, target: Target) -> None:
        self.v = verifier
        self.target = target
        self.a = target.user_a.headers

    def call(self, method: str, path: str, *, body: t.Any = None, query: t.Mapping[str, str] | None = None,
             headers: t.Mapping[str, str] | None = None, expect: int | None = 200,
             what: str = "", evidence: t.Sequence[Exchange] = ()) -> Exchange:
        exchange = self.v.http.request(method, path, headers=headers if headers is not None else self.a,
                                       body=body, query=query)
        if expect is not None and exchange.status != expect:
            raise RuleFailed(f"{what or 'a step'}: {method} {exchange.path} answered {exchange.status}, "
                             f"expected {expect}", [*evidence, exchange])
        return exchange

    def session(self, label: str) -> str:
        return self.target.session_id(label)

    def get_session(self, sid: str, what: str, evidence: t.Sequence[Exchange] = ()) -> tuple[dict[str, t.Any],
                                                                                              Exchange]:
        exchange = self.call("GET", f"/api/v1/sessions/{sid}", what=what, evidence=evidence)
        result = exchange.result
        if not isinstance(result, dict):
            raise RuleFailed(f"{what}: GET {exchange.path} answered 200 without a result object",
                             [*evidence, exchange])
        return result, exchange

    def seed(self, sid: str, count: int) -> list[Exchange]:
        """Add ``count`` messages one by one (so no rule depends on the batch route)."""
        return [self.call("POST", f"/api/v1/sessions/{sid}/messages", body=message, what=f"seeding {count} messages")
                for message in self.messages(count)]

    def messages(self, count: int, start: int = 0) -> list[dict[str, str]]:
        roles = ("user", "assistant")
        return [{"role": roles[i % 2], "content": f"verify message {i}"} for i in range(start, start + count)]

    # -- rules ---------------------------------------------------------------------------------

    def batch(self) -> str:
        sid = self.session("batch")
        seeded = self.seed(sid, 2)
        before, got_before = self.get_session(sid, "reading the session before the batch", seeded)
        k = 3
        batch = self.call("POST", f"/api/v1/sessions/{sid}/messages/batch",
                          body={"messages": self.messages(k, start=2)}, what=f"batch of {k}")
        after, got_after = self.get_session(sid, "reading the session after the batch")
        evidence = [got_before, batch, got_after]
        problems = []
        result = batch.result if isinstance(batch.result, dict) else {}
        if result.get("added") != k:
            problems.append(f"the batch answer says added={result.get('added')!r}, expected {k} "
                            f"(the number of messages sent)")
        n0, n1 = before.get("message_count"), after.get("message_count")
        if not isinstance(n0, int) or not isinstance(n1, int) or n1 - n0 != k:
            problems.append(f"message_count went from {n0!r} to {n1!r} after a batch of {k} messages; "
                            f"expected it to rise by exactly {k} (to {n0 + k if isinstance(n0, int) else '?'})")
        if isinstance(result.get("message_count"), int) and result.get("message_count") != n1:
            problems.append(f"the batch answer says message_count={result.get('message_count')}, "
                            f"GET session says {n1!r}")
        t0, t1 = before.get("total_message_count"), after.get("total_message_count")
        if isinstance(t0, int) and isinstance(t1, int) and t1 - t0 != k:
            problems.append(f"total_message_count went from {t0} to {t1}; expected a rise of exactly {k}")
        if problems:
            raise RuleFailed("batch: " + "; ".join(problems), evidence)
        return f"message_count {n0} → {n1} after {k} messages, added={k}"

    def commit(self) -> str:
        sid = self.session("commit")
        n, keep = 5, 2
        seeded = self.seed(sid, n)
        before, got_before = self.get_session(sid, "reading the session before the commit", seeded[-1:])
        commit = self.call("POST", f"/api/v1/sessions/{sid}/commit", body={"keep_recent_count": keep},
                           what=f"commit with keep_recent_count={keep}", evidence=[got_before])
        after, got_after = self.get_session(sid, "reading the session after the commit")
        evidence = [got_before, commit, got_after]
        problems = []
        result = commit.result if isinstance(commit.result, dict) else {}
        if result.get("status") != "accepted":
            problems.append(f"the commit answer has status {result.get('status')!r}, expected 'accepted' "
                            f"({n} messages, keep_recent_count={keep})")
        task_id = result.get("task_id")
        if not isinstance(task_id, str) or not task_id:
            problems.append(f"the commit answer has task_id {task_id!r}, expected a task id")
        if before.get("message_count") != n:
            problems.append(f"before the commit message_count is {before.get('message_count')!r}, expected {n}")
        if after.get("message_count") != keep:
            problems.append(f"after the commit message_count is {after.get('message_count')!r}, expected {keep} "
                            f"(keep_recent_count)")
        t0, t1 = before.get("total_message_count"), after.get("total_message_count")
        if t0 != t1:
            problems.append(f"total_message_count changed from {t0!r} to {t1!r}; a commit must leave it unchanged")
        c0, c1 = before.get("commit_count"), after.get("commit_count")
        if not isinstance(c0, int) or c1 != c0 + 1:
            problems.append(f"commit_count went from {c0!r} to {c1!r}; expected it to rise by 1")
        if problems:
            raise RuleFailed("commit: " + "; ".join(problems), evidence)
        return (f"{n} messages, keep {keep}: message_count {n} → {keep}, total_message_count {t0} kept, "
                f"commit_count {c0} → {c1}, accepted with a task id")

    def commit_skipped(self) -> str:
        sid = self.session("commit-empty")
        created = self.call("POST", "/api/v1/sessions", body={"session_id": sid}, what="creating an empty session")
        commit = self.call("POST", f"/api/v1/sessions/{sid}/commit", what="commit of an empty session",
                           evidence=[created])
        result = commit.result if isinstance(commit.result, dict) else {}
        problems = []
        if result.get("status") != "skipped":
            problems.append(f"status is {result.get('status')!r}, expected 'skipped' (nothing to archive)")
        if "task_id" not in result or result.get("task_id") is not None:
            problems.append(f"task_id is {result.get('task_id', '<missing>')!r}, expected null")
        if problems:
            raise RuleFailed("commit of a session without messages: " + "; ".join(problems), [created, commit])
        return "skipped with task_id null"

    def auto_create(self) -> str:
        sid = self.session("autocreate")
        path = f"/api/v1/sessions/{sid}"
        absent = self.call("GET", path, expect=None)
        explicit = self.call("GET", path, query={"auto_create": "false"}, expect=None)
        again = self.call("GET", path, expect=None)
        evidence = [absent, explicit, again]
        for exchange, how in ((absent, "without auto_create"), (explicit, "with auto_create=false"),
                              (again, "again afterwards")):
            if exchange.status != 404:
                raise RuleFailed(f"auto_create: GET of a session that does not exist {how} answered "
                                 f"{exchange.status}, expected 404", evidence)
        created = self.call("GET", path, query={"auto_create": "true"}, expect=None)
        evidence.append(created)
        if created.status != 200:
            raise RuleFailed(f"auto_create: GET ?auto_create=true answered {created.status}, expected 200 "
                             "(the session is created)", evidence)
        result = created.result if isinstance(created.result, dict) else {}
        if result.get("session_id") != sid:
            raise RuleFailed(f"auto_create: GET ?auto_create=true answered session_id "
                             f"{result.get('session_id')!r}, expected {sid!r}", evidence)
        exists = self.call("GET", path, expect=None)
        evidence.append(exists)
        if exists.status != 200:
            raise RuleFailed(f"auto_create: after ?auto_create=true the session answers {exists.status}, "
                             "expected 200 (it exists now)", evidence)
        return "404, 404 (auto_create=false), still 404; auto_create=true → 200, then it exists"

    def isolation(self) -> str:
        user_b = self.target.user_b
        assert user_b is not None
        sid = self.session("isolation")
        created = self.call("POST", f"/api/v1/sessions/{sid}/messages", what="user A adds a message",
                            body={"role": "user", "content": "only for user A"})
        by_b = self.call("GET", f"/api/v1/sessions/{sid}", headers=user_b.headers, expect=None)
        if by_b.status != 404:
            raise RuleFailed(f"isolation: user A ({self.target.user_a.account_id}/{self.target.user_a.user_id}) "
                             f"created session {sid}; user B ({user_b.account_id}/{user_b.user_id}) "
                             f"GET answered {by_b.status}, expected 404", [created, by_b])
        listing = self.call("GET", "/api/v1/sessions", headers=user_b.headers, what="user B lists sessions")
        ids = [item.get("session_id") for item in listing.result or [] if isinstance(item, dict)]
        if sid in ids:
            raise RuleFailed(f"isolation: user B's session list contains user A's session {sid}",
                             [created, listing])
        commit = self.call("POST", f"/api/v1/sessions/{sid}/commit", headers=user_b.headers, expect=None)
        if commit.status != 404:
            raise RuleFailed(f"isolation: user B's commit of user A's session {sid} answered {commit.status}, "
                             "expected 404", [created, commit])
        mine = self.call("GET", f"/api/v1/sessions/{sid}", what="user A reads the session back")
        count = mine.result.get("message_count") if isinstance(mine.result, dict) else None
        if count != 1:
            raise RuleFailed(f"isolation: after user B's requests user A's session has message_count "
                             f"{count!r}, expected 1", [created, commit, mine])
        return "user B: GET 404, not listed, commit 404; user A still sees it"

    def error_probes(self) -> str:
        sid = self.session("probes")
        missing_role = self.call("POST", f"/api/v1/sessions/{sid}/messages", body={"content": "no role"},
                                 expect=None)
        unknown = self.call("GET", f"/api/v1/sessions/{sid}-missing", expect=None)
        probes = [(missing_role, 400, "INVALID_ARGUMENT", "an add-message body without role"),
                  (unknown, 404, "NOT_FOUND", "GET of a session that does not exist")]
        if self.target.mode == "api_key":
            no_key = self.call("GET", "/api/v1/sessions", headers={}, expect=None)
            probes.append((no_key, 401, "UNAUTHENTICATED", "a session route without a key"))
        for exchange, status, code, what in probes:
            envelope = _error_envelope(exchange.body)
            got = envelope[0] if envelope else None
            if exchange.status != status or got != code:
                raise RuleFailed(f"error probes: {what} answered {exchange.status} {got or '(no error envelope)'}, "
                                 f"expected {status} {code}", [exchange])
        return ", ".join(f"{status} {code}" for _, status, code, _ in probes)

    # -- seed superset -------------------------------------------------------------------------

    def add_message_fields(self) -> str:
        sid = self.session("superset-add")
        added = self.call("POST", f"/api/v1/sessions/{sid}/messages", body={"role": "user", "content": "hello"},
                          what="add message")
        result = added.result if isinstance(added.result, dict) else {}
        missing = [name for name in SEED_ADD_MESSAGE_FIELDS if name not in result]
        if missing:
            raise RuleFailed(f"seed superset: the add-message result lacks {', '.join(missing)} "
                             f"(has {', '.join(result) or 'nothing'})", [added])
        wrong = []
        if result.get("session_id") != sid:
            wrong.append(f"session_id is {result.get('session_id')!r}, expected {sid!r}")
        if result.get("message_count") != 1:
            wrong.append(f"message_count is {result.get('message_count')!r}, expected 1 (a new session)")
        if wrong:
            raise RuleFailed("seed superset: add message: " + "; ".join(wrong), [added])
        return "session_id, message_count, pending_tokens"

    def _superset_session(self) -> tuple[dict[str, t.Any], Exchange]:
        sid = self.session("superset")
        headers = {**self.a, "X-OpenViking-Agent": AGENT_ID}
        self.call("POST", f"/api/v1/sessions/{sid}/messages", body={"role": "user", "content": "hello"},
                  what="add message")
        exchange = self.call("GET", f"/api/v1/sessions/{sid}", headers=headers, what="GET session")
        result = exchange.result
        if not isinstance(result, dict):
            raise RuleFailed("seed superset: GET session answered without a result object", [exchange])
        return result, exchange

    def agent_id(self) -> str:
        result, exchange = self._superset_session()
        user = result.get("user")
        if not isinstance(user, dict) or "agent_id" not in user:
            raise RuleFailed(f"seed superset: GET session result.user has no agent_id (seed 000 has "
                             f"user.agent_id; sent X-OpenViking-Agent: {AGENT_ID}); user is {json.dumps(user)}",
                             [exchange])
        if user["agent_id"] != AGENT_ID:
            raise RuleFailed(f"seed superset: user.agent_id is {user['agent_id']!r}, expected {AGENT_ID!r} "
                             "(the X-OpenViking-Agent header sent)", [exchange])
        return f"user.agent_id = {AGENT_ID!r}"

    def memory_categories(self) -> str:
        result, exchange = self._superset_session()
        memories = result.get("memories_extracted")
        if not isinstance(memories, dict):
            raise RuleFailed("seed superset: GET session has no memories_extracted object", [exchange])
        missing = [name for name in (*SEED_MEMORY_CATEGORIES, "total") if name not in memories]
        if missing:
            raise RuleFailed(f"seed superset: memories_extracted lacks {', '.join(missing)} "
                             f"(has {', '.join(memories) or 'nothing'})", [exchange])
        return ", ".join(SEED_MEMORY_CATEGORIES) + ", total"

    def token_counters(self) -> str:
        result, exchange = self._superset_session()
        usage = result.get("llm_token_usage")
        if not isinstance(usage, dict):
            raise RuleFailed("seed superset: GET session has no llm_token_usage object", [exchange])
        missing = [name for name in SEED_TOKEN_COUNTERS if name not in usage]
        if missing:
            raise RuleFailed(f"seed superset: llm_token_usage lacks {', '.join(missing)} "
                             f"(has {', '.join(usage) or 'nothing'})", [exchange])
        return ", ".join(SEED_TOKEN_COUNTERS)


# -- helpers for schemathesis results -----------------------------------------------------------


def _dev_headers(account: str, user: str) -> dict[str, str]:
    return {"X-OpenViking-Account": account, "X-OpenViking-User": user}


def _identity_headers(identity: Identity) -> dict[str, str]:
    return _dev_headers(identity.account_id, identity.user_id)


def _identity_parameters(identity: Identity) -> dict[str, str]:
    return {f"header.{name}": value for name, value in _identity_headers(identity).items()}


def _json_or_none(data: bytes | None) -> t.Any:
    if not data:
        return None
    try:
        return json.loads(data)
    except ValueError:
        return None


def _url_path(uri: str) -> str:
    parts = urllib.parse.urlsplit(uri)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _request_body(response: t.Any) -> bytes | None:
    body = getattr(getattr(response, "request", None), "body", None)
    if isinstance(body, str):
        return body.encode("utf-8")
    return body if isinstance(body, bytes) else None


def _interaction_evidence(recorder: t.Any, case_id: str, code_sample: str) -> list[str]:
    interaction = recorder.interactions.get(case_id)
    if interaction is None:
        return [code_sample]
    request = interaction.request
    response = interaction.response
    headers = {name: ", ".join(values) for name, values in request.headers.items()}
    text = exchange_text(request.method, _url_path(request.uri), request.body,
                         response.status_code if response is not None else None,
                         response.content if response is not None else None, _shown_headers(headers))
    return [text]


def _failure_text(failure: t.Any) -> str:
    return f"{failure.title}: {failure.message}" if failure.message else str(failure.title)


# -- reports ------------------------------------------------------------------------------------


def summary_counts(results: t.Sequence[Result]) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for result in results:
        row = counts.setdefault(result.phase, {"passed": 0, "failed": 0, "skipped": 0})
        row[result.status] += 1
    return counts


def render_markdown(verifier: Verifier) -> str:
    """The Markdown summary of a run."""
    options, target, results = verifier.options, verifier.target, verifier.results
    drift = [r for r in results if r.failed and r.phase != "superset"]
    superset = [r for r in results if r.failed and r.phase == "superset"]
    lines = [f"# mockviking verify: {options.base_url}", ""]
    verdict = "PASSED: every check holds" if not drift and not superset else (
        f"FAILED: {len(drift)} check(s) with drift, {len(superset)} seed superset finding(s)")
    lines.append(f"**{verdict}**")
    lines.append("")
    when = verifier.started_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    lines.append(f"- date: {when}; took {verifier.seconds:.1f} s (--time-limit {options.time_limit:.0f} s)")
    if target is not None:
        lines.append(f"- server: {target.mode} mode, version {target.version} (from GET /health)")
        lines.append(f"- credentials: {target.credentials}; user A `{target.user_a.account_id}/"
                     f"{target.user_a.user_id}`"
                     + (f", user B `{target.user_b.account_id}/{target.user_b.user_id}`" if target.user_b else "")
                     + f"; admin operations for account `{target.account_id}`")
    version = verifier.contract.document.get("info", {}).get("version", "?")
    lines.append(f"- contract: `{options.spec_path}` (version {version})")
    lines.append(f"- seed {options.seed}, --max-examples {options.max_examples}; "
                 f"mockviking {__version__}, schemathesis {_schemathesis_version()}")
    lines.append(f"- requests: {verifier.http.sent} sent by setup, examples and rules, "
                 f"{verifier.observer.answers} answers observed in all")
    lines.append("")
    lines.append("| phase | passed | failed | skipped |")
    lines.append("|---|---:|---:|---:|")
    counts = summary_counts(results)
    for phase, title in PHASES.items():
        if phase in counts:
            row = counts[phase]
            lines.append(f"| {title} | {row['passed']} | {row['failed']} | {row['skipped']} |")
    lines.append("")
    if drift:
        lines.append("## Drift")
        lines.append("")
        for result in drift:
            lines.extend(_markdown_failure(result))
    if superset:
        lines.append("## Seed superset findings")
        lines.append("")
        lines.append("Fields the seed documents ask for beyond the real server's answers; mockviking returns "
                     "them, the real OpenViking 0.5.x omits some.")
        lines.append("")
        for result in superset:
            lines.extend(_markdown_failure(result))
    if target is not None and target.notes:
        lines.append("## Notes")
        lines.append("")
        lines.extend(f"- {note}" for note in target.notes)
        lines.append("")
    lines.append("## Every check")
    lines.append("")
    lines.append("| phase | check | result | detail |")
    lines.append("|---|---|---|---|")
    for phase in PHASES:
        for result in results:
            if result.phase != phase:
                continue
            lines.append(f"| {phase} | {_cell(result.name)} | {result.status} | {_cell(result.headline[:200])} |")
    lines.append("")
    return "\n".join(lines)


def _markdown_failure(result: Result) -> list[str]:
    lines = [f"### [{result.phase}] {result.name}", ""]
    for finding in result.findings:
        first, *rest = finding.text.splitlines() or [""]
        lines.append(f"- {first}")
        lines.extend(f"  {line}" for line in rest if line.strip())
        if finding.evidence:
            lines.append("")
            lines.append("  ```")
            for item in finding.evidence:
                lines.extend(f"  {line}" for line in item.splitlines())
                lines.append("")
            lines[-1] = "  ```"
        lines.append("")
    return lines


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


#: What XML 1.0 cannot carry, even escaped: control characters, lone surrogates, U+FFFE/U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_text(text: str) -> str:
    """``text`` with what XML cannot carry written as ``\\xNN`` / ``\\uNNNN``."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                        else f"\\u{ord(m.group()):04x}", text)


def render_junit(verifier: Verifier) -> bytes:
    """A JUnit XML report: a testsuite per phase, a testcase per check or operation."""
    root = ET.Element("testsuites", name="mockviking verify")
    total = {"tests": 0, "failures": 0, "skipped": 0}
    for phase, title in PHASES.items():
        results = [r for r in verifier.results if r.phase == phase]
        if not results:
            continue
        suite = ET.SubElement(root, "testsuite", name=f"verify.{phase}")
        suite.set("tests", str(len(results)))
        suite.set("failures", str(sum(r.failed for r in results)))
        suite.set("skipped", str(sum(r.status == "skipped" for r in results)))
        suite.set("errors", "0")
        suite.set("time", f"{sum(r.seconds for r in results):.3f}")
        for key in total:
            total[key] += int(suite.get(key, "0"))
        properties = ET.SubElement(suite, "properties")
        ET.SubElement(properties, "property", name="title", value=title)
        ET.SubElement(properties, "property", name="base_url", value=_xml_text(verifier.options.base_url))
        for result in results:
            case = ET.SubElement(suite, "testcase", classname=f"verify.{phase}", name=_xml_text(result.name))
            case.set("time", f"{result.seconds:.3f}")
            if result.failed:
                failure = ET.SubElement(case, "failure", message=_xml_text((result.headline or "failed")[:500]),
                                        type="seed-superset" if phase == "superset" else "drift")
                failure.text = _xml_text("\n\n".join("\n".join([finding.text, *finding.evidence])
                                                     for finding in result.findings))
            elif result.status == "skipped":
                ET.SubElement(case, "skipped", message=_xml_text(result.detail))
            elif result.detail:
                out = ET.SubElement(case, "system-out")
                out.text = _xml_text(result.detail)
    for key, value in total.items():
        root.set(key, str(value))
    root.set("time", f"{verifier.seconds:.3f}")
    ET.indent(root)
    text: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return text + b"\n"


def _schemathesis_version() -> str:
    try:
        from importlib.metadata import version

        return version("schemathesis")
    except Exception:  # noqa: BLE001 - only for the report
        return "?"


# -- the command --------------------------------------------------------------------------------


def _parse_phases(value: str) -> frozenset[str]:
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in SELECTABLE_PHASES]
    if unknown or not names:
        raise click.BadParameter(f"{', '.join(unknown) or 'none given'}; choose among {', '.join(SELECTABLE_PHASES)}",
                                 param_hint="--phases")
    return frozenset(names)


def _require_schemathesis() -> None:
    try:
        import hypothesis  # noqa: F401
        import schemathesis  # noqa: F401
    except ImportError as exc:
        raise VerifyUsageError(
            f"mockviking verify needs schemathesis and hypothesis ({exc}): pip install 'mockviking[test]'"
        ) from exc


@click.command("verify")
@click.option("--base-url", required=True, help="The running server to check, e.g. http://127.0.0.1:1933.")
@click.option("--api-key", default=None, help="A user key: session routes are called with it.")
@click.option("--root-key", default=None,
              help="A root key: fresh test users are provisioned with it (account verify-<random>).")
@click.option("--max-examples", default=20, show_default=True, type=click.IntRange(1, 10000),
              help="Generated requests per operation and phase; stateful scenarios.")
@click.option("--time-limit", default=300.0, show_default=True, type=click.FloatRange(1, 86400),
              help="Seconds for the whole run; the generated phases stop at their share of it.")
@click.option("--junit-xml", "junit_xml", default=None, type=click.Path(dir_okay=False),
              help="Write a JUnit XML report here (one testcase per check or operation).")
@click.option("--markdown", "markdown", default=None, type=click.Path(dir_okay=False),
              help="Also write the Markdown summary here.")
@click.option("--spec", "spec_path", default=None, type=click.Path(dir_okay=False, exists=True),
              help="Contract to check against. Default: the bundled spec/openapi.yaml.")
@click.option("--seed", default=None, type=click.IntRange(0, 2**32 - 1),
              help="Seed of the generated requests (printed in the report; the same seed sends the same ones).")
@click.option("--phases", "phases", default=",".join(SELECTABLE_PHASES), show_default=True,
              callback=lambda ctx, param, value: _parse_phases(value),
              help="Comma-separated phases to run.")
def verify(
    base_url: str,
    api_key: str | None,
    root_key: str | None,
    max_examples: int,
    time_limit: float,
    junit_xml: str | None,
    markdown: str | None,
    spec_path: str | None,
    seed: int | None,
    phases: frozenset[str],
) -> None:
    """Check a RUNNING server against the contract: examples, schemathesis, links, domain rules.

    Exit code 0 when every check holds, 1 on any difference, 2 on bad usage or an unreachable URL.
    """
    if api_key is not None and root_key is not None:
        raise click.UsageError("give --api-key or --root-key, not both")
    _require_schemathesis()
    options = Options(
        base_url=base_url.rstrip("/"),
        api_key=api_key,
        root_key=root_key,
        max_examples=max_examples,
        time_limit=time_limit,
        spec_path=Path(spec_path) if spec_path else default_spec_path(),
        seed=seed if seed is not None else secrets.randbelow(2**32),
        phases=phases,
    )

    def progress(line: str) -> None:
        click.echo(line, err=True)

    verifier = Verifier(options, progress)
    verifier.run()
    text = render_markdown(verifier)
    click.echo(text)
    for path, content in ((markdown, text.encode("utf-8")), (junit_xml, render_junit(verifier))):
        if path is not None:
            try:
                Path(path).write_bytes(content)
            except OSError as exc:
                raise VerifyUsageError(f"cannot write {path}: {exc.strerror or exc}") from exc
    failed = [r for r in verifier.results if r.failed]
    progress(f"verify: {len(verifier.results) - len(failed)} passed or skipped, {len(failed)} failed "
             f"in {verifier.seconds:.1f} s")
    if failed:
        click.get_current_context().exit(1)
