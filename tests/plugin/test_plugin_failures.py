"""A failure inside the server thread fails the test that caused it, at teardown."""

from __future__ import annotations

import pytest

from .pluginsupport import inner_tests

BOOM = """
class StoreExploded(RuntimeError):
    pass

def boom(*args, **kwargs):
    raise StoreExploded("kaboom in list_sessions")
"""


def test_a_server_side_exception_fails_the_test_at_teardown(pytester: pytest.Pytester) -> None:
    inner_tests(
        pytester,
        BOOM,
        """
        def test_causes_a_500(mockviking, monkeypatch):
            monkeypatch.setattr(mockviking.store, "list_sessions", boom)
            answer = get(mockviking, "/api/v1/sessions")
            assert answer.status_code == 500
            body = answer.json()
            assert body["status"] == "error"
            assert body["error"]["code"] == "INTERNAL"
            assert body["error"]["message"] == "Internal server error"
            assert "kaboom" not in answer.text  # the details stay on the server side
            mockviking.assert_called(method="GET", path="/api/v1/sessions", status=500, times=1)
            # the test body itself passes: the failure is reported at teardown

        def test_next_test_is_clean(mockviking):
            assert mockviking.harness.errors == []
            assert session_ids(mockviking) == ["a1b2c3d4", "tool-demo"]

        def test_an_injected_internal_fault_is_not_a_server_error(mockviking):
            mockviking.fault(path="/api/v1/sessions", error="INTERNAL")
            answer = get(mockviking, "/api/v1/sessions")
            assert answer.status_code == 500
            assert answer.json()["error"]["code"] == "INTERNAL"
        """,
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-rE")
    result.assert_outcomes(passed=3, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_causes_a_500*",
            "*ServerError: mockviking failed on 1 request(s) of this test; "
            "the first: StoreExploded: kaboom in list_sessions*",
        ]
    )
    # The cause is chained, so the server-side traceback is in the report.
    result.stdout.fnmatch_lines(["*StoreExploded: kaboom in list_sessions*", "*direct cause*"])
    result.stdout.fnmatch_lines(["ERROR test_inner.py::test_causes_a_500 - *ServerError*"])


def test_the_error_is_the_testing_server_error_class(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import pytest
        from mockviking.testing import ServerError

        CAUGHT = []

        @pytest.hookimpl(wrapper=True)
        def pytest_runtest_teardown(item):
            try:
                return (yield)
            except BaseException as exc:
                CAUGHT.append(exc)
                raise

        def pytest_sessionfinish(session):
            assert len(CAUGHT) == 1, CAUGHT
            assert type(CAUGHT[0]) is ServerError
            assert isinstance(CAUGHT[0], AssertionError)
            assert type(CAUGHT[0].__cause__).__name__ == "StoreExploded"
            print("CHECKED-SERVER-ERROR-CLASS")
        """
    )
    inner_tests(
        pytester,
        BOOM,
        """
        def test_two_failures(mockviking, monkeypatch):
            monkeypatch.setattr(mockviking.store, "list_sessions", boom)
            assert get(mockviking, "/api/v1/sessions").status_code == 500
            assert get(mockviking, "/api/v1/sessions").status_code == 500
        """,
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-s")
    result.assert_outcomes(passed=1, errors=1)  # the call passed, its teardown errored
    result.stdout.fnmatch_lines(["*CHECKED-SERVER-ERROR-CLASS*"])  # the conftest's checks ran
    result.stdout.fnmatch_lines(["*ServerError: mockviking failed on 2 request(s) of this test*"])
