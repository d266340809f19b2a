"""Tests of the pytest plugin itself, mostly through ``pytester`` (inner pytest runs).

``pytester`` is enabled here with ``import_plugin`` rather than ``pytest_plugins``: pytest
refuses ``pytest_plugins`` in a conftest that is not top level, and this one is only
collected late when the whole suite runs.
"""

from __future__ import annotations

# Imported here, before any in-process pytester run: pytester restores ``sys.modules`` after
# each inner run, and httpx imports httpcore lazily, on its first client. Were that first
# import inside an inner run, httpcore would be imported a second time later while httpx
# keeps mapping the first copy's exceptions, and httpcore's own errors would leak out of
# httpx (httpcore.RemoteProtocolError instead of httpx.RemoteProtocolError).
import httpcore  # noqa: F401
import pytest

from tests._support import hermetic_sdk

__all__ = ["hermetic_sdk"]


def pytest_configure(config: pytest.Config) -> None:
    if not config.pluginmanager.has_plugin("pytester"):
        config.pluginmanager.import_plugin("pytester")
