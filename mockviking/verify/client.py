"""The requests this tool sends, and the error envelopes of every answer the run sees.

Named ``client`` rather than ``http`` so that it never reads as the standard library's module.
Stdlib only: the command is a client of any server.
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import threading
import typing as t
import urllib.parse

from mockviking.verify.results import VerifyUsageError

#: Seconds a single request may take.
REQUEST_TIMEOUT = 30.0
#: How much of a body goes into evidence.
EVIDENCE_CHARS = 700


class Unreachable(Exception):
    """A request got no HTTP answer at all."""


@dataclasses.dataclass
class Exchange:
    """A request this tool sent and the answer it got."""

    method: str
    path: str
    status: int
    body: bytes
    content_type: str
    request_body: bytes | None = None
    request_headers: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def json(self) -> t.Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def result(self) -> t.Any:
        body = self.json
        return body.get("result") if isinstance(body, dict) else None

    def describe(self) -> str:
        return exchange_text(self.method, self.path, self.request_body, self.status, self.body,
                             shown_headers(self.request_headers))


def shown_headers(headers: t.Mapping[str, str]) -> dict[str, str]:
    """The request headers worth showing (keys are shortened, never printed whole)."""
    shown: dict[str, str] = {}
    for name, value in headers.items():
        lowered = name.lower()
        if lowered in ("x-api-key", "authorization"):
            shown[name] = redact_key(value)
        elif lowered.startswith("x-openviking-"):
            shown[name] = value
    return shown


def redact_key(value: str) -> str:
    """A key as reports show it: its first characters only."""
    return value[:6] + "…" if len(value) > 8 else "…"


def exchange_text(
    method: str,
    path: str,
    request_body: bytes | None,
    status: int | None,
    body: bytes | None,
    headers: t.Mapping[str, str] | None = None,
) -> str:
    """A request and its answer as a few readable lines."""
    lines = [f"> {method} {path}"]
    for name, value in (headers or {}).items():
        lines.append(f"> {name}: {value}")
    if request_body:
        lines.append("> " + clip(request_body))
    if status is None:
        lines.append("< (no answer)")
    else:
        lines.append(f"< {status} " + clip(body or b""))
    return "\n".join(lines)


def clip(data: bytes | str, limit: int = EVIDENCE_CHARS) -> str:
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    text = " ".join(text.split("\n"))
    return text if len(text) <= limit else text[:limit] + f"… ({len(text)} chars)"


# -- error envelopes seen during the run --------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SeenError:
    """An error envelope some answer carried."""

    source: str
    method: str
    path: str
    status: int
    code: str
    message: str


class Observer:
    """Collects the error envelopes of every answer of the run, whoever sent the request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.errors: list[SeenError] = []
        self.answers = 0

    def saw(self, source: str, method: str, path: str, status: int, body: bytes | None) -> None:
        envelope = error_envelope(body)
        with self._lock:
            self.answers += 1
            if envelope is not None:
                code, message = envelope
                self.errors.append(SeenError(source, method, path, status, code, message))


def error_envelope(body: bytes | None) -> tuple[str, str] | None:
    """The code and message of an OpenViking error envelope, or None for any other body."""
    if not body or b'"error"' not in body:
        return None
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    if not isinstance(parsed, dict) or parsed.get("status") != "error":
        return None
    error = parsed.get("error")
    if not isinstance(error, dict):
        return None
    return str(error.get("code")), str(error.get("message", ""))


# -- a small HTTP client ------------------------------------------------------------------------


class Http:
    """Sends requests to the server under test and tells the observer about every answer."""

    def __init__(self, base_url: str, observer: Observer, timeout: float = REQUEST_TIMEOUT) -> None:
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise VerifyUsageError(f"--base-url must be an http(s) URL, not {base_url!r}")
        self.scheme = parts.scheme
        self.host = parts.hostname
        try:
            self.port = parts.port
        except ValueError as exc:
            raise VerifyUsageError(f"--base-url has an invalid port: {base_url!r}") from exc
        self.prefix = parts.path.rstrip("/")
        self.observer = observer
        self.timeout = timeout
        self.sent = 0

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: t.Mapping[str, str] | None = None,
        body: t.Any = None,
        query: t.Mapping[str, str] | None = None,
        source: str = "rules",
    ) -> Exchange:
        target = self.prefix + path
        if query:
            target += "?" + urllib.parse.urlencode(query)
        data = None if body is None else json.dumps(body, separators=(",", ":")).encode("utf-8")
        sent_headers = {"Accept": "application/json", **(headers or {})}
        if data is not None:
            sent_headers["Content-Type"] = "application/json"
        connection_class = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
        connection = connection_class(self.host, self.port, timeout=self.timeout)
        shown = path + ("?" + urllib.parse.urlencode(query) if query else "")
        try:
            connection.request(method, target, body=data, headers=sent_headers)
            response = connection.getresponse()
            raw = response.read()
            content_type = response.getheader("Content-Type") or ""
            status = response.status
        except (OSError, http.client.HTTPException) as exc:
            raise Unreachable(f"{method} {self.prefix + shown}: {exc or type(exc).__name__}") from exc
        finally:
            connection.close()
        self.sent += 1
        self.observer.saw(source, method, shown, status, raw)
        return Exchange(method, shown, status, raw, content_type, data, dict(headers or {}))
