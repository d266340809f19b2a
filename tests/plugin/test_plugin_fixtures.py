"""The plugin's fixtures: a live URL, working keys, a clean state per test, one server per session."""

from __future__ import annotations

import pytest

from .pluginsupport import inner_tests


def test_mockviking_serves_a_live_url_and_working_keys(pytester: pytest.Pytester) -> None:
    inner_tests(
        pytester,
        """
        def test_health(mockviking):
            assert mockviking.url.startswith("http://127.0.0.1:")
            answer = httpx.get(mockviking.url + "/health", timeout=10)
            assert answer.status_code == 200
            assert answer.headers["Content-Type"].startswith("application/json")
            assert answer.json()["status"] == "ok"

        def test_bundled_fixtures(mockviking):
            assert mockviking.root_key == ROOT_KEY
            assert mockviking.key_for("default", "alice") == ALICE_KEY
            assert "a1b2c3d4" in session_ids(mockviking)
            session = mockviking.session("a1b2c3d4", "default", "alice")
            assert session is not None and len(session.messages) == 5

        def test_key_for_a_new_user(mockviking):
            key = mockviking.key_for("acme", "dana")
            assert key == mockviking.key_for("acme", "dana")  # stable within the test
            created = post(mockviking, "/api/v1/sessions", {"session_id": "dana-1"}, key)
            assert created.status_code == 200, created.text
            assert created.json()["result"]["user"]["account_id"] == "acme"
            assert created.json()["result"]["user"]["user_id"] == "dana"
            assert session_ids(mockviking, key) == ["dana-1"]
            assert mockviking.session("dana-1", "acme", "dana") is not None
            assert get(mockviking, "/api/v1/sessions", "not-a-real-key").status_code == 401
        """,
    )
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=3)


def test_state_journal_and_faults_are_reset_between_tests(pytester: pytest.Pytester) -> None:
    # The tests run in file order: B and C see what A (and B) left behind, if anything.
    inner_tests(
        pytester,
        """
        def test_a_changes_everything(mockviking):
            assert mockviking.requests(include_control=True) == []
            assert post(mockviking, "/api/v1/sessions", {"session_id": "leaky"}).status_code == 200
            deleted = httpx.delete(mockviking.url + "/api/v1/sessions/a1b2c3d4",
                                   headers={"X-API-Key": ALICE_KEY}, timeout=10)
            assert deleted.status_code == 200, deleted.text
            assert "a1b2c3d4" not in session_ids(mockviking)
            mockviking.key_for("acme", "temporary")
            mockviking.seed({"sessions": [{"account_id": "default", "user_id": "alice",
                                           "session_id": "seeded-in-a"}]})
            mockviking.fault(path="/health", error="UNAVAILABLE")
            mockviking.freeze_time("2030-01-01T00:00:00Z")
            assert len(mockviking.requests()) == 3
            assert "leaky" in session_ids(mockviking)

        def test_b_starts_clean(mockviking):
            assert mockviking.requests(include_control=True) == []
            assert mockviking.harness.faults.rules() == []
            assert mockviking.session("leaky", "default", "alice") is None
            assert mockviking.session("seeded-in-a", "default", "alice") is None
            assert not [u for u in mockviking.store.users("acme") if u.user_id == "temporary"]
            assert session_ids(mockviking) == ["a1b2c3d4", "tool-demo"]
            assert httpx.get(mockviking.url + "/health", timeout=10).status_code == 200
            assert mockviking.store.clock().year != 2030
            assert len(mockviking.requests()) == 2

        def test_c_journal_empty_again(mockviking):
            assert mockviking.requests(include_control=True) == []
        """,
    )
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=3)


def test_mockviking_server_is_session_scoped(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import pytest

        SEEN = []

        @pytest.fixture
        def record(mockviking_server):
            SEEN.append((id(mockviking_server), mockviking_server.url))
            return SEEN
        """
    )
    inner_tests(
        pytester,
        """
        @pytest.mark.parametrize("n", range(3))
        def test_handle(mockviking, mockviking_server, record, n):
            assert mockviking.server is mockviking_server
            assert mockviking.url == mockviking_server.url

        def test_raw_server(mockviking_server, record):
            assert httpx.get(mockviking_server.url + "/health", timeout=10).status_code == 200

        def test_same_server_everywhere(record):
            assert len(record) == 5  # this test asks for the server too
            assert len(set(record)) == 1, record
        """,
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--setup-show")
    result.assert_outcomes(passed=5)
    # Set up once (S = session scope) for the whole run, however many tests use it.
    setups = [line for line in result.outlines if "SETUP    S mockviking_server" in line]
    assert len(setups) == 1, result.outlines


def test_no_fixture_is_autouse(pytester: pytest.Pytester) -> None:
    """A test that does not ask for mockviking starts nothing (own process: no stray threads)."""
    inner_tests(
        pytester,
        """
        import threading

        def server_threads():
            return [t.name for t in threading.enumerate() if t.name == "mockviking-server"]

        def test_plain(request):
            assert server_threads() == []
            assert not {"mockviking", "mockviking_server", "mockviking_config"} & set(request.fixturenames)

        def test_later_one_that_uses_it(mockviking):
            assert server_threads() == ["mockviking-server"]

        def test_still_one_server(mockviking):
            assert server_threads() == ["mockviking-server"]
        """,
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--setup-show")
    result.assert_outcomes(passed=3)
    lines = result.outlines
    start = next(i for i, line in enumerate(lines) if line.startswith("collected"))
    end = next(i for i, line in enumerate(lines) if "::test_plain" in line)
    assert end > start
    assert not [line for line in lines[start : end + 1] if "mockviking" in line], lines


def test_fault_rule_ids_start_again_in_each_test(pytester: pytest.Pytester) -> None:
    """A test that reads a rule id (or the journal's ``fault`` field) must not depend on the
    tests that ran before it: the reset between tests restarts the numbering."""
    inner_tests(
        pytester,
        """
        @pytest.mark.parametrize("n", range(2))
        def test_first_rule_is_fault_1(mockviking, n):
            assert mockviking.fault(path="/health", error="UNAVAILABLE").id == "fault-1"
            assert httpx.get(mockviking.url + "/health", timeout=10).status_code == 503
            assert [r.fault for r in mockviking.requests()] == ["fault-1:error"]
        """,
    )
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=2)
