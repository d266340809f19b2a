"""Phase 1, examples: every ``requestBody`` example of the contract, sent with fresh ids."""

from __future__ import annotations

import copy
import time
import typing as t
import urllib.parse

from mockviking.verify.client import Exchange, Unreachable
from mockviking.verify.results import Finding, Result

if t.TYPE_CHECKING:
    from mockviking.verify.target import Target
    from mockviking.verify.verifier import Verifier


def run(v: Verifier, target: Target) -> None:
    v.progress("[examples] sending every requestBody example of the contract")
    document = v.contract.document
    counter = 0
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "requestBody" not in operation:
                continue
            body_node, _ = v.checker.resolve(operation["requestBody"], "")
            media = body_node.get("content", {}).get("application/json", {})
            examples = dict(media.get("examples") or {})
            if "example" in media:
                examples["example"] = {"value": media["example"]}
            for name, example in examples.items():
                example, _ = v.checker.resolve(example, "")
                if not isinstance(example, dict) or "value" not in example:
                    continue
                counter += 1
                _send_example(v, target, path, method, operation, name, example["value"], counter)


def _send_example(
    v: Verifier, target: Target, path: str, method: str, operation: dict[str, t.Any], name: str, value: t.Any,
    counter: int,
) -> None:
    op_id = operation.get("operationId", f"{method.upper()} {path}")
    label = f"{op_id}: {name}"
    started = time.monotonic()
    sent = v.http.sent
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
                evidence.append(v.http.request(
                    "POST", f"/api/v1/sessions/{session_id}/messages", headers=headers, source="examples",
                    body={"role": role, "content": content}))
        exchange = v.http.request(method.upper(), concrete, headers=headers, body=body, source="examples")
    except Unreachable as exc:
        v.add(Result("examples", label, "failed",
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
    problems += v.checker.problems(path, method, exchange)
    shown = [e.describe() for e in evidence]
    result = Result("examples", label, "failed" if problems else "passed", detail=f"{exchange.status}",
                    findings=[Finding(problem, shown if i == 0 else []) for i, problem in enumerate(problems)],
                    seconds=time.monotonic() - started, requests=v.http.sent - sent)
    v.add(result)
