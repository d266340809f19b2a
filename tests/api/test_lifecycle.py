"""Commit, tasks, archives, context, config and auto-commit, as clients see them."""

from __future__ import annotations

import datetime as dt
import re
import typing as t

import pytest
from flask import Flask

from mockviking import Config, Owner, SessionStore, create_app
from mockviking.domain.tasks import CommitScript, TaskPlan

from .conftest import ALICE, BOB, ROOT, Client, error, ok

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}")
ALICE_OWNER = Owner("default", "alice")
CONVERSATION = [
    {"role": "user", "content": "My name is Dana and I work at Acme."},
    {"role": "assistant", "content": "Nice to meet you, Dana."},
    {"role": "user", "content": "I prefer short answers. How do I rotate keys?"},
    {"role": "assistant", "parts": [
        {"type": "text", "text": "Use the key rotation guide."},
        {"type": "context", "uri": "viking://resources/docs/keys", "abstract": "Key rotation"}]},
]


def store_of(app: Flask) -> SessionStore:
    return t.cast(SessionStore, app.extensions["mockviking"].store)


def seed(client: Client, session: str = "c1", messages: list[dict[str, t.Any]] | None = None) -> None:
    ok(client.post(f"/api/v1/sessions/{session}/messages/batch", headers=ALICE,
                   json={"messages": messages or CONVERSATION}))


def commit(client: Client, session: str = "c1", body: t.Any = None) -> t.Any:
    kwargs = {"json": body} if body is not None else {}
    response = client.post(f"/api/v1/sessions/{session}/commit", headers=ALICE, **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)
    envelope = response.get_json()
    assert set(envelope) == {"status", "result"}  # the compact envelope
    return envelope["result"]


def test_commit_archives_and_counters_move(client: Client) -> None:
    seed(client)
    result = commit(client, body={"keep_recent_count": 1})
    assert UUID.fullmatch(result["task_id"])
    assert result == {
        "session_id": "c1", "status": "accepted", "task_id": result["task_id"],
        "archive_uri": "viking://user/alice/sessions/c1/history/archive_001", "archived": True,
        "effective_enable_working_memory": False, "trace_id": "", "estimated_active_tokens": 0,
        "budget_exceeded": False,
    }
    detail = ok(client.get("/api/v1/sessions/c1", headers=ALICE))
    assert (detail["message_count"], detail["total_message_count"], detail["commit_count"]) == (1, 4, 1)
    assert detail["pending_tokens"] == 0
    assert detail["keep_recent_count"] == 1
    assert detail["last_commit_at"] != ""
    # The kept message starts counting once a newer one pushes it out of the window.
    added = ok(client.post("/api/v1/sessions/c1/messages", headers=ALICE, json={"role": "user", "content": "abcd"}))
    # "Use the key rotation guide." + "Key rotation": 39 characters -> 10 tokens.
    assert added == {"session_id": "c1", "message_count": 2, "pending_tokens": 10}


def test_completed_task_reports_memories_and_usage(client: Client) -> None:
    seed(client)
    task_id = commit(client)["task_id"]
    task = ok(client.get(f"/api/v1/tasks/{task_id}", headers=ALICE))
    assert task["status"] == "completed"
    assert task["stage"] == "completed"
    assert task["task_type"] == "session_commit"
    assert task["resource_id"] == "c1"
    assert task["error"] is None
    assert isinstance(task["processing_seconds"], float)
    memories = task["result"]["memories_extracted"]
    assert memories == {"profile": 1, "preferences": 1, "entities": 1, "events": 0, "cases": 1,
                        "patterns": 0, "tools": 0, "skills": 0, "total": 4}
    detail = ok(client.get("/api/v1/sessions/c1", headers=ALICE))
    assert detail["memories_extracted"] == memories
    assert detail["llm_token_usage"] == task["result"]["token_usage"]["llm"]
    assert detail["llm_token_usage"]["prompt_tokens"] > 100
    assert detail["llm_token_usage"]["total_tokens"] == (
        detail["llm_token_usage"]["prompt_tokens"] + detail["llm_token_usage"]["completion_tokens"])
    assert detail["embedding_token_usage"]["total_tokens"] > 0


