"""The session lifecycle driven by the official Python SDK (openviking-sdk 0.1.17), live.

Commit, background task, archive, context, config and automatic commit, against the shared
``mockviking serve`` (bundled fixtures: commit tasks complete before the commit answers).
The expected memory counts and token usage are computed here by hand from the extraction
rules documented in ``mockviking/domain/extractor.py``, never by calling mockviking's own code.
Every test uses its own uuid-based session ids.
"""

from __future__ import annotations

import math
import re
import typing as t
import uuid

import pytest
from openviking_sdk import ContextPart, TextPart
from openviking_sdk.errors import InvalidArgumentError, NotFoundError

Client = t.Any  # openviking_sdk.SyncHTTPClient (untyped)

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
MS_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
CATEGORIES = ("profile", "preferences", "entities", "events", "cases", "patterns", "tools", "skills")
LLM_KEYS = ("prompt_tokens", "completion_tokens", "total_tokens", "cached_tokens", "reasoning_tokens")

# The extraction's documented constants.
PROMPT_OVERHEAD = 100
TOKENS_PER_MEMORY = 20

CONTEXT_URI = "viking://resources/docs/style/"
# The real server stores a context URI without its trailing slash (see the parity capture).
STORED_URI = "viking://resources/docs/style"
CONTEXT_ABSTRACT = "Style guide"

# The first conversation: (role, text) in order; message 4 also carries a context part.
FIRST = [
    ("user", "My name is Dana and I work at Acme."),  # profile (one sentence: one memory)
    ("assistant", "Nice to meet you, Dana."),
    ("user", "I prefer short answers."),  # preferences
    ("assistant", "Noted."),  # + context part -> entities
    ("user", "How do I rotate keys?"),  # a question ...
    ("assistant", "Use the rotate command."),  # ... answered -> cases
    ("user", "Thanks, that helps."),  # kept by keep_recent_count=2
    ("assistant", "You are welcome."),  # kept
]
KEEP = 2
FIRST_COUNTS = {
    "profile": 1, "preferences": 1, "entities": 1, "events": 0,
    "cases": 1, "patterns": 0, "tools": 0, "skills": 0,
}
FIRST_MEMORY_ABSTRACTS = [
    "My name is Dana and I work at Acme.",
    "I prefer short answers.",
    STORED_URI,
    "How do I rotate keys? -> Use the rotate command.",
]

# Added after the first commit; the second commit (keep 0) archives them with the kept two.
SECOND = [
    ("user", "We have a meeting tomorrow."),  # events (one sentence: one memory)
    ("user", "I always write tests first."),  # patterns
]
SECOND_COUNTS = {
    "profile": 0, "preferences": 0, "entities": 0, "events": 1,
    "cases": 0, "patterns": 1, "tools": 0, "skills": 0,
}
SECOND_MEMORY_ABSTRACTS = ["We have a meeting tomorrow.", "I always write tests first."]


def new_id(prefix: str = "life") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def tokens(text: str) -> int:
    """The estimate of ASCII text: a quarter token per character, rounded up."""
    assert text.isascii()
    return math.ceil(len(text) / 4)


def message_tokens(index: int) -> int:
    """Tokens of FIRST[index] as sent (message 3's context abstract counts too)."""
    text = FIRST[index][1]
    return tokens(text + CONTEXT_ABSTRACT) if index == 3 else tokens(text)


def with_total(counts: dict[str, int]) -> dict[str, int]:
    return {**counts, "total": sum(counts.values())}


def expected_overview(archive_id: str, lines: t.Sequence[tuple[str, str]]) -> str:
    return "\n".join([f"# {archive_id}", "", *(f"- {role}: {text}" for role, text in lines)])


def usage(archived_tokens: int, memories: int, overview: str) -> dict[str, int]:
    prompt = PROMPT_OVERHEAD + archived_tokens
    completion = TOKENS_PER_MEMORY * memories + tokens(overview)
    return {
        "prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion,
        "cached_tokens": 0, "reasoning_tokens": 0,
    }


