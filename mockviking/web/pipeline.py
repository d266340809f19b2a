"""One request's way through mockviking: the view every route shares, and the hook after it.

In order: the fault rules (or the control token), the body read within its limit and
decoded, the caller authenticated, the request validated against the contract (a refusal
is recorded as a violation), the handler run, the answer wrapped in the envelope; then,
after the answer is built, the state saved (writes only) and the exchange journaled.
"""

from __future__ import annotations

import hmac
import logging
import time
import typing as t
import uuid

from flask import Response, g, request
from werkzeug.exceptions import HTTPException

from mockviking.contract.decoding import decode_body, may_hold_surrogate
from mockviking.contract.refusals import Refusal
from mockviking.contract.spec import Operation
from mockviking.contract.validation import OperationValidator
from mockviking.domain.errors import DomainError
from mockviking.domain.rules import check_storable
from mockviking.harness.config import Config
from mockviking.harness.faults import Fault
from mockviking.harness.harness import Harness
from mockviking.harness.journal import clip, environ_headers
from mockviking.harness.violations import Violation
from mockviking.web import responses
from mockviking.web.auth import Authenticator, EnvironHeaders
from mockviking.web.errors import HttpError
from mockviking.web.handlers import Call, Handler, Raw
from mockviking.web.lean import read_body
from mockviking.web.responses import STARTED, record_route_violation

log = logging.getLogger("mockviking")


def telemetry_requested(body: t.Any) -> bool:
    """Whether a (validated) body asks for telemetry: ``true`` or ``{"summary": true}``."""
    option = body.get("telemetry") if isinstance(body, dict) else None
    if isinstance(option, dict):
        return bool(option.get("summary"))
    return option is True


