"""An app on the bundled fixtures, driven in-process through Flask's test client."""

from __future__ import annotations

import typing as t

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mockviking import Config, Contract, create_app, load_contract
from tests._support import ALICE_KEY, BOB_KEY, CAROL_KEY, DEV_FIXTURES, ROOT_KEY

__all__ = ["ALICE", "ALICE_KEY", "BOB", "BOB_KEY", "CAROL_KEY", "ROOT", "ROOT_KEY", "error", "key", "ok"]


@pytest.fixture(scope="session")
def contract() -> Contract:
    """The contract is immutable: load it once for the whole run."""
    return load_contract()


@pytest.fixture
def app(contract: Contract) -> Flask:
    return create_app(Config(seed=1), contract=contract)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def dev_client(contract: Contract) -> FlaskClient:
    return create_app(Config(fixtures=(str(DEV_FIXTURES),), seed=1), contract=contract).test_client()


def key(value: str) -> dict[str, str]:
    return {"X-API-Key": value}


ALICE = key(ALICE_KEY)
BOB = key(BOB_KEY)
ROOT = key(ROOT_KEY)


def ok(response: t.Any) -> t.Any:
    """The result of a full success envelope, checking the envelope on the way."""
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["error"] is None
    assert body["profile"] is None
    assert "telemetry" in body
    return body["result"]


def error(response: t.Any, status: int, code: str) -> dict[str, t.Any]:
    """The error object of an error envelope with the expected status and code."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["status"] == "error"
    assert body["error"]["code"] == code
    return t.cast(dict[str, t.Any], body["error"])
