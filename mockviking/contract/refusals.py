"""Requests the contract refuses: the error to answer, and the contract rules they broke.

A refusal is a domain error (code, message, details; no HTTP status) that also lists its
:attr:`~Refusal.violations`, so the harness can report what the client got wrong.
"""

from __future__ import annotations

import typing as t

from mockviking.domain.errors import DomainError, RouteError


class Refusal(DomainError):
    """A contract rule the real server checks in its services (``x-service-error``): the service envelope."""

    def __init__(
        self,
        code: str,
        message: str,
        details: dict[str, t.Any] | None = None,
        *,
        violations: t.Sequence[t.Any] = (),
    ) -> None:
        super().__init__(code, message, details)
        #: The contract rules the request broke (field errors with location, rule and value).
        self.violations: tuple[t.Any, ...] = tuple(violations)


class RouteRefusal(Refusal, RouteError):
    """Refused where the real server validates requests (its routers): the route envelope."""