def add_first_conversation(client: Client, session_id: str) -> None:
    for index, (role, text) in enumerate(FIRST):
        if index == 3:
            parts = [
                TextPart(text=text),
                ContextPart(uri=CONTEXT_URI, context_type="resource", abstract=CONTEXT_ABSTRACT),
            ]
            client.add_message(session_id, role, parts=parts)
        else:
            client.add_message(session_id, role, text)


def texts_of(messages: t.Sequence[dict[str, t.Any]]) -> list[tuple[str, str]]:
    """(role, first text part) of each message, as the server returns them."""
    return [(m["role"], m["parts"][0]["text"]) for m in messages]


# -- the full lifecycle: commit, task, archive, context, second commit ------------------------


def test_commit_task_archive_context_and_second_commit(alice: Client, bob: Client) -> None:
    session_id = new_id()
    alice.create_session(session_id)
    add_first_conversation(alice, session_id)

    before = alice.get_session(session_id)
    all_tokens = sum(message_tokens(i) for i in range(len(FIRST)))
    assert before["message_count"] == len(FIRST)
    assert before["total_message_count"] == len(FIRST)
    assert before["pending_tokens"] == all_tokens
    assert before["commit_count"] == 0
    assert before["last_commit_at"] == ""
    # The live messages, with their ids: after the commit they split into archive and tail.
    live_before = alice.get_session_context(session_id)["messages"]
    assert texts_of(live_before) == FIRST
    assert live_before[3]["parts"][1] == {
        "type": "context", "uri": STORED_URI, "context_type": "resource",
        "abstract": CONTEXT_ABSTRACT,
    }

    # -- the first commit ------------------------------------------------------------------
    commit = alice.commit_session(session_id, keep_recent_count=KEEP)
    task_id = commit["task_id"]
    assert isinstance(task_id, str)
    assert UUID4.match(task_id), task_id
    assert commit == {
        "session_id": session_id,
        "status": "accepted",
        "task_id": task_id,
        "archive_uri": f"viking://user/alice/sessions/{session_id}/history/archive_001",
        "archived": True,
        "effective_enable_working_memory": False,
        "trace_id": "",
        "estimated_active_tokens": 0,
        "budget_exceeded": False,
    }

    archived_lines = FIRST[: len(FIRST) - KEEP]
    overview_1 = expected_overview("archive_001", archived_lines)
    archived_tokens = sum(message_tokens(i) for i in range(len(archived_lines)))
    llm_1 = usage(archived_tokens, sum(FIRST_COUNTS.values()), overview_1)
    embedding_1 = sum(tokens(a) for a in FIRST_MEMORY_ABSTRACTS)

    after = alice.get_session(session_id)
    assert after["message_count"] == KEEP
    assert after["total_message_count"] == len(FIRST)
    assert after["commit_count"] == 1
    assert after["pending_tokens"] == 0
    assert after["keep_recent_count"] == KEEP
    assert MS_TIMESTAMP.match(after["last_commit_at"]), after["last_commit_at"]
    assert after["last_auto_commit_at"] == ""
    assert after["memories_extracted"] == with_total(FIRST_COUNTS)
    assert after["llm_token_usage"] == llm_1
    assert after["embedding_token_usage"] == {"total_tokens": embedding_1}

    # -- the task --------------------------------------------------------------------------
    task = alice.get_task(task_id)
    assert task is not None
    assert task["task_id"] == task_id
    assert task["status"] == "completed"
    assert task["task_type"] == "session_commit"
    assert task["resource_id"] == session_id
    assert task["error"] is None
    assert task["result"]["session_id"] == session_id
    assert task["result"]["archive_uri"] == commit["archive_uri"]
    assert task["result"]["memories_extracted"] == with_total(FIRST_COUNTS)
    assert task["result"]["token_usage"]["llm"] == llm_1
    assert task["result"]["token_usage"]["llm"] == after["llm_token_usage"]
    assert task["result"]["token_usage"]["embedding"] == {"total_tokens": embedding_1}
    assert task["result"]["token_usage"]["total"] == {
        "total_tokens": llm_1["total_tokens"] + embedding_1, "cached_tokens": 0,
        "reasoning_tokens": 0,
    }
    # Tasks are per user, and unknown ids are 404s (None for the SDK).
    assert bob.get_task(task_id) is None
    assert alice.get_task(str(uuid.uuid4())) is None

    # -- the archive -----------------------------------------------------------------------
    archive = alice.get_session_archive(session_id, "archive_001")
    assert set(archive) == {"archive_id", "abstract", "overview", "messages"}
    assert archive["archive_id"] == "archive_001"
    assert archive["abstract"] == f"archive_001: {len(archived_lines)} messages: {FIRST[0][1]}"
    assert archive["overview"].startswith("# archive_001")
    assert archive["overview"] == overview_1
    assert archive["messages"] == live_before[: len(archived_lines)]
    # "Archive archive_002 not found" carries no details: the SDK says "Resource not found".
    with pytest.raises(NotFoundError) as missing:
        alice.get_session_archive(session_id, "archive_002")
    assert missing.value.code == "NOT_FOUND"
    assert str(missing.value) == "Resource not found"
    # Another user cannot read alice's session or its archive.
    with pytest.raises(NotFoundError) as foreign:
        bob.get_session_archive(session_id, "archive_001")
    assert str(foreign.value) == f"Session not found: {session_id}"

    # -- the context -----------------------------------------------------------------------
    context = alice.get_session_context(session_id)
    kept_tokens = sum(message_tokens(i) for i in range(len(archived_lines), len(FIRST)))
    assert context["latest_archive_overview"] == archive["overview"]
    assert context["messages"] == live_before[len(archived_lines):]
    assert context["stats"]["activeTokens"] == kept_tokens
    assert context["stats"]["archiveTokens"] == tokens(overview_1)
    assert context["estimatedTokens"] == (
        context["stats"]["activeTokens"] + context["stats"]["archiveTokens"]
    )
    assert context["stats"]["totalArchives"] == 1
    empty = alice.get_session_context(session_id, token_budget=0)
    assert empty["messages"] == []
    assert empty["latest_archive_overview"] == ""
    assert empty["estimatedTokens"] == 0
    with pytest.raises(InvalidArgumentError) as info:
        alice.get_session_context(session_id, token_budget=-1)
    assert info.value.code == "INVALID_ARGUMENT"
    assert str(info.value) == "token_budget must be greater than or equal to 0"
    assert info.value.details == {"field": "token_budget", "value": -1}

    # -- more messages, then the second commit ---------------------------------------------
    for role, text in SECOND:
        alice.add_message(session_id, role, text)
    mid = alice.get_session(session_id)
    assert mid["message_count"] == KEEP + len(SECOND)
    assert mid["total_message_count"] == len(FIRST) + len(SECOND)
    # With keep_recent_count 2, a message counts once it leaves the two newest.
    assert mid["pending_tokens"] == kept_tokens

    second = alice.commit_session(session_id)
    assert second["status"] == "accepted"
    assert second["archived"] is True
    assert second["archive_uri"] == f"viking://user/alice/sessions/{session_id}/history/archive_002"
    assert UUID4.match(second["task_id"]), second["task_id"]
    assert second["task_id"] != task_id

    archived_2 = FIRST[len(archived_lines):] + SECOND
    overview_2 = expected_overview("archive_002", archived_2)
    llm_2_alone = usage(
        kept_tokens + sum(tokens(text) for _, text in SECOND), sum(SECOND_COUNTS.values()), overview_2,
    )
    llm_total = {key: llm_1[key] + llm_2_alone[key] for key in LLM_KEYS}
    both = {c: FIRST_COUNTS[c] + SECOND_COUNTS[c] for c in CATEGORIES}

    final = alice.get_session(session_id)
    assert final["commit_count"] == 2
    assert final["message_count"] == 0
    assert final["keep_recent_count"] == 0
    assert final["total_message_count"] == len(FIRST) + len(SECOND)
    assert final["pending_tokens"] == 0
    assert final["memories_extracted"] == with_total(both)
    assert final["memories_extracted"]["total"] == 6
    assert final["llm_token_usage"] == llm_total
    assert final["embedding_token_usage"] == {
        "total_tokens": embedding_1 + sum(tokens(a) for a in SECOND_MEMORY_ABSTRACTS),
    }

    task_2 = alice.get_task(second["task_id"])
    assert task_2 is not None
    assert task_2["status"] == "completed"
    assert task_2["resource_id"] == session_id
    assert task_2["result"]["memories_extracted"] == with_total(SECOND_COUNTS)
    assert task_2["result"]["token_usage"]["llm"] == llm_total
    # The first task still reports its own commit.
    first_again = alice.get_task(task_id)
    assert first_again is not None
    assert first_again["result"]["memories_extracted"] == with_total(FIRST_COUNTS)

    archive_2 = alice.get_session_archive(session_id, "archive_002")
    assert archive_2["archive_id"] == "archive_002"
    assert archive_2["abstract"] == f"archive_002: {len(archived_2)} messages: {archived_2[0][1]}"
    assert archive_2["overview"] == overview_2
    assert texts_of(archive_2["messages"]) == archived_2
    # The first archive is unchanged.
    assert alice.get_session_archive(session_id, "archive_001") == archive

    context_2 = alice.get_session_context(session_id)
    assert context_2["latest_archive_overview"] == overview_2
    assert context_2["messages"] == []
    assert context_2["stats"]["activeTokens"] == 0
    assert context_2["estimatedTokens"] == tokens(overview_2)
    assert context_2["stats"]["totalArchives"] == 2


