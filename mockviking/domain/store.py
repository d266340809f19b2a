"""All mutable state of a mockviking server: accounts, keys and sessions, behind one lock.

The store is plain Python (no Flask), so tests, the pytest plugin and the HTTP layer share
the same object. Counters (message counts, pending tokens) are kept incrementally: no
request ever re-scans a session's messages. Time and randomness are injected, so a seeded
store produces the same ids and timestamps every run.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import datetime as dt
import random
import threading
import typing as t
import uuid

from mockviking.domain import extractor
from mockviking.domain.errors import ApiError, already_exists, session_not_found, session_not_found_route
from mockviking.domain.messages import Message, MessageDraft, fill_group_ids
from mockviking.domain.tasks import CommitScript, Task, TaskPlan
from mockviking.domain.tokens import estimate_text_tokens

Clock = t.Callable[[], dt.datetime]

#: The seed's fixed memory categories; always reported, plus any others extracted later.
MEMORY_CATEGORIES = (
    "profile", "preferences", "entities", "events", "cases", "patterns", "tools", "skills",
)
LLM_USAGE_KEYS = (
    "prompt_tokens", "completion_tokens", "total_tokens", "cached_tokens", "reasoning_tokens",
)
ROLES = ("root", "admin", "user")


def utc_now() -> dt.datetime:
    """The default clock."""
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


@dataclasses.dataclass(frozen=True)
class Owner:
    """Who a session belongs to: sessions are isolated per (account, user)."""

    account_id: str
    user_id: str


@dataclasses.dataclass(frozen=True)
class UserRecord:
    """A registered user and the key that identifies them."""

    account_id: str
    user_id: str
    role: str
    key: str


@dataclasses.dataclass
class Session:
    """One session; ``messages`` holds the live (not yet archived) messages only."""

    session_id: str
    owner: Owner
    created_at: str
    updated_at: str
    mod_time: dt.datetime
    messages: list[Message] = dataclasses.field(default_factory=list)
    total_message_count: int = 0
    commit_count: int = 0
    memories_extracted: dict[str, int] = dataclasses.field(
        default_factory=lambda: dict.fromkeys((*MEMORY_CATEGORIES, "total"), 0)
    )
    last_commit_at: str = ""
    llm_token_usage: dict[str, int] = dataclasses.field(
        default_factory=lambda: dict.fromkeys(LLM_USAGE_KEYS, 0)
    )
    embedding_tokens: int = 0
    pending_tokens: int = 0
    keep_recent_count: int = 0
    memory_policy: dict[str, t.Any] | None = None
    auto_commit_policy: dict[str, int] | None = None
    memory_extraction_config: dict[str, t.Any] = dataclasses.field(
        default_factory=lambda: {"events": {"tags": []}}
    )
    last_message_at: str = ""
    last_auto_commit_at: str = ""
    last_idle_commit_accepted_at: str = ""
    retention_mode: str = ""
    keep_recent_turn_count: int = 0
    retained_message_token_budget: int = 0
    min_raw_tail_steps: int = 1
    archives: list[Archive] = dataclasses.field(default_factory=list)
    #: The next commit's phase 2 outcome, when a test scripted it.
    script: CommitScript | None = None
    #: The task of an automatic commit still in flight (at most one per session).
    auto_commit_task: str | None = None

    @property
    def uri(self) -> str:
        """The session's ``viking://`` URI."""
        return f"viking://user/{self.owner.user_id}/sessions/{self.session_id}"

    @property
    def message_count(self) -> int:
        """Live messages."""
        return len(self.messages)


@dataclasses.dataclass
class Archive:
    """Messages moved out of the live list by one commit, and what phase 2 made of them."""

    archive_id: str
    messages: list[Message]
    task_id: str
    #: ``pending`` until phase 2 ends, then ``completed`` or ``failed``.
    status: str = "pending"
    abstract: str = ""
    overview: str = ""

    @property
    def tokens(self) -> int:
        """Estimated tokens of the archived messages."""
        return sum(m.tokens for m in self.messages)


