"""One operation's request checked against the contract: parameters, then the body.

Valid requests pass a compiled yes/no check (``precheck``) and skip jsonschema, which then
only explains failures (``translation``). No Flask here: the caller hands in plain values.
"""

from __future__ import annotations

import dataclasses
import typing as t

import jsonschema

from mockviking.contract.coercion import LaxCoercer, coerce_parameter
from mockviking.contract.decoding import MISSING
from mockviking.contract.precheck import Check as Precheck
from mockviking.contract.precheck import lazy_precheck
from mockviking.contract.spec import Contract, Operation, Parameter
from mockviking.contract.translation import FieldError, RequestInvalid, ServiceFailure, service_error, translate


class HeaderSource(t.Protocol):
    """Request headers, looked up case-insensitively (a dict or werkzeug's ``Headers``)."""

    def get(self, key: str, default: str) -> str:
        """The header's value, or ``default``."""
        ...


@dataclasses.dataclass(slots=True)
class ValidRequest:
    """The typed parameters and the body of a request that honours the contract."""

    params: dict[str, t.Any]
    body: t.Any


class OperationValidator:
    """Validates requests for one operation; built once at start-up."""

    def __init__(self, contract: Contract, operation: Operation) -> None:
        self.operation = operation
        # A plain string parameter (most path and header ones) needs no schema check: what
        # arrives in a URL or a header is a string already.
        self._params: list[tuple[Parameter, jsonschema.protocols.Validator | None, Precheck | None]] = []
        for param in operation.parameters:
            validator = None if _plain_string(param.schema) else contract.validator(param.pointer)
            self._params.append(
                (param, validator, lazy_precheck(validator.schema) if validator is not None else None)
            )
        self._body = (
            contract.validator(operation.body_pointer) if operation.body_pointer else None
        )
        #: Whether any parameter is in the query: if none is, the query string is not parsed.
        self.reads_query = any(p.location == "query" for p in operation.parameters)
        # Valid bodies pass this and skip jsonschema, which then only explains failures.
        self._body_precheck = lazy_precheck(self._body.schema) if self._body is not None else None
        self._coercer = (
            LaxCoercer.for_schema(contract, contract.schema_at(operation.body_pointer))
            if operation.body_pointer
            else None
        )

    def validate(
        self,
        path_params: t.Mapping[str, str],
        query: t.Mapping[str, t.Sequence[str]],
        headers: HeaderSource,
        body: t.Any = MISSING,
    ) -> ValidRequest:
        """Check everything; raise :class:`RequestInvalid` listing what is wrong.

        ``body`` is what :func:`decode_body` made of the request body.
        """
        errors: list[FieldError] = []
        params: dict[str, t.Any] = {}
        for param, validator, precheck in self._params:
            location = param.location
            if location == "path":
                raw = path_params.get(param.name)
            elif location == "query":
                values = query.get(param.name)
                raw = values[-1] if values else None  # like Starlette, the last of repeated values wins
            else:
                raw = headers.get(param.name, "") or None
            if raw is None:
                if param.required:
                    errors.append(FieldError((param.location, param.name), "Field required", "missing"))
                elif "default" in param.schema:
                    params[param.name] = param.schema["default"]
                continue
            if validator is None:  # a plain string: nothing to convert or check
                params[param.name] = raw
                continue
            value, error = coerce_parameter(raw, param.schema, (param.location, param.name))
            if error is not None:
                errors.append(dataclasses.replace(error, value=raw))
                continue
            if precheck is None or not precheck(value):
                errors.extend(translate(validator.iter_errors(value), (param.location, param.name)))
            params[param.name] = value

        payload: t.Any = None
        if self._body is not None:
            if body is MISSING:
                if self.operation.body_required:
                    errors.append(FieldError(("body",), "Field required", "missing"))
                else:
                    payload = {}
            else:
                if self._coercer is not None:
                    body = self._coercer.coerce(body)
                if self._body_precheck is None or not self._body_precheck(body):
                    errors.extend(translate(self._body.iter_errors(body), ("body",)))
                payload = body
        plain = [e for e in errors if not isinstance(e, ServiceFailure)]
        if plain:
            raise RequestInvalid(plain)
        if errors:
            failures = [e for e in errors if isinstance(e, ServiceFailure)]
            raise service_error(failures)
        return ValidRequest(params, payload)


def _plain_string(schema: t.Mapping[str, t.Any]) -> bool:
    return schema.get("type") == "string" and set(schema) <= {"type", "description", "examples", "example"}
