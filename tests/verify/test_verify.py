"""``mockviking verify`` against real servers: mockviking itself passes, broken copies fail.

The passing runs start ``mockviking serve --port 0`` as a subprocess (api_key mode with the
bundled fixtures' root key, and dev mode). The failing runs serve mockviking's own app with
one thing broken (a tiny WSGI wrapper on waitress, on a thread) and require exit code 1 and a
report that names the broken rule or field. Runs are bounded (``--max-examples``, fixed seeds).
"""

from __future__ import annotations

import typing as t
import xml.etree.ElementTree as ET
from pathlib import Path

import click
import pytest

from tests._support import ALICE_KEY, DEV_FIXTURES, ROOT_KEY, running_server

from .support import (
    batch_keeps_first_message,
    free_port_url,
    mockviking_app,
    run_verify,
    serve_wsgi,
    validation_errors_as_422,
    without_agent_id,
)

#: Small but complete runs: every phase, a few generated requests per operation.
BOUNDED = ("--max-examples", "8", "--time-limit", "120", "--seed", "20260323")


@pytest.fixture(scope="module")
def api_key_server() -> t.Iterator[str]:
    """``mockviking serve`` with the bundled fixtures (root key ``mockviking-root-key``)."""
    with running_server("--seed", "3") as server:
        yield server.url


@pytest.fixture(scope="module")
def dev_server() -> t.Iterator[str]:
    """``mockviking serve --fixtures fixtures/dev.yaml``: dev mode, no keys."""
    with running_server("--fixtures", str(DEV_FIXTURES)) as server:
        yield server.url


# -- mockviking passes its own contract ---------------------------------------------------------


def test_mockviking_passes_in_api_key_mode(api_key_server: str, tmp_path: Path) -> None:
    junit = tmp_path / "verify.xml"
    markdown = tmp_path / "verify.md"
    result = run_verify("--base-url", api_key_server, "--root-key", ROOT_KEY, *BOUNDED,
                        "--junit-xml", str(junit), "--markdown", str(markdown))
    assert result.exit_code == 0, result.output
    assert "**PASSED: every check holds**" in result.output
    # Progress lines, one per phase/check, and the summary.
    for line in ("[setup] identities: ok (api_key mode, root key, user A verify-", "[rules] isolation: ok",
                 "[rules] error_codes: ok", "[stateful] links: ok", "[superset] user.agent_id: ok",
                 "[examples] commit_session: keep-one: ok (200)"):
        assert line in result.output
    assert "[properties] POST /api/v1/sessions/{session_id}/messages/batch [coverage]: ok" in result.output
    # The Markdown file is the summary printed on stdout.
    text = markdown.read_text(encoding="utf-8")
    assert text.startswith(f"# mockviking verify: {api_key_server}")
    assert text in result.output
    # JUnit: a suite per phase, a testcase per check or operation, nothing failed.
    root = ET.parse(junit).getroot()
    assert root.tag == "testsuites"
    assert root.get("failures") == "0"
    suites = {suite.get("name"): suite for suite in root.iter("testsuite")}
    assert set(suites) == {"verify.setup", "verify.examples", "verify.properties", "verify.stateful",
                           "verify.rules", "verify.superset"}
    rules = {case.get("name") for case in suites["verify.rules"].iter("testcase")}
    assert rules == {"batch", "commit", "commit skipped", "auto_create", "isolation", "error probes",
                     "error_codes"}
    operations = {case.get("name") for case in suites["verify.properties"].iter("testcase")}
    assert "GET /api/v1/sessions/{session_id} [fuzzing]" in operations
    assert "DELETE /api/v1/sessions/{session_id} [coverage]" in operations


def test_mockviking_passes_in_dev_mode(dev_server: str) -> None:
    result = run_verify("--base-url", dev_server, *BOUNDED)
    assert result.exit_code == 0, result.output
    assert "[setup] identities: ok (dev mode" in result.output
    # Two dev identities (X-OpenViking-User) are enough for the isolation rule.
    assert "[rules] isolation: ok" in result.output
    assert "[stateful] links: ok" in result.output


def test_a_user_key_skips_isolation_and_says_so(api_key_server: str) -> None:
    result = run_verify("--base-url", api_key_server, "--api-key", ALICE_KEY, "--phases", "examples,rules,superset",
                        "--seed", "1")
    assert result.exit_code == 0, result.output
    assert "[rules] isolation: skipped" in result.output
    assert "the isolation rule needs two users and is skipped" in result.output
    # Alice is no root: the admin examples are refused (403), which the contract allows.
    assert "[examples] create_account: acme: ok (403)" in result.output