# -- commit edge cases ----------------------------------------------------------------------


def test_commit_of_an_empty_session_is_skipped(alice: Client) -> None:
    session_id = new_id("empty")
    alice.create_session(session_id)
    result = alice.commit_session(session_id)
    # The real server's answer, key for key (captured from 0.5.2).
    assert result == {
        "session_id": session_id,
        "status": "skipped",
        "task_id": None,
        "archive_uri": None,
        "archived": False,
        "effective_enable_working_memory": False,
        "reason": "no_messages",
        "trace_id": "",
    }
    got = alice.get_session(session_id)
    assert got["commit_count"] == 0
    assert got["last_commit_at"] == ""
    with pytest.raises(NotFoundError):
        alice.get_session_archive(session_id, "archive_001")


def test_commit_of_a_missing_session_is_not_found(alice: Client) -> None:
    session_id = new_id("missing")
    with pytest.raises(NotFoundError) as info:
        alice.commit_session(session_id)
    assert info.value.code == "NOT_FOUND"
    assert str(info.value) == f"Session not found: {session_id}"
    assert info.value.details == {"type": "session", "resource": session_id}
    # A failed commit does not create the session.
    assert alice.session_exists(session_id) is False


def test_commit_of_another_users_session_is_not_found(alice: Client, bob: Client) -> None:
    session_id = new_id("mine")
    alice.add_message(session_id, "user", "I prefer tea.")
    with pytest.raises(NotFoundError) as info:
        bob.commit_session(session_id)
    assert str(info.value) == f"Session not found: {session_id}"
    # Alice's session is untouched.
    got = alice.get_session(session_id)
    assert got["commit_count"] == 0
    assert got["message_count"] == 1


