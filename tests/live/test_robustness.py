"""Robustness over real sockets: concurrency, limits, and persistence across kill -9."""

from __future__ import annotations

import concurrent.futures
import json
import signal
import typing as t
from pathlib import Path

import httpx
import pytest

from tests._support import ALICE_KEY, run_cli, running_server, start_server

HEADERS = {"X-API-Key": ALICE_KEY}
THREADS, WRITES = 16, 500


def test_concurrent_appends_commits_and_gets_lose_nothing() -> None:
    with running_server("--threads", "16") as server:
        base = f"{server.url}/api/v1/sessions"

        def writer(index: int) -> list[int]:
            statuses = []
            with httpx.Client(headers=HEADERS, timeout=30) as client:
                for n in range(WRITES):
                    shared = client.post(f"{base}/shared/messages", json={"role": "user", "content": f"{index}-{n}"})
                    own = client.post(f"{base}/own-{index}/messages", json={"role": "user", "content": f"{n}"})
                    statuses += [shared.status_code, own.status_code]
                    if n % 50 == 0:
                        statuses.append(client.post(f"{base}/shared/commit", json={"keep_recent_count": 3}).status_code)
                        statuses.append(client.get(f"{base}/shared").status_code)
            return statuses

        with concurrent.futures.ThreadPoolExecutor(THREADS) as pool:
            statuses = [s for result in pool.map(writer, range(THREADS)) for s in result]
        assert set(statuses) == {200}, sorted(set(statuses))

        with httpx.Client(headers=HEADERS, timeout=30) as client:
            shared = client.get(f"{base}/shared").json()["result"]
            assert shared["total_message_count"] == THREADS * WRITES
            for index in range(THREADS):
                own = client.get(f"{base}/own-{index}").json()["result"]
                assert own["message_count"] == own["total_message_count"] == WRITES
            state = client.get(f"{server.url}/_mockviking/state").json()["result"]
        [session] = [s for s in state["sessions"] if s["session_id"] == "shared"]
        stored = [m for a in session["archives"] for m in a["messages"]] + session["messages"]
        assert len(stored) == THREADS * WRITES
        assert len({m["id"] for m in stored}) == THREADS * WRITES  # no id twice
        texts = {m["parts"][0]["text"] for m in stored}
        assert texts == {f"{i}-{n}" for i in range(THREADS) for n in range(WRITES)}  # none lost, none twice
        assert shared["message_count"] == len(session["messages"])


def test_limits_answer_in_the_envelope_and_store_nothing(tmp_path: Path) -> None:
    with running_server("--max-body-bytes", "2048", "--max-sessions-per-user", "3",
                        "--max-messages-per-user", "9") as server:
        base = f"{server.url}/api/v1/sessions"
        with httpx.Client(headers=HEADERS, timeout=10) as client:
            big = client.post(f"{base}/s/messages", json={"role": "user", "content": "x" * 4000})
            assert big.status_code == 413
            assert big.json()["error"]["message"].startswith("Request body is too large")
            deep = client.post(f"{base}/s/messages", content=b'{"role":"user","parts":[{"tool_input":'
                               + b'{"a":' * 100 + b"1" + b"}" * 100 + b"}]}",
                               headers={"Content-Type": "application/json"})
            assert deep.status_code == 400
            assert "nested deeper than 64 levels" in deep.json()["error"]["message"]
            utf8 = client.post(f"{base}/s/messages", content=b'{"role":"user","content":"\xff"}',
                               headers={"Content-Type": "application/json"})
            assert utf8.json()["error"]["message"] == "There was an error parsing the body"
            long_id = client.post(base, json={"session_id": "x" * 1025})
            assert long_id.status_code == 400
            assert "at most 1024" in long_id.json()["error"]["message"]
            # alice already owns 2 sessions (the bundled fixtures): one more is allowed, then 429.
            assert client.post(base, json={"session_id": "third"}).status_code == 200
            fourth = client.post(base, json={"session_id": "fourth"})
            assert fourth.status_code == 429
            assert fourth.json()["error"]["code"] == "RESOURCE_EXHAUSTED"
            # The bundled sessions hold 8 of alice's messages: one more fits the cap of 9.
            assert client.post(f"{base}/third/messages", json={"role": "user", "content": "one"}).status_code == 200
            capped = client.post(f"{base}/third/messages", json={"role": "user", "content": "two"})
            assert capped.status_code == 429
            assert "Message limit reached" in capped.json()["error"]["message"]
            names = {s["session_id"] for s in client.get(base).json()["result"]}
            assert names == {"a1b2c3d4", "tool-demo", "third"}  # nothing else was stored
            assert client.get(f"{base}/third").json()["result"]["message_count"] == 1