@dataclasses.dataclass
class _State:
    root_key: str | None = None
    users: dict[tuple[str, str], UserRecord] = dataclasses.field(default_factory=dict)
    #: account id -> creation time (the real server always has a ``default`` account).
    accounts: dict[str, str] = dataclasses.field(default_factory=dict)
    keys: dict[str, UserRecord] = dataclasses.field(default_factory=dict)
    sessions: dict[Owner, dict[str, Session]] = dataclasses.field(default_factory=dict)
    tasks: dict[str, Task] = dataclasses.field(default_factory=dict)
    #: Messages (live and archived) each user stores, for the per-user cap.
    message_totals: dict[Owner, int] = dataclasses.field(default_factory=dict)
    #: Ids of the tasks not finished yet, oldest first.
    open_tasks: list[str] = dataclasses.field(default_factory=list)
    task_plan: TaskPlan = dataclasses.field(default_factory=TaskPlan)


class _Keep:
    """Marks a config field the request did not mention."""


KEEP: t.Final = _Keep()

#: The real server's auto-commit defaults (fields a policy leaves out).
AUTO_COMMIT_DEFAULTS: dict[str, int] = {
    "pending_token_threshold": 150000,
    "message_count_threshold": 100,
    "idle_timeout_seconds": 86400,
    "keep_recent_count": 0,
    "min_commit_interval_seconds": 0,
}


@t.overload
def effective_policy(policy: t.Mapping[str, int]) -> dict[str, int]: ...
@t.overload
def effective_policy(policy: None) -> None: ...
def effective_policy(policy: t.Mapping[str, int] | None) -> dict[str, int] | None:
    """A stored auto-commit policy with the real defaults filled in, or ``None``."""
    if policy is None:
        return None
    return {**AUTO_COMMIT_DEFAULTS, **policy}


#: Finished tasks kept for GET /api/v1/tasks; older ones are "not found or expired".
TASK_LIMIT = 10_000


@dataclasses.dataclass
class Limits:
    """Caps that keep a mock's memory bounded; exceeding one answers 429 RESOURCE_EXHAUSTED."""

    max_sessions_per_user: int | None = None
    max_messages_per_user: int | None = None


