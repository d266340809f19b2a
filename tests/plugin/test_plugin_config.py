"""Configuring the plugin: a conftest override, the marker, the command-line option, the ini key."""

from __future__ import annotations

import pytest

from .pluginsupport import OMEGA_YAML, ZETA_YAML, inner_tests

#: Inner tests for a run whose default fixtures are zeta.yaml instead of the bundled ones.
ZETA_CHECKS = """
def test_zeta_replaces_the_bundled_data(mockviking):
    assert mockviking.root_key == "zeta-root-key"
    assert session_ids(mockviking, "zed-secret-key-0001") == ["zeta-session"]
    session = mockviking.session("zeta-session", "zeta", "zed")
    assert session is not None and len(session.messages) == 2 and session.commit_count == 2
    assert mockviking.session("a1b2c3d4", "default", "alice") is None
    assert get(mockviking, "/api/v1/sessions", ALICE_KEY).status_code == 401
    assert get(mockviking, "/api/v1/admin/accounts", ROOT_KEY).status_code == 401
    assert get(mockviking, "/api/v1/admin/accounts", "zeta-root-key").status_code == 200
"""

OMEGA_CHECKS = """
def test_omega_too(mockviking):
    assert session_ids(mockviking, "olga-secret-key-0001") == ["omega-session"]
    assert session_ids(mockviking, "zed-secret-key-0001") == ["zeta-session"]
"""


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_inprocess("-p", "no:cacheprovider", "--strict-markers", *args)


def test_overriding_mockviking_config_in_a_conftest(pytester: pytest.Pytester) -> None:
    zeta = pytester.makefile(".yaml", zeta=ZETA_YAML)
    pytester.makeconftest(
        f"""
        import pytest
        from mockviking import Config

        @pytest.fixture(scope="session")
        def mockviking_config():
            return Config(fixtures=({str(zeta)!r},), seed=3)
        """
    )
    inner_tests(
        pytester,
        ZETA_CHECKS,
        """
        def test_config_is_the_override(mockviking, mockviking_config):
            assert mockviking.harness.config is mockviking_config
            assert mockviking_config.seed == 3
        """,
    )
    run(pytester).assert_outcomes(passed=2)


def test_marker_file_relative_to_the_test_file_for_that_test_only(pytester: pytest.Pytester) -> None:
    # The test file is in a subfolder and pytest runs from its parent: a path resolved
    # against the working directory would miss extra.yaml.
    sub = pytester.mkdir("sub")
    (sub / "extra.yaml").write_text(OMEGA_YAML, encoding="utf-8")
    inner_tests(
        pytester,
        """
        @pytest.mark.mockviking(fixtures=["extra.yaml"])
        def test_with_marker(mockviking):
            assert session_ids(mockviking, "olga-secret-key-0001") == ["omega-session"]
            # on top of the default fixtures, not instead of them
            assert session_ids(mockviking) == ["a1b2c3d4", "tool-demo"]
            assert mockviking.root_key == ROOT_KEY

        @pytest.mark.mockviking(fixtures="extra.yaml")
        def test_a_single_path_works_too(mockviking):
            assert mockviking.session("omega-session", "omega", "olga") is not None

        def test_without_marker(mockviking):
            assert mockviking.session("omega-session", "omega", "olga") is None
            assert get(mockviking, "/api/v1/sessions", "olga-secret-key-0001").status_code == 401
            assert session_ids(mockviking) == ["a1b2c3d4", "tool-demo"]

        @pytest.mark.mockviking(fixtures=["extra.yaml"])
        class TestOnAClass:
            def test_in_class(self, mockviking):
                assert mockviking.session("omega-session", "omega", "olga") is not None
        """,
        name="sub/test_marker",
    )
    run(pytester).assert_outcomes(passed=4)


