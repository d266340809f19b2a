"""The store keeps its counters right without ever re-scanning messages."""

from __future__ import annotations

import datetime as dt
import re
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockviking.domain.clock import message_timestamp, meta_of_message_timestamp, meta_timestamp
from mockviking.domain.errors import DomainError
from mockviking.domain.messages import drafts_from_request
from mockviking.domain.owners import Owner
from mockviking.domain.store import SessionStore
from mockviking.domain.tokens import estimate_parts_tokens

ALICE = Owner("acme", "alice")
BOB = Owner("acme", "bob")
FIXED = dt.datetime(2026, 3, 23, 2, 0, 0, 123456, tzinfo=dt.timezone.utc)


def fixed_clock() -> dt.datetime:
    return FIXED


def drafts(*texts: str) -> list:  # type: ignore[type-arg]
    return [d for text in texts for d in drafts_from_request({"role": "user", "content": text})]


def test_generated_ids_and_timestamps_are_reproducible_with_a_seed() -> None:
    one = SessionStore(clock=fixed_clock, seed=3)
    two = SessionStore(clock=fixed_clock, seed=3)
    assert one.new_session_id() == two.new_session_id()
    assert re.fullmatch(r"20260323-020000-[0-9a-f]{16}", one.new_session_id())
    session = one.add_messages(ALICE, "s", drafts("hello"))
    assert re.fullmatch(r"msg_[0-9a-f]{32}", session.messages[0].id)
    assert session.messages[0].created_at == "2026-03-23T02:00:00.123456+00:00"
    assert session.created_at == meta_timestamp(FIXED) == "2026-03-23T02:00:00.123Z"


def test_add_messages_creates_and_counts() -> None:
    store = SessionStore()
    session = store.add_messages(ALICE, "s1", drafts("How do I authenticate users?", "abcd"))
    assert (session.message_count, session.total_message_count, session.pending_tokens) == (2, 2, 8)
    assert session.last_message_at == session.updated_at
    assert store.get_session(BOB, "s1") is None  # isolated per (account, user)


def test_duplicate_create_is_refused_per_owner() -> None:
    store = SessionStore()
    store.create_session(ALICE, "s1")
    with pytest.raises(DomainError) as caught:
        store.create_session(ALICE, "s1")
    assert caught.value.code == "ALREADY_EXISTS"
    assert caught.value.message == "Resource already exists: Session 's1' already exists"
    store.create_session(BOB, "s1")  # another user may own the same id


def test_delete_missing_session() -> None:
    store = SessionStore()
    with pytest.raises(DomainError) as caught:
        store.delete_session(ALICE, "nope")
    assert caught.value.details == {"type": "session", "resource": "nope"}


def test_keep_window_excludes_the_newest_messages_from_pending_tokens() -> None:
    store = SessionStore()
    store.create_session(ALICE, "s")
    store.set_counters(ALICE, "s", keep_recent_count=2)
    session = store.add_messages(ALICE, "s", drafts("a" * 4, "b" * 8))
    assert session.pending_tokens == 0  # both inside the window
    session = store.add_messages(ALICE, "s", drafts("c" * 12))
    assert session.pending_tokens == 1  # "aaaa" left the window


def test_reset_returns_to_the_baseline_and_clear_empties() -> None:
    store = SessionStore()
    store.user_key("acme", "alice")
    store.add_messages(ALICE, "seeded", drafts("x"))
    store.mark_baseline()
    store.add_messages(ALICE, "later", drafts("y"))
    store.add_messages(ALICE, "seeded", drafts("z"))
    store.reset()
    assert [s.session_id for s in store.list_sessions(ALICE)] == ["seeded"]
    assert store.get_session(ALICE, "seeded").message_count == 1  # type: ignore[union-attr]
    store.clear()
    assert store.list_sessions(ALICE) == []
    assert store.users() == []
    assert list(store.accounts()) == ["default"]


def test_keys_look_like_the_real_servers_and_resolve() -> None:
    store = SessionStore(seed=1)
    record = store.create_account("acct1", "alice")
    assert record.key.startswith("YWNjdDE.YWxpY2U.")
    assert store.resolve_key(record.key) == record
    assert store.auth_mode == "api_key"
    with pytest.raises(DomainError, match="Account already exists: acct1"):
        store.create_account("acct1", "zed")
    with pytest.raises(DomainError, match="User already exists: alice"):
        store.create_user("acct1", "alice")


def test_concurrent_appends_lose_nothing() -> None:
    store = SessionStore()

    def worker(n: int) -> None:
        for i in range(200):
            store.add_messages(ALICE, "shared", drafts(f"message {n}-{i}"))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    session = store.get_session(ALICE, "shared")
    assert session is not None
    assert session.message_count == session.total_message_count == 1600
    assert len({m.id for m in session.messages}) == 1600
    assert session.pending_tokens == sum(m.tokens for m in session.messages)


texts = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)


@settings(max_examples=60, deadline=None)
@given(
    keep=st.integers(min_value=0, max_value=5),
    batches=st.lists(st.lists(texts, max_size=6), max_size=8),
)
def test_counters_match_a_recomputation(keep: int, batches: list[list[str]]) -> None:
    store = SessionStore()
    store.create_session(ALICE, "s")
    store.set_counters(ALICE, "s", keep_recent_count=keep)
    added = 0
    for batch in batches:
        session = store.add_messages(ALICE, "s", drafts(*batch))
        added += len(batch)
    session = store.get_session(ALICE, "s")
    assert session is not None
    outside = session.messages[: max(0, len(session.messages) - keep)]
    assert session.message_count == added == session.total_message_count
    assert session.pending_tokens == sum(estimate_parts_tokens(m.parts) for m in outside)
    assert len({m.id for m in session.messages}) == added


ZONES = st.sampled_from([dt.timezone.utc, dt.timezone(dt.timedelta(hours=-5))])


@given(st.datetimes(dt.datetime(1000, 1, 1), dt.datetime(9000, 1, 1), timezones=ZONES)
                  | st.sampled_from([dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc),
                                     dt.datetime(2026, 1, 1, 0, 0, 0, 999999, tzinfo=dt.timezone.utc)]))
def test_session_stamp_from_message_stamp(moment: dt.datetime) -> None:
    assert meta_of_message_timestamp(message_timestamp(moment)) == meta_timestamp(moment)


def test_the_store_stores_policies_as_the_real_server_does() -> None:
    """Policies are normalised in the store, so the handle and every other way in get the API's rules."""
    store = SessionStore()
    owner = Owner("default", "alice")
    session = store.create_session(
        owner, "p",
        auto_commit_policy={"idle_timeout_seconds": 10**9, "keep_recent_count": -3},
        memory_policy={"self": {"enabled": "off"}},
        memory_extraction_config={"events": {"tags": [" Team=Core ", "bad", "team=infra"]}},
    )
    assert session.auto_commit_policy == {"idle_timeout_seconds": 604800, "keep_recent_count": 0}
    assert session.memory_policy == {"self": {"enabled": False}, "peer": {"enabled": True},
                                     "working_memory": {"enabled": False}}
    assert session.memory_extraction_config == {"events": {"tags": ["team=infra"]}}
    store.update_config(owner, "p", auto_commit_policy={"message_count_threshold": 5000})
    assert session.auto_commit_policy["message_count_threshold"] == 1000
