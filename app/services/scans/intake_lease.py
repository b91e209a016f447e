"""Who is importing a scan file right now: a lease per file (by its SHA-256) that lives exactly as long as the
importing process does.

"Another workstation is importing this file" used to be guessed from the time the file was recorded (ten
minutes), so an import that crashed or was killed left every file stuck for ten minutes. Now the claim is a
lock that the operating system or the database server drops the moment its holder dies:

* PostgreSQL (several workstations): a session advisory lock ``pg_try_advisory_lock`` on a connection held
  for the import; the server releases it when the connection ends, also when the process is killed.
* SQLite (one machine; the database file is local): an exclusive ``flock``/``msvcrt.locking`` on a lock file
  per file in ``intake-locks/`` beside the database; the kernel releases it when the process ends.

Nothing is written to the database, so taking and dropping leases costs no audited transaction.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from app.services.core.ondisk import advisory_key, try_lock, unlock

LOCK_DIR = "intake-locks"
_PG_NAMESPACE = b"formtrail-intake:"
_LOCAL = threading.Lock()
_LOCAL_HELD: set[tuple[str, str]] = set()  # (lock directory, sha256) held by this process: flock is per file
# description, so two threads of one process already exclude each other; this only keeps the bookkeeping simple.


class Leases:
    """The leases this import holds; ``take(sha)`` is non-blocking, ``drop(sha)`` ends one, ``close()`` all."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._pg: Connection | None = None
        self._files: dict[str, Any] = {}  # sha256 -> open lock file
        self._pg_held: set[str] = set()
        if engine.dialect.name == "postgresql":
            self._dir = None
        else:
            self._dir = _lock_dir(engine)

    def take(self, sha256: str) -> bool:
        """Claim the file; False if another import (in this or any process) holds it now."""
        if sha256 in self._files or sha256 in self._pg_held:
            return True
        if self._dir is None:
            return self._take_pg(sha256)
        return self._take_file(sha256)

    def drop(self, sha256: str) -> None:
        if sha256 in self._pg_held and self._pg is not None:
            self._pg_held.discard(sha256)
            with contextlib.suppress(Exception):
                self._pg.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _pg_key(sha256)})
        handle = self._files.pop(sha256, None)
        if handle is not None:
            self._release_file(sha256, handle)

    def close(self) -> None:
        for sha in list(self._files):
            self.drop(sha)
        if self._pg is not None:
            with contextlib.suppress(Exception):
                self._pg.execute(text("SELECT pg_advisory_unlock_all()"))
            with contextlib.suppress(Exception):
                self._pg.close()
            self._pg, self._pg_held = None, set()

    def __enter__(self) -> Leases:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- PostgreSQL -----------------------------------------------------------------------------------------
    def _take_pg(self, sha256: str) -> bool:
        if self._pg is None:
            # Its own connection, outside any transaction: the lock must outlive the import's many short ones.
            self._pg = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        got = bool(self._pg.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": _pg_key(sha256)}).scalar())
        if got:
            self._pg_held.add(sha256)
        return got

    # -- lock files -----------------------------------------------------------------------------------------
    def _take_file(self, sha256: str) -> bool:
        assert self._dir is not None
        key = (str(self._dir), sha256)
        with _LOCAL:
            if key in _LOCAL_HELD:
                return False
            _LOCAL_HELD.add(key)
        try:
            handle = _lock_file(self._dir / f"{sha256}.lock")
        except BaseException:
            with _LOCAL:
                _LOCAL_HELD.discard(key)
            raise
        if handle is None:
            with _LOCAL:
                _LOCAL_HELD.discard(key)
            return False
        self._files[sha256] = handle
        return True

    def _release_file(self, sha256: str, handle: Any) -> None:
        assert self._dir is not None
        path = self._dir / f"{sha256}.lock"
        if sys.platform != "win32":
            # Removed while still locked, so the directory does not fill up; a process that opened the old
            # file meanwhile sees that it is no longer the one at this path and opens afresh (_lock_file).
            with contextlib.suppress(OSError):
                path.unlink()
        _unlock(handle)
        with _LOCAL:
            _LOCAL_HELD.discard((str(self._dir), sha256))


def _lock_dir(engine: Engine) -> Path:
    database = engine.url.database
    if database and database != ":memory:":
        folder = Path(database).resolve().parent / LOCK_DIR
    else:
        folder = Path(tempfile.gettempdir()) / f"formtrail-{LOCK_DIR}-{os.getpid()}"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def _pg_key(sha256: str) -> int:
    return advisory_key(_PG_NAMESPACE + sha256.encode("ascii"))


def _lock_file(path: Path) -> Any | None:
    """An open, exclusively locked lock file at ``path``; None if another holder has it."""
    for _attempt in range(20):
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if not try_lock(fd):
                os.close(fd)
                return None
            if sys.platform == "win32":
                return fd
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(path))
            except FileNotFoundError:
                same = False
            if same:
                return fd
            os.close(fd)  # the holder removed it as we opened it: that lock is over; take the new file
        except BaseException:
            with contextlib.suppress(OSError):
                os.close(fd)
            raise
    return None


def _unlock(fd: int) -> None:
    with contextlib.suppress(OSError):
        unlock(fd)
    with contextlib.suppress(OSError):
        os.close(fd)
