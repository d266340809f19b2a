"""The contract's side of a run: loading it, and judging an answer by its response schemas."""

from __future__ import annotations

import typing as t
from pathlib import Path

import jsonschema
import jsonschema.exceptions

from mockviking.contract.spec import Contract, SpecError, load_contract
from mockviking.verify.client import Exchange, clip
from mockviking.verify.results import VerifyUsageError


def load(spec_path: Path) -> Contract:
    """The contract to check against; one that cannot be read is a usage error (exit code 2)."""
    try:
        return load_contract(spec_path)
    except SpecError as exc:
        raise VerifyUsageError(str(exc)) from exc


class ResponseChecker:
    """Checks an answer against what the contract documents for its operation and status."""

    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        self._validators: dict[str, t.Any] = {}

    def resolve(self, node: t.Any, pointer: str) -> tuple[t.Any, str]:
        seen = 0
        while isinstance(node, dict) and isinstance(node.get("$ref"), str) and seen < 20:
            ref = node["$ref"]
            if not ref.startswith("#"):
                break
            pointer = ref[1:]
            node = self.contract.schema_at(pointer)
            seen += 1
        return node, pointer

    def problems(self, path: str, method: str, exchange: Exchange) -> list[str]:
        """What is wrong with this answer, per the contract (empty when nothing is)."""
        escaped = path.replace("~", "~0").replace("/", "~1")
        base = f"/paths/{escaped}/{method.lower()}/responses"
        responses = self.contract.schema_at(base)
        status = str(exchange.status)
        key = next((k for k in (status, f"{status[0]}XX", "default") if k in responses), None)
        label = f"{method.upper()} {path}"
        if key is None:
            documented = ", ".join(sorted(responses))
            return [f"{label} answered {status}, which the contract does not document (documented: {documented})"]
        node, pointer = self.resolve(responses[key], f"{base}/{key.replace('/', '~1')}")
        content = node.get("content") if isinstance(node, dict) else None
        if not isinstance(content, dict) or "application/json" not in content:
            return []
        if not exchange.content_type.lower().startswith("application/json"):
            return [f"{label} answered {status} with Content-Type {exchange.content_type!r}, "
                    f"the contract documents application/json"]
        body = exchange.json
        if body is None:
            return [f"{label} answered {status} with a body that is not JSON: {clip(exchange.body, 200)}"]
        schema_pointer = f"{pointer}/content/application~1json/schema"
        validator = self._validators.get(schema_pointer)
        if validator is None:
            validator = self.contract.validator(schema_pointer)
            self._validators[schema_pointer] = validator
        errors = list(validator.iter_errors(body))
        if not errors:
            return []
        best = jsonschema.exceptions.best_match(errors)
        found = [best, *[e for e in errors if e is not best]][:3]
        return [
            f"{label} answered {status}: at {_json_path(e.absolute_path)}: {e.message}"
            for e in found
        ]


def _json_path(parts: t.Iterable[t.Any]) -> str:
    path = "$"
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path
