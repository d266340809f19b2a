"""The store's foundation: one lock, the live state, the baseline to reset to, time and chance.

Every part of the store (accounts, sessions, tasks, commits) builds on this class and
changes the state only under :attr:`lock`. Time and randomness are injected, so a seeded
store with a frozen clock produces the same ids and timestamps on every run.
"""

from __future__ import annotations

import copy
import random
import threading
import typing as t
import uuid

from mockviking.domain.clock import Now, message_timestamp, utc_now
from mockviking.domain.models import Limits, State


class StoreBase:
    """Thread-safe in-memory state with an explicit baseline to reset to."""

    def __init__(self, *, clock: Now | None = None, seed: int | None = None) -> None:
        self.clock: Now = clock or utc_now
        self._rng = random.Random(seed)
        self._lock = threading.RLock()
        self._state = self._empty_state()
        self._baseline = copy.deepcopy(self._state)
        self.limits = Limits()

    def _empty_state(self) -> State:
        state = State()
        state.accounts["default"] = message_timestamp(self.clock())
        return state

    @property
    def lock(self) -> threading.RLock:
        """Hold it to read several things as one consistent snapshot."""
        return self._lock

    @property
    def state(self) -> State:
        """The live state (hold :attr:`lock` while reading it); ``harness.snapshot`` serialises it."""
        return self._state

    def replace_state(self, state: State, *, baseline: bool = False) -> None:
        """Swap in a whole state (an imported snapshot), optionally as the reset baseline."""
        with self._lock:
            self._state = state
            if baseline:
                self.mark_baseline()

    def mark_baseline(self) -> None:
        """Remember the current state as what :meth:`reset` returns to."""
        with self._lock:
            self._baseline = copy.deepcopy(self._state)

    def reset(self) -> None:
        """Return to the baseline (the loaded fixtures), dropping everything since."""
        with self._lock:
            self._state = copy.deepcopy(self._baseline)

    def clear(self) -> None:
        """Forget everything, baseline included."""
        with self._lock:
            self._state = self._empty_state()
            self._baseline = copy.deepcopy(self._state)

    def generator_state(self) -> list[t.Any]:
        """Where the id and key generator stands, as JSON-ready data (saved with the state, so a
        seeded server restarted from its state file does not hand out the same ids again)."""
        version, internal, gauss = self._rng.getstate()
        return [version, list(internal), gauss]

    def restore_generator(self, data: t.Sequence[t.Any]) -> None:
        """Put the generator back where :meth:`generator_state` found it."""
        version, internal, gauss = data
        with self._lock:
            self._rng.setstate((version, tuple(internal), gauss))

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