def test_extraction_is_deterministic(client: Client) -> None:
    seed(client, "a")
    seed(client, "b")
    first = ok(client.get(f"/api/v1/tasks/{commit(client, 'a')['task_id']}", headers=ALICE))["result"]
    second = ok(client.get(f"/api/v1/tasks/{commit(client, 'b')['task_id']}", headers=ALICE))["result"]
    assert first["memories_extracted"] == second["memories_extracted"]
    assert first["token_usage"] == second["token_usage"]
    archive_a = ok(client.get("/api/v1/sessions/a/archives/archive_001", headers=ALICE))
    archive_b = ok(client.get("/api/v1/sessions/b/archives/archive_001", headers=ALICE))
    assert (archive_a["abstract"], archive_a["overview"]) == (archive_b["abstract"], archive_b["overview"])


def test_archive_route(client: Client) -> None:
    seed(client)
    commit(client, body={"keep_recent_count": 1})
    archive = ok(client.get("/api/v1/sessions/c1/archives/archive_001", headers=ALICE))
    assert archive["archive_id"] == "archive_001"
    assert archive["abstract"] == "archive_001: 3 messages: My name is Dana and I work at Acme."
    assert archive["overview"].startswith("# archive_001\n\n- user: My name is Dana")
    assert [m["role"] for m in archive["messages"]] == ["user", "assistant", "user"]
    for missing in ("archive_002", "foo"):
        response = client.get(f"/api/v1/sessions/c1/archives/{missing}", headers=ALICE)
        assert response.status_code == 404
        assert response.get_json() == {
            "status": "error", "error": {"code": "NOT_FOUND", "message": f"Archive {missing} not found"}}
    err = error(client.get("/api/v1/sessions/nosess/archives/archive_001", headers=ALICE), 404, "NOT_FOUND")
    assert err["message"] == "Session not found: nosess"


@pytest.mark.parametrize(
    ("messages", "body", "reason", "extra"),
    [
        ([], {}, "no_messages", {}),
        (CONVERSATION[:2], {"keep_recent_count": 10}, "all_within_keep_window",
         {"estimated_active_tokens": 0, "budget_exceeded": False}),
    ],
)
def test_skipped_commits(client: Client, messages: list[dict[str, t.Any]], body: dict[str, t.Any],
                         reason: str, extra: dict[str, t.Any]) -> None:
    ok(client.post("/api/v1/sessions", headers=ALICE, json={"session_id": "c1"}))
    if messages:
        seed(client, messages=messages)
    result = commit(client, body=body)
    assert result == {"session_id": "c1", "status": "skipped", "task_id": None, "archive_uri": None,
                      "archived": False, "effective_enable_working_memory": False, "reason": reason,
                      "trace_id": "", **extra}
    assert list(result)[-3 if extra else -1] == "trace_id"
    assert ok(client.get("/api/v1/sessions/c1", headers=ALICE))["commit_count"] == 0


def test_commit_without_body_and_on_a_missing_session(client: Client) -> None:
    seed(client)
    assert commit(client)["status"] == "accepted"
    err = error(client.post("/api/v1/sessions/nope/commit", headers=ALICE, json={}), 404, "NOT_FOUND")
    assert err == {"code": "NOT_FOUND", "message": "Session not found: nope",
                   "details": {"type": "session", "resource": "nope"}}


def test_seeded_history_continues_archive_numbering(client: Client) -> None:
    result = commit(client, "a1b2c3d4", {})
    assert result["archive_uri"].endswith("/history/archive_004")
    detail = ok(client.get("/api/v1/sessions/a1b2c3d4", headers=ALICE))
    assert detail["commit_count"] == 4
    assert detail["message_count"] == 0
    assert detail["memories_extracted"]["total"] > 10  # seeded 10 plus this commit's


@pytest.mark.parametrize(
    ("body", "loc", "kind"),
    [
        ({"keep_recent_count": -1}, "body.keep_recent_count", "greater_than_equal"),
        ({"keep_recent_count": 10001}, "body.keep_recent_count", "less_than_equal"),
        ({"keep_recent_count": 2.5}, "body.keep_recent_count", "int_from_float"),
        ({"keep_recent_count": None}, "body.keep_recent_count", "int_type"),
        ({"keep_recent_turn_count": 2}, "body", "value_error"),
        ([], "body", "model_attributes_type"),
    ],
)
def test_commit_validation(client: Client, body: t.Any, loc: str, kind: str) -> None:
    seed(client)
    err = error(client.post("/api/v1/sessions/c1/commit", headers=ALICE, json=body), 400, "INVALID_ARGUMENT")
    first = err["details"]["validation_errors"][0]
    assert (".".join(first["loc"]), first["type"]) == (loc, kind)


