"""The Flask app, built from the contract: one route per spec path, one handler per operation.

``create_app`` is the only way an app is made (CLI, pytest plugin, tests). It loads the
contract, checks that every operation has a handler (or answers 501), loads the fixtures,
and wires validation, auth and the envelope around the handlers.
"""

from __future__ import annotations

import dataclasses
import typing as t

from flask import Flask, Response, request
from werkzeug.exceptions import MethodNotAllowed

from . import http
from .auth import authenticate
from .config import Config
from .errors import ApiError, Shape
from .fixtures import load_into
from .operations import HANDLERS, Call, Handler, Raw
from .spec import Contract, Operation, SpecError, load_contract
from .store import SessionStore
from .validation import OperationValidator, decode_body

EXTENSION = "mockviking"


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
    http.install(app)

    by_path: dict[str, dict[str, tuple[Operation, OperationValidator, Handler]]] = {}
    for op, handler in bindings:
        by_path.setdefault(op.flask_rule, {})[op.method] = (op, OperationValidator(contract, op), handler)
    for rule, methods in by_path.items():
        app.add_url_rule(
            rule,
            endpoint=rule,
            view_func=_make_view(store, methods),
            methods=list(methods),
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


def _make_view(
    store: SessionStore,
    methods: t.Mapping[str, tuple[Operation, OperationValidator, Handler]],
) -> t.Callable[..., Response]:
    def view(**path_params: str) -> Response:
        entry = methods.get(request.method)
        if entry is None:  # werkzeug adds HEAD to GET rules; the real server does not.
            raise MethodNotAllowed(valid_methods=sorted(methods))
        op, validator, handler = entry
        body = decode_body(request.get_data(cache=False), request.headers.get("Content-Type"))
        identity = authenticate(store, op.access, request.headers)
        valid = validator.validate(path_params, request.args.to_dict(flat=False), request.headers, body)
        result = handler(Call(store, identity, valid.params, valid.body))
        if isinstance(result, Raw):
            return http.json_response(result.body, result.status)
        if op.compact_envelope:
            return http.json_response({"status": "ok", "result": result})
        return http.json_response(
            {"status": "ok", "result": result, "error": None, "telemetry": None, "profile": None}
        )

    return view


__all__ = ["EXTENSION", "MockViking", "Shape", "bind_operations", "create_app"]
