"""Contract tests: schemathesis drives the in-process Flask app (WSGI) from spec/openapi.yaml.

Everything here is in-process: no server, no sockets. Each test function gets a fresh app
(fresh store, bundled fixtures) so state stays bounded and tests do not leak into each other.
The parsed contract is shared, so a fresh app costs milliseconds.
"""

from __future__ import annotations

import os
import typing as t
from pathlib import Path

import pytest
from flask import Flask

from mockviking import Config, create_app, load_contract
from tests._support import DEV_FIXTURES, SPEC


@pytest.fixture(scope="session")
def contract() -> t.Any:
    """The mockviking contract, parsed once and shared by every fresh app."""
    return load_contract(str(SPEC))


@pytest.fixture
def make_api_key_app(contract: t.Any) -> t.Callable[[], Flask]:
    """Build fresh apps in api_key mode with the bundled fixtures (root key, alice, bob, carol)."""
    return lambda: create_app(Config(spec_path=str(SPEC)), contract=contract)


@pytest.fixture
def make_dev_app(contract: t.Any) -> t.Callable[[], Flask]:
    """Build fresh apps in dev mode: no keys at all, identity from the X-OpenViking-* headers."""
    return lambda: create_app(
        Config(spec_path=str(SPEC), fixtures=(str(DEV_FIXTURES),)), contract=contract
    )


@pytest.fixture
def api_key_app(make_api_key_app: t.Callable[[], Flask]) -> Flask:
    """A fresh api_key-mode app for one test function."""
    return make_api_key_app()


@pytest.fixture
def dev_app(make_dev_app: t.Callable[[], Flask]) -> Flask:
    """A fresh dev-mode app for one test function."""
    return make_dev_app()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Gate this folder's thorough ``slow`` variants: ``-m slow`` or MOCKVIKING_SLOW=1 runs them."""
    markexpr = config.getoption("markexpr", "") or ""
    asked = "slow" in markexpr and "not slow" not in markexpr
    if asked or os.environ.get("MOCKVIKING_SLOW") == "1":
        return
    here = Path(__file__).resolve().parent
    skip = pytest.mark.skip(reason="thorough variant: run with -m slow or MOCKVIKING_SLOW=1")
    for item in items:
        if "slow" in item.keywords and here in Path(str(item.path)).resolve().parents:
            item.add_marker(skip)
