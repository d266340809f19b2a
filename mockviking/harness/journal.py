"""The request journal: what clients sent and got, bounded, with credentials redacted.

Tests assert on it ("did my code add exactly two messages?"), and its failure messages
show the near misses, because "not called" is rarely the whole story.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import fnmatch
import functools
import json
import threading
import typing as t

from mockviking.contract.decoding import may_hold_surrogate
from mockviking.domain.rules import escape_unstorable
from mockviking.harness.config import CONTROL_PREFIX

#: Headers whose values never enter the journal.
SECRET_HEADERS = frozenset({"x-api-key", "authorization", "x-mockviking-control-token", "cookie"})
REDACTED = "[REDACTED]"
_MAX_BODY_BYTES = 65536


@dataclasses.dataclass
class RecordedRequest:
    """One request and the answer it got (read-only by convention: not frozen, as a frozen
    dataclass costs the server a third more to build).

    What the server hands in is kept raw (bodies as the bytes that crossed the wire, cut at
    64 KiB; headers as the WSGI environ holds them; the time as a datetime) and turned into
    the readable form only when someone looks: recording must cost the server next to
    nothing.
    """

    seq: int
    at: dt.datetime
    method: str
    path: str
    query: str
    #: The header keys as the WSGI environ names them: ``HTTP_X_API_KEY``, ``CONTENT_TYPE``...
    header_keys: tuple[str, ...]
    #: Their values, as :func:`environ_headers` packs them (one string, or one per key).
    header_values: str | t.Sequence[str]
    raw_body: bytes
    content_type: str | None
    status: int
    raw_response: bytes | None
    response_content_type: str | None
    operation_id: str | None
    account_id: str | None
    user_id: str | None
    duration_ms: float
    fault: str | None = None
    violations: tuple[dict[str, t.Any], ...] = ()

    @functools.cached_property
    def time(self) -> str:
        """When the request arrived, by the server's clock (ISO 8601)."""
        return self.at.isoformat()

    @functools.cached_property
    def headers(self) -> dict[str, str]:
        """The request headers, named as on the wire in title case, credentials redacted."""
        return redact_headers(
            (_header_name(key), value) for key, value in zip(self.header_keys, _unpack(self.header_values), strict=True)
            if value or key.startswith("HTTP_")
        )

    @property
    def body_type(self) -> str | None:
        """The request's media type, without parameters."""
        return _mimetype(self.content_type)

    @property
    def response_type(self) -> str | None:
        """The answer's media type, without parameters."""
        return _mimetype(self.response_content_type)

    @functools.cached_property
    def body(self) -> t.Any:
        """The request body: JSON when it parses, text otherwise, ``None`` when empty."""
        return readable(self.raw_body, self.body_type)

    @functools.cached_property
    def response(self) -> t.Any:
        """The answer's body, decoded the same way (``None`` for a dropped answer)."""
        return None if self.raw_response is None else readable(self.raw_response, self.response_type)

    def to_dict(self) -> dict[str, t.Any]:
        """The JSON form served by the control API."""
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name not in _RAW_FIELDS}
        data["time"] = self.time
        data["headers"] = self.headers
        data["body"] = self.body
        data["response"] = self.response
        data["violations"] = list(self.violations)
        return data

    def describe(self) -> str:
        """One line for failure messages."""
        where = f"{self.method} {self.path}" + (f"?{self.query}" if self.query else "")
        op = f" ({self.operation_id})" if self.operation_id else ""
        return f"#{self.seq} {where}{op} -> {self.status}"


_RAW_FIELDS = frozenset({
    "at", "header_keys", "header_values", "raw_body", "content_type", "raw_response", "response_content_type",
})


def environ_headers(environ: t.Mapping[str, t.Any]) -> tuple[tuple[str, ...], str | tuple[str, ...]]:
    """A WSGI request's header keys and values, as cheaply as they can be taken.

    This is on every request. Which keys are headers is worked out once per shape of
    environ (a client sends the same headers again and again), and the values are packed
    into one NUL-separated string: a string is not a container the garbage collector must
    walk again and again while the journal keeps it. Values holding a NUL, or that are
    not strings, are kept as a tuple.
    """
    shape = tuple(environ)
    keys = _SHAPES.get(shape)
    if keys is None:
        keys = tuple(key for key in shape if key.startswith(_HEADER_KEYS))
        if len(_SHAPES) >= _MAX_SHAPES:
            _SHAPES.clear()
        _SHAPES[shape] = keys
    values = tuple(map(environ.__getitem__, keys))
    try:
        packed = "\0".join(values)
    except TypeError:  # a value that is not a string
        return keys, tuple(map(str, values))
    if not keys or packed.count("\0") != len(keys) - 1:
        return keys, values
    return keys, packed


def _unpack(values: str | t.Sequence[str]) -> t.Sequence[str]:
    return values.split("\0") if isinstance(values, str) else values


#: Header keys by the keys of an environ, in order. Bounded: emptied when full.
_SHAPES: dict[tuple[str, ...], tuple[str, ...]] = {}
_MAX_SHAPES = 512


_HEADER_KEYS = ("HTTP_", "CONTENT_TYPE", "CONTENT_LENGTH")


def _header_name(key: str) -> str:
    # CGI keeps "X-API-Key" as HTTP_X_API_KEY; title case is as close as it can be given back.
    return (key[5:] if key.startswith("HTTP_") else key).replace("_", "-").title()


def _mimetype(content_type: str | None) -> str | None:
    if content_type is None:
        return None
    return content_type.split(";", 1)[0].strip().lower()


