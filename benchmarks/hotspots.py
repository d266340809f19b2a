"""Where mockviking spends its time: per request (in-process or under load), or in ``create_app``.

    python benchmarks/hotspots.py app      [--top 40] [--by self]
    python benchmarks/hotspots.py requests [--scenario mixed] [--seconds 8] [--top 25]
    python benchmarks/hotspots.py startup  [--top 25]

``app`` calls the WSGI apps directly (no server, no sockets) with the ``mixed`` scenario's
requests: microseconds per request for the floor and for mockviking, then cProfile of
mockviking with each function's share of ``Flask.wsgi_app`` (cumulative and self). On a
busy machine this is the steadiest attribution: no scheduler, no load generator.

``requests`` serves mockviking on waitress (``serve_waitress.py``), seeds it as ``run.py``
does, drives it with wrk and samples it with py-spy (``pip install -e '.[bench]'``), only
the thread holding the GIL (``--gil``): on a GIL-bound server that is where the time goes.
It prints the functions with the most samples on the stack (inclusive) and the source
lines with the most samples at the top of the stack (self), with file:line.

``startup`` runs ``create_app`` under cProfile (after one warm call, so imports are out).
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import functools
import io
import json
import os
import pstats
import re
import shutil
import subprocess
import sys
import tempfile
import time
import timeit
import typing as t
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run  # noqa: E402

FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


def short(path: str) -> str:
    for marker in ("/site-packages/", "/lib/python3"):
        if marker in path:
            return path.split(marker, 1)[1]
    with_repo = str(run.REPO) + "/"
    return path[len(with_repo):] if path.startswith(with_repo) else path


def summarise(raw: str, top: int) -> str:
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = [FRAME.match(f) for f in stack.split(";")[1:]]  # the first is the thread
        seen: set[str] = set()
        for match in frames:
            if match is None:
                continue
            key = f"{match['func']} ({short(match['file'])})"
            if key not in seen:
                inclusive[key] += count
                seen.add(key)
        last = frames[-1] if frames else None
        if last is not None:
            own[f"{short(last['file'])}:{last['line']} {last['func']}"] += count
    out = [f"{total} samples (GIL holder only)\n", "inclusive (on the stack):"]
    out += [f"  {100 * n / total:5.1f}%  {key}" for key, n in inclusive.most_common(top)]
    out += ["", "self (top of the stack), by line:"]
    out += [f"  {100 * n / total:5.1f}%  {key}" for key, n in own.most_common(top)]
    return "\n".join(out)


def profile_requests(opts: argparse.Namespace) -> int:
    wrk = shutil.which("wrk")
    pyspy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if wrk is None:
        print(run.WRK_MISSING, file=sys.stderr)
        return 2
    if not Path(pyspy).exists():
        print("py-spy is not installed: pip install -e '.[bench]'", file=sys.stderr)
        return 2
    proc, port = run.start_server("waitress", "mockviking", opts.server_threads)
    try:
        run.control(port, "/_mockviking/fixtures?baseline=true", run.scenario_fixture())
        run.run_wrk(wrk, port, opts.scenario, [], duration=1, connections=16, threads=2)  # warm-up
        run.control(port, "/_mockviking/reset")
        with tempfile.NamedTemporaryFile("r", suffix=".txt") as out:
            spy = subprocess.Popen(
                [pyspy, "record", "--pid", str(proc.pid), "--gil", "--nonblocking", "--format", "raw",
                 "--duration", str(round(opts.seconds)), "--rate", "200", "--output", out.name],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            )
            time.sleep(0.5)
            result = run.run_wrk(wrk, port, opts.scenario, [], duration=opts.seconds, connections=16, threads=2)
            _, err = spy.communicate(timeout=opts.seconds + 60)
            if spy.returncode != 0:
                print(f"py-spy failed: {err}", file=sys.stderr)
                return 1
            print(f"{opts.scenario}: {result['rps']:,.0f} req/s under py-spy, p50 {result['p50_ms']:.2f} ms, "
                  f"errors {result['errors']}")
            print(summarise(Path(out.name).read_text(), opts.top))
    finally:
        proc.stop()
    return 0


def _mixed_environs() -> list[tuple[dict[str, t.Any], bytes]]:
    """One cycle of 100 requests of the mixed scenario, as WSGI environs (60/30/10 as mixed.lua)."""
    from werkzeug.test import EnvironBuilder

    message = json.dumps(run.messages(1)[0]).encode()
    batch = json.dumps({"messages": run.messages(10)}).encode()
    out = []
    for i in range(100):
        kind = ("append", "get", "append", "append", "get", "append", "batch", "append", "get", "append")[i % 10]
        session = f"/api/v1/sessions/bench-append-{i % 100:03d}/messages"
        if kind == "get":
            builder = EnvironBuilder(path="/api/v1/sessions/bench-get", method="GET")
        elif kind == "batch":
            builder = EnvironBuilder(path=session + "/batch", method="POST", data=batch,
                                     content_type="application/json")
        else:
            builder = EnvironBuilder(path=session, method="POST", data=message, content_type="application/json")
        environ = builder.get_environ()
        out.append((environ, environ["wsgi.input"].read()))
    return out


def _call(app: t.Any, environs: list[tuple[dict[str, t.Any], bytes]], n: int) -> None:
    for i in range(n):
        template, data = environs[i % len(environs)]
        environ = dict(template, **{"wsgi.input": io.BytesIO(data)})
        statuses: list[str] = []

        def start_response(status: str, headers: t.Any, exc_info: t.Any = None, seen: list[str] = statuses) -> None:
            seen.append(status)

        b"".join(app(environ, start_response))
        if not statuses[0].startswith("200"):
            raise RuntimeError(f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']} answered {statuses[0]}")


def profile_app(opts: argparse.Namespace) -> int:
    import apps

    floor, mockviking = apps.floor, apps.mockviking
    seeded = mockviking.test_client().post("/_mockviking/fixtures?baseline=true", json=run.scenario_fixture())
    assert seeded.status_code == 200, seeded.data
    environs = _mixed_environs()
    for name, app in (("floor", floor), ("mockviking", mockviking)):
        _call(app, environs, 300)
        best = min(timeit.repeat(functools.partial(_call, app, environs, 2000), number=1, repeat=5)) / 2000
        print(f"{name:11} {best * 1e6:7.1f} us/request (WSGI call, mixed, best of 5)")
    profiler = cProfile.Profile()
    profiler.enable()
    _call(mockviking, environs, 5000)
    profiler.disable()
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    rows = sorted(
        ((cum, own, calls, f"{short(file)}:{line}({func})")
         for (file, line, func), (_, calls, own, cum, _) in stats.items()),
        reverse=True,
    )
    total = next(cum for cum, _, _, name in rows if name.endswith("(wsgi_app)"))
    if opts.by == "self":
        rows.sort(key=lambda row: row[1], reverse=True)
    print(f"\ncProfile, 5000 mixed requests; share of Flask.wsgi_app ({total:.2f} s under the profiler):")
    print("   cum%   self%    calls  function")
    for cum, own, calls, name in rows[: opts.top]:
        print(f"  {100 * cum / total:5.1f}  {100 * own / total:5.1f}  {calls:7d}  {name}")
    return 0


def profile_startup(opts: argparse.Namespace) -> int:
    from mockviking import create_app
    from mockviking.harness.config import Config

    create_app(Config())  # imports and first-use caches out of the way
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    create_app(Config())
    profiler.disable()
    print(f"create_app(Config()): {1000 * (time.perf_counter() - started):.1f} ms (under cProfile)")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(opts.top)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=("app", "requests", "startup"))
    parser.add_argument("--scenario", choices=run.SCENARIOS, default="mixed")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--server-threads", type=int, default=8)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--by", choices=("cum", "self"), default="cum", help="order of the app profile")
    opts = parser.parse_args()
    os.chdir(run.REPO)
    return {"app": profile_app, "requests": profile_requests, "startup": profile_startup}[opts.what](opts)


if __name__ == "__main__":
    sys.exit(main())
