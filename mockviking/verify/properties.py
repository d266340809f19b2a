"""Phase 2, properties: schemathesis 4.x (its engine, as ``st run`` uses it) over every operation.

The schemathesis configuration built here serves the stateful phase too. schemathesis is
imported when a phase runs, never when the package is imported.
"""

from __future__ import annotations

import threading
import typing as t
import urllib.parse

from mockviking.verify.client import REQUEST_TIMEOUT, exchange_text, shown_headers
from mockviking.verify.results import Finding, Result
from mockviking.verify.target import identity_parameters

if t.TYPE_CHECKING:
    from mockviking.verify.target import Target
    from mockviking.verify.verifier import Verifier

#: schemathesis workers. One: generation is CPU-bound in this process (more threads do not go
#: faster), and parallel requests make state-dependent answers look flaky to Hypothesis.
WORKERS = 1
#: Share of --time-limit after which the property phase is stopped.
PROPERTIES_SHARE = 0.6
#: Distinct failures kept per (operation, phase).
MAX_FAILURES_PER_CASE = 8


def schemathesis_config(v: Verifier, target: Target, phases: dict[str, t.Any]) -> t.Any:
    import schemathesis

    document = v.contract.document
    operations = [
        op for item in document["paths"].values() for op in item.values()
        if isinstance(op, dict) and "operationId" in op
    ]
    data: dict[str, t.Any] = {
        "base-url": v.options.base_url.rstrip("/"),
        "seed": v.options.seed,
        "workers": WORKERS,
        "request-timeout": REQUEST_TIMEOUT,
        "cache": {"enabled": False},
        "generation": {
            "mode": "all",  # positive and negative
            "max-examples": v.options.max_examples,
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
    data["parameters"] = identity_parameters(target.user_a)
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


def load_schema(v: Verifier, target: Target, phases: dict[str, t.Any]) -> t.Any:
    import schemathesis

    config = schemathesis_config(v, target, phases)
    return schemathesis.openapi.from_path(str(v.options.spec_path), config=config)


def run(v: Verifier, target: Target) -> None:
    from schemathesis import engine
    from schemathesis.engine import events

    budget = v.budget_until(PROPERTIES_SHARE)
    v.progress(f"[properties] schemathesis coverage + fuzzing, positive and negative, "
               f"{v.options.max_examples} examples per operation (budget {budget:.0f} s)")
    if budget <= 0:
        v.add(Result("properties", "all operations", "skipped", detail="no time left (--time-limit)"))
        return
    schema = load_schema(v, target, {
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
                _scenario_result(v, "properties", event)
            elif isinstance(event, events.NonFatalError):
                v.add(Result("properties", f"{event.label} [error]", "failed",
                             findings=[Finding(f"{event.info.title}: {event.info.message}")]))
            elif isinstance(event, events.FatalError):
                v.add(Result("properties", "engine", "failed",
                             findings=[Finding(f"schemathesis: {event.exception!r}")]))
            elif isinstance(event, events.EngineFinished):
                stop_reason = str(event.stop_reason.value)
                for failure in event.failures:
                    v.add(Result("properties", f"{failure.operation or 'run'} [after run]", "failed",
                                 findings=[Finding(_failure_text(failure))]))
    finally:
        timer.cancel()
    if stop_reason in ("interrupted", "max_time"):
        labels = {result.ok().label for result in schema.get_all_operations()}
        missed = sorted(labels - ran)
        v.note(f"The property phase stopped at its share of --time-limit ({budget:.0f} s); "
               f"{len(ran)} operation(s) were reached" + (f", not: {', '.join(missed)}" if missed else "")
               + ".")
        v.add(Result("properties", "time limit", "skipped",
                     detail=f"stopped after {budget:.0f} s with {len(missed)} operation(s) not reached; "
                            "raise --time-limit to test further"))
    elif stop_reason == "server_unavailable":
        v.add(Result("properties", "server", "failed",
                     findings=[Finding("the server stopped answering during the run")]))


def _scenario_result(v: Verifier, phase: str, event: t.Any) -> None:
    recorder = event.recorder
    for interaction in recorder.interactions.values():
        response = interaction.response
        if response is not None:
            v.observer.saw(phase, interaction.request.method, _url_path(interaction.request.uri),
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
        v.add(Result(phase, name, "failed", detail=detail, findings=findings,
                     seconds=event.elapsed_time, requests=requests))
    elif str(event.status.value) == "skip":
        v.add(Result(phase, name, "skipped", detail=event.skip_reason or "skipped", requests=requests))
    elif str(event.status.value) == "error":
        v.add(Result(phase, name, "failed", detail=detail, seconds=event.elapsed_time, requests=requests,
                     findings=[Finding("schemathesis reported an error for this operation "
                                       "(see the progress output)")]))
    else:
        v.add(Result(phase, name, "passed", detail=detail, seconds=event.elapsed_time, requests=requests))


def _url_path(uri: str) -> str:
    parts = urllib.parse.urlsplit(uri)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _interaction_evidence(recorder: t.Any, case_id: str, code_sample: str) -> list[str]:
    interaction = recorder.interactions.get(case_id)
    if interaction is None:
        return [code_sample]
    request = interaction.request
    response = interaction.response
    headers = {name: ", ".join(values) for name, values in request.headers.items()}
    text = exchange_text(request.method, _url_path(request.uri), request.body,
                         response.status_code if response is not None else None,
                         response.content if response is not None else None, shown_headers(headers))
    return [text]


def _failure_text(failure: t.Any) -> str:
    return f"{failure.title}: {failure.message}" if failure.message else str(failure.title)