def test_get_task_of_an_unknown_id_is_none(alice: Client) -> None:
    assert alice.get_task(str(uuid.uuid4())) is None
    assert alice.get_task("not-a-task") is None


def test_context_of_a_missing_session_is_not_found(alice: Client) -> None:
    session_id = new_id("nocontext")
    with pytest.raises(NotFoundError) as info:
        alice.get_session_context(session_id)
    assert str(info.value) == f"Session not found: {session_id}"
    # The budget is checked before the session is looked up.
    with pytest.raises(InvalidArgumentError) as bad:
        alice.get_session_context(session_id, token_budget=-1)
    assert bad.value.details == {"field": "token_budget", "value": -1}
    # The archive of a missing session: the service's wording, with details.
    with pytest.raises(NotFoundError) as archive:
        alice.get_session_archive(session_id, "archive_001")
    assert str(archive.value) == f"Session not found: {session_id}"


# -- config and automatic commits -------------------------------------------------------------


def test_update_config_then_the_third_message_commits_automatically(alice: Client) -> None:
    session_id = new_id("auto")
    alice.create_session(session_id)
    result = alice.update_session_config(
        session_id, {"auto_commit_policy": {"message_count_threshold": 2}},
    )
    assert result == {
        "session_id": session_id,
        "auto_commit_policy": {
            "pending_token_threshold": 150000,
            "message_count_threshold": 2,
            "idle_timeout_seconds": 86400,
            "keep_recent_count": 0,
            "min_commit_interval_seconds": 0,
        },
        "memory_extraction_config": {"events": {"tags": []}},
    }
    assert alice.get_session(session_id)["auto_commit_policy"] == result["auto_commit_policy"]

    texts = ["Today I review the plan.", "Sounds good.", "I like green tea."]
    alice.add_message(session_id, "user", texts[0])
    alice.add_message(session_id, "assistant", texts[1])
    quiet = alice.get_session(session_id)
    assert quiet["commit_count"] == 0
    assert quiet["message_count"] == 2
    assert quiet["last_auto_commit_at"] == ""

    # The answer reports the write; the commit it triggers comes after.
    third = alice.add_message(session_id, "user", texts[2])
    assert third["message_count"] == 3

    got = alice.get_session(session_id)
    assert got["commit_count"] == 1
    assert got["message_count"] == 0
    assert got["total_message_count"] == 3
    assert got["pending_tokens"] == 0
    assert MS_TIMESTAMP.match(got["last_auto_commit_at"]), got["last_auto_commit_at"]
    assert MS_TIMESTAMP.match(got["last_commit_at"]), got["last_commit_at"]
    # "Today ..." is an event, "I like ..." a preference.
    assert got["memories_extracted"] == with_total(
        {**dict.fromkeys(CATEGORIES, 0), "events": 1, "preferences": 1},
    )

    archive = alice.get_session_archive(session_id, "archive_001")
    assert archive["abstract"] == f"archive_001: 3 messages: {texts[0]}"
    assert archive["overview"] == expected_overview(
        "archive_001", [("user", texts[0]), ("assistant", texts[1]), ("user", texts[2])],
    )


