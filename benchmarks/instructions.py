"""Instructions per request under callgrind: a repeatable cost, where requests/s are noise.

On a shared 2-core machine throughput swings by tens of percent from one minute to the next,
but the instructions an interpreter runs for the same work are the same on every run. This
script drives mockviking's WSGI app directly (no server, no sockets) through the `mixed`
cycle of `mixed.lua` (6 appends, 3 gets, 1 batch of 10), twice under
``valgrind --tool=callgrind``: once with no requests and once with ``--requests``. The
difference, divided by the requests, is the cost of one request. With ``--baseline DIR``
(another checkout of mockviking) it measures that checkout too, in the same run, and prints
both with their ratio.

    apt-get install valgrind
    python benchmarks/instructions.py --baseline ../mockviking-old --requests 2000

Cost: two interpreter runs per checkout under callgrind (about 50x slower than native).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Runs inside the measured interpreter: build the app, seed it, then run N mixed requests.
DRIVER = r"""
import io, json, sys
import mockviking
from mockviking import Config, create_app

requests = int(sys.argv[1])
root = sys.argv[2]
app = create_app(Config(fixtures=(root + "/fixtures/dev.yaml",), seed=1))

def call(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else b""
    environ = {
        "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "1933", "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_HOST": "127.0.0.1:1933",
        "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(data), "wsgi.errors": sys.stderr,
        "wsgi.multithread": False, "wsgi.multiprocess": False, "wsgi.run_once": False,
        "CONTENT_LENGTH": str(len(data)), "CONTENT_TYPE": "application/json" if body is not None else "",
    }
    status = []
    chunks = app(environ, lambda s, h, e=None: status.append(s))
    b"".join(chunks)
    assert status[0].startswith("200"), (method, path, status)

def message(role, n):
    return {"role": role, "content": f"message {n}: " + "lorem ipsum dolor sit amet " * 7}

call("POST", "/api/v1/sessions/bench-get/messages/batch", {"messages": [message("user", i) for i in range(50)]})
for s in range(100):
    call("POST", "/api/v1/sessions", {"session_id": f"bench-append-{s:03d}"})
cycle = ["append", "get", "append", "append", "get", "append", "batch", "append", "get", "append"]
for n in range(1, requests + 1):
    kind = cycle[n % len(cycle)]
    if kind == "get":
        call("GET", "/api/v1/sessions/bench-get")
        continue
    session = f"/api/v1/sessions/bench-append-{n % 100:03d}/messages"
    if kind == "batch":
        call("POST", session + "/batch", {"messages": [message("user", n * 10 + i) for i in range(10)]})
    else:
        call("POST", session, message("user" if n % 2 else "assistant", n))
print(mockviking.__file__)
"""


def instructions(checkout: Path, requests: int, workdir: Path) -> tuple[int, str]:
    """Total instructions of one driver run on ``checkout``, and which package it imported."""
    out = workdir / f"callgrind.{os.getpid()}.{requests}.out"
    env = {**os.environ, "PYTHONPATH": str(checkout), "PYTHONHASHSEED": "0"}
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, "-c", DRIVER,
         str(requests), str(checkout)],
        cwd=workdir, env=env, capture_output=True, text=True, timeout=3600, check=True,
    )
    match = re.search(r"Collected\s*:\s*(\d+)", done.stderr)
    if match is None:
        raise RuntimeError(f"callgrind printed no total:\n{done.stderr[-2000:]}")
    return int(match.group(1)), done.stdout.strip().splitlines()[-1]


def per_request(checkout: Path, requests: int) -> tuple[float, str]:
    """Instructions per `mixed` request on ``checkout`` (a run of N minus a run of 0)."""
    with tempfile.TemporaryDirectory() as tmp:
        empty, _ = instructions(checkout, 0, Path(tmp))
        loaded, package = instructions(checkout, requests, Path(tmp))
    return (loaded - empty) / requests, package


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="mixed requests measured (default 2000)")
    parser.add_argument("--baseline", type=Path, help="another mockviking checkout to measure in the same run")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        print("valgrind is not installed: apt-get install valgrind", file=sys.stderr)
        return 2
    rows = []
    for name, checkout in (("baseline", args.baseline), ("this checkout", ROOT)):
        if checkout is None:
            continue
        cost, package = per_request(checkout.resolve(), args.requests)
        if not package.startswith(str(checkout.resolve())):
            raise RuntimeError(f"{name}: imported {package}, not the checkout {checkout}")
        commit = subprocess.run(["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, check=False).stdout.strip()
        rows.append((name, commit, cost))
    print(f"instructions per `mixed` request, {args.requests} requests, called directly (no server)\n")
    print("| checkout | commit | instructions per request | vs baseline |")
    print("|---|---|---:|---:|")
    base = rows[0][2]
    for name, commit, cost in rows:
        print(f"| {name} | {commit} | {cost:,.0f} | {cost / base:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
