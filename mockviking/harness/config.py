"""Settings of one mockviking instance, in one frozen dataclass: defaults live only here."""

from __future__ import annotations

import dataclasses
import importlib.resources
from pathlib import Path

#: Where the control API (``spec/control.yaml``) lives: requests under it are mockviking's
#: own, never OpenViking's, so they are neither faulted nor checked against its contract.
CONTROL_PREFIX = "/_mockviking"


def default_fixture_path() -> Path:
    """The bundled fixtures (``fixtures/default.yaml`` in the repository)."""
    return Path(str(importlib.resources.files("mockviking.harness").joinpath("bundled", "default.yaml")))


@dataclasses.dataclass(frozen=True)
class Config:
    """What a mockviking app is built from; derive variants with ``dataclasses.replace``."""

    #: The contract; ``None`` means the bundled ``spec/openapi.yaml``.
    spec_path: str | None = None
    #: Fixture files loaded at start-up, in order; ``None`` means the bundled default.
    fixtures: tuple[str, ...] | None = None
    #: The root key; overrides a ``root_key`` given in the fixtures.
    root_key: str | None = None
    #: Seed for generated ids and keys, for reproducible runs.
    seed: int | None = None
    #: Largest request body accepted, in bytes.
    max_body_bytes: int = 10 * 1024 * 1024
    #: Most requests the journal keeps (the oldest drop out).
    journal_limit: int = 1000
    #: When set, the control API (``/_mockviking``) needs it in ``X-Mockviking-Control-Token``.
    control_token: str | None = None
    #: Deepest JSON nesting accepted in a body.
    max_json_depth: int = 64
    #: Longest session id accepted (path or body).
    max_id_length: int = 1024
    #: Most sessions one user may own (``None``: no limit); more answers 429.
    max_sessions_per_user: int | None = 10_000
    #: Most messages (live and archived) one user may store (``None``: no limit); more answers 429.
    max_messages_per_user: int | None = 1_000_000
    #: Keep the state in this file: restored at start-up, saved after every write.
    state_file: str | None = None

    def fixture_paths(self) -> tuple[str, ...]:
        """The fixture files to load."""
        if self.fixtures is None:
            return (str(default_fixture_path()),)
        return self.fixtures
