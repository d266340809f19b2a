"""Contract violations: requests the real server would refuse, kept and reported.

Consumers need to know when their code sends such a request even when it handles the
error answer gracefully: the mock records each violation (operation, location, rule,
offending value), the pytest plugin fails the test that caused it, and ``serve --report``
writes them for CI as JSON or JUnit XML.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import typing as t
from xml.etree import ElementTree

from mockviking.domain.rules import escape_unstorable

_MAX_VALUE_CHARS = 200


@dataclasses.dataclass(frozen=True)
class Violation:
    """One broken contract rule in one request."""

    method: str
    path: str
    operation_id: str | None
    #: Where in the request, e.g. ``body.messages.1.role`` or ``query.auto_create``.
    location: str
    #: The rule, in the real server's vocabulary: ``missing``, ``string_type``, ``unknown_route``...
    rule: str
    message: str
    value: t.Any = None

    def to_dict(self) -> dict[str, t.Any]:
        """JSON form; long values are cut."""
        data = dataclasses.asdict(self)
        data["value"] = _clip(self.value)
        return data

    def describe(self) -> str:
        """One readable line."""
        op = f" ({self.operation_id})" if self.operation_id else ""
        value = "" if self.value is None else f" [got {json.dumps(_clip(self.value), ensure_ascii=False)}]"
        return f"{self.method} {self.path}{op}: {self.location}: {self.message} <{self.rule}>{value}"


def _clip(value: t.Any) -> t.Any:
    value = escape_unstorable(value)  # a report must be writable whatever the client sent
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    if len(text) <= _MAX_VALUE_CHARS:
        return value
    return text[:_MAX_VALUE_CHARS] + "…"


class ViolationLog:
    """A bounded, thread-safe list of violations; counts what it had to drop."""

    def __init__(self, limit: int = 10000) -> None:
        self._items: list[Violation] = []
        self._lock = threading.Lock()
        self.limit = limit
        self.dropped = 0

    def add(self, violation: Violation) -> None:
        """Record one violation (beyond the limit only the count grows)."""
        with self._lock:
            if len(self._items) < self.limit:
                self._items.append(violation)
            else:
                self.dropped += 1

    def all(self) -> list[Violation]:
        """Every recorded violation, oldest first."""
        with self._lock:
            return list(self._items)

    def clear(self) -> None:
        """Forget them all."""
        with self._lock:
            self._items.clear()
            self.dropped = 0

    def report(self) -> str:
        """A readable multi-line report."""
        items = self.all()
        lines = [f"{len(items) + self.dropped} request(s) broke the OpenViking contract:"]
        lines += [f"  {v.describe()}" for v in items]
        if self.dropped:
            lines.append(f"  ... and {self.dropped} more not kept")
        return "\n".join(lines)


def to_json(log: ViolationLog) -> str:
    """The violations as a JSON document."""
    items = log.all()
    return json.dumps(
        {"count": len(items) + log.dropped, "dropped": log.dropped, "violations": [v.to_dict() for v in items]},
        ensure_ascii=False,
        indent=2,
    )


def to_junit(log: ViolationLog) -> str:
    """The violations as JUnit XML: one failing test case each, or one passing case if none."""
    items = log.all()
    suite = ElementTree.Element(
        "testsuite", name="mockviking contract", tests=str(max(1, len(items))), failures=str(len(items))
    )
    if not items:
        ElementTree.SubElement(suite, "testcase", classname="mockviking.contract",
                               name="every request honoured the contract")
    for violation in items:
        case = ElementTree.SubElement(
            suite, "testcase", classname=f"mockviking.contract.{violation.operation_id or 'unknown'}",
            name=f"{violation.method} {violation.path}: {violation.location}",
        )
        failure = ElementTree.SubElement(case, "failure", message=violation.message, type=violation.rule)
        failure.text = violation.describe()
    return ElementTree.tostring(suite, encoding="unicode", xml_declaration=True)