@pytest.mark.parametrize("server_name", ["granian", "waitress"])
def test_a_chunked_body_is_read_whole_or_refused_with_413(server_name: str) -> None:
    # A chunked upload carries no Content-Length to refuse it by. granian passes the chunks
    # on as they come; werkzeug alone would cut an over-limit body at the limit and report
    # it as malformed JSON.
    def chunks(body: bytes, size: int) -> t.Iterator[bytes]:
        for start in range(0, len(body), size):
            yield body[start:start + size]

    with running_server("--server", server_name, "--max-body-bytes", "2048") as server, \
            httpx.Client(headers={**HEADERS, "Content-Type": "application/json"}, timeout=10) as client:
        url = f"{server.url}/api/v1/sessions/chunky/messages"
        fits = json.dumps({"role": "user", "content": "x" * 1990}).encode()
        assert len(fits) <= 2048
        for size in (7, 100, len(fits)):
            assert client.post(url, content=chunks(fits, size)).status_code == 200
        over = json.dumps({"role": "user", "content": "y" * 2100}).encode()
        for size in (100, len(over)):
            refused = client.post(url, content=chunks(over, size))
            assert refused.status_code == 413, refused.text
            assert refused.json()["error"]["message"] == "Request body is too large: send at most 2048 bytes"
        context = client.get(f"{server.url}/api/v1/sessions/chunky/context").json()["result"]
        assert [m["parts"][0]["text"] for m in context["messages"]] == ["x" * 1990] * 3


@pytest.mark.parametrize("server_name", ["granian", "waitress"])
def test_acknowledged_writes_survive_kill_9(tmp_path: Path, server_name: str) -> None:
    # On granian the app runs in a worker process: kill -9 of serve must take it along,
    # or it would keep the port and the state file.
    state = tmp_path / "state.json"
    server = start_server("--server", server_name, "--state-file", str(state))
    acknowledged = []
    try:
        with httpx.Client(headers=HEADERS, timeout=10) as client:
            for n in range(30):
                response = client.post(f"{server.url}/api/v1/sessions/durable/messages",
                                       json={"role": "user", "content": f"m{n}"})
                if response.status_code == 200:
                    acknowledged.append(f"m{n}")
            assert client.post(f"{server.url}/api/v1/sessions/durable/commit", json={"keep_recent_count": 5}
                               ).status_code == 200
    finally:
        server.stop(signal.SIGKILL)
        server.stderr_file.close()
    assert len(acknowledged) == 30
    with pytest.raises(httpx.ConnectError):  # nothing left serving
        httpx.get(f"{server.url}/health", timeout=2)
    restarted = running_server("--server", server_name, "--state-file", str(state))
    with restarted as again, httpx.Client(headers=HEADERS, timeout=10) as client:
        detail = client.get(f"{again.url}/api/v1/sessions/durable").json()["result"]
        assert (detail["total_message_count"], detail["message_count"], detail["commit_count"]) == (30, 5, 1)
        archive = client.get(f"{again.url}/api/v1/sessions/durable/archives/archive_001").json()["result"]
        texts = [m["parts"][0]["text"] for m in archive["messages"]]
        assert texts == acknowledged[:25]


def test_a_corrupt_state_file_stops_start_up_and_is_kept(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text('{"format": "mockviking-state", "version": 1, "accounts": [')
    before = state.read_bytes()
    result = run_cli("serve", "--port", "0", "--state-file", str(state))
    assert result.returncode == 2
    assert f"{state}: cannot read the state file" in result.stderr
    assert state.read_bytes() == before
    state.write_text(json.dumps({"format": "something else"}))
    result = run_cli("serve", "--port", "0", "--state-file", str(state))
    assert result.returncode == 2
    assert "not a usable state file" in result.stderr
