"""What the test folders share: fixture keys and paths, the hermetic SDK, the ``serve`` launcher.

One definition of each, imported as ``from tests._support import ...`` (every test folder is a
package, so ``tests`` resolves from the repository root however pytest is started):

- :mod:`.keys`: the keys of the bundled fixtures (root, alice, bob, carol);
- :mod:`.paths`: the repository's contract, fixture files and README;
- :mod:`.sdk`: the official SDK without the user's env vars or ovcli.conf, and its clients;
- :mod:`.server`: ``mockviking serve --port 0`` as a child process, and ``mockviking`` commands.
- :mod:`.transport`: Flask's test-client interface over a real socket (the API tests' ``live``
  transport), imported from there.
"""

from __future__ import annotations

from tests._support.keys import ALICE_KEY, BOB_KEY, CAROL_KEY, ROOT_KEY
from tests._support.paths import DEFAULT_FIXTURES, DEV_FIXTURES, README, REPO, SPEC
from tests._support.sdk import hermetic_env, hermetic_sdk, make_sdk_hermetic, sdk_client, sdk_clients
from tests._support.server import (
    STARTUP_TIMEOUT,
    STOP_TIMEOUT,
    ServerProcess,
    run_cli,
    running_server,
    start_server,
)

__all__ = [
    "ALICE_KEY",
    "BOB_KEY",
    "CAROL_KEY",
    "DEFAULT_FIXTURES",
    "DEV_FIXTURES",
    "README",
    "REPO",
    "ROOT_KEY",
    "SPEC",
    "STARTUP_TIMEOUT",
    "STOP_TIMEOUT",
    "ServerProcess",
    "hermetic_env",
    "hermetic_sdk",
    "make_sdk_hermetic",
    "run_cli",
    "running_server",
    "sdk_client",
    "sdk_clients",
    "start_server",
]
