"""Errors the emulated server's rules raise, as data: a code, a message and details.

No HTTP here: which status and envelope an error gets is decided in one table of the web
layer (``mockviking.web.errors``). What the domain does say is *where* the real server
raises an error, because clients can tell: its service layer (:class:`DomainError`) or
its routers and request validation (:class:`RouteError`), which use different envelopes.
"""

from __future__ import annotations

import typing as t

#: The real server's error codes; every one has a status in ``mockviking.web.errors``.
ERROR_CODES: tuple[str, ...] = (
    "INVALID_ARGUMENT",
    "INVALID_URI",
    "UNAUTHENTICATED",
    "PERMISSION_DENIED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "CONFLICT",
    "ABORTED",
    "SESSION_EXPIRED",
    "FAILED_PRECONDITION",
    "RESOURCE_EXHAUSTED",
    "INTERNAL",
    "UNKNOWN",
    "UNIMPLEMENTED",
    "UNAVAILABLE",
    "DEADLINE_EXCEEDED",
)


class DomainError(Exception):
    """A request refused by a rule, as the real server's service layer refuses it."""

    def __init__(self, code: str, message: str, details: dict[str, t.Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


class RouteError(DomainError):
    """A refusal the real server makes in its routers or request validation, before its services."""


def session_not_found(session_id: str) -> DomainError:
    """A missing session, as the service layer reports it (delete, commit, context...)."""
    return DomainError(
        "NOT_FOUND",
        f"Session not found: {session_id}",
        {"type": "session", "resource": session_id},
    )


def session_not_found_route(session_id: str) -> RouteError:
    """A missing session, as GET session and PATCH config word it (the seed's text)."""
    return RouteError("NOT_FOUND", f"Session {session_id} not found")


def already_exists(resource: str) -> DomainError:
    """An id that is taken; the real server repeats the resource sentence in details."""
    return DomainError(
        "ALREADY_EXISTS",
        f"Resource already exists: {resource}",
        {"resource": resource, "type": "resource"},
    )


def unsafe_segment(message: str, uri: str) -> DomainError:
    """A session id the real storage layer refuses (``.``, ``..``, backslash, drive prefix)."""
    return DomainError("PERMISSION_DENIED", message, {"resource": uri})
