"""mockviking: a faithful, stateful stand-in for the OpenViking sessions HTTP API.

Names are exported lazily: ``import mockviking.domain`` (or the store alone) loads neither
Flask nor jsonschema, and ``mockviking.create_app`` loads the web layer on first use.
"""

from __future__ import annotations

import importlib
import typing as t

__version__ = "0.1.0"

#: Exported name -> the module that defines it.
_EXPORTS = {
    "Config": "mockviking.harness.config",
    "Contract": "mockviking.contract.spec",
    "DomainError": "mockviking.domain.errors",
    "FixtureError": "mockviking.harness.fixtures",
    "Harness": "mockviking.harness.harness",
    "Owner": "mockviking.domain.owners",
    "SessionStore": "mockviking.domain.store",
    "SpecError": "mockviking.contract.spec",
    "create_app": "mockviking.web.app",
    "load_contract": "mockviking.contract.spec",
}

__all__ = [
    "Config",
    "Contract",
    "DomainError",
    "FixtureError",
    "Harness",
    "Owner",
    "SessionStore",
    "SpecError",
    "create_app",
    "load_contract",
]
assert sorted(_EXPORTS) == __all__

if t.TYPE_CHECKING:
    from mockviking.contract.spec import Contract, SpecError, load_contract
    from mockviking.domain.errors import DomainError
    from mockviking.domain.owners import Owner
    from mockviking.domain.store import SessionStore
    from mockviking.harness.config import Config
    from mockviking.harness.fixtures import FixtureError
    from mockviking.harness.harness import Harness
    from mockviking.web.app import create_app


def __getattr__(name: str) -> t.Any:
    """Import an exported name's module on first use."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'mockviking' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
