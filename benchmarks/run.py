"""mockviking's benchmark: one command, one table, every target of the performance issue.

    python benchmarks/run.py [--duration 5] [--servers waitress,gunicorn,granian] [--json out.json]

What it does, all on 127.0.0.1 and bounded in time:

1. For each WSGI server (waitress, gunicorn with the gthread worker, granian's WSGI interface),
   one process with N threads each for the floor app and for mockviking (``apps.py``), then
   wrk (``get.lua``, ``append.lua``, ``mixed.lua``) for ``--duration`` seconds per scenario,
   floor and mockviking back to back. mockviking keeps its state in process memory, so only
   one worker process is valid for it; the floor runs the same way for a fair ratio.
2. The server that is fastest on ``mixed`` for mockviking with zero errors is chosen.
3. ``mockviking serve`` (the CLI, on its default server, granian): start-up to the first 200,
   median of 5; RSS of the process holding the state (granian's worker), empty and after
   100,000 messages of ~200 characters added through HTTP batches; GET and append latency
   on a session holding 100,000 messages vs one holding 10.
4. The pytest fixture's start-up and the per-test reset, in fresh interpreters.
5. A table of the targets, PASS or FAIL each.

It never installs anything: a missing wrk stops it with the command that installs it.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import importlib.metadata
import importlib.util
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import typing as t
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEV_FIXTURES = REPO / "fixtures" / "dev.yaml"
SCENARIOS = ("get", "append", "mixed")
SERVERS = ("waitress", "gunicorn", "granian")
APPS = ("floor", "mockviking")

# Targets of the issue.
MIXED_RATIO_MIN = 0.5
P99_OVER_P50_MAX = 4.0
SERVE_START_MAX_S = 0.5
FIXTURE_READY_MAX_S = 0.050
RESET_MAX_S = 0.002
RSS_MAX_MB = 150.0
BIG_SMALL_RATIO_MAX = 1.2

WRK_MISSING = (
    "wrk (the HTTP load generator) is not installed.\n"
    "Install it, then run this again:\n"
    "    Debian/Ubuntu:  sudo apt-get update && sudo apt-get install -y wrk\n"
    "    macOS:          brew install wrk"
)


def log(message: str) -> None:
    print(f"# {message}", file=sys.stderr, flush=True)


# -- processes ---------------------------------------------------------------------------------


class Proc:
    """A server process of ours, in its own process group so it stops with everything it spawned.

    Its output goes to files, never to pipes: a server that logs under load (waitress warns
    "Task queue depth is N" whenever every thread is busy) would block on a full pipe.
    """

    def __init__(self, argv: list[str], *, cwd: Path = REPO, env: dict[str, str] | None = None) -> None:
        self.argv = argv
        self._out = tempfile.TemporaryFile("w+")  # noqa: SIM115 - closed in stop()
        self._err = tempfile.TemporaryFile("w+")  # noqa: SIM115
        self.popen = subprocess.Popen(
            argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=self._out, stderr=self._err,
            text=True, start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def first_line(self, deadline_s: float = 30.0) -> str:
        """The first line the process printed, waiting for it."""
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            self._out.seek(0)
            line = self._out.readline()
            if line.endswith("\n"):
                return line
            if self.popen.poll() is not None:
                break
            time.sleep(0.001)
        raise RuntimeError(f"{' '.join(self.argv)} printed no line; stderr: {self.stderr_tail()}")

    def stop(self) -> None:
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=5)
        self._out.close()
        self._err.close()

    def stderr_tail(self) -> str:
        self._err.seek(0)
        return self._err.read()[-2000:]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def request(port: int, method: str, path: str, body: t.Any = None, timeout: float = 30) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if data is not None else {}
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def wait_healthy(port: int, proc: Proc, deadline_s: float = 30.0, pause: float = 0.002) -> float:
    """Poll ``GET /health`` until 200; returns the monotonic time of the first 200."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if proc.popen.poll() is not None:
            raise RuntimeError(f"{' '.join(proc.argv)} exited with {proc.popen.returncode}: {proc.stderr_tail()}")
        try:
            status, _ = request(port, "GET", "/health", timeout=2)
            if status == 200:
                return time.monotonic()
        except OSError:
            pass
        time.sleep(pause)
    raise RuntimeError(f"{' '.join(proc.argv)} did not answer /health within {deadline_s:.0f} s")


