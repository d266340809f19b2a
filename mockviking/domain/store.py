"""All mutable state of a mockviking server: accounts, keys, sessions, commits and tasks.

:class:`SessionStore` is the one object every way in (the API, fixtures, the control API,
a state import, the pytest handle) reads and writes through, so each obeys the same rules
(``rules``) and transactions (``commits.CommitEngine.append``). It is assembled from one
class per concern, each building on the last:

``base.StoreBase`` (lock, state, baseline) → ``accounts.AccountRegistry`` →
``sessions.SessionBook`` → ``taskqueue.TaskQueue`` → ``commits.CommitEngine``.
"""

from __future__ import annotations

from mockviking.domain.commits import CommitEngine


class SessionStore(CommitEngine):
    """Thread-safe in-memory state with an explicit baseline to reset to."""
