"""Fixture files are checked when loaded; a bad one names the file, the record and the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from mockviking.contract.spec import Contract, load_contract
from mockviking.domain.owners import Owner
from mockviking.domain.store import SessionStore
from mockviking.harness.config import default_fixture_path
from mockviking.harness.fixtures import FixtureError, load_fixture, load_into
from tests._support import BOB_KEY


@pytest.fixture(scope="module")
def contract() -> Contract:
    return load_contract()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "fixture.yaml"
    path.write_text(text)
    return path


def test_bundled_fixtures_hold_the_seed_example(contract: Contract) -> None:
    store = SessionStore()
    load_into(store, [default_fixture_path()], contract)
    session = store.get_session(Owner("default", "alice"), "a1b2c3d4")
    assert session is not None
    assert (session.message_count, session.commit_count, session.pending_tokens) == (5, 3, 128)
    assert session.memories_extracted["total"] == 10
    assert session.llm_token_usage["total_tokens"] == 7000
    assert store.auth_mode == "api_key"
    assert store.resolve_key(BOB_KEY).role == "user"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sessions:\n  - session_id: x\n    messages:\n      - {content: hi}\n",
         r"sessions\[0\] \('x'\): sessions\.0\.messages\.0\.role: Field required"),
        ("bogus: 1\n", r"file: bogus: Extra inputs are not permitted"),
        ("accounts:\n  - account_id: acme\n    users:\n      - {user_id: a, key: short}\n",
         r"accounts\[0\] \('acme'\): accounts\.0\.users\.0\.key: String should have at least 8 characters"),
        ("accounts:\n  - account_id: _acme\n    users: [{user_id: a}]\n",
         r"accounts\[0\] \('_acme'\): account_id cannot start with underscore"),
        ("accounts:\n  - account_id: acme\n    users:\n      - {user_id: a, role: user}\n",
         r"the first user of an account is its admin"),
        ("accounts:\n  - account_id: acme\n    users:\n      - {user_id: a, key: same-key-123}\n"
         "      - {user_id: b, key: same-key-123}\n", r"user 'b': this key is already in use"),
        ("sessions:\n  - session_id: x\n    messages:\n"
         "      - {role: user, parts: [{type: context, uri: 'http://x'}]}\n",
         r"sessions\[0\] \('x'\): messages\.0: Invalid URI: http://x"),
        ("sessions:\n  - session_id: x\n  - session_id: x\n", r"sessions\[1\] \('x'\): Resource already exists"),
        ("sessions: [\n", r"not valid YAML"),
    ],
)
def test_bad_fixture_names_file_record_and_reason(tmp_path: Path, contract: Contract, text: str,
                                                  message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(FixtureError, match=message) as caught:
        load_into(SessionStore(), [path], contract)
    assert str(caught.value).startswith(str(path))


def test_missing_file(tmp_path: Path, contract: Contract) -> None:
    with pytest.raises(FixtureError, match="cannot read the fixture file"):
        load_fixture(tmp_path / "nope.yaml", contract)


def test_empty_file_is_an_empty_fixture(tmp_path: Path, contract: Contract) -> None:
    store = SessionStore()
    load_into(store, [write(tmp_path, "")], contract)
    assert store.auth_mode == "dev"
