"""Phase 4, rules: what no schema can say, each a named check whose failure names the difference.

Each rule runs on its own fresh session. ``error_codes`` runs last, over every error envelope
the whole run has seen.
"""

from __future__ import annotations

import json
import time
import typing as t

from mockviking.verify.client import Exchange, SeenError, error_envelope
from mockviking.verify.results import Finding, Result
from mockviking.web.errors import STATUS as CODE_TO_STATUS

if t.TYPE_CHECKING:
    from mockviking.verify.target import Target
    from mockviking.verify.verifier import Verifier


class RuleFailed(Exception):
    """A cross-request rule does not hold: the message names the difference."""

    def __init__(self, message: str, evidence: t.Sequence[Exchange] = ()) -> None:
        super().__init__(message)
        self.evidence = list(evidence)


def run(v: Verifier, target: Target) -> None:
    v.progress("[rules] checking the cross-request rules")
    rules = DomainRules(v, target)
    v.rule("rules", "batch", rules.batch)
    v.rule("rules", "commit", rules.commit)
    v.rule("rules", "commit skipped", rules.commit_skipped)
    v.rule("rules", "auto_create", rules.auto_create)
    skip = None
    if target.user_b is None:
        skip = "needs two users: give --root-key (or run against a dev-mode server)"
    v.rule("rules", "isolation", rules.isolation, skip=skip)
    # A few requests the contract refuses, so error envelopes are seen whatever the time limit.
    v.rule("rules", "error probes", rules.error_probes)


class Steps:
    """The requests rules are made of, sent as user A unless told; a wrong status fails the rule."""

    def __init__(self, verifier: Verifier, target: Target) -> None:
        self.v = verifier
        self.target = target
        self.a = target.user_a.headers

    def call(self, method: str, path: str, *, body: t.Any = None, query: t.Mapping[str, str] | None = None,
             headers: t.Mapping[str, str] | None = None, expect: int | None = 200,
             what: str = "", evidence: t.Sequence[Exchange] = ()) -> Exchange:
        exchange = self.v.http.request(method, path, headers=headers if headers is not None else self.a,
                                       body=body, query=query)
        if expect is not None and exchange.status != expect:
            raise RuleFailed(f"{what or 'a step'}: {method} {exchange.path} answered {exchange.status}, "
                             f"expected {expect}", [*evidence, exchange])
        return exchange

    def session(self, label: str) -> str:
        return self.target.session_id(label)

    def get_session(self, sid: str, what: str, evidence: t.Sequence[Exchange] = ()) -> tuple[dict[str, t.Any],
                                                                                              Exchange]:
        exchange = self.call("GET", f"/api/v1/sessions/{sid}", what=what, evidence=evidence)
        result = exchange.result
        if not isinstance(result, dict):
            raise RuleFailed(f"{what}: GET {exchange.path} answered 200 without a result object",
                             [*evidence, exchange])
        return result, exchange

    def seed(self, sid: str, count: int) -> list[Exchange]:
        """Add ``count`` messages one by one (so no rule depends on the batch route)."""
        return [self.call("POST", f"/api/v1/sessions/{sid}/messages", body=message, what=f"seeding {count} messages")
                for message in self.messages(count)]

    def messages(self, count: int, start: int = 0) -> list[dict[str, str]]:
        roles = ("user", "assistant")
        return [{"role": roles[i % 2], "content": f"verify message {i}"} for i in range(start, start + count)]


