"""`mockviking serve --report` writes the contract violations at shutdown, for any CI."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree

import httpx
import pytest

from tests._support import ALICE_KEY, running_server


@pytest.mark.parametrize("server_name", ["granian", "waitress"])
def test_report_files_list_the_violations(tmp_path: Path, server_name: str) -> None:
    # On granian the violations live in the worker process, which writes the reports.
    json_report, xml_report = tmp_path / "violations.json", tmp_path / "violations.xml"
    with running_server("--server", server_name, "--report", str(json_report), "--report", str(xml_report)) as server:
        headers = {"X-API-Key": ALICE_KEY}
        assert httpx.post(f"{server.url}/api/v1/sessions/s/messages", headers=headers,
                          json={"role": "user", "content": "fine"}, timeout=10).status_code == 200
        assert httpx.post(f"{server.url}/api/v1/sessions/s/messages", headers=headers,
                          json={"content": 5}, timeout=10).status_code == 400
        assert httpx.get(f"{server.url}/api/v1/nope", headers=headers, timeout=10).status_code == 404
        assert httpx.post(f"{server.url}/_mockviking/faults", json={"bogus": 1}, timeout=10).status_code == 400
        server.stop(timeout=5.0, attempts=2)
        assert "written to" in server.rest_of_stdout()
    report = json.loads(json_report.read_text())
    assert report["count"] == 3
    found = [(v["operation_id"], v["location"], v["rule"], v["value"]) for v in report["violations"]]
    assert found == [
        ("add_message", "body.role", "missing", None),
        ("add_message", "body.content", "string_type", 5),
        (None, "path", "unknown_route", "/api/v1/nope"),
    ]
    suite = ElementTree.parse(xml_report).getroot()
    assert suite.tag == "testsuite"
    assert (suite.get("tests"), suite.get("failures")) == ("3", "3")
    failures = [case.find("failure") for case in suite.iter("testcase")]
    assert [f.get("type") for f in failures if f is not None] == ["missing", "string_type", "unknown_route"]


def test_a_clean_run_reports_no_violation(tmp_path: Path) -> None:
    xml_report = tmp_path / "clean.xml"
    with running_server("--report", str(xml_report)) as server:
        assert httpx.get(f"{server.url}/health", timeout=10).status_code == 200
        server.stop(timeout=5.0, attempts=2)
    suite = ElementTree.parse(xml_report).getroot()
    assert (suite.get("tests"), suite.get("failures")) == ("1", "0")
