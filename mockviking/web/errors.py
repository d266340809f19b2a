"""The one table from errors to HTTP: each code's status, each error's envelope.

Errors are raised as data everywhere below the web layer (``mockviking.domain.errors``);
only here do they get a status and a body. The real server answers in two envelope
shapes, and clients can tell them apart: service-layer errors carry ``result``,
``telemetry`` and ``profile``; router, validation and framework errors do not.
No Flask here, so ``mockviking verify`` can read the table without loading it.
"""

from __future__ import annotations

import typing as t

from mockviking.domain.errors import ERROR_CODES, DomainError, RouteError

#: HTTP status for each error code, as the real server maps them.
STATUS: dict[str, int] = {
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
assert tuple(STATUS) == ERROR_CODES, "every error code of the domain has exactly one status"

#: Framework statuses to error codes, as the real server maps Starlette's HTTP errors.
FRAMEWORK_CODES: dict[int, str] = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "CONFLICT",
    429: "RESOURCE_EXHAUSTED",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


class HttpError(RouteError):
    """A framework-level refusal whose status is not its code's (405, 413) or that sets headers."""

    def __init__(
        self,
        code: str,
        message: str,
        details: dict[str, t.Any] | None = None,
        *,
        status: int,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(code, message, details)
        self.status = status
        self.headers = headers or {}


def status_of(error: DomainError) -> int:
    """The HTTP status an error is answered with."""
    if isinstance(error, HttpError):
        return error.status
    return STATUS.get(error.code, 500)


def headers_of(error: DomainError) -> dict[str, str]:
    """Headers an error adds to its answer (``Allow`` on a 405)."""
    return error.headers if isinstance(error, HttpError) else {}


def framework_code(status: int) -> str:
    """The error code the real server gives a bare HTTP status."""
    return FRAMEWORK_CODES.get(status, "INTERNAL" if status >= 500 else "UNKNOWN")


def envelope(error: DomainError) -> dict[str, t.Any]:
    """The whole answer body of an error, in the envelope its origin uses."""
    body: dict[str, t.Any] = {"code": error.code, "message": error.message}
    if isinstance(error, RouteError):
        if error.details is not None:
            body["details"] = error.details
        return {"status": "error", "error": body}
    body["details"] = error.details if error.details is not None else {}
    return {"status": "error", "result": None, "error": body, "telemetry": None, "profile": None}


#: A bug inside mockviking, answered in the service envelope without leaking what broke.
INTERNAL_ERROR_BODY: dict[str, t.Any] = {
    "status": "error",
    "result": None,
    "error": {"code": "INTERNAL", "message": "Internal server error", "details": None},
    "telemetry": None,
    "profile": None,
}
