"""An app on the bundled fixtures, driven over both transports: in-process and a real socket.

Every test that takes ``client`` (or ``dev_client``, ``client_for``, ``transport``) runs twice:
``[inprocess]`` through Flask's test client, ``[live]`` over HTTP to the same app object served
by waitress (``tests/_support/transport.py``), as moto runs its suite again in server mode.
A test marked ``inprocess_only(reason)`` runs in-process alone; the reason says why.
"""

from __future__ import annotations

import typing as t

import pytest
from flask import Flask

from mockviking import Config, Contract, create_app, load_contract
from mockviking.serving.waitress_server import MockVikingServer
from tests._support import ALICE_KEY, BOB_KEY, CAROL_KEY, DEV_FIXTURES, ROOT_KEY
from tests._support.transport import AppSwitch, Client, LiveClient

__all__ = ["ALICE", "ALICE_KEY", "BOB", "BOB_KEY", "CAROL_KEY", "ROOT", "ROOT_KEY", "Client", "error", "key", "ok"]

TRANSPORTS = ("inprocess", "live")
#: Where the in-process transport says a request went (werkzeug's default host).
INPROCESS_ORIGIN = "http://localhost"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise every test that reaches ``transport`` over both transports."""
    if "transport" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("inprocess_only")
    if marker is not None and not (marker.args or marker.kwargs.get("reason")):
        raise pytest.UsageError(f"{metafunc.definition.nodeid}: inprocess_only needs a reason")
    transports = ("inprocess",) if marker is not None else TRANSPORTS
    metafunc.parametrize("transport", transports)


@pytest.fixture(scope="session")
def contract() -> Contract:
    """The contract is immutable: load it once for the whole run."""
    return load_contract()


@pytest.fixture(scope="session")
def live_switch() -> t.Iterator[tuple[AppSwitch, str]]:
    """One waitress server for the session (per xdist worker), serving whichever app a
    request is routed to; started the first time a live test needs it."""
    switch = AppSwitch()
    with MockVikingServer(switch, "127.0.0.1", 0) as server:  # type: ignore[arg-type]
        yield switch, server.url


@pytest.fixture
def client_for(transport: str, request: pytest.FixtureRequest) -> t.Iterator[t.Callable[[Flask], Client]]:
    """``client_for(app)``: a client of ``app`` over this test's transport."""
    if transport == "inprocess":
        yield lambda app: app.test_client()
        return
    switch, url = request.getfixturevalue("live_switch")
    tokens: list[str] = []

    def live(app: Flask) -> Client:
        token = switch.register(app)
        tokens.append(token)
        return LiveClient(url, token)

    yield live
    for token in tokens:
        switch.unregister(token)


@pytest.fixture
def origin(client: Client) -> str:
    """The scheme and host the app sees requests come to (absolute redirects start with it)."""
    return client.origin if isinstance(client, LiveClient) else INPROCESS_ORIGIN


@pytest.fixture
def app(contract: Contract) -> Flask:
    return create_app(Config(seed=1), contract=contract)


@pytest.fixture
def client(app: Flask, client_for: t.Callable[[Flask], Client]) -> Client:
    return client_for(app)


@pytest.fixture
def dev_client(contract: Contract, client_for: t.Callable[[Flask], Client]) -> Client:
    return client_for(create_app(Config(fixtures=(str(DEV_FIXTURES),), seed=1), contract=contract))


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