@pytest.mark.parametrize(("keep", "kept"), [("2", 2), (2.0, 2), (True, 1)])
def test_commit_keep_is_coerced_like_the_real_server(client: Client, keep: t.Any, kept: int) -> None:
    seed(client)
    assert commit(client, body={"keep_recent_count": keep})["status"] == "accepted"
    assert ok(client.get("/api/v1/sessions/c1", headers=ALICE))["message_count"] == kept


def test_turn_retention(client: Client) -> None:
    seed(client)
    result = commit(client, body={"retention_mode": "turn_budget", "keep_recent_turn_count": 1})
    assert result["status"] == "accepted"
    assert result["estimated_active_tokens"] > 0
    detail = ok(client.get("/api/v1/sessions/c1", headers=ALICE))
    assert detail["message_count"] == 2  # the last turn: the user's question and the answer
    assert (detail["retention_mode"], detail["keep_recent_turn_count"],
            detail["retained_message_token_budget"], detail["min_raw_tail_steps"]) == ("turn_budget", 1, 12000, 1)


def test_context_before_and_after_extraction(app: Flask, client: Client) -> None:
    store_of(app).set_task_plan(TaskPlan(mode="release"))
    seed(client)
    commit(client, body={"keep_recent_count": 1})
    pending = ok(client.get("/api/v1/sessions/c1/context", headers=ALICE))
    assert pending["latest_archive_overview"] == ""
    assert len(pending["messages"]) == 4  # the unfinished archive's messages are replayed
    assert pending["stats"] == {"totalArchives": 1, "includedArchives": 0, "droppedArchives": 1,
                                "failedArchives": 0, "activeTokens": pending["estimatedTokens"],
                                "archiveTokens": 0}
    error(client.get("/api/v1/sessions/c1/archives/archive_001", headers=ALICE), 404, "NOT_FOUND")
    store_of(app).release_tasks()
    done = ok(client.get("/api/v1/sessions/c1/context", headers=ALICE))
    assert done["latest_archive_overview"].startswith("# archive_001")
    assert len(done["messages"]) == 1
    assert done["estimatedTokens"] == done["stats"]["activeTokens"] + done["stats"]["archiveTokens"]
    assert done["stats"]["archiveTokens"] > 0
    tight = ok(client.get("/api/v1/sessions/c1/context?token_budget=0", headers=ALICE))
    assert tight["messages"] == []
    assert tight["latest_archive_overview"] == ""
    assert tight["estimatedTokens"] == 0


def test_context_budget_drops_the_oldest_messages(client: Client) -> None:
    seed(client, messages=[{"role": "user", "content": "a" * 40}, {"role": "user", "content": "b" * 40}])
    result = ok(client.get("/api/v1/sessions/c1/context?token_budget=15", headers=ALICE))
    assert [m["parts"][0]["text"][0] for m in result["messages"]] == ["b"]
    assert result["estimatedTokens"] == 10


def test_context_errors(client: Client) -> None:
    response = client.get("/api/v1/sessions/nosess/context?token_budget=-1", headers=ALICE)
    assert response.status_code == 400
    assert response.get_json() == {"status": "error", "error": {
        "code": "INVALID_ARGUMENT", "message": "token_budget must be greater than or equal to 0",
        "details": {"field": "token_budget", "value": -1}}}
    err = error(client.get("/api/v1/sessions/nosess/context", headers=ALICE), 404, "NOT_FOUND")
    assert err["message"] == "Session not found: nosess"
    err = error(client.get("/api/v1/sessions/c1/context?token_budget=abc", headers=ALICE), 400, "INVALID_ARGUMENT")
    assert err["details"]["validation_errors"][0]["type"] == "int_parsing"


