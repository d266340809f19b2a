"""pytest plugin: one live mockviking per test session (per xdist worker), clean per test.

Fixtures (none autouse):

- ``mockviking_config``: the :class:`Config` the server is built from; override it in a
  ``conftest.py`` to change anything.
- ``mockviking_server``: the server, started once on 127.0.0.1 and a free port.
- ``mockviking``: a :class:`MockVikingHandle`, reset to the fixtures before each test, with
  a marker's extra fixtures loaded; a failure inside the server fails the test, and so (in
  strict mode, the default) does a request that breaks the contract, even if the code under
  test handled the 400.

Options: ``--mockviking-fixtures FILE`` (repeatable) or the ini key ``mockviking_fixtures``
set the default fixture files; ``@pytest.mark.mockviking(fixtures=[...])`` adds fixture
files (or dicts) for one test.
"""

from __future__ import annotations

import typing as t
from pathlib import Path

import pytest

if t.TYPE_CHECKING:
    from mockviking.harness.config import Config
    from mockviking.serving.waitress_server import MockVikingServer
    from mockviking.testing import MockVikingHandle

MARKER = "mockviking"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mockviking", "mockviking, the OpenViking sessions mock")
    group.addoption(
        "--mockviking-fixtures",
        action="append",
        default=None,
        metavar="FILE",
        help="fixture file the mockviking server starts with (repeatable; default: the bundled ones)",
    )
    parser.addini("mockviking_fixtures", "fixture files the mockviking server starts with", type="paths")
    parser.addini(
        "mockviking_strict",
        "fail tests that send requests breaking the OpenViking contract (default: true)",
        type="bool",
        default=True,
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "mockviking(fixtures=[...], strict=True): extra mockviking fixture files or dicts loaded for "
        "this test; strict=False lets it send requests that break the contract",
    )


@pytest.fixture(scope="session")
def mockviking_config(pytestconfig: pytest.Config) -> Config:
    """The configuration of the session's server; override to change it."""
    from mockviking.harness.config import Config

    files: list[str] = list(pytestconfig.getoption("mockviking_fixtures") or [])
    if not files:
        files = [str(path) for path in pytestconfig.getini("mockviking_fixtures") or []]
    return Config(fixtures=tuple(files) if files else None)


@pytest.fixture(scope="session")
def mockviking_server(mockviking_config: Config) -> t.Iterator[MockVikingServer]:
    """A mockviking on 127.0.0.1 (free port), serving from a thread of this process."""
    from mockviking.serving.waitress_server import MockVikingServer
    from mockviking.web.app import create_app

    server = MockVikingServer(create_app(mockviking_config), "127.0.0.1", 0)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def mockviking(mockviking_server: MockVikingServer, request: pytest.FixtureRequest) -> t.Iterator[MockVikingHandle]:
    """The server, reset to its fixtures for this test; see :class:`MockVikingHandle`."""
    from mockviking.testing import MockVikingHandle
    from mockviking.web.app import EXTENSION

    strict = bool(request.config.getini("mockviking_strict"))
    handle = MockVikingHandle(mockviking_server, mockviking_server.app.extensions[EXTENSION], strict=strict)
    handle.reset()  # at setup, so nothing from another test's teardown leaks in
    marker = request.node.get_closest_marker(MARKER)
    if marker is not None:
        handle.strict = bool(marker.kwargs.get("strict", handle.strict))
        extra = marker.kwargs.get("fixtures", ())
        for fixture in [extra] if isinstance(extra, (str, dict)) else extra:
            if isinstance(fixture, str) and not Path(fixture).is_absolute():
                beside_test = request.path.parent / fixture
                fixture = str(beside_test) if beside_test.exists() else fixture
            handle.seed(fixture)
    yield handle
    handle.check()
    if handle.strict:
        handle.check_contract()