class DomainRules(Steps):
    """The cross-request rules: batch, commit, auto_create, isolation, error probes."""

    def batch(self) -> str:
        sid = self.session("batch")
        seeded = self.seed(sid, 2)
        before, got_before = self.get_session(sid, "reading the session before the batch", seeded)
        k = 3
        batch = self.call("POST", f"/api/v1/sessions/{sid}/messages/batch",
                          body={"messages": self.messages(k, start=2)}, what=f"batch of {k}")
        after, got_after = self.get_session(sid, "reading the session after the batch")
        evidence = [got_before, batch, got_after]
        problems = []
        result = batch.result if isinstance(batch.result, dict) else {}
        if result.get("added") != k:
            problems.append(f"the batch answer says added={result.get('added')!r}, expected {k} "
                            f"(the number of messages sent)")
        n0, n1 = before.get("message_count"), after.get("message_count")
        if not isinstance(n0, int) or not isinstance(n1, int) or n1 - n0 != k:
            problems.append(f"message_count went from {n0!r} to {n1!r} after a batch of {k} messages; "
                            f"expected it to rise by exactly {k} (to {n0 + k if isinstance(n0, int) else '?'})")
        if isinstance(result.get("message_count"), int) and result.get("message_count") != n1:
            problems.append(f"the batch answer says message_count={result.get('message_count')}, "
                            f"GET session says {n1!r}")
        t0, t1 = before.get("total_message_count"), after.get("total_message_count")
        if isinstance(t0, int) and isinstance(t1, int) and t1 - t0 != k:
            problems.append(f"total_message_count went from {t0} to {t1}; expected a rise of exactly {k}")
        if problems:
            raise RuleFailed("batch: " + "; ".join(problems), evidence)
        return f"message_count {n0} → {n1} after {k} messages, added={k}"

    def commit(self) -> str:
        sid = self.session("commit")
        n, keep = 5, 2
        seeded = self.seed(sid, n)
        before, got_before = self.get_session(sid, "reading the session before the commit", seeded[-1:])
        commit = self.call("POST", f"/api/v1/sessions/{sid}/commit", body={"keep_recent_count": keep},
                           what=f"commit with keep_recent_count={keep}", evidence=[got_before])
        after, got_after = self.get_session(sid, "reading the session after the commit")
        evidence = [got_before, commit, got_after]
        problems = []
        result = commit.result if isinstance(commit.result, dict) else {}
        if result.get("status") != "accepted":
            problems.append(f"the commit answer has status {result.get('status')!r}, expected 'accepted' "
                            f"({n} messages, keep_recent_count={keep})")
        task_id = result.get("task_id")
        if not isinstance(task_id, str) or not task_id:
            problems.append(f"the commit answer has task_id {task_id!r}, expected a task id")
        if before.get("message_count") != n:
            problems.append(f"before the commit message_count is {before.get('message_count')!r}, expected {n}")
        if after.get("message_count") != keep:
            problems.append(f"after the commit message_count is {after.get('message_count')!r}, expected {keep} "
                            f"(keep_recent_count)")
        t0, t1 = before.get("total_message_count"), after.get("total_message_count")
        if t0 != t1:
            problems.append(f"total_message_count changed from {t0!r} to {t1!r}; a commit must leave it unchanged")
        c0, c1 = before.get("commit_count"), after.get("commit_count")
        if not isinstance(c0, int) or c1 != c0 + 1:
            problems.append(f"commit_count went from {c0!r} to {c1!r}; expected it to rise by 1")
        if problems:
            raise RuleFailed("commit: " + "; ".join(problems), evidence)
        return (f"{n} messages, keep {keep}: message_count {n} → {keep}, total_message_count {t0} kept, "
                f"commit_count {c0} → {c1}, accepted with a task id")

    def commit_skipped(self) -> str:
        sid = self.session("commit-empty")
        created = self.call("POST", "/api/v1/sessions", body={"session_id": sid}, what="creating an empty session")
        commit = self.call("POST", f"/api/v1/sessions/{sid}/commit", what="commit of an empty session",
                           evidence=[created])
        result = commit.result if isinstance(commit.result, dict) else {}
        problems = []
        if result.get("status") != "skipped":
            problems.append(f"status is {result.get('status')!r}, expected 'skipped' (nothing to archive)")
        if "task_id" not in result or result.get("task_id") is not None:
            problems.append(f"task_id is {result.get('task_id', '<missing>')!r}, expected null")
        if problems:
            raise RuleFailed("commit of a session without messages: " + "; ".join(problems), [created, commit])
        return "skipped with task_id null"

    def auto_create(self) -> str:
        sid = self.session("autocreate")
        path = f"/api/v1/sessions/{sid}"
        absent = self.call("GET", path, expect=None)
        explicit = self.call("GET", path, query={"auto_create": "false"}, expect=None)
        again = self.call("GET", path, expect=None)
        evidence = [absent, explicit, again]
        for exchange, how in ((absent, "without auto_create"), (explicit, "with auto_create=false"),
                              (again, "again afterwards")):
            if exchange.status != 404:
                raise RuleFailed(f"auto_create: GET of a session that does not exist {how} answered "
                                 f"{exchange.status}, expected 404", evidence)
        created = self.call("GET", path, query={"auto_create": "true"}, expect=None)
        evidence.append(created)
        if created.status != 200:
            raise RuleFailed(f"auto_create: GET ?auto_create=true answered {created.status}, expected 200 "
                             "(the session is created)", evidence)
        result = created.result if isinstance(created.result, dict) else {}
        if result.get("session_id") != sid:
            raise RuleFailed(f"auto_create: GET ?auto_create=true answered session_id "
                             f"{result.get('session_id')!r}, expected {sid!r}", evidence)
        exists = self.call("GET", path, expect=None)
        evidence.append(exists)
        if exists.status != 200:
            raise RuleFailed(f"auto_create: after ?auto_create=true the session answers {exists.status}, "
                             "expected 200 (it exists now)", evidence)
        return "404, 404 (auto_create=false), still 404; auto_create=true → 200, then it exists"

    def isolation(self) -> str:
        user_b = self.target.user_b
        assert user_b is not None
        sid = self.session("isolation")
        created = self.call("POST", f"/api/v1/sessions/{sid}/messages", what="user A adds a message",
                            body={"role": "user", "content": "only for user A"})
        by_b = self.call("GET", f"/api/v1/sessions/{sid}", headers=user_b.headers, expect=None)
        if by_b.status != 404:
            raise RuleFailed(f"isolation: user A ({self.target.user_a.account_id}/{self.target.user_a.user_id}) "
                             f"created session {sid}; user B ({user_b.account_id}/{user_b.user_id}) "
                             f"GET answered {by_b.status}, expected 404", [created, by_b])
        listing = self.call("GET", "/api/v1/sessions", headers=user_b.headers, what="user B lists sessions")
        ids = [item.get("session_id") for item in listing.result or [] if isinstance(item, dict)]
        if sid in ids:
            raise RuleFailed(f"isolation: user B's session list contains user A's session {sid}",
                             [created, listing])
        commit = self.call("POST", f"/api/v1/sessions/{sid}/commit", headers=user_b.headers, expect=None)
        if commit.status != 404:
            raise RuleFailed(f"isolation: user B's commit of user A's session {sid} answered {commit.status}, "
                             "expected 404", [created, commit])
        mine = self.call("GET", f"/api/v1/sessions/{sid}", what="user A reads the session back")
        count = mine.result.get("message_count") if isinstance(mine.result, dict) else None
        if count != 1:
            raise RuleFailed(f"isolation: after user B's requests user A's session has message_count "
                             f"{count!r}, expected 1", [created, commit, mine])
        return "user B: GET 404, not listed, commit 404; user A still sees it"

    def error_probes(self) -> str:
        sid = self.session("probes")
        missing_role = self.call("POST", f"/api/v1/sessions/{sid}/messages", body={"content": "no role"},
                                 expect=None)
        unknown = self.call("GET", f"/api/v1/sessions/{sid}-missing", expect=None)
        probes = [(missing_role, 400, "INVALID_ARGUMENT", "an add-message body without role"),
                  (unknown, 404, "NOT_FOUND", "GET of a session that does not exist")]
        if self.target.mode == "api_key":
            no_key = self.call("GET", "/api/v1/sessions", headers={}, expect=None)
            probes.append((no_key, 401, "UNAUTHENTICATED", "a session route without a key"))
        for exchange, status, code, what in probes:
            envelope = error_envelope(exchange.body)
            got = envelope[0] if envelope else None
            if exchange.status != status or got != code:
                raise RuleFailed(f"error probes: {what} answered {exchange.status} {got or '(no error envelope)'}, "
                                 f"expected {status} {code}", [exchange])
        return ", ".join(f"{status} {code}" for _, status, code, _ in probes)


