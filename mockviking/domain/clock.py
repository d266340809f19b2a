"""The server's clock, which tests can freeze and move: timestamps, task delays, intervals.

Everything in mockviking that needs the time asks the store's clock, so freezing it makes
every timestamp of a run predictable. The real server's timestamp formats live here too.
"""

from __future__ import annotations

import datetime as dt
import threading
import typing as t

#: What the store asks for the time: a :class:`Clock`, or any callable giving an aware datetime.
Now = t.Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    """The default time source."""
    return dt.datetime.now(dt.timezone.utc)


def meta_timestamp(moment: dt.datetime) -> str:
    """Session timestamps as the real server writes them: UTC, milliseconds, ``Z``."""
    # isoformat truncates to milliseconds (as the real server does) at a third of strftime's cost.
    return moment.astimezone(dt.timezone.utc).replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def parse_timestamp(text: str) -> dt.datetime:
    """An ISO 8601 timestamp, ``Z`` suffix allowed, as a datetime (naive if it has no offset)."""
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def message_timestamp(moment: dt.datetime) -> str:
    """Default message ``created_at``: Python's ``isoformat`` in UTC (``+00:00``)."""
    return moment.astimezone(dt.timezone.utc).isoformat()


def meta_of_message_timestamp(stamp: str) -> str:
    """``meta_timestamp(m)`` from ``message_timestamp(m)``: every append needs both, and
    formatting the time twice costs more than cutting the string."""
    return (stamp[:23] if stamp[19] == "." else stamp[:19] + ".000") + "Z"


class Clock:
    """Real UTC time, until frozen; frozen time moves only when advanced."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._frozen: dt.datetime | None = None
        self._offset = dt.timedelta(0)

    def __call__(self) -> dt.datetime:
        # No lock: reading two attributes is safe under the GIL, and every request asks.
        frozen = self._frozen
        if frozen is not None:
            return frozen
        return dt.datetime.now(dt.timezone.utc) + self._offset

    @property
    def frozen(self) -> bool:
        """Whether time stands still."""
        return self._frozen is not None

    def freeze(self, at: dt.datetime | None = None) -> dt.datetime:
        """Stop time, at ``at`` (timezone-aware) or now."""
        with self._lock:
            if at is not None and at.tzinfo is None:
                raise ValueError("a frozen time needs a timezone, e.g. 2026-03-23T10:00:00Z")
            now = dt.datetime.now(dt.timezone.utc) + self._offset
            self._frozen = (at or now).astimezone(dt.timezone.utc)
            return self._frozen

    def advance(self, seconds: float) -> dt.datetime:
        """Move time forward (frozen or not)."""
        if seconds < 0:
            raise ValueError("time only moves forward: seconds must not be negative")
        step = dt.timedelta(seconds=seconds)
        with self._lock:
            if self._frozen is not None:
                self._frozen += step
                return self._frozen
            self._offset += step
            return dt.datetime.now(dt.timezone.utc) + self._offset

    def resume(self) -> None:
        """Let time run again, from the real time (any advance is forgotten)."""
        with self._lock:
            self._frozen = None
            self._offset = dt.timedelta(0)
