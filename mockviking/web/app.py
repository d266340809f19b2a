"""The Flask app, built from the contract: one route per spec path, one handler per operation.

``create_app`` is the only way an app is made (CLI, pytest plugin, tests). It loads the
contract, checks that every operation has a handler (or answers 501), loads the fixtures,
and wires validation, auth and the envelope around the handlers.
"""

from __future__ import annotations

import hmac
import logging
import time
import typing as t
import uuid

from flask import Flask, Response, g, request
from flask.sessions import NullSession, SessionInterface
from werkzeug.exceptions import HTTPException

from mockviking.web import responses
from mockviking.web.auth import EnvironHeaders, authenticate, peek_identity
from mockviking.domain.clock import Clock
from mockviking.harness.config import Config
from mockviking.web.handlers.control import HANDLERS as CONTROL_HANDLERS
from mockviking.domain.errors import ApiError, Shape
from mockviking.harness.faults import Fault
from mockviking.harness.fixtures import load_into
from mockviking.harness.harness import Harness
from mockviking.harness.journal import Journal, clip, environ_headers
from mockviking.web.lean import LeanFlask, read_body
from mockviking.web.handlers.sessions import HANDLERS, Call, Handler, Raw
from mockviking.harness.persistence import StateFile
from mockviking.web.responses import STARTED, record_route_violation
from mockviking.contract.spec import Contract, Operation, SpecError, bundled_contract, load_contract
from mockviking.domain.store import Limits, SessionStore
from mockviking.contract.validation import OperationValidator, decode_body
from mockviking.harness.violations import Violation

EXTENSION = "mockviking"
log = logging.getLogger("mockviking")

#: Every rule takes every method, so the 405 answer (and its ``Allow``) is ours, not werkzeug's.
_ALL_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE")


def create_app(
    config: Config | None = None,
    *,
    store: SessionStore | None = None,
    contract: Contract | None = None,
) -> Flask:
    """Build a mockviking app; a broken contract or fixture raises before anything serves.

    The app carries its :class:`Harness` as ``app.extensions["mockviking"]``.
    """
    config = config or Config()
    contract = contract or load_contract(config.spec_path)
    control_contract = bundled_contract("control.yaml")
    bindings = bind_operations(contract, HANDLERS) + bind_operations(control_contract, CONTROL_HANDLERS)
    state_file = StateFile(config.state_file) if config.state_file else None
    if store is None:
        store = SessionStore(clock=Clock(), seed=config.seed)
        store.limits = Limits(config.max_sessions_per_user, config.max_messages_per_user)
        if state_file is None or not state_file.restore(store):
            load_into(store, config.fixture_paths(), contract)
    if config.root_key is not None:
        store.set_root_key(config.root_key)
        store.mark_baseline()
    if state_file is not None:
        state_file.check_writable()
        state_file.save(store)
    harness = Harness(config, contract, control_contract, store, Journal(config.journal_limit))

    app = LeanFlask("mockviking")
    app.session_interface = _NoSessions()
    app.config["MAX_CONTENT_LENGTH"] = config.max_body_bytes
    # "/sessions/%2FL" arrives as "/sessions//L": a route miss on the real server, so no
    # werkzeug redirect to a merged path.
    app.url_map.merge_slashes = False
    app.extensions[EXTENSION] = harness
    responses.install(app, harness.errors, harness.violations)
    app.after_request(_after_request(harness, state_file))

    by_path: dict[str, dict[str, tuple[Operation, OperationValidator, Handler]]] = {}
    for op, handler in bindings:
        source = control_contract if op.access == "control" else contract
        by_path.setdefault(op.flask_rule, {})[op.method] = (op, OperationValidator(source, op), handler)
    app.extensions["mockviking.allow"] = {rule: ", ".join(methods) for rule, methods in by_path.items()}
    for rule, methods in by_path.items():
        app.add_url_rule(
            rule,
            endpoint=rule,
            view_func=_make_view(harness, methods),
            methods=list(_ALL_METHODS),
            provide_automatic_options=False,
        )
    return app


