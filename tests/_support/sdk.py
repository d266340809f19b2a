"""The official SDK (``openviking_sdk``), kept away from its user's configuration.

The SDK reads ``OPENVIKING_URL``, ``OPENVIKING_API_KEY``, ``OPENVIKING_ACCOUNT``... and, when
``OPENVIKING_CLI_CONFIG_FILE`` is unset, ``~/.openviking/ovcli.conf``. A test must get what it
passes and nothing else, whether the SDK runs in the test process (:func:`make_sdk_hermetic`,
the ``hermetic_sdk`` fixture) or in a child process (:func:`hermetic_env`).
"""

from __future__ import annotations

import contextlib
import os
import typing as t

import pytest

#: The prefix of every variable the SDK reads.
SDK_VARIABLE_PREFIX = "OPENVIKING_"
#: The variable naming the SDK's config file, pointed at a file that does not exist.
SDK_CONFIG_VARIABLE = "OPENVIKING_CLI_CONFIG_FILE"
NO_CONFIG_FILE = "/nonexistent"
#: Seconds an SDK client waits for an answer.
SDK_TIMEOUT = 10


def hermetic_env(base: t.Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (the environment by default) without OPENVIKING_* variables, with no ovcli.conf
    to read and unbuffered Python output: the environment of a child process."""
    source = os.environ if base is None else base
    env = {k: v for k, v in source.items() if not k.startswith(SDK_VARIABLE_PREFIX)}
    env[SDK_CONFIG_VARIABLE] = NO_CONFIG_FILE
    env["PYTHONUNBUFFERED"] = "1"
    return env


def make_sdk_hermetic(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same for this process, undone when ``monkeypatch`` is."""
    for name in list(os.environ):
        if name.startswith(SDK_VARIABLE_PREFIX):
            monkeypatch.delenv(name)
    monkeypatch.setenv(SDK_CONFIG_VARIABLE, NO_CONFIG_FILE)


@pytest.fixture
def hermetic_sdk(monkeypatch: pytest.MonkeyPatch) -> None:
    """No user ovcli.conf or OPENVIKING_* variable may leak into an SDK client."""
    make_sdk_hermetic(monkeypatch)


def sdk_client(url: str, **kwargs: t.Any) -> t.Any:
    """An initialized ``SyncHTTPClient`` on ``url`` (``api_key=``, ``user=``... as the SDK takes
    them); the caller closes it."""
    from openviking_sdk import SyncHTTPClient

    kwargs.setdefault("timeout", SDK_TIMEOUT)
    client = SyncHTTPClient(url=url, **kwargs)
    client.initialize()
    return client


@contextlib.contextmanager
def sdk_clients(url: str) -> t.Iterator[t.Callable[..., t.Any]]:
    """``make(api_key, **kwargs)`` -> an initialized client on ``url``; all closed on exit."""
    clients: list[t.Any] = []

    def make(api_key: str | None = None, **kwargs: t.Any) -> t.Any:
        client = sdk_client(url, api_key=api_key, **kwargs)
        clients.append(client)
        return client

    try:
        yield make
    finally:
        for client in clients:
            client.close()