class SessionStore:
    """Thread-safe in-memory state with an explicit baseline to reset to."""

    def __init__(self, *, clock: Clock | None = None, seed: int | None = None) -> None:
        self.clock: Clock = clock or utc_now
        self._rng = random.Random(seed)
        self._lock = threading.RLock()
        self._state = self._empty_state()
        self._baseline = copy.deepcopy(self._state)
        self.limits = Limits()

    def _empty_state(self) -> _State:
        state = _State()
        state.accounts["default"] = message_timestamp(self.clock())
        return state

    @property
    def lock(self) -> threading.RLock:
        """Hold it to read several things as one consistent snapshot."""
        return self._lock

    @property
    def state(self) -> _State:
        """The live state (hold :attr:`lock` while reading it); ``snapshot.py`` serialises it."""
        return self._state

    def replace_state(self, state: _State, *, baseline: bool = False) -> None:
        """Swap in a whole state (an imported snapshot), optionally as the reset baseline."""
        with self._lock:
            self._state = state
            if baseline:
                self.mark_baseline()

    # -- baseline ---------------------------------------------------------------------

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

    # -- keys and accounts ------------------------------------------------------------

    @property
    def root_key(self) -> str | None:
        """The root key, if one is configured."""
        return self._state.root_key

    def set_root_key(self, key: str | None) -> None:
        """Configure (or remove) the root key."""
        with self._lock:
            self._state.root_key = key or None

    @property
    def auth_mode(self) -> str:
        """``api_key`` once any key exists, ``dev`` otherwise (as the real server decides)."""
        state = self._state
        return "api_key" if state.root_key or state.keys else "dev"

    def resolve_key(self, key: str) -> UserRecord | None:
        """The user a key belongs to, or ``None`` for an unknown key."""
        return self._state.keys.get(key)

    def account_exists(self, account_id: str) -> bool:
        """Whether the account was created."""
        return account_id in self._state.accounts

    def create_account(self, account_id: str, admin_user_id: str, *, key: str | None = None) -> UserRecord:
        """A new account with its first (admin) user."""
        with self._lock:
            if account_id in self._state.accounts:
                raise ApiError(
                    "ALREADY_EXISTS",
                    f"Account already exists: {account_id}",
                    {"resource": account_id, "type": "account"},
                )
            self._state.accounts[account_id] = message_timestamp(self.clock())
            return self._add_user(account_id, admin_user_id, "admin", key)

    def create_user(self, account_id: str, user_id: str, role: str = "user", *, key: str | None = None) -> UserRecord:
        """A new user in an existing account."""
        with self._lock:
            if (account_id, user_id) in self._state.users:
                raise ApiError(
                    "ALREADY_EXISTS",
                    f"User already exists: {user_id}",
                    {"resource": user_id, "type": "user"},
                )
            return self._add_user(account_id, user_id, role, key)

    def user_key(self, account_id: str, user_id: str, role: str = "user") -> str:
        """The key of a user, registering the account and user first if needed."""
        with self._lock:
            record = self._state.users.get((account_id, user_id))
            if record is not None:
                return record.key
            self._state.accounts.setdefault(account_id, message_timestamp(self.clock()))
            return self._add_user(account_id, user_id, role, None).key

    def users(self, account_id: str | None = None) -> list[UserRecord]:
        """Registered users, of one account or of all."""
        with self._lock:
            return [
                u for u in self._state.users.values()
                if account_id is None or u.account_id == account_id
            ]

    def accounts(self) -> dict[str, str]:
        """Account ids with their creation times, oldest first."""
        with self._lock:
            return dict(self._state.accounts)

    def _add_user(self, account_id: str, user_id: str, role: str, key: str | None) -> UserRecord:
        if key is None:
            key = self._new_key(account_id, user_id)
        elif key in self._state.keys or key == self._state.root_key:
            raise ValueError("this key is already in use")
        record = UserRecord(account_id, user_id, role, key)
        self._state.users[(account_id, user_id)] = record
        self._state.keys[key] = record
        return record

    def _new_key(self, account_id: str, user_id: str) -> str:
        def b64(text: str) -> str:
            return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

        return f"{b64(account_id)}.{b64(user_id)}.{self._rng.getrandbits(256):064x}"

    # -- sessions ---------------------------------------------------------------------

    def new_session_id(self) -> str:
        """A generated id in the real server's form, ``YYYYMMDD-HHMMSS-<16 hex>``."""
        with self._lock:
            return f"{self.clock():%Y%m%d-%H%M%S}-{self._rng.getrandbits(64):016x}"

    def create_session(
        self,
        owner: Owner,
        session_id: str | None = None,
        *,
        memory_policy: dict[str, t.Any] | None = None,
        auto_commit_policy: dict[str, int] | None = None,
        memory_extraction_config: dict[str, t.Any] | None = None,
    ) -> Session:
        """A new empty session; an id that exists for this owner is refused."""
        with self._lock:
            sid = session_id or self.new_session_id()
            sessions = self._state.sessions.setdefault(owner, {})
            if sid in sessions:
                raise already_exists(f"Session '{sid}' already exists")
            cap = self.limits.max_sessions_per_user
            if cap is not None and len(sessions) >= cap:
                raise ApiError(
                    "RESOURCE_EXHAUSTED",
                    f"Session limit reached: {owner.account_id}/{owner.user_id} already has {cap} sessions "
                    "(mockviking's max_sessions_per_user)",
                    {"limit": cap, "resource": "sessions"},
                )
            session = self._new_session(owner, sid)
            session.memory_policy = memory_policy
            session.auto_commit_policy = auto_commit_policy
            if memory_extraction_config is not None:
                session.memory_extraction_config = memory_extraction_config
            sessions[sid] = session
            return session

    def _new_session(self, owner: Owner, session_id: str) -> Session:
        now = self.clock()
        stamp = meta_timestamp(now)
        return Session(session_id, owner, stamp, stamp, now)

    def get_session(self, owner: Owner, session_id: str) -> Session | None:
        """The session, or ``None``."""
        return self._state.sessions.get(owner, {}).get(session_id)

    def get_or_create_session(self, owner: Owner, session_id: str) -> Session:
        """The session, created empty if it did not exist."""
        with self._lock:
            session = self.get_session(owner, session_id)
            if session is None:
                session = self.create_session(owner, session_id)
            return session

    def require_session(self, owner: Owner, session_id: str) -> Session:
        """The session, or the service layer's NOT_FOUND error."""
        session = self.get_session(owner, session_id)
        if session is None:
            raise session_not_found(session_id)
        return session

    def list_sessions(self, owner: Owner) -> list[Session]:
        """The owner's sessions, most recently changed first, as the real storage lists them.

        Its modification times have whole seconds; within a second, ids sort alphabetically
        regardless of case.
        """
        with self._lock:
            sessions = list(self._state.sessions.get(owner, {}).values())
        return sorted(
            sessions, key=lambda s: (-int(s.mod_time.timestamp()), s.session_id.lower())
        )

    def delete_session(self, owner: Owner, session_id: str) -> None:
        """Remove the session and all it holds."""
        with self._lock:
            session = self.require_session(owner, session_id)
            stored = len(session.messages) + sum(len(a.messages) for a in session.archives)
            totals = self._state.message_totals
            totals[owner] = max(0, totals.get(owner, 0) - stored)
            del self._state.sessions[owner][session_id]

    def add_messages(self, owner: Owner, session_id: str, drafts: t.Sequence[MessageDraft]) -> Session:
        """Append messages atomically, creating the session if needed."""
        with self._lock:
            cap = self.limits.max_messages_per_user
            total = self._state.message_totals.get(owner, 0)
            if cap is not None and total + len(drafts) > cap:
                raise ApiError(
                    "RESOURCE_EXHAUSTED",
                    f"Message limit reached: {owner.account_id}/{owner.user_id} stores {total} messages and "
                    f"may store {cap} (mockviking's max_messages_per_user)",
                    {"limit": cap, "resource": "messages"},
                )
            session = self.get_or_create_session(owner, session_id)
            self._state.message_totals[owner] = total + len(drafts)
            now = self.clock()
            default_created = message_timestamp(now)
            stored: list[tuple[MessageDraft, Message]] = []
            getrandbits, live = self._rng.getrandbits, session.messages
            append, keep, by_count = live.append, session.keep_recent_count, not session.retention_mode
            grouped = False
            for draft in drafts:
                # Positional, in Message's field order: this loop runs for every stored message.
                message = Message(
                    f"msg_{getrandbits(128):032x}",
                    draft.role,
                    draft.parts,
                    draft.created_at if draft.created_at is not None else default_created,
                    draft.peer_id,
                    draft.turn_id,
                    draft.message_kind,
                    draft.source_message_ids,
                    draft.tokens,
                )
                append(message)
                stored.append((draft, message))
                grouped = grouped or draft.grouped
                if by_count and len(live) > keep:
                    # The message pushed out of the keep window starts to count.
                    session.pending_tokens += live[-1 - keep].tokens
            if grouped:
                fill_group_ids(stored)
            if session.retention_mode:
                session.pending_tokens = _turn_mode_pending(session)
            session.total_message_count += len(drafts)
            if drafts:
                stamp = meta_of_message_timestamp(default_created)
                session.last_message_at = stamp
                session.updated_at = stamp
            session.mod_time = now
            return session

    # -- commits and tasks -------------------------------------------------------------

    def set_task_plan(self, plan: TaskPlan) -> None:
        """Decide how commit tasks created from now on finish."""
        with self._lock:
            self._state.task_plan = plan

    def script_next_commit(self, owner: Owner, session_id: str, script: CommitScript) -> None:
        """Make the next commit of a session fail, or extract given counts, in phase 2."""
        with self._lock:
            self.require_session(owner, session_id).script = script

    def commit(
        self,
        owner: Owner,
        session_id: str,
        keep_recent_count: int = 0,
        *,
        retention: t.Mapping[str, t.Any] | None = None,
    ) -> dict[str, t.Any]:
        """Phase 1 of a commit: archive the live messages but the kept tail, start phase 2.

        Returns the real server's commit result (``accepted`` or ``skipped``).
        """
        with self._lock:
            session = self.require_session(owner, session_id)
            self._settle()
            session.keep_recent_count = keep_recent_count
            mode = (retention or {}).get("retention_mode") or ""
            session.retention_mode = mode
            if mode:
                session.keep_recent_turn_count = _or(retention, "keep_recent_turn_count", 3)
                session.retained_message_token_budget = _or(retention, "retained_message_token_budget", 12000)
                session.min_raw_tail_steps = _or(retention, "min_raw_tail_steps", 1)
            base = {
                "session_id": session_id,
                "status": "skipped",
                "task_id": None,
                "archive_uri": None,
                "archived": False,
                "effective_enable_working_memory": False,
            }
            session.pending_tokens = 0
            if not session.messages:
                return {**base, "reason": "no_messages", "trace_id": ""}
            keep = _window_size(session)
            estimated = sum(m.tokens for m in session.messages[len(session.messages) - keep:]) if mode else 0
            if keep >= len(session.messages):
                return {**base, "reason": "all_within_keep_window", "trace_id": "",
                        "estimated_active_tokens": estimated, "budget_exceeded": False}

            split = len(session.messages) - keep
            archived, session.messages = session.messages[:split], session.messages[split:]
            index = max(session.commit_count, len(session.archives)) + 1
            archive_id = f"archive_{index:03d}"
            now = self.clock()
            task = Task(
                task_id=self._uuid(),
                owner=owner,
                resource_id=session_id,
                archive_id=archive_id,
                created=now,
                plan=self._state.task_plan,
                script=session.script or CommitScript(),
            )
            session.script = None
            session.archives.append(Archive(archive_id, archived, task.task_id))
            session.commit_count = index
            stamp = meta_timestamp(now)
            session.last_commit_at = stamp
            session.updated_at = stamp
            session.mod_time = now
            self._state.tasks[task.task_id] = task
            self._state.open_tasks.append(task.task_id)
            self._forget_old_tasks()
            self._settle()
            return {
                "session_id": session_id,
                "status": "accepted",
                "task_id": task.task_id,
                "archive_uri": f"{session.uri}/history/{archive_id}",
                "archived": True,
                "effective_enable_working_memory": False,
                "trace_id": "",
                "estimated_active_tokens": estimated,
                "budget_exceeded": False,
            }

    def maybe_auto_commit(self, owner: Owner, session_id: str) -> None:
        """After a write: commit when the session's policy thresholds are crossed."""
        with self._lock:
            session = self.require_session(owner, session_id)
            policy = session.auto_commit_policy
            if policy is None or not session.messages:
                return
            self._settle()
            if session.auto_commit_task is not None:
                task = self._state.tasks.get(session.auto_commit_task)
                if task is not None and not task.terminal:
                    return
            effective = effective_policy(policy)
            interval = effective["min_commit_interval_seconds"]
            now = self.clock()
            last = session.last_auto_commit_at
            if interval and last and (now - parse_timestamp(last)).total_seconds() < interval:
                return
            over_tokens = session.pending_tokens > effective["pending_token_threshold"]
            over_count = session.message_count > effective["message_count_threshold"]
            if not (over_tokens or over_count):
                return
            result = self.commit(owner, session_id, effective["keep_recent_count"])
            if result["status"] == "accepted":
                session.last_auto_commit_at = meta_timestamp(now)
                session.auto_commit_task = result["task_id"]

    def run_idle_commits(self) -> list[dict[str, t.Any]]:
        """Commit every session idle longer than its policy's ``idle_timeout_seconds``.

        The real server does this from a background scanner when enabled; mockviking does it
        when its clock is advanced (or when asked), so tests decide when idleness is noticed.
        """
        with self._lock:
            now = self.clock()
            results = []
            for owner, sessions in self._state.sessions.items():
                for session in sessions.values():
                    policy = effective_policy(session.auto_commit_policy)
                    timeout = policy["idle_timeout_seconds"] if policy else 0
                    if not timeout or not session.messages or not session.last_message_at:
                        continue
                    if (now - parse_timestamp(session.last_message_at)).total_seconds() < timeout:
                        continue
                    assert policy is not None
                    result = self.commit(owner, session.session_id, policy["keep_recent_count"])
                    if result["status"] == "accepted":
                        session.last_idle_commit_accepted_at = meta_timestamp(now)
                        results.append(result)
            return results

    def get_task(self, task_id: str, owner: Owner | None, *, poll: bool = False) -> Task | None:
        """A task visible to ``owner`` (``None``: every task, as root sees them)."""
        with self._lock:
            task = self._state.tasks.get(task_id)
            if task is None or (owner is not None and task.owner != owner):
                return None
            if poll and not task.terminal:
                task.polls_seen += 1
            self._settle()
            return task

    def list_tasks(
        self,
        owner: Owner | None,
        *,
        task_type: str | None = None,
        status: str | None = None,
        resource_id: str | None = None,
        limit: int = 50,
    ) -> list[Task]:
        """Tasks visible to ``owner``, newest first, filtered."""
        with self._lock:
            self._settle()
            found = [
                task for task in reversed(self._state.tasks.values())
                if (owner is None or task.owner == owner)
                and (task_type is None or task.task_type == task_type)
                and (status is None or task.status == status)
                and (resource_id is None or task.resource_id == resource_id)
            ]
            return found[:limit]

    def release_tasks(self, task_id: str | None = None) -> int:
        """Let tasks waiting for release finish (one, or all); returns how many were released."""
        with self._lock:
            released = 0
            for open_id in list(self._state.open_tasks):
                task = self._state.tasks[open_id]
                if task_id in (None, open_id) and task.plan.mode == "release" and not task.released:
                    task.released = True
                    released += 1
            self._settle()
            return released

    def cancel_task(self, task: Task) -> None:
        """Cancel an unfinished task; its archive is then never readable."""
        with self._lock:
            if task.terminal:
                raise ApiError("FAILED_PRECONDITION", f"Task is already {task.status}")
            task.finish("cancelled", self.clock(), error="Task cancelled")
            self._close_task(task, "failed")

    def settle(self) -> None:
        """Finish every task whose plan says it is due (reads do this on their own)."""
        with self._lock:
            self._settle()

    def _settle(self) -> None:
        if not self._state.open_tasks:
            return
        now = self.clock()
        for task_id in list(self._state.open_tasks):
            task = self._state.tasks[task_id]
            if task.terminal:
                self._state.open_tasks.remove(task_id)
            elif task.due(now):
                self._run_phase_two(task, now)
            elif task.status == "pending" and (task.polls_seen or task.plan.mode != "polls"):
                task.status = "running"
                task.updated = now

    def _run_phase_two(self, task: Task, now: dt.datetime) -> None:
        session = self.get_session(task.owner, task.resource_id)
        archive = _find_archive(session, task.archive_id) if session else None
        if session is None or archive is None:
            task.finish("failed", now, error=f"Session not found: {task.resource_id}")
            self._close_task(task, "failed")
            return
        if task.script.fail is not None:
            task.finish("failed", now, error=task.script.fail)
            self._close_task(task, "failed")
            return
        archive.abstract = extractor.abstract_for(archive.archive_id, archive.messages)
        archive.overview = extractor.overview_for(archive.archive_id, archive.messages)
        found = extractor.extract(archive.messages, archive.overview)
        counts = dict(found.counts)
        if task.script.memories is not None:
            counts = {**dict.fromkeys(extractor.CATEGORIES, 0), **task.script.memories}
        usage = dict(found.llm_usage)
        if task.script.llm_usage is not None:
            usage = {**dict.fromkeys(LLM_USAGE_KEYS, 0), **task.script.llm_usage}
            if "total_tokens" not in task.script.llm_usage:
                usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        memories = dict(session.memories_extracted)
        for category, count in counts.items():
            memories[category] = memories.get(category, 0) + count
        memories["total"] = memories.get("total", 0) + sum(counts.values())
        session.memories_extracted = memories
        session.llm_token_usage = {
            key: session.llm_token_usage.get(key, 0) + usage.get(key, 0) for key in LLM_USAGE_KEYS
        }
        session.embedding_tokens += found.embedding_tokens
        stamp = meta_timestamp(now)
        session.last_commit_at = stamp
        session.updated_at = stamp
        llm = dict(session.llm_token_usage)
        task.finish("completed", now, result={
            "session_id": session.session_id,
            "archive_uri": f"{session.uri}/history/{archive.archive_id}",
            "memories_extracted": {**counts, "total": sum(counts.values())},
            "session_skills_extracted": 0,
            "session_skill_uris": [],
            "usage_events_extracted": 0,
            "active_count_updated": 0,
            "effective_memory_types": list(extractor.CATEGORIES),
            "agent_evolution_enabled": False,
            "agent_memory_skip_reason": "",
            "token_usage": {
                "llm": llm,
                "embedding": {"total_tokens": session.embedding_tokens},
                "total": {
                    "total_tokens": llm["total_tokens"] + session.embedding_tokens,
                    "cached_tokens": llm["cached_tokens"],
                    "reasoning_tokens": llm["reasoning_tokens"],
                },
            },
        })
        self._close_task(task, "completed")

    def _close_task(self, task: Task, archive_status: str) -> None:
        session = self.get_session(task.owner, task.resource_id)
        archive = _find_archive(session, task.archive_id) if session else None
        if archive is not None:
            archive.status = archive_status
        if task.task_id in self._state.open_tasks:
            self._state.open_tasks.remove(task.task_id)

    def _forget_old_tasks(self) -> None:
        tasks = self._state.tasks
        if len(tasks) <= TASK_LIMIT:
            return
        for task_id in [tid for tid, task in tasks.items() if task.terminal][: len(tasks) - TASK_LIMIT]:
            del tasks[task_id]

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    # -- reading archives and context -----------------------------------------------------

    def get_archive(self, owner: Owner, session_id: str, archive_id: str) -> Archive | None:
        """A completed archive, or ``None`` (unknown, unfinished or failed)."""
        with self._lock:
            session = self.require_session(owner, session_id)
            self._settle()
            archive = _find_archive(session, archive_id)
            return archive if archive is not None and archive.status == "completed" else None

    def context(self, owner: Owner, session_id: str, token_budget: int) -> dict[str, t.Any]:
        """The session context the real server assembles: overview, messages, stats."""
        with self._lock:
            session = self.require_session(owner, session_id)
            self._settle()
            return assemble_context(session, token_budget)

    def update_config(
        self,
        owner: Owner,
        session_id: str,
        *,
        auto_commit_policy: t.Mapping[str, int] | None | _Keep = KEEP,
        memory_extraction_config: dict[str, t.Any] | _Keep = KEEP,
    ) -> Session:
        """Merge a config change: a policy object merges field by field; ``None`` disables."""
        with self._lock:
            session = self.get_session(owner, session_id)
            if session is None:
                raise session_not_found_route(session_id)
            if not isinstance(auto_commit_policy, _Keep):
                if auto_commit_policy is None:
                    session.auto_commit_policy = None
                else:
                    session.auto_commit_policy = {**(session.auto_commit_policy or {}), **auto_commit_policy}
            if not isinstance(memory_extraction_config, _Keep):
                session.memory_extraction_config = memory_extraction_config
            now = self.clock()
            session.updated_at = meta_timestamp(now)
            session.mod_time = now
            return session

    def set_counters(self, owner: Owner, session_id: str, **counters: t.Any) -> Session:
        """Overwrite a session's counters (fixtures and tests use this to seed history)."""
        with self._lock:
            session = self.require_session(owner, session_id)
            for name, value in counters.items():
                if name == "memories_extracted":
                    merged = dict(session.memories_extracted)
                    merged.update(value)
                    if "total" not in value:
                        merged["total"] = sum(v for k, v in merged.items() if k != "total")
                    session.memories_extracted = merged
                elif name == "llm_token_usage":
                    session.llm_token_usage = {**session.llm_token_usage, **value}
                elif name in _SETTABLE_COUNTERS:
                    setattr(session, name, value)
                else:
                    raise ValueError(f"unknown session counter {name!r}")
            return session