def check_error_codes(v: Verifier) -> None:
    """Every error envelope seen during the run has the status its code maps to."""
    started = time.monotonic()
    mismatched: dict[tuple[str, int], list[SeenError]] = {}
    for seen in v.observer.errors:
        expected = CODE_TO_STATUS.get(seen.code)
        if seen.code == "UNKNOWN" and seen.status >= 400:
            # The real server's code for framework errors (405 Method Not Allowed, ...).
            continue
        if expected != seen.status:
            mismatched.setdefault((seen.code, seen.status), []).append(seen)
    total = len(v.observer.errors)
    if not mismatched:
        v.add(Result("rules", "error_codes", "passed", seconds=time.monotonic() - started,
                     detail=f"{total} error envelopes of {v.observer.answers} answers, "
                            "each with its code's status"))
        return
    findings = []
    for (code, status), seen_list in sorted(mismatched.items()):
        expected = CODE_TO_STATUS.get(code)
        first = seen_list[0]
        if expected is None:
            text = (f"error code {code!r} (answered {status}, {len(seen_list)}×) is not an "
                    f"OpenViking error code; known: {', '.join(CODE_TO_STATUS)}")
        else:
            text = (f"error code {code} answered with HTTP {status} {len(seen_list)}×, "
                    f"but {code} maps to {expected} (first: {first.method} {first.path})")
        shown = (f"{first.method} {first.path} → {status} "
                 f"{{\"code\": \"{code}\", \"message\": {json.dumps(first.message[:200])}}} "
                 f"[seen by {first.source}]")
        findings.append(Finding(text, [shown]))
    v.add(Result("rules", "error_codes", "failed", findings=findings,
                 detail=f"{total} error envelopes", seconds=time.monotonic() - started))
