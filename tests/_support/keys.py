"""The keys of the bundled fixtures (``fixtures/default.yaml``), as the tests call with them.

``tests/unit/test_support.py`` checks them against the file, so a change of the fixtures
shows up there rather than as a puzzling 401 somewhere else.
"""

from __future__ import annotations

#: The root key: admin routes only, as on the real server.
ROOT_KEY = "mockviking-root-key"
#: default/alice, admin of account ``default``.
ALICE_KEY = "alice-secret-key-0001"
#: default/bob, a user of account ``default``.
BOB_KEY = "bob-secret-key-0002"
#: acme/carol, admin of account ``acme``.
CAROL_KEY = "carol-secret-key-0003"
