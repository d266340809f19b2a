"""The shared test scaffolding (``tests/_support``) agrees with what it stands for."""

from __future__ import annotations

import yaml

from tests._support import ALICE_KEY, BOB_KEY, CAROL_KEY, DEFAULT_FIXTURES, ROOT_KEY, hermetic_env


def test_fixture_keys_are_the_bundled_fixtures_keys() -> None:
    document = yaml.safe_load(DEFAULT_FIXTURES.read_text(encoding="utf-8"))
    keys = {(account["account_id"], user["user_id"]): user["key"]
            for account in document["accounts"] for user in account["users"]}
    assert document["root_key"] == ROOT_KEY
    assert keys == {("default", "alice"): ALICE_KEY, ("default", "bob"): BOB_KEY, ("acme", "carol"): CAROL_KEY}


def test_hermetic_env_drops_every_sdk_variable() -> None:
    env = hermetic_env({"PATH": "/bin", "OPENVIKING_URL": "http://elsewhere", "OPENVIKING_API_KEY": "k"})
    assert env == {"PATH": "/bin", "OPENVIKING_CLI_CONFIG_FILE": "/nonexistent", "PYTHONUNBUFFERED": "1"}