# -- deliberately wrong servers fail, naming the difference -------------------------------------


def test_validation_errors_answered_422_fail() -> None:
    with serve_wsgi(validation_errors_as_422(mockviking_app())) as url:
        result = run_verify("--base-url", url, "--root-key", ROOT_KEY, "--max-examples", "5", "--seed", "5")
    assert result.exit_code == 1, result.output
    assert "## Drift" in result.output
    # The rule over every error envelope of the run names the code, the status and the mapping.
    assert "### [rules] error_codes" in result.output
    assert "error code INVALID_ARGUMENT answered with HTTP 422" in result.output
    assert "but INVALID_ARGUMENT maps to 400" in result.output
    assert "error probes: an add-message body without role answered 422 INVALID_ARGUMENT, " \
           "expected 400 INVALID_ARGUMENT" in result.output
    # schemathesis sees the undocumented status too.
    assert "status_code_conformance: Undocumented HTTP status code" in result.output \
        or "status_code_conformance: Undocumented status code" in result.output
    assert "Received: 422" in result.output
    # Keys never reach the report, not even in schemathesis' curl commands.
    assert ROOT_KEY not in result.output
    assert "X-API-Key: mockvi…" in result.output


def test_session_without_agent_id_fails_as_seed_superset() -> None:
    with serve_wsgi(without_agent_id(mockviking_app())) as url:
        result = run_verify("--base-url", url, "--root-key", ROOT_KEY, "--phases", "rules,superset")
    assert result.exit_code == 1, result.output
    assert "## Seed superset findings" in result.output
    assert "### [superset] user.agent_id" in result.output
    assert "GET session result.user has no agent_id" in result.output
    assert "## Drift" not in result.output  # nothing else is broken


def test_batch_storing_only_the_first_message_fails() -> None:
    with serve_wsgi(batch_keeps_first_message(mockviking_app())) as url:
        result = run_verify("--base-url", url, "--root-key", ROOT_KEY, "--phases", "rules")
    assert result.exit_code == 1, result.output
    assert "### [rules] batch" in result.output
    assert "the batch answer says added=1, expected 3" in result.output
    assert "message_count went from 2 to 3 after a batch of 3 messages; expected it to rise by exactly 3 (to 5)" \
        in result.output


# -- usage and reachability ---------------------------------------------------------------------


def test_unreachable_url_exits_2() -> None:
    url = free_port_url()
    result = run_verify("--base-url", url, "--seed", "1")
    assert result.exit_code == 2, result.output
    assert f"cannot reach URL: {url}" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--api-key", "a", "--root-key", "b"], "give --api-key or --root-key, not both"),
        (["--phases", "examples,bogus"], "bogus; choose among"),
        (["--max-examples", "0"], "--max-examples"),
    ],
    ids=["both-keys", "unknown-phase", "zero-examples"],
)
def test_bad_usage_exits_2(args: list[str], message: str) -> None:
    result = run_verify("--base-url", "http://127.0.0.1:9", *args)
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_api_key_mode_without_a_key_exits_2(api_key_server: str) -> None:
    result = run_verify("--base-url", api_key_server)
    assert result.exit_code == 2, result.output
    assert "runs in api_key mode: give --api-key KEY" in result.output


def test_a_refused_key_exits_2(api_key_server: str) -> None:
    result = run_verify("--base-url", api_key_server, "--root-key", "not-the-root-key")
    assert result.exit_code == 2, result.output
    assert "--root-key was refused by the server: 401" in result.output
    result = run_verify("--base-url", api_key_server, "--root-key", ALICE_KEY)
    assert result.exit_code == 2, result.output
    assert "--root-key is not a root key" in result.output


def test_registered_as_mockviking_verify() -> None:
    """``mockviking verify`` is this command, listed and loaded when asked for."""
    from click.testing import CliRunner

    from mockviking.cli import main
    from mockviking.verify import verify

    assert main.get_command(click.Context(main), "verify") is verify
    listed = CliRunner().invoke(main, ["--help"])
    assert "verify" in listed.output
    result = CliRunner().invoke(main, ["verify", "--help"])
    assert result.exit_code == 0, result.output
    assert "--base-url" in result.output
