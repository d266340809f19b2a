"""Every way into the state obeys the storage rules the API obeys.

A session id the real storage layer refuses (``..``, a backslash, a drive prefix, an id too
long) and an account or user id it refuses are refused through the API, a fixture file,
the control API's fixtures, keys and state import alike, and nothing is stored.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from flask.testing import FlaskClient

from mockviking import Config, Contract, FixtureError, create_app
from mockviking.domain.errors import DomainError
from mockviking.domain.owners import Owner
from mockviking.domain.store import SessionStore
from mockviking.harness.config import default_fixture_path
from mockviking.harness.fixtures import load_into

from .conftest import ALICE, ROOT, error, ok

ALICE_OWNER = Owner("default", "alice")

#: Session ids the real server refuses, with the words of its refusal.
UNSAFE_SESSION_IDS = [
    ("..", "Unsafe URI traversal segment '..'"),
    ("a/../b", "Unsafe URI traversal segment '..'"),
    ("..\\evil", "Unsafe URI path separator '\\\\'"),
    ("C:x", "Unsafe URI drive-prefixed component 'C:x'"),
    ("x" * 1025, "mockviking accepts at most 1024"),
]
#: Account ids the real server refuses (a user id may start with an underscore).
BAD_ACCOUNT_IDS = [("bad id", "must be alpha_numeric string"), ("_hidden", "cannot start with underscore")]


def alice_sessions(client: FlaskClient) -> list[str]:
    return [s["session_id"] for s in ok(client.get("/api/v1/sessions", headers=ALICE))]


@pytest.mark.parametrize(("session_id", "words"), UNSAFE_SESSION_IDS)
def test_the_api_refuses_an_unsafe_session_id(client: FlaskClient, session_id: str, words: str) -> None:
    found = error(client.post("/api/v1/sessions", headers=ALICE, json={"session_id": session_id}),
                  403 if "accepts at most" not in words else 400,
                  "PERMISSION_DENIED" if "accepts at most" not in words else "INVALID_ARGUMENT")
    assert words in found["message"]
    assert session_id not in alice_sessions(client)


@pytest.mark.parametrize(("session_id", "words"), UNSAFE_SESSION_IDS)
def test_a_fixture_file_refuses_an_unsafe_session_id(
    contract: Contract, tmp_path: Path, session_id: str, words: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"sessions": [{"user_id": "alice", "session_id": session_id}]}))
    store = SessionStore()
    store.limits.max_id_length = Config().max_id_length
    with pytest.raises(FixtureError, match=r"sessions\[0\]") as caught:
        load_into(store, [path], contract)
    assert words in str(caught.value)
    assert store.list_sessions(ALICE_OWNER) == []


@pytest.mark.parametrize(("session_id", "words"), UNSAFE_SESSION_IDS)
def test_the_control_api_fixtures_refuse_an_unsafe_session_id(client: FlaskClient, session_id: str, words: str) -> None:
    body = {"sessions": [{"account_id": "default", "user_id": "alice", "session_id": session_id}]}
    found = error(client.post("/_mockviking/fixtures", json=body), 400, "INVALID_ARGUMENT")
    assert words in found["message"]
    assert session_id not in alice_sessions(client)


@pytest.mark.parametrize(("session_id", "words"), UNSAFE_SESSION_IDS[:4])
def test_a_state_import_refuses_an_unsafe_session_id(client: FlaskClient, session_id: str, words: str) -> None:
    state = ok(client.get("/_mockviking/state"))
    before = copy.deepcopy(state)
    state["sessions"][0]["session_id"] = session_id
    found = error(client.put("/_mockviking/state", json=state), 400, "INVALID_ARGUMENT")
    assert words in found["message"]
    assert ok(client.get("/_mockviking/state")) == before


@pytest.mark.parametrize(("account_id", "words"), BAD_ACCOUNT_IDS)
def test_every_way_in_refuses_a_bad_account_id(client: FlaskClient, account_id: str, words: str) -> None:
    # The API: its contract refuses the id, in the real server's words.
    error(client.post("/api/v1/admin/accounts", headers=ROOT, json={"account_id": account_id, "admin_user_id": "d"}),
          400, "INVALID_ARGUMENT")
    # The control API's keys, fixtures and state import.
    assert words in error(client.post("/_mockviking/keys", json={"account_id": account_id, "user_id": "dana"}),
                          400, "INVALID_ARGUMENT")["message"]
    body = {"accounts": [{"account_id": account_id, "users": [{"user_id": "dana"}]}]}
    assert words in error(client.post("/_mockviking/fixtures", json=body), 400, "INVALID_ARGUMENT")["message"]
    state = ok(client.get("/_mockviking/state"))
    state["accounts"][-1]["account_id"] = account_id
    assert words in error(client.put("/_mockviking/state", json=state), 400, "INVALID_ARGUMENT")["message"]
    # The store itself, which the pytest handle uses.
    with pytest.raises(DomainError, match=words):
        SessionStore().user_key(account_id, "dana")
    with pytest.raises(DomainError, match=words):
        SessionStore().create_account(account_id, "dana")
    assert account_id not in [a["account_id"] for a in ok(client.get("/api/v1/admin/accounts", headers=ROOT))]


def test_every_way_in_refuses_a_bad_user_id(client: FlaskClient) -> None:
    words = "user_id must be alpha_numeric string"
    error(client.post("/api/v1/admin/accounts/acme/users", headers=ROOT, json={"user_id": "bad id"}),
          400, "INVALID_ARGUMENT")
    assert words in error(client.post("/_mockviking/keys", json={"account_id": "acme", "user_id": "bad id"}),
                          400, "INVALID_ARGUMENT")["message"]
    state = ok(client.get("/_mockviking/state"))
    state["accounts"][-1]["users"][0]["user_id"] = "bad id"
    assert words in error(client.put("/_mockviking/state", json=state), 400, "INVALID_ARGUMENT")["message"]
    with pytest.raises(DomainError, match=words):
        SessionStore().create_account("acme", "bad id")
    assert "bad id" not in [u["user_id"] for u in ok(client.get("/api/v1/admin/accounts/acme/users", headers=ROOT))]


def test_the_bundled_fixtures_pass_the_rules(contract: Contract) -> None:
    store = SessionStore()
    load_into(store, [default_fixture_path()], contract)
    assert store.get_session(ALICE_OWNER, "a1b2c3d4") is not None
    assert create_app(Config()).extensions["mockviking"].store.get_session(ALICE_OWNER, "a1b2c3d4") is not None


def test_a_store_given_to_create_app_gets_the_id_rule_too() -> None:
    """The app's id-length rule applies to a store the caller built, on create as on lookup."""
    store = SessionStore()
    client = create_app(Config(fixtures=()), store=store).test_client()
    too_long = "x" * (Config().max_id_length + 1)
    assert client.post("/api/v1/sessions", json={"session_id": too_long}).status_code == 400
    message = {"role": "user", "content": "a"}
    assert client.post(f"/api/v1/sessions/{too_long}/messages", json=message).status_code == 400
    assert store.list_sessions(Owner("default", "default")) == []
