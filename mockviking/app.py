"""The Flask app, built from the contract: one route per spec path, one handler per operation.

``create_app`` is the only way an app is made (CLI, pytest plugin, tests). It loads the
contract, checks that every operation has a handler (or answers 501), loads the fixtures,
and wires validation, auth and the envelope around the handlers.
"""

from __future__ import annotations

import dataclasses
import time
import typing as t
import uuid

from flask import Flask, Response, request

from . import responses
from .auth import authenticate
from .config import Config
from .errors import ApiError, Shape
from .fixtures import load_into
from .operations import HANDLERS, Call, Handler, Raw
from .spec import Contract, Operation, SpecError, load_contract
from .store import SessionStore
from .validation import OperationValidator, decode_body

EXTENSION = "mockviking"

#: Every rule takes every method, so the 405 answer (and its ``Allow``) is ours, not werkzeug's.
_ALL_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


@dataclasses.dataclass(frozen=True)
class MockViking:
    """What an app carries: reach it with ``app.extensions["mockviking"]``."""

    config: Config
    contract: Contract
    store: SessionStore


def create_app(
    config: Config | None = None,
    *,
    store: SessionStore | None = None,
    contract: Contract | None = None,
) -> Flask:
    """Build a mockviking app; a broken contract or fixture raises before anything serves."""
    config = config or Config()
    contract = contract or load_contract(config.spec_path)
    bindings = bind_operations(contract, HANDLERS)
    if store is None:
        store = SessionStore(seed=config.seed)
        load_into(store, config.fixture_paths(), contract)
    if config.root_key is not None:
        store.set_root_key(config.root_key)
        store.mark_baseline()

    app = Flask("mockviking")
    app.config["MAX_CONTENT_LENGTH"] = config.max_body_bytes
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions[EXTENSION] = MockViking(config, contract, store)
    responses.install(app)

    by_path: dict[str, dict[str, tuple[Operation, OperationValidator, Handler]]] = {}
    for op, handler in bindings:
        by_path.setdefault(op.flask_rule, {})[op.method] = (op, OperationValidator(contract, op), handler)
    for rule, methods in by_path.items():
        app.add_url_rule(
            rule,
            endpoint=rule,
            view_func=_make_view(store, methods),
            methods=list(_ALL_METHODS),
            provide_automatic_options=False,
        )
    return app


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
    """Whether a body asks for telemetry; unknown options are refused as the real server does."""
    option = body.get("telemetry") if isinstance(body, dict) else None
    if isinstance(option, dict):
        unknown = sorted(key for key in option if key != "summary")
        if unknown:
            raise ApiError("INVALID_ARGUMENT", f"Unsupported telemetry options: {', '.join(unknown)}")
        return bool(option.get("summary"))
    return option is True


def _make_view(
    store: SessionStore,
    methods: t.Mapping[str, tuple[Operation, OperationValidator, Handler]],
) -> t.Callable[..., Response]:
    # The real server names only the first route that matches the path in ``Allow``: the
    # first method the contract declares for it.
    allow = next(iter(methods))

    def view(**path_params: str) -> Response:
        entry = methods.get(request.method)
        if entry is None:
            raise ApiError(
                "UNKNOWN", "Method Not Allowed", shape=Shape.ROUTE, status=405,
                headers={"Allow": allow},
            )
        op, validator, handler = entry
        body = decode_body(request.get_data(cache=False), request.headers.get("Content-Type"))
        identity = authenticate(store, op.access, request.headers)
        if op.roles and identity is not None and identity.role not in op.roles:
            raise ApiError("PERMISSION_DENIED", f"Requires role: {', '.join(op.roles)}")
        valid = validator.validate(path_params, request.args.to_dict(flat=False), request.headers, body)
        wants_telemetry = op.telemetry_operation is not None and telemetry_requested(valid.body)
        started = time.perf_counter()
        result = handler(Call(store, identity, valid.params, valid.body))
        if isinstance(result, Raw):
            return responses.json_response(result.body, result.status)
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
        return responses.json_response(envelope)

    return view


__all__ = ["EXTENSION", "MockViking", "bind_operations", "create_app"]
