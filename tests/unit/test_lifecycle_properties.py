"""Store invariants under random sequences of appends and commits."""

from __future__ import annotations

import threading

from hypothesis import given, settings
from hypothesis import strategies as st

from mockviking.domain.extractor import extract
from mockviking.domain.messages import drafts_from_request
from mockviking.domain.owners import Owner
from mockviking.domain.store import SessionStore
from mockviking.domain.tasks import CommitScript, TaskPlan

OWNER = Owner("acme", "alice")

append = st.tuples(st.just("append"), st.lists(st.text(max_size=30), min_size=1, max_size=4))
commit = st.tuples(st.just("commit"), st.integers(min_value=0, max_value=4))
turn_commit = st.tuples(st.just("turns"), st.integers(min_value=0, max_value=3))
steps = st.lists(st.one_of(append, commit, turn_commit), max_size=25)
roles = st.sampled_from(["user", "assistant"])


def drafts(texts: list[str], role: str = "user") -> list:  # type: ignore[type-arg]
    return [d for text in texts for d in drafts_from_request({"role": role, "content": text})]


@settings(max_examples=80, deadline=None)
@given(steps=steps, mode=st.sampled_from(["immediate", "release"]))
def test_counters_and_archives_stay_consistent(steps: list[tuple[str, object]], mode: str) -> None:
    store = SessionStore(seed=0)
    store.set_task_plan(TaskPlan(mode=mode))
    store.create_session(OWNER, "s")
    appended = accepted = 0
    for kind, arg in steps:
        if kind == "append":
            texts = list(arg)  # type: ignore[call-overload]
            store.add_messages(OWNER, "s", drafts(texts, "user" if appended % 2 == 0 else "assistant"))
            appended += len(texts)
        else:
            retention = {"retention_mode": "turn_budget", "keep_recent_turn_count": arg} if kind == "turns" else None
            result = store.commit(OWNER, "s", 0 if kind == "turns" else int(arg), retention=retention)  # type: ignore[call-overload]
            accepted += result.accepted
            assert store.get_session(OWNER, "s").pending_tokens == 0  # type: ignore[union-attr]
        session = store.get_session(OWNER, "s")
        assert session is not None
        archived = [m for a in session.archives for m in a.messages]
        ids = [m.id for m in archived] + [m.id for m in session.messages]
        assert len(ids) == len(set(ids)) == appended == session.total_message_count
        assert session.commit_count == accepted == len(session.archives)
        assert all(a.messages for a in session.archives)
        if not session.retention_mode:
            outside = session.messages[: max(0, len(session.messages) - session.keep_recent_count)]
            assert session.pending_tokens == sum(m.tokens for m in outside)
        if mode == "immediate":
            assert all(a.status == "completed" for a in session.archives)
            assert session.memories_extracted["total"] == sum(
                v for k, v in session.memories_extracted.items() if k != "total")


def test_commits_racing_with_appends_archive_each_message_once() -> None:
    store = SessionStore(seed=0)
    store.create_session(OWNER, "s")
    stop = threading.Event()

    def writer() -> None:
        for i in range(400):
            store.add_messages(OWNER, "s", drafts([f"m{i}"]))
        stop.set()

    def committer() -> None:
        while not stop.is_set():
            store.commit(OWNER, "s", 1)

    threads = [threading.Thread(target=writer), threading.Thread(target=committer)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    session = store.get_session(OWNER, "s")
    assert session is not None
    texts = [m.parts[0]["text"] for a in session.archives for m in a.messages] + [
        m.parts[0]["text"] for m in session.messages]
    assert texts == [f"m{i}" for i in range(400)]  # nothing lost, nothing twice, order kept


def test_extractor_rules() -> None:
    store = SessionStore(seed=0)
    conversation = [
        {"role": "user", "content": "Hi, I'm Sam. I love hiking and I always plan ahead."},
        {"role": "assistant", "content": "Great!"},
        {"role": "user", "content": "The deadline is 2026-04-01. Can you help?"},
        {"role": "assistant", "parts": [
            {"type": "text", "text": "Yes, today."},
            {"type": "tool", "tool_id": "c1", "tool_name": "calendar", "skill_uri": "viking://agent/skills/plan"},
            {"type": "context", "uri": "viking://resources/docs/plan"}]},
    ]
    for message in conversation:
        store.add_messages(OWNER, "s", drafts_from_request(message))
    session = store.get_session(OWNER, "s")
    assert session is not None
    found = extract(session.messages, overview="")
    assert found.counts == {"profile": 1, "preferences": 1, "entities": 1, "events": 2, "cases": 1,
                            "patterns": 1, "tools": 1, "skills": 1}
    assert found.llm_usage["prompt_tokens"] == 100 + sum(m.tokens for m in session.messages)
    assert found == extract(session.messages, overview="")  # deterministic


def test_scripted_commit_applies_once() -> None:
    store = SessionStore(seed=0)
    store.add_messages(OWNER, "s", drafts(["a"]))
    store.script_next_commit(OWNER, "s", CommitScript(fail="nope"))
    first = store.commit(OWNER, "s")
    store.add_messages(OWNER, "s", drafts(["b"]))
    second = store.commit(OWNER, "s")
    assert store.get_task(first.task_id or "", OWNER).status == "failed"  # type: ignore[union-attr]
    assert store.get_task(second.task_id or "", OWNER).status == "completed"  # type: ignore[union-attr]