def make_view(
    harness: Harness,
    methods: t.Mapping[str, tuple[Operation, OperationValidator, Handler]],
) -> t.Callable[..., Response]:
    """The view of one path: validate, authenticate, fault, dispatch, wrap in the envelope."""
    allow = ", ".join(methods)
    auth = Authenticator(harness.store)
    max_body = harness.config.max_body_bytes

    def view(**path_params: str) -> Response:
        req = request._get_current_object()  # type: ignore[attr-defined]
        entry = methods.get(req.method)
        if entry is None:
            record_route_violation(harness.violations, "method_not_allowed", allow)
            raise HttpError("UNKNOWN", "Method Not Allowed", status=405, headers={"Allow": allow})
        op, validator, handler = entry
        state = g._get_current_object()
        state.operation_id = op.operation_id
        fault = None
        if op.access == "control":
            _check_control_token(harness.config)
        else:
            fault = _apply_fault(harness, auth)
        environ = req.environ
        headers = EnvironHeaders(environ)
        try:
            state.raw_body = raw_body = read_body(req, max_body)
            body = decode_body(raw_body, environ.get("CONTENT_TYPE"), allow_yaml=op.yaml_body,
                               max_depth=harness.config.max_json_depth)
            identity = None if op.access == "control" else auth.authenticate(op.access, headers)
            if identity is not None:
                state.identity = identity
            if op.roles and identity is not None and identity.role not in op.roles:
                raise DomainError("PERMISSION_DENIED", f"Requires role: {', '.join(op.roles)}")
            query = req.args.to_dict(flat=False) if validator.reads_query else {}
            valid = validator.validate(path_params, query, headers, body)
            if may_hold_surrogate(raw_body):
                check_storable(valid.body)  # after validation, as the real server checks it when storing
        except Refusal as exc:
            if op.access != "control":
                _record_violations(harness, op, exc.violations)
            raise
        wants_telemetry = op.telemetry_operation is not None and telemetry_requested(valid.body)
        started = time.perf_counter()
        result = handler(Call(harness, identity, valid.params, valid.body))
        if isinstance(result, Raw):
            return _lost_answer(fault) if fault else responses.json_response(result.body, result.status)
        envelope: dict[str, t.Any] = {"status": "ok", "result": result}
        telemetry = None
        if wants_telemetry:
            telemetry = {
                "id": f"tm_{uuid.uuid4().hex}",
                "summary": {
                    "operation": op.telemetry_operation,
                    "status": "ok",
                    "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                },
            }
        if op.compact_envelope:
            if telemetry is not None:
                envelope["telemetry"] = telemetry
        else:
            envelope.update(error=None, telemetry=telemetry, profile=None)
        if fault is not None:
            return _lost_answer(fault)
        return responses.json_response(envelope)

    return view


def _record_violations(harness: Harness, op: Operation, failures: t.Iterable[t.Any]) -> None:
    found = [
        Violation(request.method, request.path, op.operation_id, ".".join(f.loc), f.type, f.message, f.value)
        for f in failures
    ]
    for violation in found:
        harness.violations.add(violation)
    g.violations = [v.to_dict() for v in found]


def _check_control_token(config: Config) -> None:
    token = config.control_token
    if token is not None and not hmac.compare_digest(
        request.headers.get("X-Mockviking-Control-Token", ""), token
    ):
        raise DomainError(
            "UNAUTHENTICATED",
            "The control API needs the X-Mockviking-Control-Token header of this server",
        )


def _apply_fault(harness: Harness, auth: Authenticator) -> Fault | None:
    """Delay or fail this request if a fault rule says so.

    Returns a ``drop`` or ``malformed`` fault for the caller to apply to the answer: the
    request is handled first, as when a network cuts a reply the server already sent.
    """
    if not harness.faults.active:
        return None
    caller = auth.peek(request.headers)
    fault = harness.faults.decide(
        request.method, request.path,
        caller.account_id if caller else None, caller.user_id if caller else None,
    )
    if fault is None:
        return None
    g.fault = f"{fault.rule_id}:{fault.action}"
    if caller is not None:
        g.identity = caller
    if fault.delay_seconds:
        time.sleep(fault.delay_seconds)
    if fault.action == "error":
        assert fault.error is not None
        raise DomainError(fault.error, fault.message or f"Injected fault ({fault.rule_id}): {fault.error}")
    return fault if fault.action in ("drop", "malformed") else None


def _lost_answer(fault: Fault) -> Response:
    """The answer a ``malformed`` or ``drop`` fault leaves of a handled request."""
    if fault.action == "malformed":
        return Response('{"status":"ok","result":{"session_id"', status=200, mimetype="application/json")
    # Promise more than is sent: the server closes the connection mid-body.
    response = Response('{"status":"ok","res', status=200, mimetype="application/json")
    response.headers["Content-Length"] = "4096"
    response.direct_passthrough = True
    return response


def after_request(harness: Harness) -> t.Callable[[Response], Response]:
    """Once per request: save the state after a successful write, then journal the exchange.

    The state is saved before the client hears the write succeeded. One hook, not two:
    Flask's per-hook cost is paid on every request.
    """
    saving = harness.state_file is not None

    def after(response: Response) -> Response:
        if saving and request.method not in ("GET", "HEAD") and response.status_code < 300:
            harness.persist()
        try:
            _record(harness, response)
        except Exception:  # the journal must never turn an answer into an error
            log.exception("could not record %s %s in the journal", request.method, request.path)
        return response

    return after


def _record(harness: Harness, response: Response) -> None:
    req = request._get_current_object()  # type: ignore[attr-defined]
    seen = vars(g._get_current_object())
    sent = seen.get("raw_body")
    if sent is None:  # the request never reached a view (an unknown route, say)
        try:
            sent = req.get_data()
        except HTTPException:  # a body over the size limit is never read
            sent = b""
    identity = seen.get("identity")
    environ = req.environ
    started = environ.get(STARTED)
    header_keys, header_values = environ_headers(environ)
    # In RecordedRequest's field order, after seq.
    harness.journal.record(
        harness.store.clock(),
        req.method,
        req.path,
        environ.get("QUERY_STRING", ""),
        header_keys,
        header_values,
        clip(sent),
        environ.get("CONTENT_TYPE"),
        response.status_code,
        None if response.direct_passthrough else clip(_response_bytes(response)),
        response.headers.get("Content-Type"),
        seen.get("operation_id"),
        identity.account_id if identity else None,
        identity.user_id if identity else None,
        round((time.perf_counter() - started) * 1000, 3) if started else 0.0,
        seen.get("fault"),
        tuple(seen.get("violations", ())),
    )


def _response_bytes(response: Response) -> bytes:
    # A body set from bytes or text is kept as a one-item list: no need to re-join it.
    chunks = response.response
    if type(chunks) is list and len(chunks) == 1 and type(chunks[0]) is bytes:
        return chunks[0]
    return response.get_data()
