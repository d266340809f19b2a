"""Property-based contract tests: the whole of spec/openapi.yaml against the app, in-process.

schemathesis 4.x loads the contract from its file (``schemathesis.openapi.from_path``) and
sends every generated request to a fresh Flask app through its WSGI transport
(``case.call_and_validate(app=...)``). Generation covers positive AND negative data
(``generation.mode = "all"``) and every built-in check runs: not_a_server_error,
status_code_conformance, content_type_conformance, response_schema_conformance,
response_headers_conformance, positive_data_acceptance, negative_data_rejection,
missing_required_header, unsupported_method and allow_header_conformance (coverage phase),
ensure_resource_availability (stateful) and ignored_auth. Two allowances: an operation whose
contract declares a 501 ("not served by mockviking") may answer 501; and use_after_free is off,
because the contract (like the real server) recreates a deleted session on the next message
write or ``auto_create=true`` read, which that check counts as a deleted resource coming back.

Stateful tests walk the spec's OpenAPI links (create_session -> get_session, add_message,
batch_add_messages, commit_session, delete_session; add_message -> commit_session,
get_session_context; commit_session -> get_task, get_session_context, get_session) with
``schema.as_state_machine()``.

Run:  python -m pytest tests/contract                 the default run (well under 60 s)
      python -m pytest tests/contract -m slow         the thorough variant (a few minutes)
      (or MOCKVIKING_SLOW=1 to include the slow tests in any run)

Failures are real: a failing test here means the app and the contract disagree.
"""

from __future__ import annotations

import collections
import typing as t

import hypothesis
import pytest
import schemathesis
import yaml
from flask import Flask

from tests._support import ALICE_KEY, ROOT_KEY, SPEC

#: Operations only the root key may call (``x-openviking-roles: [root]``).
ROOT_ONLY_OPERATIONS = ("create_account", "list_accounts")
#: Admin operations alice (admin of account ``default``) may call within her own account.
ACCOUNT_ADMIN_OPERATIONS = ("create_user", "list_users")
#: The session operations (every path under it), the ones the dev-mode run covers.
SESSION_PATHS = "/api/v1/sessions"
#: The admin operations, the ones the root-key run covers.
ADMIN_PATHS = "/api/v1/admin/"

#: Built-in schemathesis 4.x checks for single responses. All are on by default; the harness
#: test below fails if any of them gets switched off.
REQUIRED_CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "positive_data_acceptance",
    "negative_data_rejection",
    "missing_required_header",
    "unsupported_method",
    "allow_header_conformance",
    "ensure_resource_availability",
    "ignored_auth",
)

#: Examples per operation: a modest default run and a marker-gated thorough one.
DEFAULT_MAX_EXAMPLES = 50
SLOW_MAX_EXAMPLES = 1000
#: Stateful runs: scenarios x steps per scenario.
DEFAULT_STATEFUL_EXAMPLES = 25
DEFAULT_STATEFUL_STEPS = 6
SLOW_STATEFUL_EXAMPLES = 200
SLOW_STATEFUL_STEPS = 12
#: Fixed seed: the same cases on every run.
SEED = 20260323

#: Health checks that say nothing about the API under test: an in-process WSGI call per example
#: is "slow" for Hypothesis, negative generation filters a lot, and a fresh app per test
#: function is exactly what the function-scoped app fixture is for.
SUPPRESSED_HEALTH_CHECKS = [
    hypothesis.HealthCheck.too_slow,
    hypothesis.HealthCheck.filter_too_much,
    hypothesis.HealthCheck.data_too_large,
    hypothesis.HealthCheck.large_base_example,
    hypothesis.HealthCheck.function_scoped_fixture,
]


def hypothesis_settings(max_examples: int, **kwargs: t.Any) -> hypothesis.settings:
    """Deterministic settings: derandomized, no example database, no deadline."""
    return hypothesis.settings(
        max_examples=max_examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=SUPPRESSED_HEALTH_CHECKS,
        print_blob=False,
        **kwargs,
    )


def _declared_501() -> list[dict[str, t.Any]]:
    """Operations the contract says mockviking does not serve: their 501 is documented.

    not_a_server_error counts every 5xx; for these operations (and only these) the declared
    501 is the expected answer, so it is allowed, and nothing else of the 5xx range.
    """
    spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    ids = sorted(
        op["operationId"]
        for item in spec["paths"].values()
        for op in item.values()
        if isinstance(op, dict) and "501" in op.get("responses", {})
    )
    if not ids:
        return []
    statuses = ["2xx", "3xx", "4xx", "501"]
    checks = {"not_a_server_error": {"expected-statuses": statuses}}
    return [{"include-operation-id": ids, "checks": checks}]


