"""Requests the contract refuses: the error to answer, and the contract rules they broke.

A refusal is a domain error (code, message, details; no HTTP status) that also lists its
:attr:`violations`, so the harness can report what the client got wrong.
"""

from __future__ import annotations

import typing as t

from mockviking.domain.errors import DomainError, RouteError


class RouteRefusal(RouteError):
    """Refused where the real server validates requests (its routers): the route envelope."""

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


class ServiceRefusal(DomainError):
    """A rule the contract declares but the real server checks in its services (``x-service-error``)."""

    def __init__(
        self,
        code: str,
        message: str,
        details: dict[str, t.Any] | None = None,
        *,
        violations: t.Sequence[t.Any] = (),
    ) -> None:
        super().__init__(code, message, details)
        self.violations: tuple[t.Any, ...] = tuple(violations)


#: Everything the contract layer raises for a bad request.
Refusal: t.TypeAlias = RouteRefusal | ServiceRefusal
REFUSALS: tuple[type[DomainError], ...] = (RouteRefusal, ServiceRefusal)
