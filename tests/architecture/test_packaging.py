"""What a user installs: the wheel ships every part, and the inner parts load no web stack.

The wheel is built from this checkout and installed into a folder of its own, then imported
in a fresh interpreter whose path puts that folder first (the checkout itself is not on it).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: Every part of the package, as ARCHITECTURE.md names them.
PARTS = ("domain", "contract", "harness", "web", "web.handlers", "serving", "verify")


def run_python(code: str, *, cwd: Path, path: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ}
    env.pop("PYTHONPATH", None)
    if path is not None:
        env["PYTHONPATH"] = path
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def test_the_inner_parts_load_no_web_framework(tmp_path: Path) -> None:
    code = """
import sys
import mockviking
import mockviking.domain.store, mockviking.domain.phase_two, mockviking.domain.context
store = mockviking.SessionStore()
loaded = sorted(m for m in ("flask", "werkzeug", "jsonschema", "yaml", "click") if m in sys.modules)
assert not loaded, f"the domain loaded {loaded}"
import mockviking.contract.validation, mockviking.harness.harness
loaded = sorted(m for m in ("flask", "werkzeug", "click", "waitress", "granian") if m in sys.modules)
assert not loaded, f"the contract and the harness loaded {loaded}"
import mockviking.web.errors, mockviking.web.render, mockviking.web.handlers
assert "flask" not in sys.modules, "the web layer's tables and handlers loaded Flask"
mockviking.create_app
assert "flask" in sys.modules
print("ok")
"""
    result = run_python(code, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


@pytest.fixture(scope="module")
def installed_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from this checkout, installed (without dependencies) into a folder."""
    out = tmp_path_factory.mktemp("wheel")
    # Built from a copy: an in-tree build would leave build/ and *.egg-info in the checkout.
    source = out / "source"
    shutil.copytree(ROOT, source, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", ".venv*", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(source)],
                   check=True, timeout=300, capture_output=True)
    wheel = next(out.glob("mockviking-*.whl"))
    target = out / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
                   check=True, timeout=300, capture_output=True)
    return wheel


def test_the_wheel_ships_every_part_and_its_data(installed_wheel: Path) -> None:
    names = zipfile.ZipFile(installed_wheel).namelist()
    for part in PARTS:
        assert f"mockviking/{part.replace('.', '/')}/__init__.py" in names, part
    for data in ("contract/yaml/openapi.yaml", "contract/yaml/control.yaml",
                 "harness/bundled/default.yaml", "harness/bundled/dev.yaml", "py.typed"):
        assert f"mockviking/{data}" in names, data
    sources = {n for n in names if n.startswith("mockviking/") and n.endswith(".py")}
    in_checkout = {str(p.relative_to(ROOT)) for p in (ROOT / "mockviking").rglob("*.py")}
    assert sources == in_checkout


def test_the_installed_wheel_imports_every_module_and_serves(installed_wheel: Path, tmp_path: Path) -> None:
    site = installed_wheel.parent / "site"
    code = """
import importlib, json, pkgutil
import mockviking
found = pkgutil.walk_packages(mockviking.__path__, "mockviking.")
modules = [m.name for m in found if m.name != "mockviking.__main__"]  # importing it runs the CLI
for name in modules:
    importlib.import_module(name)
client = mockviking.create_app().test_client()
health = client.get("/health").get_json()
print(json.dumps({"file": mockviking.__file__, "modules": modules, "health": health}))
"""
    result = run_python(code, cwd=tmp_path, path=str(site))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["file"].startswith(str(site)), "the wheel's copy was imported, not the checkout"
    for part in PARTS:
        assert f"mockviking.{part}" in report["modules"]
    assert "mockviking.domain.store" in report["modules"]
    assert report["health"]["healthy"] is True
