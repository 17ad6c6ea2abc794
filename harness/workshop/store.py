"""Workshop state: one JSON file shared by every participant of a room.

Participants run `kmslab workshop ...` at the same time, so every change is a read-modify-
write under an exclusive `fcntl` lock on a side file, and the JSON is replaced atomically
(write to a temporary file, fsync, rename) so a reader never sees half a document.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from harness.errors import UsageError
from harness.paths import state_dir

VERSION = 1


def default_path() -> Path:
    return state_dir() / "workshop" / "state.json"


def empty() -> dict[str, Any]:
    return {"version": VERSION, "next_space": 1, "participants": {}}


class WorkshopStore:
    """Read and change the room's state; `transaction()` holds the lock for a whole change."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()
        self.lock_path = self.path.with_name(self.path.name + ".lock")

    @contextlib.contextmanager
    def _locked(self, exclusive: bool) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.lock_path, "a+") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            try:
                yield
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)

    def _read(self) -> dict[str, Any]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return empty()
        try:
            data: dict[str, Any] = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UsageError(f"{self.path}: workshop state is not valid JSON ({exc.msg})") from None
        if not isinstance(data, dict) or data.get("version") != VERSION:
            raise UsageError(f"{self.path}: not a kmslab workshop state file (version {VERSION})")
        return data

    def _write(self, data: dict[str, Any]) -> None:
        fd, tmp = tempfile.mkstemp(prefix=".state-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(data, out, indent=1, sort_keys=True)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def load(self) -> dict[str, Any]:
        """A consistent snapshot of the state."""
        with self._locked(exclusive=False):
            return self._read()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[dict[str, Any]]:
        """The state to change in place; written back when the block ends without error."""
        with self._locked(exclusive=True):
            data = self._read()
            yield data
            self._write(data)

    def participant(self, name: str) -> dict[str, Any] | None:
        record: dict[str, Any] | None = self.load()["participants"].get(name)
        return record

    def allocate_space(self) -> int:
        """A fresh number for a participant's isolated space (never reused in this room)."""
        with self.transaction() as data:
            space = int(data["next_space"])
            data["next_space"] = space + 1
        return space
