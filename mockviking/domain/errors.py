"""Errors a request can cause, as data: code, message, details and envelope shape.

The real server answers errors in two envelope shapes, and clients can tell them apart, so
every error says which one it uses. This module knows nothing of Flask: ``http.py`` is the
only place errors become responses.
"""

from __future__ import annotations

import enum
import typing as t

#: HTTP status for each error code, as the real server maps them.
CODE_TO_STATUS: dict[str, int] = {
    "INVALID_ARGUMENT": 400,
    "INVALID_URI": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409,
    "CONFLICT": 409,
    "ABORTED": 409,
    "SESSION_EXPIRED": 410,
    "FAILED_PRECONDITION": 412,
    "RESOURCE_EXHAUSTED": 429,
    "INTERNAL": 500,
    "UNKNOWN": 500,
    "UNIMPLEMENTED": 501,
    "UNAVAILABLE": 503,
    "DEADLINE_EXCEEDED": 504,
}


class Shape(enum.Enum):
    """Which error envelope the real server uses for an error."""

    #: ``{"status","result":null,"error":{code,message,details},"telemetry":null,"profile":null}``
    SERVICE = "service"
    #: ``{"status","error":{code,message[,details]}}``: route, validation and framework errors.
    ROUTE = "route"


class ApiError(Exception):
    """An error answered to the client; its ``code`` decides the HTTP status."""

    def __init__(
        self,
        code: str,
        message: str,
        details: dict[str, t.Any] | None = None,
        *,
        shape: Shape = Shape.SERVICE,
        status: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details
        self.shape = shape
        self.status = status if status is not None else CODE_TO_STATUS.get(code, 500)
        self.headers = headers or {}
        #: The contract rules the request broke, when that is why it is refused (field errors).
        self.violations: tuple[t.Any, ...] = ()

    def error_body(self) -> dict[str, t.Any]:
        """The ``error`` object of the envelope."""
        error: dict[str, t.Any] = {"code": self.code, "message": self.message}
        if self.shape is Shape.SERVICE:
            error["details"] = self.details if self.details is not None else {}
        elif self.details is not None:
            error["details"] = self.details
        return error

    def envelope(self) -> dict[str, t.Any]:
        """The whole response body."""
        if self.shape is Shape.SERVICE:
            return {
                "status": "error",
                "result": None,
                "error": self.error_body(),
                "telemetry": None,
                "profile": None,
            }
        return {"status": "error", "error": self.error_body()}


def session_not_found(session_id: str) -> ApiError:
    """A missing session, as the service layer reports it (delete, commit, context...)."""
    return ApiError(
        "NOT_FOUND",
        f"Session not found: {session_id}",
        {"type": "session", "resource": session_id},
    )


def session_not_found_route(session_id: str) -> ApiError:
    """A missing session, as GET session and PATCH config word it (the seed's text)."""
    return ApiError("NOT_FOUND", f"Session {session_id} not found", shape=Shape.ROUTE)


def already_exists(resource: str) -> ApiError:
    """An id that is taken; the real server repeats the resource sentence in details."""
    return ApiError(
        "ALREADY_EXISTS",
        f"Resource already exists: {resource}",
        {"resource": resource, "type": "resource"},
    )


def unsafe_segment(message: str, uri: str) -> ApiError:
    """A session id the real storage layer refuses (``.``, ``..``, backslash, drive prefix)."""
    return ApiError("PERMISSION_DENIED", message, {"resource": uri})
