"""mockviking: a faithful, stateful stand-in for the OpenViking sessions HTTP API."""

from __future__ import annotations

from mockviking.web.app import create_app
from mockviking.harness.config import Config
from mockviking.domain.errors import ApiError
from mockviking.harness.fixtures import FixtureError
from mockviking.harness.harness import Harness
from mockviking.contract.spec import Contract, SpecError, load_contract
from mockviking.domain.store import Owner, SessionStore

__all__ = [
    "ApiError",
    "Config",
    "Contract",
    "FixtureError",
    "Harness",
    "Owner",
    "SessionStore",
    "SpecError",
    "create_app",
    "load_contract",
]
__version__ = "0.1.0"