def test_scripted_failure(app: Flask, client: Client) -> None:
    seed(client)
    store_of(app).script_next_commit(ALICE_OWNER, "c1", CommitScript(fail="extraction exploded"))
    task_id = commit(client)["task_id"]
    task = ok(client.get(f"/api/v1/tasks/{task_id}", headers=ALICE))
    assert (task["status"], task["stage"], task["error"], task["result"]) == (
        "failed", "failed", "extraction exploded", None)
    error(client.get("/api/v1/sessions/c1/archives/archive_001", headers=ALICE), 404, "NOT_FOUND")
    context = ok(client.get("/api/v1/sessions/c1/context", headers=ALICE))
    assert context["messages"] == []
    assert context["stats"]["failedArchives"] == 1
    assert context["stats"]["droppedArchives"] == 0
    assert ok(client.get("/api/v1/sessions/c1", headers=ALICE))["memories_extracted"]["total"] == 0
    # The next commit is still accepted and extracts normally.
    seed(client)
    following = commit(client)
    assert following["archive_uri"].endswith("archive_002")
    assert ok(client.get(f"/api/v1/tasks/{following['task_id']}", headers=ALICE))["status"] == "completed"


def test_scripted_counts(app: Flask, client: Client) -> None:
    seed(client)
    store_of(app).script_next_commit(ALICE_OWNER, "c1", CommitScript(
        memories={"profile": 2, "skills": 1}, llm_usage={"prompt_tokens": 500, "completion_tokens": 120}))
    commit(client)
    detail = ok(client.get("/api/v1/sessions/c1", headers=ALICE))
    assert detail["memories_extracted"]["profile"] == 2
    assert detail["memories_extracted"]["skills"] == 1
    assert detail["memories_extracted"]["total"] == 3
    assert detail["llm_token_usage"] == {"prompt_tokens": 500, "completion_tokens": 120, "total_tokens": 620,
                                         "cached_tokens": 0, "reasoning_tokens": 0}


def test_task_completes_after_n_polls(app: Flask, client: Client) -> None:
    store_of(app).set_task_plan(TaskPlan(mode="polls", polls=3))
    seed(client)
    task_id = commit(client)["task_id"]
    statuses = [ok(client.get(f"/api/v1/tasks/{task_id}", headers=ALICE))["status"] for _ in range(4)]
    assert statuses == ["running", "running", "completed", "completed"]


def test_task_completes_after_a_delay_of_the_store_clock(client_for: t.Callable[[Flask], Client]) -> None:
    now = [dt.datetime(2026, 3, 23, 2, 0, tzinfo=dt.timezone.utc)]
    store = SessionStore(clock=lambda: now[0], seed=1)
    store.set_task_plan(TaskPlan(mode="delay", delay_seconds=5))
    client = client_for(create_app(Config(fixtures=()), store=store))
    ok(client.post("/api/v1/sessions/c1/messages", json={"role": "user", "content": "hello"}))
    task_id = client.post("/api/v1/sessions/c1/commit").get_json()["result"]["task_id"]
    assert ok(client.get(f"/api/v1/tasks/{task_id}"))["status"] == "running"
    now[0] += dt.timedelta(seconds=5)
    task = ok(client.get(f"/api/v1/tasks/{task_id}"))
    assert task["status"] == "completed"
    assert task["processing_seconds"] == 5.0


def test_tasks_are_scoped_listed_and_cancelled(app: Flask, client: Client) -> None:
    store_of(app).set_task_plan(TaskPlan(mode="release"))
    seed(client, "c1")
    seed(client, "c2")
    first = commit(client, "c1")["task_id"]
    second = commit(client, "c2")["task_id"]
    assert [t["task_id"] for t in ok(client.get("/api/v1/tasks", headers=ALICE))] == [second, first]
    assert [t["task_id"] for t in ok(client.get("/api/v1/tasks?resource_id=c1", headers=ALICE))] == [first]
    assert ok(client.get("/api/v1/tasks?status=bogus", headers=ALICE)) == []
    assert len(ok(client.get("/api/v1/tasks?limit=1&task_type=session_commit", headers=ALICE))) == 1
    for limit, kind in (("0", "greater_than_equal"), ("201", "less_than_equal")):
        err = error(client.get(f"/api/v1/tasks?limit={limit}", headers=ALICE), 400, "INVALID_ARGUMENT")
        assert err["details"]["validation_errors"][0]["type"] == kind
    err = error(client.get(f"/api/v1/tasks/{first}", headers=BOB), 404, "NOT_FOUND")
    assert err == {"code": "NOT_FOUND", "message": "Task not found or expired",
                   "details": {"resource": first, "type": "task"}}
    assert ok(client.get("/api/v1/tasks", headers=BOB)) == []
    assert len(ok(client.get("/api/v1/tasks", headers=ROOT))) == 2  # root sees every task
    error(client.post(f"/api/v1/tasks/{first}/cancel", headers=ROOT), 403, "PERMISSION_DENIED")
    cancelled = ok(client.post(f"/api/v1/tasks/{first}/cancel", headers=ALICE))
    assert cancelled["status"] == "cancelled"
    err = error(client.post(f"/api/v1/tasks/{first}/cancel", headers=ALICE), 412, "FAILED_PRECONDITION")
    assert err["message"] == "Task is already cancelled"
    error(client.get("/api/v1/sessions/c1/archives/archive_001", headers=ALICE), 404, "NOT_FOUND")
    error(client.post("/api/v1/tasks/nope/cancel", headers=ALICE), 404, "NOT_FOUND")