def redact_headers(headers: t.Iterable[tuple[str, str]]) -> dict[str, str]:
    """Headers with credentials replaced; names keep their case, repeats are joined."""
    out: dict[str, str] = {}
    for name, value in headers:
        shown = REDACTED if name.lower() in SECRET_HEADERS else value
        out[name] = f"{out[name]}, {shown}" if name in out else shown
    return out


def clip(data: bytes) -> bytes:
    """A body small enough to keep."""
    return data if len(data) <= _MAX_BODY_BYTES else data[:_MAX_BODY_BYTES]


def readable(data: bytes, mimetype: str | None) -> t.Any:
    """A body as JSON when it parses, as text otherwise, ``None`` when empty."""
    if not data:
        return None
    if (mimetype or "").endswith("json"):
        try:
            value = json.loads(data)
            # Only a body that may hold a lone surrogate is walked to escape it.
            return escape_unstorable(value) if may_hold_surrogate(data) else value
        except (ValueError, RecursionError):
            pass
    text = data.decode("utf-8", errors="replace")
    if len(data) == _MAX_BODY_BYTES:
        text += " ... [cut at 64 KiB]"
    return text


@dataclasses.dataclass(frozen=True)
class RequestFilter:
    """Which journal entries a query or assertion is about; every given field must match."""

    method: str | None = None
    #: A path, or a glob such as ``/api/v1/sessions/*/messages``.
    path: str | None = None
    operation_id: str | None = None
    status: int | None = None
    account_id: str | None = None
    user_id: str | None = None
    #: Keys that must be present with these values in the JSON body.
    body: t.Mapping[str, t.Any] | None = None
    include_control: bool = False

    def matches(self, entry: RecordedRequest) -> bool:
        """Whether the entry fits."""
        if not self.include_control and entry.path.startswith(CONTROL_PREFIX):
            return False
        checks = (
            (self.method, lambda v: entry.method == v.upper()),
            (self.path, lambda v: fnmatch.fnmatchcase(entry.path, v)),
            (self.operation_id, lambda v: entry.operation_id == v),
            (self.status, lambda v: entry.status == v),
            (self.account_id, lambda v: entry.account_id == v),
            (self.user_id, lambda v: entry.user_id == v),
            (self.body, lambda v: isinstance(entry.body, dict) and all(
                entry.body.get(k, _MISSING) == want for k, want in v.items())),
        )
        return all(value is None or test(value) for value, test in checks)

    def score(self, entry: RecordedRequest) -> int:
        """How many of the given fields match: ranks the near misses."""
        fields = [f for f in ("method", "path", "operation_id", "status", "account_id", "user_id", "body")
                  if getattr(self, f) is not None]
        return sum(RequestFilter(**{f: getattr(self, f)}, include_control=True).matches(entry) for f in fields)


_MISSING = object()


class Journal:
    """A bounded, thread-safe log of requests (the oldest entries drop out first)."""

    def __init__(self, limit: int = 1000) -> None:
        if limit < 1:
            raise ValueError("the journal limit must be at least 1")
        # An entry is kept as the tuple of its fields until someone reads the journal.
        self._entries: collections.deque[RecordedRequest | tuple[t.Any, ...]] = collections.deque(maxlen=limit)
        self._lock = threading.Lock()
        self._seq = 0
        self.limit = limit

    def record(self, *fields: t.Any) -> None:
        """Record one exchange: :class:`RecordedRequest`'s fields after ``seq``, in order.

        The server calls this on every request, so the entry itself is built when read.
        """
        with self._lock:
            self._seq += 1
            self._entries.append((self._seq, *fields))

    def add(self, entry: RecordedRequest) -> None:
        """Record one exchange given as an entry (its ``seq`` is kept as given)."""
        with self._lock:
            self._entries.append(entry)

    def _all(self) -> list[RecordedRequest]:
        """Every entry, oldest first, each built from its fields once (call with the lock held)."""
        entries = self._entries
        for index, entry in enumerate(entries):
            if isinstance(entry, tuple):
                entries[index] = RecordedRequest(*entry)
        return t.cast(list[RecordedRequest], list(entries))

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()

    def entries(self, where: RequestFilter | None = None, limit: int | None = None) -> list[RecordedRequest]:
        """Matching entries, oldest first (the newest ``limit`` of them)."""
        where = where or RequestFilter()
        with self._lock:
            everything = self._all()
        found = [e for e in everything if where.matches(e)]
        return found[-limit:] if limit else found

    def assert_called(self, where: RequestFilter, times: int | None = None) -> list[RecordedRequest]:
        """Raise ``AssertionError`` unless matching requests were made (exactly ``times`` if given)."""
        found = self.entries(where)
        if (times is None and found) or (times is not None and len(found) == times):
            return found
        wanted = "at least once" if times is None else f"{times} time(s)"
        lines = [f"expected a request matching {_describe(where)} {wanted}, found {len(found)}"]
        lines += [f"  matched: {e.describe()}" for e in found[:10]]
        with self._lock:
            everything = self._all()
        near = sorted((e for e in everything if not where.matches(e)), key=where.score, reverse=True)[:5]
        if near:
            lines.append("closest other requests:")
            lines += [f"  {e.describe()}" for e in near]
        elif not everything:
            lines.append("the journal is empty")
        raise AssertionError("\n".join(lines))

    def assert_not_called(self, where: RequestFilter) -> None:
        """Raise ``AssertionError`` if any request matches."""
        self.assert_called(where, times=0)


def _describe(where: RequestFilter) -> str:
    given = {f.name: getattr(where, f.name) for f in dataclasses.fields(where)
             if getattr(where, f.name) not in (None, False)}
    return ", ".join(f"{k}={v!r}" for k, v in given.items()) or "(anything)"
