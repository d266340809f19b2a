"""How handlers meet requests: one function per contract operation, registered by operationId.

A handler never sees Flask: its input arrives as a :class:`Call` (the validated parameters
and body, and the caller), its output is the envelope's ``result`` (or :class:`Raw`).
``web.app`` checks at start-up that every handler has an operation in the contract, and
answers 501 for an operation without a handler, so code and contract cannot drift.
"""

from __future__ import annotations

import dataclasses
import typing as t

from mockviking.domain.rules import check_session_id
from mockviking.domain.store import SessionStore
from mockviking.harness.harness import Harness
from mockviking.web.auth import Identity

#: The version of the real server whose behaviour mockviking reproduces.
EMULATED_VERSION = "0.5.2"


@dataclasses.dataclass(slots=True)
class Call:
    """Everything an operation may use about one request (not frozen: one is built per request,
    and a frozen dataclass costs three times as much to build)."""

    harness: Harness
    identity: Identity | None
    params: t.Mapping[str, t.Any]
    body: t.Any

    @property
    def store(self) -> SessionStore:
        """The OpenViking state."""
        return self.harness.store

    @property
    def caller(self) -> Identity:
        """The authenticated caller (tenant and admin routes always have one)."""
        assert self.identity is not None, "tenant and admin routes always resolve an identity"
        return self.identity

    def session_id(self) -> str:
        """The path's session id, once checked as the real storage layer checks it."""
        session_id: str = self.params["session_id"]
        check_session_id(session_id, self.caller.user_id, self.harness.config.max_id_length)
        return session_id

    def dict_body(self) -> dict[str, t.Any]:
        """The body when it is an object (optional bodies may be absent)."""
        return self.body if isinstance(self.body, dict) else {}


@dataclasses.dataclass(frozen=True)
class Raw:
    """A body answered as is, without the envelope (``/health`` has none)."""

    body: t.Any
    status: int = 200


Handler = t.Callable[[Call], t.Any]
#: Handlers of the OpenViking contract (``spec/openapi.yaml``).
HANDLERS: dict[str, Handler] = {}
#: Handlers of the control contract (``spec/control.yaml``).
CONTROL_HANDLERS: dict[str, Handler] = {}


def registry(handlers: dict[str, Handler]) -> t.Callable[[Handler], Handler]:
    """A decorator that registers a function for the contract operation of the same name."""

    def register(func: Handler) -> Handler:
        if func.__name__ in handlers:
            raise RuntimeError(f"two handlers for operation {func.__name__}")
        handlers[func.__name__] = func
        return func

    return register


#: Registers an OpenViking operation's handler.
operation = registry(HANDLERS)
#: Registers a control operation's handler.
control = registry(CONTROL_HANDLERS)