def test_create_with_a_policy_keeps_recent_messages_on_auto_commit(alice: Client) -> None:
    session_id = new_id("autokeep")
    created = alice.create_session(
        session_id,
        options={"auto_commit_policy": {"message_count_threshold": 3, "keep_recent_count": 1}},
    )
    assert created["session_id"] == session_id
    assert created["auto_commit_policy"] == {
        "pending_token_threshold": 150000,
        "message_count_threshold": 3,
        "idle_timeout_seconds": 86400,
        "keep_recent_count": 1,
        "min_commit_interval_seconds": 0,
    }
    for text in ("one.", "two.", "three."):
        alice.add_message(session_id, "user", text)
    assert alice.get_session(session_id)["commit_count"] == 0

    alice.add_message(session_id, "user", "four.")
    got = alice.get_session(session_id)
    assert got["commit_count"] == 1
    assert got["message_count"] == 1
    assert got["keep_recent_count"] == 1
    assert got["total_message_count"] == 4
    assert got["last_auto_commit_at"] != ""
    assert texts_of(alice.get_session_context(session_id)["messages"]) == [("user", "four.")]
    archive = alice.get_session_archive(session_id, "archive_001")
    assert texts_of(archive["messages"]) == [("user", "one."), ("user", "two."), ("user", "three.")]


def test_disabling_the_policy_stops_auto_commits(alice: Client) -> None:
    session_id = new_id("autooff")
    alice.create_session(session_id, options={"auto_commit_policy": {"message_count_threshold": 1}})
    result = alice.update_session_config(session_id, {"auto_commit_policy": None})
    assert result == {
        "session_id": session_id,
        "auto_commit_policy": None,
        "memory_extraction_config": {"events": {"tags": []}},
    }
    for text in ("a.", "b.", "c."):
        alice.add_message(session_id, "user", text)
    got = alice.get_session(session_id)
    assert got["commit_count"] == 0
    assert got["message_count"] == 3
    assert got["auto_commit_policy"] is None


def test_update_config_of_a_missing_session_is_not_found(alice: Client) -> None:
    session_id = new_id("noconfig")
    # The route's "Session X not found" has no details: the SDK says "Resource not found".
    with pytest.raises(NotFoundError) as info:
        alice.update_session_config(session_id, {"auto_commit_policy": {"message_count_threshold": 2}})
    assert info.value.code == "NOT_FOUND"
    assert str(info.value) == "Resource not found"
    # PATCH does not create the session.
    assert alice.session_exists(session_id) is False