def server_argv(server: str, app: str, port: int, threads: int) -> list[str]:
    py = sys.executable
    if server == "waitress":
        return [py, str(HERE / "serve_waitress.py"), app, str(port), str(threads)]
    if server == "gunicorn":
        return [py, "-m", "gunicorn", "--workers", "1", "--worker-class", "gthread", "--threads", str(threads),
                "--bind", f"127.0.0.1:{port}", "--chdir", str(HERE), "--log-level", "warning", f"apps:{app}"]
    if server == "granian":
        return [py, "-m", "granian", "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(port),
                "--workers", "1", "--blocking-threads", str(threads), "--working-dir", str(HERE),
                "--log-level", "warning", "--no-access-log", f"apps:{app}"]
    raise ValueError(server)


def start_server(server: str, app: str, threads: int) -> tuple[Proc, int]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")]))}
    proc = Proc(server_argv(server, app, port, threads), env=env)
    try:
        wait_healthy(port, proc, pause=0.05)
    except Exception:
        proc.stop()
        raise
    return proc, port


# -- wrk ---------------------------------------------------------------------------------------


def wrk_version(wrk: str) -> str:
    out = subprocess.run([wrk, "-v"], capture_output=True, text=True, timeout=10)
    return (out.stdout + out.stderr).splitlines()[0].split(" Copyright")[0].strip()