DECLARED_501 = _declared_501()


def load_schema(
    *,
    max_examples: int,
    headers: dict[str, str] | None = None,
    operations: list[dict[str, t.Any]] | None = None,
    stateful_steps: int = DEFAULT_STATEFUL_STEPS,
) -> schemathesis.BaseSchema:
    """The contract file as schemathesis sees it, with positive AND negative generation."""
    data: dict[str, t.Any] = {
        "seed": SEED,
        "generation": {
            "mode": "all",  # positive and negative
            "max-examples": max_examples,
            "deterministic": True,
            "database": "none",
        },
        "phases": {"stateful": {"max-steps": stateful_steps}},
        # The keys are the bundled fixtures' and session ids are data: show them in repros.
        "output": {"sanitization": {"enabled": False}},
        # Writes and auto_create=true recreate a deleted session by design (see above).
        "checks": {"use_after_free": {"enabled": False}},
    }
    if headers:
        data["headers"] = headers
    data["operations"] = [*(operations or []), *DECLARED_501]
    config = schemathesis.Config.from_dict(data)
    return schemathesis.openapi.from_path(SPEC, config=config)


# -- schemas ------------------------------------------------------------------------------------

#: api_key mode as alice (a user key, admin of account "default"); the root-only admin
#: operations get the root key, and alice's admin operations stay within her account.
API_KEY_OPERATIONS: list[dict[str, t.Any]] = [
    {"include-operation-id": list(ROOT_ONLY_OPERATIONS), "headers": {"X-API-Key": ROOT_KEY}},
    {
        "include-operation-id": list(ACCOUNT_ADMIN_OPERATIONS),
        "parameters": {"path.account_id": "default"},
    },
]


def _api_key_schema(
    max_examples: int, steps: int = DEFAULT_STATEFUL_STEPS
) -> schemathesis.BaseSchema:
    return load_schema(
        max_examples=max_examples,
        headers={"X-API-Key": ALICE_KEY},
        operations=API_KEY_OPERATIONS,
        stateful_steps=steps,
    )


def _root_admin_schema(max_examples: int) -> schemathesis.BaseSchema:
    # Filters use exclude(): in schemathesis 4.32 include() is OR-ed with [[operations]] filters.
    schema = load_schema(max_examples=max_examples, headers={"X-API-Key": ROOT_KEY})
    return schema.exclude(path_regex=f"^(?!{ADMIN_PATHS})")


#: In dev mode the identity headers name the caller and must be valid identifiers; in
#: api_key mode the real server ignores them. A contract cannot make a header's schema depend
#: on the server's mode, so the dev run fixes them to valid values.
DEV_IDENTITY = {"header.X-OpenViking-Account": "acme", "header.X-OpenViking-User": "dev-user"}
DEV_HEADERS = {name.removeprefix("header."): value for name, value in DEV_IDENTITY.items()}


def _dev_schema(
    max_examples: int, steps: int = DEFAULT_STATEFUL_STEPS
) -> schemathesis.BaseSchema:
    return load_schema(
        max_examples=max_examples,
        stateful_steps=steps,
        operations=[{"include-path-regex": SESSION_PATHS, "parameters": DEV_IDENTITY}],
    ).exclude(path_regex=f"^(?!{SESSION_PATHS})")


API_KEY = _api_key_schema(DEFAULT_MAX_EXAMPLES)
ROOT_ADMIN = _root_admin_schema(DEFAULT_MAX_EXAMPLES)
DEV = _dev_schema(DEFAULT_MAX_EXAMPLES)

API_KEY_SLOW = _api_key_schema(SLOW_MAX_EXAMPLES, SLOW_STATEFUL_STEPS)
ROOT_ADMIN_SLOW = _root_admin_schema(SLOW_MAX_EXAMPLES)
DEV_SLOW = _dev_schema(SLOW_MAX_EXAMPLES, SLOW_STATEFUL_STEPS)


def call_and_validate(case: schemathesis.Case, app: Flask) -> t.Any:
    """Send the case to ``app`` over WSGI and run every enabled check on the answer."""
    response = case.call_and_validate(app=app)
    # not_a_server_error already covers this; the explicit assertion documents the property:
    # no 5xx, except the 501 the contract declares for operations mockviking does not serve.
    status = response.status_code
    declares_501 = "501" in case.operation.definition.raw["responses"]
    assert 200 <= status < 500 or (status == 501 and declares_501), (
        case.method,
        case.formatted_path,
        status,
    )
    return response


