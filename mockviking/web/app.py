"""The Flask app, built from the contract: one route per spec path, one handler per operation.

``create_app`` is the only way an app is made (CLI, pytest plugin, tests). It builds the
harness (contract, store, fixtures or state file), checks that every handler has an
operation in the contract (an operation without one answers 501), and routes each spec
path to the view of ``web.pipeline``.
"""

from __future__ import annotations

import re
import typing as t

from flask import Flask, Response
from flask.sessions import NullSession, SessionInterface

from mockviking.contract.spec import Contract, Operation, SpecError
from mockviking.contract.validation import OperationValidator
from mockviking.domain.errors import DomainError
from mockviking.domain.store import SessionStore
from mockviking.harness.config import Config
from mockviking.harness.harness import Harness
from mockviking.web import responses
from mockviking.web.handlers import CONTROL_HANDLERS, HANDLERS, Call, Handler
from mockviking.web.lean import LeanFlask
from mockviking.web.pipeline import after_request, make_view

EXTENSION = "mockviking"

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
    harness = Harness.build(config or Config(), store=store, contract=contract)
    contract, control_contract = harness.contract, harness.control_contract
    bindings = bind_operations(contract, HANDLERS) + bind_operations(control_contract, CONTROL_HANDLERS)

    app = LeanFlask("mockviking")
    app.session_interface = _NoSessions()
    app.config["MAX_CONTENT_LENGTH"] = harness.config.max_body_bytes
    # "/sessions/%2FL" arrives as "/sessions//L": a route miss on the real server, so no
    # werkzeug redirect to a merged path.
    app.url_map.merge_slashes = False
    app.extensions[EXTENSION] = harness
    responses.install(app, harness.errors, harness.violations)
    app.after_request(after_request(harness))

    by_path: dict[str, dict[str, tuple[Operation, OperationValidator, Handler]]] = {}
    for op, handler in bindings:
        source = control_contract if op.access == "control" else contract
        by_path.setdefault(flask_rule(op.path), {})[op.method] = (op, OperationValidator(source, op), handler)
    app.extensions["mockviking.allow"] = {rule: ", ".join(methods) for rule, methods in by_path.items()}
    for rule, methods in by_path.items():
        app.add_url_rule(
            rule,
            endpoint=rule,
            view_func=make_view(harness, methods),
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
        raise DomainError(
            "UNIMPLEMENTED",
            f"{op.method} {op.path} ({op.operation_id}) is in the contract but mockviking "
            "does not serve it yet",
        )

    return handler


def flask_rule(path: str) -> str:
    """A contract path with ``{name}`` turned into Flask's ``<name>``."""
    return re.sub(r"\{([^}/]+)\}", r"<\1>", path)
