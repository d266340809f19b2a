"""Live tests: a real ``mockviking serve`` subprocess, driven over HTTP by the official SDK.

The server is started once per test session (bundled fixtures, ``--seed 7``) and shared, so
tests use unique session ids.
"""

from __future__ import annotations

import typing as t

import pytest

from tests._support import ALICE_KEY, BOB_KEY, ServerProcess, hermetic_sdk, running_server, sdk_clients

__all__ = ["hermetic_sdk"]


@pytest.fixture(autouse=True)
def _hermetic_sdk(hermetic_sdk: None) -> None:
    """Every live test: no user ovcli.conf or OPENVIKING_* variable leaks into an SDK client."""


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
    with sdk_clients(base_url) as make:

        def make_client(api_key: str | None = ALICE_KEY, **kwargs: t.Any) -> t.Any:
            return make(api_key, **kwargs)

        yield make_client


@pytest.fixture
def alice(make_client: t.Callable[..., t.Any]) -> t.Any:
    return make_client(ALICE_KEY)


@pytest.fixture
def bob(make_client: t.Callable[..., t.Any]) -> t.Any:
    return make_client(BOB_KEY)