def _or(values: t.Mapping[str, t.Any] | None, name: str, default: int) -> int:
    value = (values or {}).get(name)
    return default if value is None else int(value)


def _find_archive(session: Session | None, archive_id: str) -> Archive | None:
    if session is None:
        return None
    return next((a for a in session.archives if a.archive_id == archive_id), None)


def _turn_starts(messages: t.Sequence[Message]) -> list[int]:
    """Indexes where a logical turn starts: each user message (and the very first message)."""
    return [i for i, m in enumerate(messages) if i == 0 or m.role == "user"]


def _window_size(session: Session) -> int:
    """How many of the newest live messages the session keeps out of commits and pending tokens.

    Plain mode keeps ``keep_recent_count`` messages. Turn mode keeps the last
    ``keep_recent_turn_count`` turns (a turn starts at a user message) while they fit in
    ``retained_message_token_budget``, and at least ``min_raw_tail_steps`` messages.
    """
    messages = session.messages
    if not session.retention_mode:
        return min(session.keep_recent_count, len(messages))
    starts = _turn_starts(messages)
    turns = session.keep_recent_turn_count
    if turns <= 0 or not starts:
        kept = 0
    else:
        first = starts[-turns] if turns <= len(starts) else 0
        kept = len(messages) - first
        while kept > 0 and sum(m.tokens for m in messages[len(messages) - kept:]) > (
            session.retained_message_token_budget
        ):
            later = [s for s in starts if s > len(messages) - kept]
            kept = len(messages) - later[0] if later else 0
    return min(len(messages), max(kept, session.min_raw_tail_steps))


