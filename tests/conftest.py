"""Hypothesis settings for the whole suite.

On CI (``CI`` set, as CI services set ``CI=true``) the "ci" profile runs: the examples are
derandomized, so a run is reproducible from the commit alone and a flaky find does not come
and go between runs; no deadline (a shared runner's timing is noise) and the failing
example's blob printed for ``@reproduce_failure``. A rare case a property test may find
locally belongs in an explicit ``@example`` on that test. Elsewhere Hypothesis's default
profile applies.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)

if os.environ.get("CI"):
    settings.load_profile("ci")