# -- the configuration itself -------------------------------------------------------------------


@pytest.mark.parametrize("schema", [API_KEY, ROOT_ADMIN, DEV], ids=["api_key", "root_admin", "dev"])
def test_generation_and_checks_are_complete(schema: schemathesis.BaseSchema) -> None:
    """Guard the harness: both generation modes on, every required check on, all phases on."""
    for result in schema.get_all_operations():
        operation = result.ok()
        generation = schema.config.generation_for(operation=operation, phase="fuzzing")
        assert set(generation.modes) == set(schemathesis.GenerationMode), generation.modes
        assert generation.deterministic is True
        checks = schema.config.checks_config_for(operation=operation, phase="fuzzing")
        disabled = [name for name in REQUIRED_CHECKS if not checks.get_by_name(name=name).enabled]
        assert disabled == [], f"{operation.label}: checks disabled: {disabled}"
        # Only operations whose contract declares a 501 may answer it; no other 5xx anywhere.
        declares_501 = "501" in operation.definition.raw["responses"]
        allowed = ["2xx", "3xx", "4xx", "501"] if declares_501 else ["2xx", "3xx", "4xx"]
        assert checks.not_a_server_error.expected_statuses == allowed, operation.label
        phases = schema.config.phases_for(operation=operation)
        assert phases.examples.enabled, operation.label
        assert phases.coverage.enabled, operation.label
        assert phases.fuzzing.enabled, operation.label


def _operation_ids(schema: schemathesis.BaseSchema) -> set[str]:
    return {result.ok().definition.raw["operationId"] for result in schema.get_all_operations()}


def test_every_operation_is_covered() -> None:
    """The api_key run covers the whole contract file, the dev run its session operations."""
    spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    declared = {
        path: {
            op["operationId"]
            for op in item.values()
            if isinstance(op, dict) and "operationId" in op
        }
        for path, item in spec["paths"].items()
    }
    everything = set().union(*declared.values())
    sessions = set().union(
        *(ids for path, ids in declared.items() if path.startswith(SESSION_PATHS))
    )
    admin = {
        op["operationId"]
        for item in spec["paths"].values()
        for op in item.values()
        if isinstance(op, dict) and "admin" in op.get("tags", ())
    }
    assert sessions
    assert admin
    assert _operation_ids(API_KEY) == everything
    assert _operation_ids(DEV) == sessions
    assert _operation_ids(ROOT_ADMIN) == admin


# -- stateless: every operation, positive and negative -----------------------------------------


@API_KEY.parametrize()
@hypothesis_settings(DEFAULT_MAX_EXAMPLES)
def test_api_key_mode(case: schemathesis.Case, api_key_app: Flask) -> None:
    call_and_validate(case, api_key_app)


@ROOT_ADMIN.parametrize()
@hypothesis_settings(DEFAULT_MAX_EXAMPLES)
def test_admin_with_root_key(case: schemathesis.Case, api_key_app: Flask) -> None:
    call_and_validate(case, api_key_app)


@DEV.parametrize()
@hypothesis_settings(DEFAULT_MAX_EXAMPLES)
def test_dev_mode_sessions(case: schemathesis.Case, dev_app: Flask) -> None:
    call_and_validate(case, dev_app)


@pytest.mark.slow
@API_KEY_SLOW.parametrize()
@hypothesis_settings(SLOW_MAX_EXAMPLES)
def test_api_key_mode_slow(case: schemathesis.Case, api_key_app: Flask) -> None:
    call_and_validate(case, api_key_app)


@pytest.mark.slow
@ROOT_ADMIN_SLOW.parametrize()
@hypothesis_settings(SLOW_MAX_EXAMPLES)
def test_admin_with_root_key_slow(case: schemathesis.Case, api_key_app: Flask) -> None:
    call_and_validate(case, api_key_app)


@pytest.mark.slow
@DEV_SLOW.parametrize()
@hypothesis_settings(SLOW_MAX_EXAMPLES)
def test_dev_mode_sessions_slow(case: schemathesis.Case, dev_app: Flask) -> None:
    call_and_validate(case, dev_app)


# -- stateful: through the spec's links --------------------------------------------------------

