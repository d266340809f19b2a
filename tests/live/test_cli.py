"""The ``mockviking`` command as a user runs it: serve, stop on a signal, reject bad fixtures.

Every subprocess is bounded by a timeout; nothing here asserts how long anything takes.
"""

from __future__ import annotations

import concurrent.futures
import re
import signal
import socket
import time
import typing as t
from pathlib import Path

import httpx
import pytest
from openviking_sdk.errors import NotFoundError, UnauthenticatedError

import mockviking
from tests._support import (
    ALICE_KEY,
    DEFAULT_FIXTURES,
    DEV_FIXTURES,
    ROOT_KEY,
    ServerProcess,
    run_cli,
    running_server,
    sdk_client,
    start_server,
)

FIRST_LINE = re.compile(
    r"^mockviking (?P<version>\S+) serving http://127\.0\.0\.1:(?P<port>\d+) "
    r"\((?P<mode>api_key|dev) mode\)$"
)
SIGNALS = [pytest.param(signal.SIGTERM, id="SIGTERM"), pytest.param(signal.SIGINT, id="SIGINT")]

DEV_FIXTURE = """\
sessions:
  - session_id: welcome
    messages:
      - {role: user, content: Hello}
      - {role: assistant, content: "Hi! How can I help?"}
"""


def health(url: str, **headers: str) -> t.Any:
    response = httpx.get(f"{url}/health", headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def assert_stopped_cleanly(server: ServerProcess, exit_code: int) -> None:
    stderr = server.stderr_text()
    assert exit_code == 0, f"exit code {exit_code}; stderr:\n{stderr}"
    assert server.rest_of_stdout() == "mockviking stopped\n"
    assert "Traceback" not in stderr


# -- serve ----------------------------------------------------------------------------------


@pytest.mark.parametrize("module", [True, False], ids=["python-m", "console-script"])
def test_serve_prints_the_url_first_and_answers_health(module: bool) -> None:
    with running_server(module=module) as server:
        match = FIRST_LINE.match(server.first_line)
        assert match, server.first_line
        assert match["version"] == mockviking.__version__ == "0.1.0"
        assert match["mode"] == "api_key"
        assert int(match["port"]) != 0
        assert server.url == f"http://127.0.0.1:{match['port']}"
        assert health(server.url) == {
            "status": "ok", "healthy": True, "version": "0.5.2", "auth_mode": "api_key",
        }
        # The bundled fixtures are loaded.
        client = sdk_client(server.url, api_key=ALICE_KEY)
        try:
            assert client.get_session("a1b2c3d4")["message_count"] == 5
        finally:
            client.close()


@pytest.mark.parametrize("server_name", ["granian", "waitress"])
@pytest.mark.parametrize("sig", SIGNALS)
def test_a_signal_stops_the_server_with_exit_code_0(sig: int, server_name: str) -> None:
    server = start_server("--server", server_name)
    try:
        # Keep a connection open: the server must stop with an idle keep-alive client too.
        with httpx.Client(timeout=10) as client:
            assert client.get(f"{server.url}/health").status_code == 200
            exit_code = server.stop(sig)
        assert_stopped_cleanly(server, exit_code)
    finally:
        server.stop(signal.SIGKILL)
        server.stderr_file.close()


@pytest.mark.parametrize("sig", SIGNALS)
def test_a_signal_right_after_a_request_is_not_lost(sig: int) -> None:
    """`curl .../health; kill $PID` must stop the server like any other SIGTERM or SIGINT.

    The signal tends to arrive while waitress handles the client closing its connection; the
    stop must not be swallowed there as a channel error ("uncaptured python exception,
    closing channel"), leaving the server running.
    """
    for _ in range(2):
        server = start_server()
        try:
            assert httpx.get(f"{server.url}/health", timeout=10).status_code == 200
            exit_code = server.stop(sig, timeout=2.0)
            assert_stopped_cleanly(server, exit_code)
        finally:
            server.stop(signal.SIGKILL)
            server.stderr_file.close()


@pytest.mark.parametrize("server_name", ["granian", "waitress"])
@pytest.mark.parametrize("sig", SIGNALS)
def test_a_signal_right_after_the_url_line_stops_cleanly(sig: int, server_name: str) -> None:
    """Once the URL line is out the server is up, and a signal must give a clean stop.

    A supervisor that reads the URL and then stops the server at once must get exit code 0
    and "mockviking stopped", not an "Aborted!", a ``_Stop`` traceback or death by signal.
    """
    for _ in range(3):
        server = start_server("--server", server_name)
        try:
            exit_code = server.stop(sig, timeout=2.0)
            assert_stopped_cleanly(server, exit_code)
        finally:
            server.stop(signal.SIGKILL)
            server.stderr_file.close()


def test_version_option() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"mockviking, version {mockviking.__version__}"


@pytest.mark.parametrize("server_name", ["granian", "waitress"])
def test_a_busy_port_exits_2(server_name: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("serve", "--server", server_name, "--port", str(port))
    assert result.returncode == 2
    assert "serving" not in result.stdout
    assert f"127.0.0.1:{port}" in result.stderr


# -- bad fixture files ----------------------------------------------------------------------

MISSING_ROLE = """\
sessions:
  - session_id: fine
    messages:
      - {role: user, content: hi}
  - session_id: broken
    messages:
      - {role: user, content: ok}
      - {content: no role here}
"""
UNKNOWN_KEY = """\
sesions:
  - session_id: typo
"""
INVALID_YAML = """\
sessions: [
  - {session_id: x
"""


@pytest.fixture(params=["serve", "check-fixtures"])
def command(request: pytest.FixtureRequest) -> t.Callable[[Path], list[str]]:
    """The command line that loads one fixture file: by serving it, or by checking it."""
    if request.param == "serve":
        return lambda path: ["serve", "--port", "0", "--fixtures", str(path)]
    return lambda path: ["check-fixtures", str(path)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            MISSING_ROLE,
            ["sessions[1] ('broken')", "sessions.1.messages.1.role", "Field required"],
            id="missing-role",
        ),
        pytest.param(UNKNOWN_KEY, ["sesions"], id="unknown-top-level-key"),
        pytest.param(INVALID_YAML, ["YAML"], id="invalid-yaml"),
    ],
)
def test_a_bad_fixture_file_exits_2_naming_file_and_record(
    tmp_path: Path, command: t.Callable[[Path], list[str]], text: str, expected: list[str],
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    result = run_cli(*command(path))
    assert result.returncode == 2, result
    assert "serving" not in result.stdout
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(f"Error: {path}: "), result.stderr
    for fragment in expected:
        assert fragment in result.stderr


def test_the_exact_message_for_a_missing_role(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("sessions:\n  - session_id: x\n    messages:\n      - {content: hi}\n")
    result = run_cli("serve", "--port", "0", "--fixtures", str(path))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"Error: {path}: sessions[0] ('x'): sessions.0.messages.0.role: Field required"
    )


def test_a_missing_fixture_file_exits_2(
    tmp_path: Path, command: t.Callable[[Path], list[str]],
) -> None:
    path = tmp_path / "does-not-exist.yaml"
    result = run_cli(*command(path))
    assert result.returncode == 2
    assert "serving" not in result.stdout
    assert "Traceback" not in result.stderr
    assert str(path) in result.stderr


def test_one_bad_file_among_good_ones_names_the_bad_one(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(DEV_FIXTURE, encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(MISSING_ROLE, encoding="utf-8")
    result = run_cli("check-fixtures", str(good), str(bad))
    assert result.returncode == 2
    assert f"Error: {bad}: sessions[1] ('broken')" in result.stderr
    assert str(good) not in result.stderr


# -- the bundled fixture files ---------------------------------------------------------------


@pytest.mark.parametrize("path", [DEFAULT_FIXTURES, DEV_FIXTURES], ids=["default", "dev"])
def test_check_fixtures_accepts_the_bundled_files(path: Path) -> None:
    result = run_cli("check-fixtures", str(path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "1 fixture file(s) OK"
    assert result.stderr == ""


def test_check_fixtures_accepts_several_files(tmp_path: Path) -> None:
    dev = tmp_path / "dev.yaml"
    dev.write_text(DEV_FIXTURE, encoding="utf-8")
    result = run_cli("check-fixtures", str(DEFAULT_FIXTURES), str(dev))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "2 fixture file(s) OK"


# -- dev mode -------------------------------------------------------------------------------


def check_dev_mode(server: ServerProcess) -> None:
    match = FIRST_LINE.match(server.first_line)
    assert match, server.first_line
    assert match["mode"] == "dev"
    assert health(server.url)["auth_mode"] == "dev"

    default = sdk_client(server.url)
    eve = sdk_client(server.url, user="eve")
    try:
        welcome = default.get_session("welcome")
        assert welcome["message_count"] == 2
        assert welcome["user"]["account_id"] == "default"
        assert welcome["user"]["user_id"] == "default"
        assert welcome["uri"] == "viking://user/default/sessions/welcome"

        # X-OpenViking-User picks the caller, and callers do not see each other's sessions.
        with pytest.raises(NotFoundError):
            eve.get_session("welcome")
        created = eve.create_session("welcome")
        assert created["uri"] == "viking://user/eve/sessions/welcome"
        assert created["user"]["user_id"] == "eve"
        assert eve.add_message("welcome", "user", "abcd")["message_count"] == 1
        assert default.get_session("welcome")["message_count"] == 2
        assert {s["session_id"] for s in eve.list_sessions()} == {"welcome"}
        assert {s["uri"] for s in eve.list_sessions()} == {"viking://user/eve/sessions/welcome"}

        # No key is needed; a raw request without identity headers is default/default.
        raw = httpx.get(f"{server.url}/api/v1/sessions/welcome", timeout=10)
        assert raw.status_code == 200
        assert raw.json()["result"]["message_count"] == 2
        raw = httpx.get(
            f"{server.url}/api/v1/sessions/welcome", headers={"X-OpenViking-User": "eve"},
            timeout=10,
        )
        assert raw.json()["result"]["message_count"] == 1
    finally:
        default.close()
        eve.close()


def test_dev_mode_from_a_keyless_fixture_file(tmp_path: Path) -> None:
    path = tmp_path / "dev.yaml"
    path.write_text(DEV_FIXTURE, encoding="utf-8")
    with running_server("--fixtures", str(path)) as server:
        check_dev_mode(server)


def test_dev_mode_from_the_bundled_dev_fixtures() -> None:
    with running_server("--fixtures", str(DEV_FIXTURES)) as server:
        check_dev_mode(server)


# -- --root-key -----------------------------------------------------------------------------


def test_root_key_option_sets_the_root_key() -> None:
    key = "live-test-root-key-0123"
    with running_server("--root-key", key, "--seed", "1") as server:
        assert server.first_line.endswith("(api_key mode)")
        response = httpx.post(
            f"{server.url}/api/v1/admin/accounts",
            json={"account_id": "team", "admin_user_id": "tess"},
            headers={"X-API-Key": key}, timeout=10,
        )
        assert response.status_code == 200, response.text
        result = response.json()["result"]
        assert result["account_id"] == "team"
        assert result["admin_user_id"] == "tess"

        # The new key works with the SDK; the bundled root key is no longer the root key.
        tess = sdk_client(server.url, api_key=result["user_key"])
        try:
            assert tess.create_session("s1")["uri"] == "viking://user/tess/sessions/s1"
        finally:
            tess.close()
        old = httpx.post(
            f"{server.url}/api/v1/admin/accounts",
            json={"account_id": "other", "admin_user_id": "o"},
            headers={"X-API-Key": ROOT_KEY}, timeout=10,
        )
        assert old.status_code == 401
        assert old.json()["error"]["code"] == "UNAUTHENTICATED"
        # The users of the bundled fixtures are still there.
        assert health(server.url, **{"X-API-Key": ALICE_KEY})["user_id"] == "alice"


def test_root_key_option_turns_dev_fixtures_into_api_key_mode(tmp_path: Path) -> None:
    path = tmp_path / "dev.yaml"
    path.write_text(DEV_FIXTURE, encoding="utf-8")
    with running_server("--fixtures", str(path), "--root-key", "k-123") as server:
        assert server.first_line.endswith("(api_key mode)")
        assert health(server.url)["auth_mode"] == "api_key"
        anonymous = sdk_client(server.url)
        try:
            with pytest.raises(UnauthenticatedError) as info:
                anonymous.get_session("welcome")
            assert str(info.value) == "Missing API Key when resolving identity."
        finally:
            anonymous.close()


def test_more_threads_let_other_requests_pass_a_delayed_one() -> None:
    # On granian one thread is the default; --threads lets a delay fault hold only its own.
    with running_server("--server", "granian", "--threads", "4") as server:
        assert httpx.post(f"{server.url}/_mockviking/faults", json={"path": "/api/v1/sessions/slow", "delay_ms": 3000},
                          timeout=10).status_code == 200
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            delayed = pool.submit(httpx.get, f"{server.url}/api/v1/sessions/slow", timeout=10)
            time.sleep(0.3)  # the delayed request is in
            started = time.monotonic()
            assert httpx.get(f"{server.url}/health", timeout=10).status_code == 200
            assert time.monotonic() - started < 2.0
            assert not delayed.done()
            assert delayed.result().status_code == 401  # delayed, then refused: no key


def test_sighup_stops_granian_instead_of_reloading() -> None:
    # granian's own SIGHUP forks a fresh worker from start-up state: every write would be
    # forgotten while the server kept answering. mockviking stops instead.
    server = start_server("--server", "granian")
    try:
        assert httpx.post(f"{server.url}/_mockviking/faults", json={"path": "/x", "delay_ms": 1},
                          timeout=10).status_code == 200
        exit_code = server.stop(signal.SIGHUP, timeout=5.0)
        assert_stopped_cleanly(server, exit_code)
    finally:
        server.stop(signal.SIGKILL)
        server.stderr_file.close()
