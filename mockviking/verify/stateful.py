"""Phase 3, stateful: scenarios that follow the contract's OpenAPI links (``schema.as_state_machine()``).

The checks are those of the property phase; use_after_free is off there, since a write or
``auto_create=true`` brings a deleted session back, by design of the API.
"""

from __future__ import annotations

import dataclasses
import json
import time
import typing as t

from mockviking.verify.client import Observer, exchange_text
from mockviking.verify.properties import MAX_FAILURES_PER_CASE, load_schema
from mockviking.verify.results import Finding, Result
from mockviking.verify.target import identity_headers

if t.TYPE_CHECKING:
    from schemathesis.generation.stateful import APIStateMachine

    from mockviking.verify.target import Target
    from mockviking.verify.verifier import Verifier
else:
    # At run time the hooks are a plain mixin: their real base, the schema's own machine class,
    # exists only once a schema is loaded (see _machine), and schemathesis is imported late.
    APIStateMachine = object

#: Steps per stateful scenario.
STATEFUL_STEPS = 6
#: Stateful scenarios per Hypothesis run (the time limit is checked between runs).
STATEFUL_BATCH = 5
#: Share of --time-limit after which the stateful phase is stopped.
STATEFUL_SHARE = 0.9


@dataclasses.dataclass
class Walk:
    """What the scenarios of one stateful run saw (the machine instances, built by Hypothesis, share it)."""

    #: Identity headers every step that takes them is sent with (user A).
    fixed: dict[str, str]
    observer: Observer
    created: set[str] = dataclasses.field(default_factory=set)
    followed: set[str] = dataclasses.field(default_factory=set)
    failures: dict[tuple[str, str, str], list[str]] = dataclasses.field(default_factory=dict)
    #: The steps of the current scenario, shown with a failure.
    scenario: list[str] = dataclasses.field(default_factory=list)
    counters: dict[str, int] = dataclasses.field(default_factory=lambda: {"scenarios": 0, "requests": 0})


class Links(APIStateMachine):
    """Hooks on the schema's state machine: each step is recorded, and failures kept, never raised,
    so Hypothesis neither replays nor shrinks them. ``_machine`` mixes them into the schema's class."""

    walk: t.ClassVar[Walk]

    def setup(self) -> None:
        super().setup()
        self.walk.scenario.clear()
        self.walk.counters["scenarios"] += 1

    def before_call(self, case: t.Any) -> None:
        super().before_call(case)
        fixed = self.walk.fixed
        if fixed and any(p.name in fixed for p in case.operation.headers):
            case.headers = {**(case.headers or {}), **fixed}

    def after_call(self, response: t.Any, case: t.Any) -> None:
        super().after_call(response, case)
        walk = self.walk
        walk.counters["requests"] += 1
        label = case.operation.label
        walk.observer.saw("stateful", case.method, case.formatted_path, response.status_code, response.content)
        walk.scenario.append(f"[{response.status_code}] {case.method} {case.formatted_path}")
        body = _json_or_none(response.content)
        result = body.get("result") if isinstance(body, dict) else None
        if case.operation.definition.raw.get("operationId") == "create_session" and isinstance(result, dict):
            walk.created.add(str(result.get("session_id")))
        elif case.path_parameters and case.path_parameters.get("session_id") in walk.created \
                and response.status_code == 200:
            walk.followed.add(label)

    def validate_response(self, response: t.Any, case: t.Any, additional_checks: t.Any = None,
                          **kwargs: t.Any) -> None:
        from schemathesis.core.failures import Failure, FailureGroup

        try:
            super().validate_response(response, case, additional_checks, **kwargs)
        except (FailureGroup, Failure) as exc:
            failures = self.walk.failures
            found = list(exc.exceptions) if isinstance(exc, FailureGroup) else [exc]
            for failure in found:
                name = failure.checks[0] if failure.checks else type(failure).__name__
                key = (f"{case.operation.label}: {name}", failure.title, failure.message)
                if key not in failures and len(failures) < 3 * MAX_FAILURES_PER_CASE:
                    steps = "\n".join(self.walk.scenario)
                    failures[key] = [
                        f"scenario steps:\n{steps}",
                        exchange_text(case.method, case.formatted_path, _request_body(response),
                                      response.status_code, response.content),
                        case.as_curl_command(),
                    ]


def _machine(schema: t.Any, walk: Walk) -> type[Links]:
    """The schema's state machine with the hooks mixed in, as a class of its own carrying ``walk``
    (Hypothesis builds the instances, so they cannot be handed it)."""
    base = schema.as_state_machine()
    return t.cast(type[Links], type(Links.__name__, (Links, base), dict(walk=walk)))


def run(v: Verifier, target: Target) -> None:
    import hypothesis

    budget = v.budget_until(STATEFUL_SHARE)
    scenarios = v.options.max_examples
    v.progress(f"[stateful] {scenarios} scenarios of up to {STATEFUL_STEPS} steps through the links "
               f"(budget {budget:.0f} s)")
    if budget <= 0:
        v.add(Result("stateful", "links", "skipped", detail="no time left (--time-limit)"))
        return
    schema = load_schema(v, target, {"stateful": {"enabled": True, "max-steps": STATEFUL_STEPS}})
    deadline = time.monotonic() + budget
    walk = Walk(identity_headers(target.user_a), v.observer)
    links = _machine(schema, walk)
    started = time.monotonic()
    problem: str | None = None
    stopped = False
    # Scenarios run in small batches, each its own Hypothesis run (seeded from --seed), so the
    # time limit is checked between batches: Hypothesis cannot be stopped cleanly mid-run.
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
        machine = hypothesis.seed(v.options.seed + batch)(links)
        try:
            machine.run(settings=settings)
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            problem = f"the stateful run stopped with {type(exc).__name__}: {str(exc)[:500]}"
        done += size
        batch += 1
    counters = walk.counters
    requests = counters["requests"]
    detail = (f"{counters['scenarios']} scenarios, {requests} requests; "
              f"link targets reached a created session: {', '.join(sorted(walk.followed)) or 'none'}")
    if stopped:
        v.note(f"The stateful phase stopped at its share of --time-limit after {counters['scenarios']} "
               "scenario(s).")
    findings = [Finding(f"{label}: {title}" + (f"\n{message}" if message else ""), evidence)
                for (label, title, message), evidence in walk.failures.items()]
    if problem is not None:
        findings.append(Finding(problem))
    if findings:
        v.add(Result("stateful", "links", "failed", detail=detail, findings=findings,
                     seconds=time.monotonic() - started, requests=requests))
    else:
        v.add(Result("stateful", "links", "passed", detail=detail,
                     seconds=time.monotonic() - started, requests=requests))


def _json_or_none(data: bytes | None) -> t.Any:
    if not data:
        return None
    try:
        return json.loads(data)
    except ValueError:
        return None


def _request_body(response: t.Any) -> bytes | None:
    body = getattr(getattr(response, "request", None), "body", None)
    if isinstance(body, str):
        return body.encode("utf-8")
    return body if isinstance(body, bytes) else None
