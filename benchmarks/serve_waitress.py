"""Serve ``apps:floor`` or ``apps:mockviking`` on waitress with mockviking's own server settings.

    python benchmarks/serve_waitress.py floor|mockviking PORT THREADS

It uses :class:`mockviking.serving.waitress_server.MockVikingServer` (what ``mockviking serve`` runs) for both
apps, so the floor and mockviking share the WSGI server and every setting of it. Prints
``serving http://HOST:PORT`` once listening (PORT may be 0) and stops on SIGINT/SIGTERM.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import apps  # noqa: E402

from mockviking.serving.waitress_server import MockVikingServer  # noqa: E402


def main() -> None:
    name, port, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    server = MockVikingServer(getattr(apps, name), "127.0.0.1", port, threads=threads)
    server.serve_forever(on_ready=lambda: print(f"serving {server.url}", flush=True))


if __name__ == "__main__":
    main()