def _turn_mode_pending(session: Session) -> int:
    keep = _window_size(session)
    return sum(m.tokens for m in session.messages[: len(session.messages) - keep])


def assemble_context(session: Session, token_budget: int) -> dict[str, t.Any]:
    """Overview of the newest finished archive, then unfinished archives' and live messages.

    Messages come oldest first; when they do not fit the budget the oldest are dropped.
    The overview comes only from a completed archive, and only if it fits what remains.
    """
    terminal = [a for a in session.archives if a.status != "pending"]
    newest_terminal = terminal[-1] if terminal else None
    after = session.archives.index(newest_terminal) + 1 if newest_terminal else 0
    pending = [m for a in session.archives[after:] for m in a.messages]
    candidates = pending + session.messages
    chosen: list[Message] = []
    used = 0
    for message in reversed(candidates):
        if used + message.tokens > token_budget:
            break
        chosen.append(message)
        used += message.tokens
    chosen.reverse()
    overview = ""
    archive_tokens = 0
    if newest_terminal is not None and newest_terminal.status == "completed":
        overview_tokens = estimate_text_tokens(newest_terminal.overview)
        if used + overview_tokens <= token_budget:
            overview, archive_tokens = newest_terminal.overview, overview_tokens
    failed = 1 if newest_terminal is not None and newest_terminal.status == "failed" else 0
    return {
        "latest_archive_overview": overview,
        "pre_archive_abstracts": [],
        "messages": [m.to_dict() for m in chosen],
        "estimatedTokens": used + archive_tokens,
        "stats": {
            "totalArchives": len(session.archives),
            "includedArchives": 0,
            "droppedArchives": len(session.archives) - failed,
            "failedArchives": failed,
            "activeTokens": used,
            "archiveTokens": archive_tokens,
        },
    }


_SETTABLE_COUNTERS = frozenset({
    "commit_count", "last_commit_at", "embedding_tokens", "pending_tokens", "total_message_count",
    "keep_recent_count", "created_at", "updated_at", "last_message_at", "last_auto_commit_at",
})
