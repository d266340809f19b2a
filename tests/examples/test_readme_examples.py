"""The README's examples run as they are written."""

from __future__ import annotations

import re

import pytest

from tests._support import README, make_sdk_hermetic

pytest_plugins = ["pytester"]


def section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    return text.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_use_it_in_pytest_example_passes(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = re.findall(r"```python\n(.+?)```", section("Use it in pytest"), flags=re.DOTALL)
    assert len(blocks) == 1
    make_sdk_hermetic(monkeypatch)
    pytester.makepyfile(test_my_agent=blocks[0])
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


def test_control_api_examples_name_real_routes() -> None:
    from mockviking.contract.spec import default_spec_path, load_contract

    control = load_contract(default_spec_path("control.yaml"))
    routes = {(op.method, op.path) for op in control.operations}
    shown = section("Drive it from any language")
    calls = re.findall(r"curl -s(?: -X (\w+))? \"?\$M(/[\w/-]*)", shown)
    assert len(calls) >= 12
    for method, path in calls:
        assert (method or "GET", "/_mockviking" + path) in routes, (method, path)
