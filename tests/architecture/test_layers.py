"""The architecture is enforced: the import contracts hold, and break on a forbidden import.

``lint-imports`` reads the contracts from ``pyproject.toml``. The breaking runs copy the
package into a temporary folder, add one import that ARCHITECTURE.md forbids, and check
that the linter fails naming the contract, so the contracts are known to be able to fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT = Path(sys.executable).with_name("lint-imports")


def lint(package_parent: Path, config: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` on the ``mockviking`` package found in ``package_parent``."""
    env = {**os.environ, "PYTHONPATH": str(package_parent)}
    return subprocess.run(
        [str(LINT), str(config), "--no-cache"],
        cwd=package_parent, env=env, capture_output=True, text=True, timeout=120, check=False,
    )


def test_the_package_keeps_every_contract() -> None:
    result = lint(ROOT, ROOT / "pyproject.toml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.fixture
def broken_copy(tmp_path: Path) -> Path:
    """A copy of the package (contract and fixtures included) to break."""
    shutil.copytree(ROOT / "mockviking", tmp_path / "mockviking", symlinks=False,
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("domain/models.py", "import flask", "The domain is pure Python"),
        ("domain/rules.py", "from mockviking.web import errors", "Dependencies point inward"),
        ("contract/spec.py", "from mockviking.harness import journal", "Dependencies point inward"),
        ("harness/journal.py", "import werkzeug", "The contract and the harness know no web framework"),
        ("web/render.py", "import flask", "Errors, auth, handlers and renderers of the web layer need no Flask"),
        ("web/app.py", "from mockviking.serving import tuning", "Dependencies point inward"),
        ("domain/owners.py", "from mockviking.domain import models", "No import cycles"),
    ],
)
def test_a_forbidden_import_breaks_a_contract(broken_copy: Path, module: str, line: str, contract: str) -> None:
    path = broken_copy / "mockviking" / module
    path.write_text(path.read_text() + f"\n{line}  # forbidden on purpose\n")
    result = lint(broken_copy, broken_copy / "pyproject.toml")
    assert result.returncode != 0, result.stdout
    broken = [row for row in result.stdout.splitlines() if row.endswith("BROKEN")]
    assert any(row.startswith(contract) for row in broken), result.stdout
    assert "forbidden on purpose" not in result.stderr
    assert Path(module).stem in result.stdout  # the report names the module that broke it