CREATE_SESSION = "POST /api/v1/sessions"
#: The targets of create_session's links, by label.
LINK_TARGETS = {
    "GET /api/v1/sessions/{session_id}",
    "POST /api/v1/sessions/{session_id}/messages",
    "POST /api/v1/sessions/{session_id}/messages/batch",
    "DELETE /api/v1/sessions/{session_id}",
    "POST /api/v1/sessions/{session_id}/commit",
}
#: What the lifecycle chain create -> add -> commit -> task -> context must reach.
LIFECYCLE_TARGETS = {
    "GET /api/v1/tasks/{task_id}",
    "GET /api/v1/sessions/{session_id}/context",
}


def run_links(
    schema: schemathesis.BaseSchema,
    make_app: t.Callable[[], Flask],
    examples: int,
    steps: int,
    fixed_headers: t.Mapping[str, str] | None = None,
) -> collections.Counter[tuple[str, int]]:
    """Run the schema's state machine, a fresh app per scenario; count (operation, status).

    On failure the steps of the last scenario run (Hypothesis replays the minimal failing one
    last) are attached to the error as curl commands, since the checks only show the last step.
    """
    seen: collections.Counter[tuple[str, int]] = collections.Counter()
    # Session ids a 200 create_session returned, and the ids later steps were sent to.
    created: set[str] = set()
    followed: list[tuple[str, str, int]] = []
    scenario: list[str] = []

    class Links(schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            super().setup()
            self.app = make_app()
            scenario.clear()

        def before_call(self, case: schemathesis.Case) -> None:
            super().before_call(case)
            if fixed_headers:
                case.headers = {**(case.headers or {}), **fixed_headers}

        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, t.Any]:
            return {"app": self.app}

        def after_call(self, response: t.Any, case: schemathesis.Case) -> None:
            super().after_call(response, case)
            label = case.operation.label
            seen[(label, response.status_code)] += 1
            scenario.append(f"[{response.status_code}] {case.as_curl_command()}")
            if label == CREATE_SESSION and response.status_code == 200:
                created.add(response.json()["result"]["session_id"])
            elif label in LINK_TARGETS and case.path_parameters:
                followed.append((label, case.path_parameters["session_id"], response.status_code))

    try:
        Links.run(settings=hypothesis_settings(examples, stateful_step_count=steps))
    except BaseException as exc:
        exc.add_note("Steps of the failing scenario:\n  " + "\n  ".join(scenario))
        raise

    assert seen[(CREATE_SESSION, 200)] > 0, f"create_session never succeeded: {dict(seen)}"
    # The links were followed: some linked operation reached a session create_session made.
    via_link = {
        label for label, session_id, status in followed if session_id in created and status == 200
    }
    assert via_link, f"no link target reached a created session: {followed[:20]}"
    return seen


def test_stateful_links_api_key(make_api_key_app: t.Callable[[], Flask]) -> None:
    seen = run_links(API_KEY, make_api_key_app, DEFAULT_STATEFUL_EXAMPLES, DEFAULT_STATEFUL_STEPS)
    assert sum(seen.values()) >= DEFAULT_STATEFUL_EXAMPLES


def test_stateful_links_dev(make_dev_app: t.Callable[[], Flask]) -> None:
    seen = run_links(DEV, make_dev_app, DEFAULT_STATEFUL_EXAMPLES, DEFAULT_STATEFUL_STEPS, DEV_HEADERS)
    assert sum(seen.values()) >= DEFAULT_STATEFUL_EXAMPLES


@pytest.mark.slow
def test_stateful_links_api_key_slow(make_api_key_app: t.Callable[[], Flask]) -> None:
    seen = run_links(API_KEY_SLOW, make_api_key_app, SLOW_STATEFUL_EXAMPLES, SLOW_STATEFUL_STEPS)
    targets = {label for label, status in seen if label in LINK_TARGETS | LIFECYCLE_TARGETS and status == 200}
    missing = (LINK_TARGETS | LIFECYCLE_TARGETS) - targets
    assert not missing, f"link targets never answered 200: {missing}"


@pytest.mark.slow
def test_stateful_links_dev_slow(make_dev_app: t.Callable[[], Flask]) -> None:
    seen = run_links(DEV_SLOW, make_dev_app, SLOW_STATEFUL_EXAMPLES, SLOW_STATEFUL_STEPS, DEV_HEADERS)
    targets = {label for label, status in seen if label in LINK_TARGETS and status == 200}
    assert targets == LINK_TARGETS, f"link targets never answered 200: {LINK_TARGETS - targets}"
