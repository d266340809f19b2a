"""A lone surrogate cannot poison the mock: refused as the real server refuses it, nothing stored.

JSON's ``"\\ud800"`` (or the bytes ED A0 80) decodes to a string that no UTF-8 writer accepts.
The real server 0.5.2 answers 400 INVALID_ARGUMENT in the service envelope with Python's own
words (asked on 2026-12-04: ``'utf-8' codec can't encode character '\\ud800' in position 2:
surrogates not allowed``, ``details: {}``). Before this, mockviking stored it with 200 and then
answered 500 on the context, the state export and the journal, and wrote empty reports.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mockviking import FixtureError
from mockviking.domain.store import SessionStore
from mockviking.harness.fixtures import load_into
from mockviking.harness.violations import to_json, to_junit

from .conftest import ALICE, Client, error, ok

JSON = {"Content-Type": "application/json", **ALICE}


def words(char: str, position: int) -> str:
    return f"'utf-8' codec can't encode character '\\{char}' in position {position}: surrogates not allowed"


def refused(response: object, char: str, position: int) -> None:
    found = error(response, 400, "INVALID_ARGUMENT")
    assert found == {"code": "INVALID_ARGUMENT", "message": words(char, position), "details": {}}
    body = response.get_json()  # type: ignore[attr-defined]
    assert set(body) == {"status", "result", "error", "telemetry", "profile"}  # the service envelope


def everything_still_answers(client: Client, app: object) -> None:
    """The views that failed with 500 once a surrogate was stored."""
    ok(client.get("/api/v1/sessions", headers=ALICE))
    ok(client.get("/api/v1/sessions/a1b2c3d4/context", headers=ALICE))
    assert client.get("/_mockviking/state").status_code == 200
    assert client.get("/_mockviking/requests?include_control=true").status_code == 200
    harness = app.extensions["mockviking"]  # type: ignore[attr-defined]
    to_json(harness.violations)
    to_junit(harness.violations)
    assert harness.errors == []


@pytest.mark.parametrize(
    ("path", "body", "char", "position"),
    [
        ("/api/v1/sessions/s1/messages", b'{"role":"user","content":"ab\\ud800cd"}', "ud800", 2),
        ("/api/v1/sessions/s1/messages", b'{"role":"user","content":"raw\xed\xa0\x80"}', "ud800", 3),
        ("/api/v1/sessions/s1/messages", b'{"role":"user","parts":[{"type":"text","text":"x\\udfff"}]}', "udfff", 1),
        ("/api/v1/sessions/s1/messages",
         b'{"role":"user","parts":[{"type":"tool","tool_id":"t","tool_name":"n","tool_input":{"a":["ok","x\\ud800"]}}]}',
         "ud800", 1),
        ("/api/v1/sessions/s1/messages/batch",
         b'{"messages":[{"role":"user","content":"fine"},{"role":"user","content":"\\ud800"}]}', "ud800", 0),
        ("/api/v1/sessions", b'{"session_id":"s\\ud800"}', "ud800", 1),
    ],
)
def test_the_api_refuses_a_lone_surrogate_and_stores_nothing(
    client: Client, app: object, path: str, body: bytes, char: str, position: int
) -> None:
    before = ok(client.get("/api/v1/sessions", headers=ALICE))
    refused(client.post(path, data=body, headers=JSON), char, position)
    assert ok(client.get("/api/v1/sessions", headers=ALICE)) == before
    everything_still_answers(client, app)


def test_a_surrogate_pair_is_a_character_and_is_stored(client: Client) -> None:
    result = ok(client.post("/api/v1/sessions/s1/messages", data=b'{"role":"user","content":"ok \\ud83d\\ude00"}',
                            headers=JSON))
    assert result["message_count"] == 1
    context = ok(client.get("/api/v1/sessions/s1/context", headers=ALICE))
    assert context["messages"][-1]["parts"][0]["text"] == "ok \U0001F600"


def test_validation_comes_first_and_the_violation_report_stays_writable(client: Client, app: object) -> None:
    body = b'{"role":"user","content":"hi","peer_id":"\\ud800"}'
    found = error(client.post("/api/v1/sessions/s1/messages", data=body, headers=JSON), 400, "INVALID_ARGUMENT")
    assert found["message"].startswith("Invalid request parameters: body.peer_id")
    everything_still_answers(client, app)
    violation = app.extensions["mockviking"].violations.all()[-1]  # type: ignore[attr-defined]
    assert "\\ud800" in violation.describe()


def test_the_control_api_refuses_a_lone_surrogate(client: Client) -> None:
    fixture = b'{"sessions":[{"user_id":"alice","session_id":"s9","messages":[{"role":"user","content":"\\ud800"}]}]}'
    json_type = {"Content-Type": "application/json"}
    assert client.post("/_mockviking/fixtures", data=fixture, headers=json_type).status_code == 400
    yaml_fixture = 'sessions:\n  - {user_id: alice, session_id: s9, messages: [{role: user, content: "\\ud800"}]}\n'
    assert client.post("/_mockviking/fixtures", data=yaml_fixture.encode(),
                       headers={"Content-Type": "application/yaml"}).status_code == 400
    state = ok(client.get("/_mockviking/state"))
    state["sessions"][0]["messages"][0]["parts"][0]["text"] = "\ud800"
    response = client.put("/_mockviking/state", data=_raw_json(state), headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert "surrogates not allowed" in response.get_json()["error"]["message"]
    assert "s9" not in [s["session_id"] for s in ok(client.get("/api/v1/sessions", headers=ALICE))]
    assert client.get("/_mockviking/state").status_code == 200


def test_fixture_files_and_dicts_refuse_a_lone_surrogate(contract: object, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text('sessions:\n  - {user_id: alice, session_id: s9, messages: [{role: user, content: "a\\ud800"}]}\n')
    with pytest.raises(FixtureError, match="invalid Unicode character escape"):  # PyYAML refuses it first
        load_into(SessionStore(), [path], contract)  # type: ignore[arg-type]
    from mockviking.harness.fixtures import check_fixture

    with pytest.raises(FixtureError, match="surrogates not allowed"):
        check_fixture({"sessions": [{"session_id": "s\ud800"}]}, contract)  # type: ignore[arg-type]


def _raw_json(value: object) -> bytes:
    import json

    return json.dumps(value).encode()  # ensure_ascii: the surrogate goes as \ud800
