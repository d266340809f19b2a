"""Everything one running mockviking holds, in one object the handlers and the plugin share.

The store keeps the OpenViking state; the harness adds what tests need around it: the
clock, the request journal, the fault rules, the violations and the errors raised inside
the server, and the state file. :meth:`Harness.build` is the one place a store is built
from a :class:`Config`: restored from the state file, or loaded from the fixtures.
"""

from __future__ import annotations

import dataclasses

from mockviking.contract.spec import Contract, bundled_contract, load_contract
from mockviking.domain.clock import Clock
from mockviking.domain.models import Limits
from mockviking.domain.store import SessionStore
from mockviking.harness.config import Config
from mockviking.harness.faults import FaultSet
from mockviking.harness.fixtures import load_into
from mockviking.harness.journal import Journal
from mockviking.harness.persistence import StateFile
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
    #: Where the state is kept between runs, when configured.
    state_file: StateFile | None = None

    @classmethod
    def build(
        cls, config: Config, *, store: SessionStore | None = None, contract: Contract | None = None
    ) -> Harness:
        """A harness for ``config``; a broken contract, fixture or state file raises here."""
        contract = contract or load_contract(config.spec_path)
        control_contract = bundled_contract("control.yaml")
        state_file = StateFile(config.state_file) if config.state_file else None
        if store is None:
            store = SessionStore(clock=Clock(), seed=config.seed)
            store.limits = Limits(config.max_sessions_per_user, config.max_messages_per_user, config.max_id_length)
            if state_file is None or not state_file.restore(store):
                load_into(store, config.fixture_paths(), contract)
        else:
            # The id rule is the API's, whoever built the store (handlers read the same setting).
            store.limits.max_id_length = config.max_id_length
        if config.root_key is not None:
            store.set_root_key(config.root_key)
            store.mark_baseline()
        if state_file is not None:
            state_file.check_writable()
            state_file.save(store)
        return cls(config, contract, control_contract, store, Journal(config.journal_limit), state_file=state_file)

    @property
    def clock(self) -> Clock | None:
        """The store's clock, when it can be frozen and advanced."""
        return self.store.clock if isinstance(self.store.clock, Clock) else None

    def persist(self) -> None:
        """Save the state after a write, when a state file is configured (before the answer)."""
        if self.state_file is not None:
            self.state_file.save(self.store)

    def reset(self) -> None:
        """Back to the fixtures: state, journal, fault rules, errors, violations and clock."""
        self.store.reset()
        self.journal.clear()
        self.faults.clear()
        self.errors.clear()
        self.violations.clear()
        if self.clock is not None:
            self.clock.resume()
