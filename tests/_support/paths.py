"""Where the repository's own files are: the contract, the fixtures, the README."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SPEC = REPO / "spec" / "openapi.yaml"
DEFAULT_FIXTURES = REPO / "fixtures" / "default.yaml"
DEV_FIXTURES = REPO / "fixtures" / "dev.yaml"
README = REPO / "README.md"