def run_wrk(wrk: str, port: int, script: str, args: t.Sequence[str], *, duration: float, connections: int,
            threads: int) -> dict[str, t.Any]:
    argv = [wrk, f"-t{threads}", f"-c{connections}", f"-d{max(1, round(duration))}s", "--latency",
            "--timeout", "5s", "-s", str(HERE / f"{script}.lua"), f"http://127.0.0.1:{port}", "--", *args]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60)
    match = re.search(r"^MOCKVIKING_BENCH (\{.*\})$", out.stdout, re.M)
    if out.returncode != 0 or match is None:
        raise RuntimeError(f"wrk failed ({out.returncode}): {out.stdout}\n{out.stderr}")
    raw = json.loads(match.group(1))
    socket_errors = raw["connect"] + raw["read"] + raw["write"] + raw["timeout"]
    return {
        "rps": raw["requests"] / (raw["duration_us"] / 1e6),
        "requests": raw["requests"],
        "p50_ms": raw["p50_us"] / 1000,
        "p90_ms": raw["p90_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "mean_ms": raw["mean_us"] / 1000,
        "max_ms": raw["max_us"] / 1000,
        "non_2xx": raw["status"],
        "socket_errors": socket_errors,
        "errors": raw["status"] + socket_errors,
    }


# -- seeding -----------------------------------------------------------------------------------


def content(i: int) -> str:
    """About 200 characters, like common.lua's messages."""
    return (f"Message {i:08d}: the quick brown fox jumps over the lazy dog while the agent keeps notes about "
            "the user's preferences, their calendar, the projects at work and the books they liked.")


def messages(n: int, start: int = 0) -> list[dict[str, str]]:
    return [{"role": "user" if i % 2 == 0 else "assistant", "content": content(i)} for i in range(start, start + n)]


def scenario_fixture() -> dict[str, t.Any]:
    """bench-get holds 50 messages; bench-append-000..099 exist, empty."""
    sessions = [{"session_id": "bench-get", "messages": messages(50)}]
    sessions += [{"session_id": f"bench-append-{i:03d}", "messages": []} for i in range(100)]
    return {"sessions": sessions}


def control(port: int, path: str, body: t.Any = None) -> None:
    status, data = request(port, "POST", path, body)
    if status != 200:
        raise RuntimeError(f"POST {path} answered {status}: {data[:500]!r}")


# -- 1. the server matrix ----------------------------------------------------------------------


def run_matrix(wrk: str, opts: argparse.Namespace) -> dict[str, t.Any]:
    """Every scenario in ``--throughput-rounds`` rounds of floor then mockviking, back to back.

    On a shared machine throughput drifts by tens of percent within a minute; comparing each
    mockviking run with the floor run just before it, and keeping the median of the rounds,
    is what makes the ratio steady. mockviking is reset before each of its runs.
    """
    results: dict[str, t.Any] = {}
    for server in opts.servers:
        threads = server_threads(server, opts)
        log(f"{server}: starting floor and mockviking ({threads} threads, 1 process each)")
        procs: dict[str, tuple[Proc, int]] = {}
        try:
            for app in APPS:
                procs[app] = start_server(server, app, threads)
            mv_port = procs["mockviking"][1]
            control(mv_port, "/_mockviking/fixtures?baseline=true", scenario_fixture())
            wrk_opts = {"connections": opts.connections, "threads": opts.wrk_threads}
            if opts.warmup > 0:
                for app in APPS:
                    run_wrk(wrk, procs[app][1], "mixed", [], duration=opts.warmup, **wrk_opts)
            per_server: dict[str, dict[str, t.Any]] = {}
            for scenario in SCENARIOS:
                rounds: dict[str, list[dict[str, t.Any]]] = {app: [] for app in APPS}
                for _round in range(opts.throughput_rounds):
                    for app in APPS:
                        if app == "mockviking":
                            control(mv_port, "/_mockviking/reset")
                        res = run_wrk(wrk, procs[app][1], scenario, [], duration=opts.duration, **wrk_opts)
                        rounds[app].append(res)
                        log(f"{server:9} {scenario:7} {app:11} {res['rps']:8.0f} req/s  p50 {res['p50_ms']:6.2f} ms  "
                            f"p99 {res['p99_ms']:7.2f} ms  errors {res['errors']}")
                per_server[scenario] = {app: aggregate(rounds[app]) for app in APPS}
                per_server[scenario]["ratio"] = statistics.median(
                    div(m["rps"], f["rps"]) for f, m in zip(rounds["floor"], rounds["mockviking"], strict=True)
                )
            results[server] = per_server
        except Exception as exc:  # a server that cannot run is reported, not fatal
            log(f"{server}: FAILED: {exc}")
            results[server] = {"failed": str(exc).splitlines()[0][:200]}
        finally:
            for proc, _ in procs.values():
                proc.stop()
    return results


def aggregate(runs: list[dict[str, t.Any]]) -> dict[str, t.Any]:
    """The median run's figures (each figure's median), errors summed over the rounds."""
    return {
        "rps": statistics.median(r["rps"] for r in runs),
        "p50_ms": statistics.median(r["p50_ms"] for r in runs),
        "p99_ms": statistics.median(r["p99_ms"] for r in runs),
        "p99_over_p50": statistics.median(div(r["p99_ms"], r["p50_ms"]) for r in runs),
        "errors": sum(r["errors"] for r in runs),
        "rounds": runs,
    }


def server_threads(server: str, opts: argparse.Namespace) -> int:
    """granian runs Python on its blocking threads and does its I/O in Rust: with the GIL, one
    Python thread is fastest and has the shortest tail (more only queue for the GIL)."""
    return opts.granian_threads if server == "granian" else opts.server_threads


def choose_server(matrix: dict[str, t.Any]) -> str | None:
    """Fastest on mixed for mockviking among the servers with zero errors in every scenario."""
    stable = [
        server for server, res in matrix.items()
        if "failed" not in res and all(res[s][app]["errors"] == 0 for s in SCENARIOS for app in APPS)
    ]
    return max(stable, key=lambda s: matrix[s]["mixed"]["mockviking"]["rps"], default=None)


# -- 2. mockviking serve: start-up, RSS, big vs small session ---------------------------------


def mockviking_argv(*args: str) -> list[str]:
    script = Path(sys.executable).parent / "mockviking"
    head = [str(script)] if script.exists() else [sys.executable, "-m", "mockviking"]
    return [*head, "serve", *args]


def compile_bytecode() -> str:
    """Compile mockviking's modules, as pip does when it installs the package.

    An editable install compiles nothing, and where ``PYTHONDONTWRITEBYTECODE`` is set
    (this project's machines set it) every start-up would compile the package's source
    again: about 90 ms of ``serve``'s start-up that an installed mockviking never pays.
    """
    import compileall

    package = REPO / "mockviking"
    ok = compileall.compile_dir(str(package), quiet=1)
    state = "compiled before the run (as pip does on install)" if ok else "could not all be compiled"
    return f"{state}; PYTHONDONTWRITEBYTECODE={os.environ.get('PYTHONDONTWRITEBYTECODE', '(unset)')}"


def measure_serve_startup(runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.monotonic()
        proc = Proc(mockviking_argv("--port", "0"))
        try:
            line = proc.first_line()
            match = re.search(r"http://127\.0\.0\.1:(\d+)", line)
            if match is None:
                raise RuntimeError(f"mockviking serve printed {line!r}; stderr: {proc.stderr_tail()}")
            first_200 = wait_healthy(int(match.group(1)), proc, deadline_s=20, pause=0.001)
            times.append(first_200 - started)
        finally:
            proc.stop()
    return times


def state_pid(pid: int) -> int:
    """The process holding mockviking's state: granian's worker, the one child of ``mockviking
    serve`` (waitress serves in the process itself)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return int(children[0]) if len(children) == 1 else pid


def vm_rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
    assert match is not None
    return int(match.group(1)) / 1024


def run_data_checks(wrk: str, opts: argparse.Namespace) -> dict[str, t.Any]:
    """RSS of 100k messages and the big-vs-small latency, on one ``mockviking serve``."""
    # ``mockviking serve`` as a user starts it: its default server and threads.
    proc = Proc(mockviking_argv("--port", "0", "--fixtures", str(DEV_FIXTURES)))
    try:
        match = re.search(r"http://127\.0\.0\.1:(\d+)", proc.first_line())
        if match is None:
            raise RuntimeError(f"mockviking serve did not start: {proc.stderr_tail()}")
        port = int(match.group(1))
        wait_healthy(port, proc)
        # "Empty": started, answered a few requests of every kind used below, nothing stored yet.
        control(port, "/api/v1/sessions/bench-small/messages/batch", {"messages": messages(10)})
        status, _ = request(port, "GET", "/api/v1/sessions/bench-small")
        assert status == 200
        holder = state_pid(proc.pid)
        rss_empty = vm_rss_mb(holder)
        log(f"seeding {opts.big:,} messages into bench-big through HTTP batches of 100")
        started = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for start in range(0, opts.big, 100):
            body = json.dumps({"messages": messages(min(100, opts.big - start), start)}).encode()
            conn.request("POST", "/api/v1/sessions/bench-big/messages/batch", body=body,
                         headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"batch answered {response.status}")
        conn.close()
        seed_s = time.monotonic() - started
        rss_full = vm_rss_mb(holder)
        log(f"seeded in {seed_s:.1f} s; RSS {rss_empty:.1f} -> {rss_full:.1f} MB")
        # Latency of one request at a time (1 connection): the per-request cost, no queueing.
        # Alternate small and big, --rounds times, and keep the median of each side.
        lat: dict[str, dict[str, list[dict[str, t.Any]]]] = {"get": {"small": [], "big": []},
                                                             "append": {"small": [], "big": []}}
        for _round in range(opts.rounds):
            for size in ("small", "big"):
                sid = f"bench-{size}"
                lat["get"][size].append(run_wrk(wrk, port, "get", [sid], duration=opts.latency_duration,
                                                connections=1, threads=1))
                lat["append"][size].append(run_wrk(wrk, port, "append", [sid, "1"],
                                                   duration=opts.latency_duration, connections=1, threads=1))
        status, data = request(port, "GET", "/api/v1/sessions/bench-big")
        big_count = json.loads(data)["result"]["message_count"]
        checks = {}
        for op in ("get", "append"):
            small = statistics.median(r["p50_ms"] for r in lat[op]["small"])
            big = statistics.median(r["p50_ms"] for r in lat[op]["big"])
            checks[op] = {
                "small_p50_ms": small, "big_p50_ms": big, "ratio": big / small,
                "small_rps": statistics.median(r["rps"] for r in lat[op]["small"]),
                "big_rps": statistics.median(r["rps"] for r in lat[op]["big"]),
                "errors": sum(r["errors"] for size in lat[op].values() for r in size),
            }
            log(f"{op}: small p50 {small:.3f} ms, big p50 {big:.3f} ms, ratio {big / small:.2f}")
        return {"rss_empty_mb": rss_empty, "rss_full_mb": rss_full, "rss_growth_mb": rss_full - rss_empty,
                "seed_s": seed_s, "big_messages_at_end": big_count, "latency": checks}
    finally:
        proc.stop()


# -- 3. in-process: fixture start-up, reset, RSS through the store API -------------------------

FIXTURE_SNIPPET = textwrap.dedent("""
    import http.client, json, sys, time
    t0 = time.perf_counter()
    from mockviking.web.app import create_app
    from mockviking.harness.config import Config
    from mockviking.serving.waitress_server import MockVikingServer
    t1 = time.perf_counter()
    def ready():
        start = time.perf_counter()
        server = MockVikingServer(create_app(Config()), "127.0.0.1", 0)
        server.start()
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        conn.request("GET", "/health")
        response = conn.getresponse(); response.read(); conn.close()
        assert response.status == 200, response.status
        return server, time.perf_counter() - start
    first, cold = ready()
    second, warm = ready()
    first.stop(); second.stop()
    print(json.dumps({"import_s": t1 - t0, "ready_s": cold, "ready_again_s": warm}))
""")

RESET_SNIPPET = textwrap.dedent("""
    import json, statistics, sys, time
    from mockviking.web.app import EXTENSION, create_app
    from mockviking.harness.config import Config
    from mockviking.serving.waitress_server import MockVikingServer
    from mockviking.testing import MockVikingHandle
    runs = int(sys.argv[1])
    server = MockVikingServer(create_app(Config()), "127.0.0.1", 0)
    server.start()
    handle = MockVikingHandle(server, server.app.extensions[EXTENSION])
    for _ in range(20):
        handle.reset()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        handle.reset()
        times.append(time.perf_counter() - start)
    server.stop()
    print(json.dumps({"median_s": statistics.median(times), "p99_s": sorted(times)[int(runs * 0.99) - 1]}))
""")

STORE_RSS_SNIPPET = textwrap.dedent("""
    import json, re, sys
    from pathlib import Path
    sys.path.insert(0, sys.argv[2])
    from mockviking.web.app import EXTENSION, create_app
    from mockviking.harness.config import Config
    from mockviking.domain.messages import drafts_from_request
    from mockviking.domain.owners import Owner
    import run
    def rss():
        return int(re.search(r"VmRSS:\\s+(\\d+) kB", Path("/proc/self/status").read_text()).group(1)) / 1024
    store = create_app(Config(fixtures=(str(run.DEV_FIXTURES),))).extensions[EXTENSION].store
    owner = Owner("default", "default")
    store.add_messages(owner, "warm", [d for m in run.messages(10) for d in drafts_from_request(m)])
    before = rss()
    total = int(sys.argv[1])
    for start in range(0, total, 100):
        batch = run.messages(min(100, total - start), start)
        store.add_messages(owner, "big", [d for m in batch for d in drafts_from_request(m)])
    print(json.dumps({"before_mb": before, "after_mb": rss(), "growth_mb": rss() - before}))
""")


def python_json(snippet: str, *args: str, timeout: float = 300) -> dict[str, t.Any]:
    out = subprocess.run([sys.executable, "-c", snippet, *args], cwd=REPO, capture_output=True, text=True,
                         timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def run_in_process_checks(opts: argparse.Namespace) -> dict[str, t.Any]:
    fixture_runs = [python_json(FIXTURE_SNIPPET) for _ in range(opts.startup_runs)]
    reset = python_json(RESET_SNIPPET, str(opts.reset_runs))
    store_rss = python_json(STORE_RSS_SNIPPET, str(opts.big), str(HERE))
    return {
        "fixture_import_s": statistics.median(r["import_s"] for r in fixture_runs),
        "fixture_ready_s": statistics.median(r["ready_s"] for r in fixture_runs),
        "fixture_ready_again_s": statistics.median(r["ready_again_s"] for r in fixture_runs),
        "reset_median_s": reset["median_s"],
        "reset_p99_s": reset["p99_s"],
        "store_rss_growth_mb": store_rss["growth_mb"],
    }


# -- report ------------------------------------------------------------------------------------


def git_state() -> str:
    """The commit benchmarked, and whether mockviking/ had uncommitted changes."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                              text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "mockviking"], cwd=REPO,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head or 'unknown'}{' + uncommitted changes in mockviking/' if dirty else ''}"


def versions(wrk: str) -> dict[str, str]:
    found = {"python": platform.python_version(), "wrk": wrk_version(wrk), "git": git_state()}
    for name in ("mockviking", "flask", "werkzeug", "waitress", "gunicorn", "granian"):
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def machine() -> dict[str, t.Any]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        match = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
        cpu = match.group(1).strip() if match else cpu
    mem = "unknown"
    with contextlib.suppress(OSError):
        match = re.search(r"^MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text(), re.M)
        mem = f"{int(match.group(1)) / 1024 / 1024:.1f} GiB" if match else mem
    return {"nproc": len(os.sched_getaffinity(0)), "cpu": cpu, "memory": mem,
            "kernel": platform.release(), "loadavg_at_start": os.getloadavg()}


def div(a: float, b: float) -> float:
    return a / b if b else float("inf")


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def render(report: dict[str, t.Any]) -> str:
    lines: list[str] = []
    add = lines.append
    m, v, o = report["machine"], report["versions"], report["settings"]
    add("## Machine and settings\n")
    add(f"- {m['nproc']} CPUs ({m['cpu']}), {m['memory']}, Linux {m['kernel']}, "
        f"load average at start {', '.join(f'{x:.2f}' for x in m['loadavg_at_start'])}")
    add(f"- mockviking at {v['git']}")
    add(f"- Python {v['python']}; mockviking {v['mockviking']}, flask {v['flask']}, werkzeug {v['werkzeug']}, "
        f"waitress {v['waitress']}, gunicorn {v['gunicorn']}, granian {v['granian']}; {v['wrk']}")
    add(f"- wrk: {o['wrk_threads']} threads, {o['connections']} connections; per scenario "
        f"{o['throughput_rounds']} rounds of {o['duration']} s floor then {o['duration']} s mockviking "
        f"(after {o['warmup']} s warm-up per app); figures are the medians of the rounds, the ratio the "
        "median of each round's ratio")
    add(f"- every server: 1 process; waitress and gunicorn {o['server_threads']} threads, granian "
        f"{o['granian_threads']} blocking thread(s); both apps run with the interpreter settings of "
        "`mockviking serve` (`mockviking.serving.tuning.tune_interpreter`)")
    add(f"- mockviking's bytecode: {report['bytecode']}")
    add("")
    add("## Throughput: floor vs mockviking, per WSGI server\n")
    add("| server | scenario | floor req/s | mockviking req/s | ratio | floor p50 / p99 ms "
        "| mockviking p50 / p99 ms | mockviking p99/p50 | errors floor / mockviking |")
    add("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for server, res in report["matrix"].items():
        if "failed" in res:
            add(f"| {server} | — | failed: {res['failed']} | | | | | | |")
            continue
        for scenario in SCENARIOS:
            f, mv = res[scenario]["floor"], res[scenario]["mockviking"]
            add(f"| {server} | {scenario} | {f['rps']:,.0f} | {mv['rps']:,.0f} | {res[scenario]['ratio']:.2f} "
                f"| {f['p50_ms']:.2f} / {f['p99_ms']:.2f} | {mv['p50_ms']:.2f} / {mv['p99_ms']:.2f} "
                f"| {mv['p99_over_p50']:.1f} | {f['errors']} / {mv['errors']} |")
    add("")
    chosen = report["chosen_server"]
    if chosen:
        mixed = report["matrix"][chosen]["mixed"]["mockviking"]
        add(f"**Chosen server: {chosen}**: fastest on `mixed` for mockviking at 1 process "
            f"({mixed['rps']:,.0f} req/s) with zero errors in every scenario. Multi-process servers "
            "(gunicorn or granian with more than one worker) would split mockviking's in-memory state "
            "between processes, so only 1 process with threads is valid; the floor ran the same way.")
    else:
        add("**No server ran every scenario without errors.**")
    add("")
    if report.get("data") is not None:
        d, p = report["data"], report["in_process"]
        add("## Start-up, reset, memory, data size\n")
        add("| measure | value |")
        add("|---|---:|")
        add(f"| `mockviking serve` spawn to first 200 on /health (median of {o['startup_runs']}) "
            f"| {report['serve_startup_median_s'] * 1000:.0f} ms |")
        add(f"| pytest fixture: create_app + MockVikingServer(port 0) + first 200, fresh interpreter "
            f"(median of {o['startup_runs']}) | {p['fixture_ready_s'] * 1000:.1f} ms |")
        add(f"| … imports of mockviking.web.app/serving/harness.config before it (paid once per interpreter) "
            f"| {p['fixture_import_s'] * 1000:.0f} ms |")
        add(f"| … a second app + server in the same interpreter | {p['fixture_ready_again_s'] * 1000:.1f} ms |")
        add(f"| reset to the default fixtures, `handle.reset()` (median / p99 of {o['reset_runs']}) "
            f"| {p['reset_median_s'] * 1000:.3f} / {p['reset_p99_s'] * 1000:.3f} ms |")
        add(f"| RSS of `mockviking serve`, empty | {d['rss_empty_mb']:.1f} MB |")
        add(f"| RSS after {o['big']:,} messages of ~200 characters through HTTP batches of 100 "
            f"(took {d['seed_s']:.1f} s) | {d['rss_full_mb']:.1f} MB (+{d['rss_growth_mb']:.1f} MB) |")
        add(f"| … the same through the store API in-process (`store.add_messages`) "
            f"| +{p['store_rss_growth_mb']:.1f} MB |")
        for op in ("get", "append"):
            c = d["latency"][op]
            add(f"| `{op}` p50, 1 connection: session of 10 vs {o['big']:,} messages "
                f"| {c['small_p50_ms']:.3f} vs {c['big_p50_ms']:.3f} ms (×{c['ratio']:.2f}; "
                f"{c['small_rps']:,.0f} vs {c['big_rps']:,.0f} req/s; errors {c['errors']}) |")
        add("")
    add("## Targets\n")
    add("| target | measured | result |")
    add("|---|---:|:---:|")
    for name, measured, ok in report["targets"]:
        add(f"| {name} | {measured} | {verdict(ok)} |")
    return "\n".join(lines)


def evaluate(report: dict[str, t.Any]) -> list[tuple[str, str, bool]]:
    targets: list[tuple[str, str, bool]] = []
    chosen = report["chosen_server"]
    o, d, p = report["settings"], report["data"], report["in_process"]
    if chosen:
        mixed = report["matrix"][chosen]["mixed"]
        ratio = mixed["ratio"]
        targets.append((f"`mixed` ≥ {MIXED_RATIO_MIN} × floor ({chosen})",
                        f"{mixed['mockviking']['rps']:,.0f} / {mixed['floor']['rps']:,.0f} req/s; median of the "
                        f"rounds' ratios {ratio:.2f}", ratio >= MIXED_RATIO_MIN))
        mv = mixed["mockviking"]
        spread = mv["p99_over_p50"]
        targets.append((f"`mixed` p99 ≤ {P99_OVER_P50_MAX:g} × p50 ({chosen})",
                        f"{spread:.1f} (median of the rounds; p99 {mv['p99_ms']:.2f} ms, p50 {mv['p50_ms']:.2f} ms)",
                        spread <= P99_OVER_P50_MAX))
    else:
        targets.append(("a server with zero errors", "none", False))
    if d is None or p is None:  # --throughput-only
        return targets
    serve = report["serve_startup_median_s"]
    targets.append((f"`mockviking serve` to first 200 ≤ {SERVE_START_MAX_S * 1000:.0f} ms (median)",
                    f"{serve * 1000:.0f} ms", serve <= SERVE_START_MAX_S))
    ready = p["fixture_ready_s"]
    targets.append((f"pytest fixture ready ≤ {FIXTURE_READY_MAX_S * 1000:.0f} ms (median)",
                    f"{ready * 1000:.1f} ms", ready <= FIXTURE_READY_MAX_S))
    reset = p["reset_median_s"]
    targets.append((f"reset to the default fixtures ≤ {RESET_MAX_S * 1000:.0f} ms (median)",
                    f"{reset * 1000:.3f} ms", reset <= RESET_MAX_S))
    growth = d["rss_growth_mb"]
    targets.append((f"{o['big']:,} messages ≤ {RSS_MAX_MB:.0f} MB RSS above empty (HTTP)",
                    f"{growth:.1f} MB", growth <= RSS_MAX_MB))
    for op in ("get", "append"):
        c = d["latency"][op]
        targets.append((f"`{op}` on {o['big']:,} messages within {BIG_SMALL_RATIO_MAX:g} × of 10",
                        f"×{c['ratio']:.2f}", c["ratio"] <= BIG_SMALL_RATIO_MAX and c["errors"] == 0))
    return targets


# -- main --------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=3.0,
                        help="seconds of load per scenario, app and round (default 3)")
    parser.add_argument("--throughput-rounds", type=int, default=3,
                        help="rounds of floor-then-mockviking per scenario; medians are reported (default 3)")
    parser.add_argument("--granian-threads", type=int, default=1,
                        help="granian's blocking (Python) threads (default 1, mockviking serve's)")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of warm-up per app and server (default 1)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument("--wrk-threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--server-threads", type=int, default=8,
                        help="threads of waitress and gunicorn, 1 process each (default 8)")
    parser.add_argument("--servers", default=",".join(SERVERS), help="comma-separated (default: all three)")
    parser.add_argument("--big", type=int, default=100_000, help="messages in the big session (default 100000)")
    parser.add_argument("--latency-duration", type=float, default=2.0,
                        help="seconds per big-vs-small latency run (default 2)")
    parser.add_argument("--rounds", type=int, default=5, help="big-vs-small rounds, alternating (default 5)")
    parser.add_argument("--startup-runs", type=int, default=5, help="start-up runs (default 5)")
    parser.add_argument("--reset-runs", type=int, default=1000, help="reset runs (default 1000)")
    parser.add_argument("--throughput-only", action="store_true",
                        help="only the server matrix (no start-up, memory, data-size, fixture or reset checks)")
    parser.add_argument("--json", type=Path, help="also write every number to this JSON file")
    opts = parser.parse_args(argv)
    opts.servers = [s.strip() for s in opts.servers.split(",") if s.strip()]
    unknown = set(opts.servers) - set(SERVERS)
    if unknown:
        parser.error(f"unknown server(s): {', '.join(sorted(unknown))}; choose from {', '.join(SERVERS)}")
    return opts


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    wrk = shutil.which("wrk")
    if wrk is None:
        print(WRK_MISSING, file=sys.stderr)
        return 2
    if not sys.platform.startswith("linux"):
        print("the benchmark reads /proc for memory figures: run it on Linux", file=sys.stderr)
        return 2
    missing = [s for s in opts.servers if s != "waitress" and importlib.util.find_spec(s) is None]
    if missing:
        print(f"{', '.join(missing)} not installed: pip install -e '.[bench]' (or drop them with --servers)",
              file=sys.stderr)
        return 2
    started = time.monotonic()
    bytecode = compile_bytecode()
    report: dict[str, t.Any] = {"machine": machine(), "versions": versions(wrk), "bytecode": bytecode,
                                "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(opts).items()}}
    report["matrix"] = run_matrix(wrk, opts)
    report["chosen_server"] = choose_server(report["matrix"])
    report["data"] = report["in_process"] = None
    if not opts.throughput_only:
        log("mockviking serve: start-up")
        report["serve_startup_runs_s"] = measure_serve_startup(opts.startup_runs)
        report["serve_startup_median_s"] = statistics.median(report["serve_startup_runs_s"])
        log("mockviking serve: memory and big vs small session")
        report["data"] = run_data_checks(wrk, opts)
        log("in-process: fixture start-up, reset, store RSS")
        report["in_process"] = run_in_process_checks(opts)
    report["targets"] = evaluate(report)
    report["elapsed_s"] = time.monotonic() - started
    print(render(report))
    print(f"\n(took {report['elapsed_s']:.0f} s)")
    if opts.json:
        opts.json.write_text(json.dumps(report, indent=2))
    return 0 if all(ok for _, _, ok in report["targets"]) else 1


if __name__ == "__main__":
    sys.exit(main())