def test_config_patch(client: Client) -> None:
    response = client.patch("/api/v1/sessions/a1b2c3d4/config", headers=ALICE,
                            json={"auto_commit_policy": {"message_count_threshold": 5}})
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "result": {
        "session_id": "a1b2c3d4",
        "auto_commit_policy": {"pending_token_threshold": 150000, "message_count_threshold": 5,
                               "idle_timeout_seconds": 86400, "keep_recent_count": 0,
                               "min_commit_interval_seconds": 0},
        "memory_extraction_config": {"events": {"tags": []}}}}
    merged = client.patch("/api/v1/sessions/a1b2c3d4/config", headers=ALICE,
                          json={"auto_commit_policy": {"keep_recent_count": 2000}}).get_json()["result"]
    assert merged["auto_commit_policy"]["message_count_threshold"] == 5  # merged, not replaced
    assert merged["auto_commit_policy"]["keep_recent_count"] == 1000  # clamped
    same = client.patch("/api/v1/sessions/a1b2c3d4/config", headers=ALICE, json={}).get_json()["result"]
    assert same == merged
    off = client.patch("/api/v1/sessions/a1b2c3d4/config", headers=ALICE,
                       json={"auto_commit_policy": None}).get_json()["result"]
    assert off["auto_commit_policy"] is None
    err = error(client.patch("/api/v1/sessions/a1b2c3d4/config", headers=ALICE, json={"bogus": 1}),
                400, "INVALID_ARGUMENT")
    assert err["message"] == "Invalid request parameters: body.bogus: Extra inputs are not permitted"
    response = client.patch("/api/v1/sessions/nocfg/config", headers=ALICE, json={})
    assert response.status_code == 404
    assert response.get_json() == {"status": "error", "error": {"code": "NOT_FOUND",
                                                                "message": "Session nocfg not found"}}


def test_auto_commit_crosses_thresholds_strictly(client: Client) -> None:
    ok(client.post("/api/v1/sessions", headers=ALICE, json={
        "session_id": "auto", "auto_commit_policy": {"message_count_threshold": 2, "keep_recent_count": 1}}))
    for text in ("one", "two"):
        ok(client.post("/api/v1/sessions/auto/messages", headers=ALICE, json={"role": "user", "content": text}))
    assert ok(client.get("/api/v1/sessions/auto", headers=ALICE))["commit_count"] == 0  # 2 is not > 2
    answer = ok(client.post("/api/v1/sessions/auto/messages", headers=ALICE,
                            json={"role": "user", "content": "three"}))
    assert answer["message_count"] == 3  # the answer reports the write, the commit follows
    detail = ok(client.get("/api/v1/sessions/auto", headers=ALICE))
    assert (detail["commit_count"], detail["message_count"]) == (1, 1)
    assert detail["last_auto_commit_at"] != ""


def test_auto_commit_on_pending_tokens_and_one_in_flight(app: Flask, client: Client) -> None:
    store_of(app).set_task_plan(TaskPlan(mode="release"))
    ok(client.post("/api/v1/sessions", headers=ALICE, json={
        "session_id": "auto", "auto_commit_policy": {"pending_token_threshold": 5}}))
    long = {"role": "user", "content": "this message is long enough to pass five tokens easily"}
    ok(client.post("/api/v1/sessions/auto/messages", headers=ALICE, json=long))
    ok(client.post("/api/v1/sessions/auto/messages", headers=ALICE, json=long))
    detail = ok(client.get("/api/v1/sessions/auto", headers=ALICE))
    assert detail["commit_count"] == 1  # the first commit's task is still running
    assert detail["message_count"] == 1
    store_of(app).release_tasks()
    ok(client.post("/api/v1/sessions/auto/messages", headers=ALICE, json=long))
    assert ok(client.get("/api/v1/sessions/auto", headers=ALICE))["commit_count"] == 2


