"""One verification run: the phases in order, and the bookkeeping every phase shares.

The phases are functions of their own modules that take the ``Verifier``: it holds what they
share (the HTTP client, the observer, the contract, the results, the time budget).
"""

from __future__ import annotations

import datetime
import time
import typing as t

from mockviking.verify import checks, examples, properties, rules, stateful, superset
from mockviking.verify.client import Http, Observer, Unreachable, redact_key
from mockviking.verify.results import SELECTABLE_PHASES, Finding, Result
from mockviking.verify.rules import RuleFailed
from mockviking.verify.target import Options, Target, setup


class Verifier:
    """One verification run against one server."""

    def __init__(self, options: Options, progress: t.Callable[[str], None]) -> None:
        self.options = options
        self.progress = progress
        self.observer = Observer()
        self.http = Http(options.base_url.rstrip("/"), self.observer)
        self.contract = checks.load(options.spec_path)
        self.checker = checks.ResponseChecker(self.contract)
        self.results: list[Result] = []
        self.started = time.monotonic()
        self.started_at = datetime.datetime.now(datetime.timezone.utc)
        self.target: Target | None = None
        self.seconds = 0.0
        #: Keys to keep out of every report (longest first, so no key is half-replaced).
        self.secrets = sorted({k for k in (options.api_key, options.root_key) if k}, key=len, reverse=True)

    def run(self) -> None:
        target = setup(self)
        self.target = target
        phases = self.options.phases or frozenset(SELECTABLE_PHASES)
        if "examples" in phases:
            examples.run(self, target)
        if "rules" in phases:
            rules.run(self, target)
        if "superset" in phases:
            superset.run(self, target)
        if "properties" in phases:
            properties.run(self, target)
        if "stateful" in phases:
            stateful.run(self, target)
        if "rules" in phases:
            # Last: it judges every error envelope the run has seen.
            rules.check_error_codes(self)
        self.seconds = time.monotonic() - self.started

    # -- bookkeeping ---------------------------------------------------------------------------

    def add(self, result: Result) -> Result:
        # Keys never reach a report: schemathesis' curl commands, echoed bodies... are redacted.
        result.detail = self.redact(result.detail)
        for finding in result.findings:
            finding.text = self.redact(finding.text)
            finding.evidence = [self.redact(text) for text in finding.evidence]
        self.results.append(result)
        mark = {"passed": "ok", "failed": "FAILED", "skipped": "skipped"}[result.status]
        line = f"[{result.phase}] {result.name}: {mark}"
        if result.detail and not result.failed:
            line += f" ({result.detail})"
        if result.failed and result.findings:
            line += f": {result.headline[:300]}"
        self.progress(line)
        return result

    def redact(self, text: str) -> str:
        """``text`` without keys, and with lone surrogates (generated data...) made printable."""
        for secret in self.secrets:
            text = text.replace(secret, redact_key(secret))
        return text.encode("utf-8", "backslashreplace").decode("utf-8")

    def keep_secret(self, *keys: str) -> None:
        """Keep these keys (provisioned during the run) out of every later report line too."""
        self.secrets = sorted({*self.secrets, *keys}, key=len, reverse=True)

    def budget_until(self, share: float) -> float:
        return self.options.time_limit * share - (time.monotonic() - self.started)

    def note(self, text: str) -> None:
        if self.target is not None:
            self.target.notes.append(text)

    def rule(self, phase: str, name: str, check: t.Callable[[], str], *, skip: str | None = None) -> None:
        """Run one named check, recording its detail, or the difference it raised as RuleFailed."""
        if skip is not None:
            self.add(Result(phase, name, "skipped", detail=skip))
            return
        started = time.monotonic()
        sent = self.http.sent
        try:
            detail = check()
        except RuleFailed as exc:
            self.add(Result(phase, name, "failed", findings=[Finding(str(exc), [e.describe() for e in exc.evidence])],
                            seconds=time.monotonic() - started, requests=self.http.sent - sent))
            return
        except Unreachable as exc:
            self.add(Result(phase, name, "failed", findings=[Finding(f"no answer: {exc}")],
                            seconds=time.monotonic() - started, requests=self.http.sent - sent))
            return
        self.add(Result(phase, name, "passed", detail=detail,
                        seconds=time.monotonic() - started, requests=self.http.sent - sent))

