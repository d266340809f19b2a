"""Live tests: a real ``mockviking serve`` subprocess, driven over HTTP by the official SDK.

The server is started once per test session (bundled fixtures, ``--seed 7``) and shared, so
tests use unique session ids.
"""

from __future__ import annotations

import os
import typing as t

import pytest
from livesupport import ALICE_KEY, BOB_KEY, ServerProcess, running_server


@pytest.fixture(autouse=True)
def _hermetic_sdk(monkeypatch: pytest.MonkeyPatch) -> None:
    """No user ovcli.conf or OPENVIKING_* variable may leak into an SDK client."""
    for name in list(os.environ):
        if name.startswith("OPENVIKING_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("OPENVIKING_CLI_CONFIG_FILE", "/nonexistent")


@pytest.fixture(scope="session")
def live_server() -> t.Iterator[ServerProcess]:
    """The shared server: bundled fixtures, seed 7."""
    with running_server("--seed", "7") as server:
        yield server


@pytest.fixture(scope="session")
def base_url(live_server: ServerProcess) -> str:
    return live_server.url


@pytest.fixture
def make_client(base_url: str) -> t.Iterator[t.Callable[..., t.Any]]:
    """``make_client(api_key, **kwargs)`` -> an initialized SyncHTTPClient, closed afterwards."""
    from openviking_sdk import SyncHTTPClient

    clients: list[t.Any] = []

    def make(api_key: str | None = ALICE_KEY, **kwargs: t.Any) -> t.Any:
        client = SyncHTTPClient(url=base_url, api_key=api_key, timeout=10, **kwargs)
        client.initialize()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def alice(make_client: t.Callable[..., t.Any]) -> t.Any:
    return make_client(ALICE_KEY)


@pytest.fixture
def bob(make_client: t.Callable[..., t.Any]) -> t.Any:
    return make_client(BOB_KEY)