def test_auto_commit_honours_the_minimum_interval(client_for: t.Callable[[Flask], Client]) -> None:
    now = [dt.datetime(2026, 3, 23, 2, 0, tzinfo=dt.timezone.utc)]
    client = client_for(create_app(Config(fixtures=()), store=SessionStore(clock=lambda: now[0])))
    ok(client.post("/api/v1/sessions", json={"session_id": "s", "auto_commit_policy": {
        "message_count_threshold": 0, "min_commit_interval_seconds": 60}}))
    ok(client.post("/api/v1/sessions/s/messages", json={"role": "user", "content": "a"}))
    ok(client.post("/api/v1/sessions/s/messages", json={"role": "user", "content": "b"}))
    assert ok(client.get("/api/v1/sessions/s"))["commit_count"] == 1
    now[0] += dt.timedelta(seconds=61)
    ok(client.post("/api/v1/sessions/s/messages", json={"role": "user", "content": "c"}))
    assert ok(client.get("/api/v1/sessions/s"))["commit_count"] == 2


def test_tool_results_routes_answer_501(client: Client) -> None:
    for path in ("/api/v1/sessions/a1b2c3d4/tool-results", "/api/v1/sessions/a1b2c3d4/tool-results/tr_1",
                 "/api/v1/sessions/a1b2c3d4/tool-results/tr_1/search?q=x"):
        err = error(client.get(path, headers=ALICE), 501, "UNIMPLEMENTED")
        assert "does not serve it" in err["message"]


def test_idle_sessions_commit_when_the_clock_moves(client: Client) -> None:
    ok(client.post("/_mockviking/clock/freeze", json={"at": "2026-03-23T10:00:00Z"}))
    ok(client.post("/api/v1/sessions", headers=ALICE, json={
        "session_id": "idle", "auto_commit_policy": {"idle_timeout_seconds": 600}}))
    ok(client.post("/api/v1/sessions/idle/messages", headers=ALICE, json={"role": "user", "content": "hi"}))
    ok(client.post("/_mockviking/clock/advance", json={"seconds": 599}))
    assert ok(client.get("/api/v1/sessions/idle", headers=ALICE))["commit_count"] == 0
    ok(client.post("/_mockviking/clock/advance", json={"seconds": 1}))
    detail = ok(client.get("/api/v1/sessions/idle", headers=ALICE))
    assert (detail["commit_count"], detail["message_count"]) == (1, 0)
    assert detail["last_idle_commit_accepted_at"] == "2026-03-23T10:10:00.000Z"
    # A session without a policy never commits on its own.
    assert ok(client.get("/api/v1/sessions/a1b2c3d4", headers=ALICE))["commit_count"] == 3


@pytest.mark.parametrize(
    ("tag", "message"),
    [
        (" ", "search tag must be a non-empty k=v string"),
        ("abc", "invalid search tag 'abc': expected strict k=v format"),
        ("a=b=c", "invalid search tag 'a=b=c': expected strict k=v format"),
        ("k= ", "invalid search tag 'k= ': key and value must both be non-empty"),
    ],
)
def test_commit_tags_are_strict(client: Client, tag: str, message: str) -> None:
    seed(client)
    response = client.post("/api/v1/sessions/c1/commit", headers=ALICE,
                           json={"extraction_metadata": {"event": {"tags": ["team=search", tag]}}})
    assert error(response, 400, "INVALID_ARGUMENT") == {"code": "INVALID_ARGUMENT", "message": message, "details": {}}
    assert ok(client.get("/api/v1/sessions/c1", headers=ALICE))["commit_count"] == 0  # nothing archived
    accepted = client.post("/api/v1/sessions/c1/commit", headers=ALICE,
                           json={"extraction_metadata": {"event": {"tags": [" Team=Search "]}}})
    assert accepted.get_json()["result"]["status"] == "accepted"
