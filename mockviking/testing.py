"""The handle a test gets: a live server's URL plus direct control of its state.

The pytest plugin hands one out per test (``mockviking`` fixture); it can also be built by
hand around any running :class:`MockVikingServer` for other test runners.
"""

from __future__ import annotations

import datetime as dt
import typing as t
from pathlib import Path

from mockviking.domain.clock import Clock, parse_timestamp
from mockviking.domain.models import Session
from mockviking.domain.owners import Owner
from mockviking.domain.store import SessionStore
from mockviking.domain.tasks import CommitScript, TaskPlan
from mockviking.harness.fixtures import apply_fixture, check_fixture, load_fixture
from mockviking.harness.harness import Harness
from mockviking.harness.journal import RecordedRequest, RequestFilter
from mockviking.harness.violations import Violation

if t.TYPE_CHECKING:
    from mockviking.harness.faults import FaultRule
    from mockviking.serving.waitress_server import MockVikingServer


class ServerError(AssertionError):
    """mockviking itself failed while answering a request of this test (it answered 500)."""


class ContractViolation(AssertionError):
    """The test sent requests the real server would refuse (strict mode)."""


class MockVikingHandle:
    """One test's view of a running mockviking."""

    def __init__(self, server: MockVikingServer, harness: Harness, *, strict: bool = True) -> None:
        self.server = server
        self.harness = harness
        #: Fail the test at teardown when it sent requests that break the contract.
        self.strict = strict

    # -- where and who ------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The server's base URL, for any HTTP client or the official SDK."""
        return self.server.url

    @property
    def store(self) -> SessionStore:
        """The state itself: seed and inspect sessions and messages directly."""
        return self.harness.store

    @property
    def root_key(self) -> str | None:
        """The root key (admin routes only), if the fixtures configure one."""
        return self.store.root_key

    def key_for(self, account_id: str = "default", user_id: str = "default", role: str = "user") -> str:
        """The API key of a user, created (with its account) on first use."""
        return self.store.user_key(account_id, user_id, role)

    # -- seeding and inspecting -----------------------------------------------------------

    def seed(self, fixture: str | Path | t.Mapping[str, t.Any]) -> None:
        """Load a fixture file, or a fixture document given as a dict, on top of the state."""
        if isinstance(fixture, (str, Path)):
            checked = load_fixture(fixture, self.harness.contract)
        else:
            checked = check_fixture(dict(fixture), self.harness.contract, "seed()")
        apply_fixture(self.store, checked)

    def session(self, session_id: str, account_id: str = "default", user_id: str = "default") -> Session | None:
        """A stored session, to assert on its messages, archives and counters."""
        return self.store.get_session(Owner(account_id, user_id), session_id)

    # -- the request journal -------------------------------------------------------------

    def requests(self, **where: t.Any) -> list[RecordedRequest]:
        """Requests this test sent, oldest first, filtered like :class:`RequestFilter`."""
        return self.harness.journal.entries(RequestFilter(**where))

    def assert_called(self, *, times: int | None = None, **where: t.Any) -> list[RecordedRequest]:
        """Fail unless matching requests were sent (exactly ``times`` if given); shows near misses."""
        return self.harness.journal.assert_called(RequestFilter(**where), times)

    def assert_not_called(self, **where: t.Any) -> None:
        """Fail if any matching request was sent."""
        self.harness.journal.assert_not_called(RequestFilter(**where))

    # -- faults -------------------------------------------------------------------------------

    def fault(self, **rule: t.Any) -> FaultRule:
        """Add a fault rule, e.g. ``fault(method="POST", path="/api/v1/sessions/*/messages",
        after=2, times=1, error="UNAVAILABLE")``."""
        return self.harness.faults.add(**rule)

    def clear_faults(self) -> None:
        """Remove every fault rule."""
        self.harness.faults.clear()

    # -- commit tasks -------------------------------------------------------------------------

    def task_plan(self, mode: str = "immediate", *, polls: int = 1, delay_seconds: float = 0.0) -> None:
        """How commit tasks finish: ``immediate``, after ``polls`` polls, after a delay, or on release."""
        self.store.set_task_plan(TaskPlan(mode, polls, delay_seconds))

    def release_tasks(self, task_id: str | None = None) -> int:
        """Let tasks waiting for release finish; returns how many."""
        return self.store.release_tasks(task_id)

    def script_next_commit(
        self,
        session_id: str,
        *,
        account_id: str = "default",
        user_id: str = "default",
        fail: str | None = None,
        memories: t.Mapping[str, int] | None = None,
        llm_usage: t.Mapping[str, int] | None = None,
    ) -> None:
        """Make the session's next commit fail with ``fail``, or report the given counts."""
        self.store.script_next_commit(
            Owner(account_id, user_id), session_id, CommitScript(fail, memories, llm_usage)
        )

    # -- time -----------------------------------------------------------------------------------

    def freeze_time(self, at: dt.datetime | str | None = None) -> dt.datetime:
        """Stop the server's clock (at an ISO 8601 time, a datetime, or now)."""
        if isinstance(at, str):
            at = parse_timestamp(at)
        return self._clock().freeze(at)

    def advance_time(self, seconds: float) -> dt.datetime:
        """Move the server's clock forward; sessions idle past their policy's timeout commit."""
        self._clock()  # a clear error for a store whose clock cannot be controlled
        return self.store.advance_clock(seconds)

    def resume_time(self) -> None:
        """Let the server's clock run from the real time again."""
        self._clock().resume()

    def _clock(self) -> Clock:
        clock = self.harness.clock
        if clock is None:
            raise RuntimeError("this server's store was built with a clock that cannot be controlled")
        return clock

    # -- contract violations ----------------------------------------------------------------

    @property
    def violations(self) -> list[Violation]:
        """Requests of this test that the real server would refuse, with what was wrong."""
        return self.harness.violations.all()

    def check_contract(self) -> None:
        """Raise :class:`ContractViolation` if this test sent requests that break the contract."""
        if self.harness.violations.all() or self.harness.violations.dropped:
            raise ContractViolation(
                self.harness.violations.report()
                + "\n(the mock answered them as the real server would; this test still sent them."
                " Expected on purpose? Use @pytest.mark.mockviking(strict=False) or set mockviking.strict = False.)"
            )

    # -- failures inside the server ---------------------------------------------------------

    def check(self) -> None:
        """Raise :class:`ServerError` if mockviking failed while answering (a 500)."""
        if self.harness.errors:
            first = self.harness.errors[0]
            raise ServerError(
                f"mockviking failed on {len(self.harness.errors)} request(s) of this test; "
                f"the first: {type(first).__name__}: {first}"
            ) from first

    def reset(self) -> None:
        """Back to the configured fixtures, with an empty journal, no faults and real time."""
        self.harness.reset()
