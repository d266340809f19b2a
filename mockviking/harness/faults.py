"""Fault rules: make chosen requests slow, failing, cut off or garbled, reproducibly.

A rule matches on method, path pattern and (optionally) identity; it fires on the next N
matches, after skipping some, or with a probability drawn from its own seeded generator,
so a flaky-network test fails the same way on every run.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import random
import threading
import typing as t

from mockviking.domain.errors import ERROR_CODES

ACTIONS = ("error", "drop", "malformed")


@dataclasses.dataclass
class FaultRule:
    """What to do to which requests; ``delay_ms`` may combine with one action."""

    id: str
    path: str = "*"
    method: str | None = None
    account_id: str | None = None
    user_id: str | None = None
    #: Fixed delay, or the lower bound of a random one when ``delay_max_ms`` is set.
    delay_ms: float = 0.0
    delay_max_ms: float | None = None
    #: Answer this error code, with the real server's status and envelope.
    error: str | None = None
    message: str | None = None
    #: Cut the connection in the middle of the answer.
    drop: bool = False
    #: Answer 200 with a body that is not valid JSON.
    malformed: bool = False
    #: Let this many matching requests through untouched before firing.
    after: int = 0
    #: Fire on at most this many requests (``None``: no limit).
    times: int | None = None
    probability: float = 1.0
    seed: int | None = None
    matched: int = 0
    fired: int = 0

    def __post_init__(self) -> None:
        actions = [a for a in ACTIONS if getattr(self, a)]
        if len(actions) > 1:
            raise ValueError(f"a fault rule takes one action, got {', '.join(actions)}")
        if not actions and not self.delay_ms and self.delay_max_ms is None:
            raise ValueError("a fault rule needs an action (error, drop, malformed) or a delay")
        if self.error is not None and self.error not in ERROR_CODES:
            raise ValueError(f"unknown error code {self.error!r}; use one of {', '.join(ERROR_CODES)}")
        if self.delay_max_ms is not None and self.delay_max_ms < self.delay_ms:
            raise ValueError("delay_max_ms must not be below delay_ms")
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError("probability must be between 0 and 1")
        if self.after < 0 or (self.times is not None and self.times < 1):
            raise ValueError("after must be >= 0 and times >= 1")
        if self.method is not None:
            self.method = self.method.upper()
        self._rng = random.Random(self.seed)

    @property
    def action(self) -> str:
        """``error``, ``drop``, ``malformed`` or ``delay``."""
        return next((a for a in ACTIONS if getattr(self, a)), "delay")

    def matches(self, method: str, path: str, account_id: str | None, user_id: str | None) -> bool:
        """Whether the request is one this rule is about."""
        return (
            (self.method is None or self.method == method.upper())
            and fnmatch.fnmatchcase(path, self.path)
            and (self.account_id is None or self.account_id == account_id)
            and (self.user_id is None or self.user_id == user_id)
        )

    def to_dict(self) -> dict[str, t.Any]:
        """The JSON form served by the control API."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)} | {"action": self.action}


@dataclasses.dataclass(frozen=True)
class Fault:
    """The fault to apply to one request."""

    rule_id: str
    action: str
    delay_seconds: float
    error: str | None
    message: str | None


class FaultSet:
    """The active rules, checked in the order they were added; the first that fires wins."""

    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()
        self._next_id = 0

    def add(self, **fields: t.Any) -> FaultRule:
        """Add a rule (``ValueError`` says what is wrong with it)."""
        with self._lock:
            self._next_id += 1
            fields.setdefault("id", f"fault-{self._next_id}")
            if any(rule.id == fields["id"] for rule in self._rules):
                raise ValueError(f"a fault rule with id {fields['id']!r} exists")
            settable = {f.name for f in dataclasses.fields(FaultRule)} - {"matched", "fired"}
            unknown = set(fields) - settable
            if unknown:
                raise ValueError(f"unknown fault rule field(s): {', '.join(sorted(unknown))}")
            rule = FaultRule(**fields)
            self._rules.append(rule)
            return rule

    def remove(self, rule_id: str) -> bool:
        """Drop one rule; ``False`` if there was none with that id."""
        with self._lock:
            kept = [r for r in self._rules if r.id != rule_id]
            removed = len(kept) != len(self._rules)
            self._rules = kept
            return removed

    def clear(self) -> None:
        """Drop every rule (ids start again from ``fault-1``)."""
        with self._lock:
            self._rules = []
            self._next_id = 0

    @property
    def active(self) -> bool:
        """Whether any rule exists (requests skip fault matching entirely when none does)."""
        return bool(self._rules)

    def rules(self) -> list[FaultRule]:
        """The rules, in order."""
        with self._lock:
            return list(self._rules)

    def decide(self, method: str, path: str, account_id: str | None, user_id: str | None) -> Fault | None:
        """The fault for this request, if a rule fires (counting the match either way)."""
        with self._lock:
            for rule in self._rules:
                if not rule.matches(method, path, account_id, user_id):
                    continue
                rule.matched += 1
                if rule.matched <= rule.after or (rule.times is not None and rule.fired >= rule.times):
                    continue
                if rule.probability < 1.0 and rule._rng.random() >= rule.probability:
                    continue
                rule.fired += 1
                delay = rule.delay_ms
                if rule.delay_max_ms is not None:
                    delay = rule._rng.uniform(rule.delay_ms, rule.delay_max_ms)
                return Fault(rule.id, rule.action, delay / 1000.0, rule.error, rule.message)
        return None