class _NoSessions(SessionInterface):
    """mockviking keeps no cookie sessions: every request gets one shared null session.

    Flask's default builds a new null session per request (a sixth of what the plain
    Flask floor of the benchmark costs) only to find there is no secret key. The shared
    one refuses every write just as a new one would, so nothing else changes.
    """

    _null = NullSession()

    def open_session(self, app: Flask, request: t.Any) -> NullSession:
        return self._null

    def save_session(self, app: Flask, session: t.Any, response: Response) -> None:
        """Nothing to save."""


def bind_operations(
    contract: Contract, handlers: t.Mapping[str, Handler]
) -> list[tuple[Operation, Handler]]:
    """Pair each operation with its handler; fail loudly on drift either way."""
    extra = sorted(set(handlers) - {op.operation_id for op in contract.operations})
    if extra:
        raise SpecError(
            f"{contract.source}: handlers exist for operations the contract lacks: {', '.join(extra)}"
        )
    return [(op, handlers.get(op.operation_id, _unimplemented(op))) for op in contract.operations]


def _unimplemented(op: Operation) -> Handler:
    def handler(call: Call) -> t.NoReturn:
        raise ApiError(
            "UNIMPLEMENTED",
            f"{op.method} {op.path} ({op.operation_id}) is in the contract but mockviking "
            "does not serve it yet",
        )

    return handler


def telemetry_requested(body: t.Any) -> bool:
    """Whether a (validated) body asks for telemetry: ``true`` or ``{"summary": true}``."""
    option = body.get("telemetry") if isinstance(body, dict) else None
    if isinstance(option, dict):
        return bool(option.get("summary"))
    return option is True


def _make_view(
    harness: Harness,
    methods: t.Mapping[str, tuple[Operation, OperationValidator, Handler]],
) -> t.Callable[..., Response]:
    allow = ", ".join(methods)
    store = harness.store
    max_body = harness.config.max_body_bytes

    def view(**path_params: str) -> Response:
        req = request._get_current_object()  # type: ignore[attr-defined]
        entry = methods.get(req.method)
        if entry is None:
            record_route_violation(harness.violations, "method_not_allowed", allow)
            raise ApiError(
                "UNKNOWN", "Method Not Allowed", shape=Shape.ROUTE, status=405,
                headers={"Allow": allow},
            )
        op, validator, handler = entry
        state = g._get_current_object()
        state.operation_id = op.operation_id
        fault = None
        if op.access == "control":
            _check_control_token(harness.config)
        else:
            fault = _apply_fault(harness)
        environ = req.environ
        headers = EnvironHeaders(environ)
        try:
            state.raw_body = raw_body = read_body(req, max_body)
            body = decode_body(raw_body, environ.get("CONTENT_TYPE"), allow_yaml=op.yaml_body,
                               max_depth=harness.config.max_json_depth)
            identity = None if op.access == "control" else authenticate(store, op.access, headers)
            if identity is not None:
                state.identity = identity
            if op.roles and identity is not None and identity.role not in op.roles:
                raise ApiError("PERMISSION_DENIED", f"Requires role: {', '.join(op.roles)}")
            query = req.args.to_dict(flat=False) if validator.reads_query else {}
            valid = validator.validate(path_params, query, headers, body)
        except ApiError as exc:
            if exc.violations and op.access != "control":
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
        raise ApiError(
            "UNAUTHENTICATED",
            "The control API needs the X-Mockviking-Control-Token header of this server",
        )


def _apply_fault(harness: Harness) -> Fault | None:
    """Delay or fail this request if a fault rule says so.

    Returns a ``drop`` or ``malformed`` fault for the caller to apply to the answer: the
    request is handled first, as when a network cuts a reply the server already sent.
    """
    if not harness.faults.active:
        return None
    caller = peek_identity(harness.store, request.headers)
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
        raise ApiError(fault.error, fault.message or f"Injected fault ({fault.rule_id}): {fault.error}")
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


def _after_request(harness: Harness, state_file: StateFile | None) -> t.Callable[[Response], Response]:
    """Once per request: save the state after a successful write, then journal the exchange.

    The state is saved before the client hears the write succeeded. One hook, not two:
    Flask's per-hook cost is paid on every request.
    """

    def after(response: Response) -> Response:
        if state_file is not None and request.method not in ("GET", "HEAD") and response.status_code < 300:
            state_file.save(harness.store)
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
