"""mockviking: a faithful, stateful stand-in for the OpenViking sessions HTTP API."""

from __future__ import annotations

from .app import create_app
from .config import Config
from .errors import ApiError
from .fixtures import FixtureError
from .harness import Harness
from .spec import Contract, SpecError, load_contract
from .store import Owner, SessionStore

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
