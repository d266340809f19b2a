"""What a run records: a result per check, the differences it found, and the phases they belong to."""

from __future__ import annotations

import dataclasses

import click

#: Phases in report order, with their titles.
PHASES: dict[str, str] = {
    "setup": "Setup",
    "examples": "Contract examples",
    "properties": "Property-based requests (schemathesis)",
    "stateful": "Stateful sequences through the contract's links",
    "rules": "Cross-request rules",
    "superset": "Seed superset",
}

#: The phases ``--phases`` may name, in the order they run.
SELECTABLE_PHASES = ("examples", "rules", "superset", "properties", "stateful")


class VerifyUsageError(click.ClickException):
    """Bad usage, or a server that cannot be reached: exit code 2, like click's usage errors."""

    exit_code = 2


@dataclasses.dataclass
class Finding:
    """One difference: what exactly differs, and the requests and answers that show it."""

    text: str
    evidence: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Result:
    """One check (or one operation of a phase) and how it went."""

    phase: str
    name: str
    status: str  # "passed", "failed" or "skipped"
    detail: str = ""
    #: For failures: the differences found.
    findings: list[Finding] = dataclasses.field(default_factory=list)
    seconds: float = 0.0
    requests: int = 0

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    @property
    def headline(self) -> str:
        """The first line of the first finding (or the detail)."""
        if self.failed and self.findings:
            return self.findings[0].text.splitlines()[0]
        return self.detail
