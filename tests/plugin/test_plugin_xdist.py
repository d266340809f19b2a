"""Under pytest-xdist every worker gets its own server, with its own state."""

from __future__ import annotations

import json

import pytest

from .pluginsupport import inner_tests


def test_each_xdist_worker_gets_its_own_server(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    out = pytester.mkdir("seen")
    inner_tests(
        pytester,
        f"""
        import json
        import os
        import time
        from pathlib import Path

        OUT = Path({str(out)!r})

        @pytest.mark.parametrize("n", range(8))
        def test_private_state(mockviking, worker_id, n):
            mine = f"{{worker_id}}-{{n}}"
            assert post(mockviking, "/api/v1/sessions", {{"session_id": mine}}).status_code == 200
            time.sleep(0.15)  # overlap with the other worker's tests
            # Nothing from a test of the other worker, nor from an earlier test of this one;
            # a shared server would also have been reset under this test's feet.
            assert session_ids(mockviking) == sorted(["a1b2c3d4", "tool-demo", mine])
            assert [r.path for r in mockviking.requests()] == ["/api/v1/sessions"] * 2
            record = {{"worker": worker_id, "pid": os.getpid(), "url": mockviking.url}}
            (OUT / f"{{mine}}.json").write_text(json.dumps(record))
        """,
    )
    # Only the two plugins involved: autoloading every installed plugin in three processes
    # (controller and two workers) costs seconds.
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    result = pytester.runpytest_subprocess(
        "-p", "xdist", "-p", "mockviking.pytest_plugin", "-n", "2", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=8)
    records = [json.loads(path.read_text()) for path in sorted(out.iterdir())]
    assert len(records) == 8
    by_worker: dict[str, set[str]] = {}
    pids: dict[str, set[int]] = {}
    for record in records:
        by_worker.setdefault(record["worker"], set()).add(record["url"])
        pids.setdefault(record["worker"], set()).add(record["pid"])
    assert sorted(by_worker) == ["gw0", "gw1"], records  # both workers ran tests
    # one server per worker, shared by that worker's tests...
    assert all(len(worker_urls) == 1 for worker_urls in by_worker.values()), by_worker
    # ...and not the same one (each worker is its own process with its own port)
    assert by_worker["gw0"] != by_worker["gw1"], by_worker
    assert pids["gw0"].isdisjoint(pids["gw1"])
