"""The two WSGI apps the benchmark serves: the floor and mockviking.

``floor`` is the least a Flask app can do on the benchmarked routes: it answers each one with
a constant JSON body shaped like mockviking's answer (same size), so the difference between
the two is what mockviking itself costs (validation, auth, state, envelope, journal).

Every WSGI server is pointed at ``apps:floor`` or ``apps:mockviking`` (with this folder on
``sys.path``); each attribute builds its app when first asked for, so serving one never
builds the other.
"""

from __future__ import annotations

import json
import typing as t
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: Dev-mode fixtures (no keys): load tests need no credentials.
DEV_FIXTURES = HERE.parent / "fixtures" / "dev.yaml"

#: Constant bodies of the size mockviking answers with (envelope included).
_SESSION = {
    "session_id": "bench-get", "created_at": "2026-01-01T00:00:00.000Z", "updated_at": "2026-01-01T00:00:00.000Z",
    "created_by_account_id": "default", "created_by_user_id": "default", "message_count": 50,
    "commit_count": 0,
    "memories_extracted": {k: 0 for k in (
        "profile", "preferences", "entities", "events", "cases", "patterns", "tools", "skills", "total")},
    "last_commit_at": "",
    "llm_token_usage": {k: 0 for k in (
        "prompt_tokens", "completion_tokens", "total_tokens", "cached_tokens", "reasoning_tokens")},
    "embedding_token_usage": {"total_tokens": 0}, "pending_tokens": 2500, "keep_recent_count": 0,
    "retention_mode": "", "keep_recent_turn_count": 0, "retained_message_token_budget": 0,
    "min_raw_tail_steps": 1, "memory_policy": None, "auto_commit_policy": None,
    "last_message_at": "2026-01-01T00:00:00.000Z", "last_auto_commit_at": "", "last_idle_commit_accepted_at": "",
    "total_message_count": 50, "uri": "viking://user/default/sessions/bench-get",
    "user": {"account_id": "default", "user_id": "default", "agent_id": "default"},
    "memory_extraction_config": {"events": {"tags": []}},
}


def _envelope(result: t.Any) -> bytes:
    return json.dumps({"status": "ok", "result": result, "error": None, "telemetry": None, "profile": None},
                      separators=(",", ":")).encode()


GET_BODY = _envelope(_SESSION)
APPEND_BODY = _envelope({"session_id": "bench-append-000", "message_count": 42, "pending_tokens": 2100})
BATCH_BODY = _envelope({"session_id": "bench-append-000", "message_count": 52, "added": 10, "pending_tokens": 2600})
HEALTH_BODY = json.dumps({"status": "ok", "healthy": True, "version": "0.5.0", "auth_mode": "dev"}).encode()


def make_floor() -> t.Any:
    """A minimal Flask app on the benchmarked routes, answering constant JSON."""
    from flask import Flask, Response, request

    app = Flask("floor")

    def constant(body: bytes) -> Response:
        return Response(body, status=200, mimetype="application/json")

    @app.get("/health")
    def health() -> Response:
        return constant(HEALTH_BODY)

    @app.get("/api/v1/sessions/<session_id>")
    def get_session(session_id: str) -> Response:
        return constant(GET_BODY)

    @app.post("/api/v1/sessions/<session_id>/messages")
    def add_message(session_id: str) -> Response:
        request.get_data()  # read the body, as any real handler must
        return constant(APPEND_BODY)

    @app.post("/api/v1/sessions/<session_id>/messages/batch")
    def batch_add(session_id: str) -> Response:
        request.get_data()
        return constant(BATCH_BODY)

    return app


def make_mockviking() -> t.Any:
    """mockviking on the dev-mode fixtures, exactly as ``mockviking serve --fixtures fixtures/dev.yaml``."""
    from mockviking import create_app
    from mockviking.harness.config import Config

    return create_app(Config(fixtures=(str(DEV_FIXTURES),)))


_FACTORIES = {"floor": make_floor, "mockviking": make_mockviking}
_built: dict[str, t.Any] = {}


def __getattr__(name: str) -> t.Any:
    # ``apps:floor`` / ``apps:mockviking``: the WSGI servers look the app up with getattr.
    if name in _FACTORIES:
        if name not in _built:
            from mockviking.serving.tuning import tune_interpreter

            _built[name] = _FACTORIES[name]()
            # Both apps get the interpreter settings of ``mockviking serve``: part of the server's.
            tune_interpreter()
        return _built[name]
    raise AttributeError(name)