def test_marker_with_dict_fixtures_for_that_test_only(pytester: pytest.Pytester) -> None:
    inner_tests(
        pytester,
        """
        EXTRA = {
            "accounts": [{"account_id": "dict", "users": [{"user_id": "dee", "key": "dee-secret-key-01"}]}],
            "sessions": [
                {"account_id": "default", "user_id": "alice", "session_id": "from-dict",
                 "messages": [{"role": "user", "content": "seeded from a dict"}],
                 "counters": {"commit_count": 4}},
            ],
        }

        @pytest.mark.mockviking(fixtures=[EXTRA, {"sessions": [{"session_id": "second-dict"}]}])
        def test_with_dicts(mockviking):
            assert session_ids(mockviking) == ["a1b2c3d4", "from-dict", "tool-demo"]
            session = mockviking.session("from-dict", "default", "alice")
            assert session.commit_count == 4
            assert [m.parts for m in session.messages] == [[{"type": "text", "text": "seeded from a dict"}]]
            assert get(mockviking, "/api/v1/sessions", "dee-secret-key-01").status_code == 200
            assert mockviking.session("second-dict") is not None  # default/default

        @pytest.mark.mockviking(fixtures=EXTRA)
        def test_a_single_dict(mockviking):
            assert mockviking.session("from-dict", "default", "alice") is not None

        def test_without_marker(mockviking):
            assert session_ids(mockviking) == ["a1b2c3d4", "tool-demo"]
            assert mockviking.session("second-dict") is None
            assert get(mockviking, "/api/v1/sessions", "dee-secret-key-01").status_code == 401
        """,
    )
    run(pytester).assert_outcomes(passed=3)


def test_a_bad_marker_fixture_is_a_setup_error(pytester: pytest.Pytester) -> None:
    inner_tests(
        pytester,
        """
        @pytest.mark.mockviking(fixtures=[{"sessions": [{"session_id": "x", "nonsense": 1}]}])
        def test_bad(mockviking):
            pass

        def test_next_is_fine(mockviking):
            assert session_ids(mockviking) == ["a1b2c3d4", "tool-demo"]
        """,
    )
    result = run(pytester)
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*ERROR at setup of test_bad*", "*nonsense*"])


def test_command_line_option_sets_the_default_fixtures(pytester: pytest.Pytester) -> None:
    zeta = pytester.makefile(".yaml", zeta=ZETA_YAML)
    inner_tests(pytester, ZETA_CHECKS)
    run(pytester, "--mockviking-fixtures", str(zeta)).assert_outcomes(passed=1)


def test_command_line_option_is_repeatable(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", zeta=ZETA_YAML, omega=OMEGA_YAML)
    inner_tests(pytester, ZETA_CHECKS, OMEGA_CHECKS)
    result = run(pytester, "--mockviking-fixtures", "zeta.yaml", "--mockviking-fixtures", "omega.yaml")
    result.assert_outcomes(passed=2)


def test_ini_key_sets_the_default_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", zeta=ZETA_YAML, omega=OMEGA_YAML)
    pytester.makeini(
        """
        [pytest]
        mockviking_fixtures =
            zeta.yaml
            omega.yaml
        """
    )
    inner_tests(pytester, ZETA_CHECKS, OMEGA_CHECKS)
    run(pytester, "--strict-config").assert_outcomes(passed=2)


def test_ini_paths_are_relative_to_the_ini_file(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", zeta=ZETA_YAML)
    pytester.makeini("[pytest]\nmockviking_fixtures = zeta.yaml\n")
    inner_tests(pytester, ZETA_CHECKS, name="tests/test_inner")
    # Running from the test folder: zeta.yaml is beside the ini file, not in the cwd.
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(pytester.path / "tests")
        result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--strict-config", "test_inner.py")
    result.assert_outcomes(passed=1)


def test_command_line_wins_over_the_ini_key(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", zeta=ZETA_YAML, omega=OMEGA_YAML)
    pytester.makeini("[pytest]\nmockviking_fixtures = omega.yaml\n")
    inner_tests(
        pytester,
        ZETA_CHECKS,
        """
        def test_no_omega(mockviking):
            assert mockviking.session("omega-session", "omega", "olga") is None
        """,
    )
    run(pytester, "--mockviking-fixtures", "zeta.yaml").assert_outcomes(passed=2)


def test_without_configuration_the_bundled_fixtures_are_used(pytester: pytest.Pytester) -> None:
    inner_tests(
        pytester,
        """
        def test_bundled(mockviking, mockviking_config):
            assert mockviking_config.fixtures is None
            assert mockviking.root_key == ROOT_KEY
            assert mockviking.session("a1b2c3d4", "default", "alice") is not None
        """,
    )
    run(pytester).assert_outcomes(passed=1)
