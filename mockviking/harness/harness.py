"""Everything one running mockviking holds, in one object the handlers and the plugin share.

The store keeps the OpenViking state; the harness adds what tests need around it: the
clock, the request journal, the fault rules and the errors raised inside the server.
No Flask here.
"""

from __future__ import annotations

import dataclasses

from mockviking.domain.clock import Clock
from mockviking.harness.config import Config
from mockviking.harness.faults import FaultSet
from mockviking.harness.journal import Journal
from mockviking.contract.spec import Contract
from mockviking.domain.store import SessionStore
from mockviking.harness.violations import ViolationLog


@dataclasses.dataclass
class Harness:
    """The state and the test controls of one app."""

    config: Config
    contract: Contract
    control_contract: Contract
    store: SessionStore
    journal: Journal
    faults: FaultSet = dataclasses.field(default_factory=FaultSet)
    #: Exceptions raised while handling requests (each was answered as a 500).
    errors: list[BaseException] = dataclasses.field(default_factory=list)
    #: Requests that broke the OpenViking contract.
    violations: ViolationLog = dataclasses.field(default_factory=ViolationLog)

    @property
    def clock(self) -> Clock | None:
        """The store's clock, when it can be frozen and advanced."""
        return self.store.clock if isinstance(self.store.clock, Clock) else None

    def reset(self) -> None:
        """Back to the fixtures: state, journal, fault rules, errors, violations and clock."""
        self.store.reset()
        self.journal.clear()
        self.faults.clear()
        self.errors.clear()
        self.violations.clear()
        if self.clock is not None:
            self.clock.resume()
