"""Shared bits of the plugin tests: fixture documents and the preamble of inner test files."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests._support import ALICE_KEY, ROOT_KEY

#: A fixture file that replaces the bundled data entirely.
ZETA_YAML = """\
root_key: zeta-root-key
accounts:
  - account_id: zeta
    users:
      - {user_id: zed, role: admin, key: zed-secret-key-0001}
sessions:
  - account_id: zeta
    user_id: zed
    session_id: zeta-session
    messages:
      - {role: user, content: "hello from zeta"}
      - role: assistant
        parts: [{type: text, text: "hi zed"}]
    counters:
      commit_count: 2
"""

#: A second file, to load on top of another one.
OMEGA_YAML = """\
accounts:
  - account_id: omega
    users:
      - {user_id: olga, role: admin, key: olga-secret-key-0001}
sessions:
  - account_id: omega
    user_id: olga
    session_id: omega-session
    messages:
      - {role: user, content: "hello from omega"}
"""

#: Helpers every inner test file starts with.
PREAMBLE = textwrap.dedent(
    f"""
    import httpx
    import pytest

    ROOT_KEY = {ROOT_KEY!r}
    ALICE_KEY = {ALICE_KEY!r}

    def get(handle, path, key=ALICE_KEY):
        return httpx.get(handle.url + path, headers={{"X-API-Key": key}}, timeout=10)

    def post(handle, path, body, key=ALICE_KEY):
        return httpx.post(handle.url + path, json=body, headers={{"X-API-Key": key}}, timeout=10)

    def session_ids(handle, key=ALICE_KEY):
        answer = get(handle, "/api/v1/sessions", key)
        assert answer.status_code == 200, answer.text
        return sorted(s["session_id"] for s in answer.json()["result"])
    """
)


def inner_tests(pytester: pytest.Pytester, *sources: str, name: str = "test_inner") -> Path:
    """Write an inner test module: the preamble, then each of ``sources`` (dedented)."""
    return pytester.makepyfile(**{name: PREAMBLE + "\n".join(textwrap.dedent(s) for s in sources)})
