"""Strict mode: a test that sent a request the real server would refuse fails, readably."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

TESTS = """
import httpx
import pytest


def send_invalid(mockviking):
    key = mockviking.key_for("acme", "dana")
    response = httpx.post(f"{mockviking.url}/api/v1/sessions/s/messages", headers={"X-API-Key": key},
                          json={"content": 5})
    assert response.status_code == 400  # the code under test "handles" the 400...


def test_invalid_request_fails_the_test(mockviking):
    send_invalid(mockviking)


@pytest.mark.mockviking(strict=False)
def test_relaxed_by_marker(mockviking):
    send_invalid(mockviking)


def test_relaxed_in_the_test(mockviking):
    mockviking.strict = False
    send_invalid(mockviking)
    assert [v.location for v in mockviking.violations] == ["body.role", "body.content"]


def test_valid_requests_pass(mockviking):
    key = mockviking.key_for("acme", "dana")
    assert httpx.post(f"{mockviking.url}/api/v1/sessions/s/messages", headers={"X-API-Key": key},
                      json={"role": "user", "content": "hi"}).status_code == 200
"""


def test_strict_mode_is_the_default_and_can_be_relaxed(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_strict=TESTS)
    result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=4, errors=1)
    output = result.stdout.str()
    assert "ContractViolation" in output
    assert "2 request(s) broke the OpenViking contract" in output
    assert "POST /api/v1/sessions/s/messages (add_message): body.role: Field required <missing>" in output
    assert "body.content: Input should be a valid string <string_type> [got 5]" in output


def test_strict_mode_off_for_a_whole_project(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nmockviking_strict = false\n")
    pytester.makepyfile(test_strict=TESTS)
    result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)
