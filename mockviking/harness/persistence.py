"""Opt-in persistence: the state in one JSON file, rewritten atomically after every write.

``mockviking serve --state-file PATH`` restores the file at start-up and saves it before
each successful write is answered, so every acknowledged write survives a ``kill -9``. The
file is replaced atomically (write a temporary file, fsync, rename), so a crash leaves the
old or the new state, never half of one. A file that cannot be read or understood stops
start-up and is left untouched. Each save writes the whole state: meant for the modest
states of test runs, not for millions of messages.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
from pathlib import Path

from mockviking.domain.store import SessionStore
from mockviking.harness import snapshot


class StateFileError(Exception):
    """The state file cannot be used; the message says which file and why."""


class StateFile:
    """Where one server keeps its state."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def restore(self, store: SessionStore) -> bool:
        """Load the file into ``store`` (as its reset baseline too); ``False`` if there is none yet."""
        if not self.path.exists():
            return False
        try:
            document = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise StateFileError(f"{self.path}: cannot read the state file: {exc}") from exc
        try:
            snapshot.import_state(store, document, baseline=True)
        except snapshot.SnapshotError as exc:
            raise StateFileError(f"{self.path}: not a usable state file: {exc}") from exc
        return True

    def check_writable(self) -> None:
        """Fail early when the folder cannot take the file."""
        folder = self.path.parent if str(self.path.parent) else Path(".")
        if not folder.is_dir():
            raise StateFileError(f"{self.path}: the folder {folder} does not exist")
        if not os.access(folder, os.W_OK):
            raise StateFileError(f"{self.path}: the folder {folder} is not writable")

    def save(self, store: SessionStore) -> None:
        """Write the current state atomically (saves are serialised, the newest wins)."""
        with self._lock:
            text = json.dumps(snapshot.export_state(store), ensure_ascii=False, separators=(",", ":"))
            folder = self.path.parent if str(self.path.parent) else Path(".")
            fd, temporary = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=folder)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write(text)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(temporary, self.path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
                raise
            directory = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
