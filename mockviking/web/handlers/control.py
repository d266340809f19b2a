"""Handlers of the control API (``spec/control.yaml``): reset, seed, inspect, faults, time.

They act on the harness; ``web.app`` serves them like the OpenViking operations, validated
against their own contract, which is never mixed into the OpenViking one. What they store
goes through the store like every other write, so it obeys the same rules as the API.
"""

from __future__ import annotations

import typing as t

from mockviking.domain.clock import parse_timestamp
from mockviking.domain.errors import DomainError, RouteError
from mockviking.domain.owners import Owner
from mockviking.domain.tasks import CommitScript, TaskPlan
from mockviking.harness import snapshot
from mockviking.harness.fixtures import FixtureError, apply_fixture, check_fixture
from mockviking.harness.journal import RequestFilter
from mockviking.web.handlers.registry import Call, control


def _done(**extra: t.Any) -> dict[str, t.Any]:
    return {"done": True, **extra}


def _bad(message: str) -> RouteError:
    return RouteError("INVALID_ARGUMENT", message)


@control
def reset(call: Call) -> dict[str, t.Any]:
    call.harness.reset()
    return _done()


@control
def load_fixtures(call: Call) -> dict[str, t.Any]:
    harness = call.harness
    try:
        fixture = check_fixture(call.body, harness.contract, "request body")
        apply_fixture(harness.store, fixture)
    except FixtureError as exc:
        raise _bad(str(exc)) from exc
    if call.params.get("baseline"):
        harness.store.mark_baseline()
    return _done(sessions=len(call.body.get("sessions", [])))


@control
def export_state(call: Call) -> dict[str, t.Any]:
    return snapshot.export_state(call.store)


@control
def import_state(call: Call) -> dict[str, t.Any]:
    try:
        snapshot.import_state(call.store, call.body, baseline=bool(call.params.get("baseline")))
    except snapshot.SnapshotError as exc:
        raise _bad(str(exc)) from exc
    return _done()


@control
def list_requests(call: Call) -> list[dict[str, t.Any]]:
    params = call.params
    where = RequestFilter(
        method=params.get("method"),
        path=params.get("path"),
        operation_id=params.get("operation_id"),
        status=params.get("status"),
        account_id=params.get("account_id"),
        user_id=params.get("user_id"),
        include_control=bool(params.get("include_control")),
    )
    return [entry.to_dict() for entry in call.harness.journal.entries(where, params.get("limit"))]


@control
def clear_requests(call: Call) -> dict[str, t.Any]:
    call.harness.journal.clear()
    return _done()


@control
def list_faults(call: Call) -> list[dict[str, t.Any]]:
    return [rule.to_dict() for rule in call.harness.faults.rules()]


@control
def add_fault(call: Call) -> dict[str, t.Any]:
    try:
        return call.harness.faults.add(**call.body).to_dict()
    except ValueError as exc:
        raise _bad(f"Invalid fault rule: {exc}") from exc


@control
def clear_faults(call: Call) -> dict[str, t.Any]:
    call.harness.faults.clear()
    return _done()


@control
def remove_fault(call: Call) -> dict[str, t.Any]:
    fault_id = call.params["fault_id"]
    if not call.harness.faults.remove(fault_id):
        raise RouteError("NOT_FOUND", f"Fault rule not found: {fault_id}")
    return _done()


@control
def set_task_plan(call: Call) -> dict[str, t.Any]:
    plan = TaskPlan(**call.body)
    call.store.set_task_plan(plan)
    return _done(mode=plan.mode)


@control
def release_tasks(call: Call) -> dict[str, t.Any]:
    body = call.dict_body()
    return _done(released=call.store.release_tasks(body.get("task_id")))


@control
def script_next_commit(call: Call) -> dict[str, t.Any]:
    body = dict(call.body)
    owner = Owner(body.pop("account_id", "default"), body.pop("user_id", "default"))
    session_id = body.pop("session_id")
    call.store.script_next_commit(owner, session_id, CommitScript(**body))
    return _done()


def _clock_state(call: Call) -> dict[str, t.Any]:
    clock = call.harness.clock
    if clock is None:
        raise RouteError("FAILED_PRECONDITION", "This server's clock cannot be controlled")
    return {"now": clock().isoformat(), "frozen": clock.frozen}


@control
def get_clock(call: Call) -> dict[str, t.Any]:
    return _clock_state(call)


@control
def freeze_clock(call: Call) -> dict[str, t.Any]:
    state = _clock_state(call)
    body = call.dict_body()
    at = None
    if body.get("at"):
        try:
            at = parse_timestamp(body["at"])
        except ValueError as exc:
            raise _bad(f"'at' must be an ISO 8601 time with a timezone, got {body['at']!r}") from exc
    assert call.harness.clock is not None
    try:
        call.harness.clock.freeze(at)
    except ValueError as exc:
        raise _bad(str(exc)) from exc
    return state | _clock_state(call)


@control
def advance_clock(call: Call) -> dict[str, t.Any]:
    _clock_state(call)
    call.store.advance_clock(float(call.body["seconds"]))
    return _clock_state(call)


@control
def resume_clock(call: Call) -> dict[str, t.Any]:
    _clock_state(call)
    assert call.harness.clock is not None
    call.harness.clock.resume()
    return _clock_state(call)


@control
def provision_key(call: Call) -> dict[str, t.Any]:
    body = call.body
    try:
        key = call.store.user_key(body["account_id"], body["user_id"], body.get("role", "user"))
    except DomainError as exc:
        raise _bad(exc.message) from exc
    return {"account_id": body["account_id"], "user_id": body["user_id"], "key": key}


@control
def list_errors(call: Call) -> list[str]:
    return [f"{type(exc).__name__}: {exc}" for exc in call.harness.errors]
