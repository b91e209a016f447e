"""Small file-system primitives the services share: an exclusive non-blocking lock on an open file, the
64-bit key of a PostgreSQL advisory lock, and an atomic private write."""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import sys
import tempfile
from pathlib import Path

if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def try_lock(fd: int) -> bool:
        """Take the file's lock if nobody holds it (released by ``unlock`` or when the file is closed)."""
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
else:
    import fcntl

    def try_lock(fd: int) -> bool:
        """Take the file's lock if nobody holds it (released by ``unlock`` or when the file is closed)."""
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


def advisory_key(name: bytes) -> int:
    """A PostgreSQL advisory lock key (signed 64-bit) for a name."""
    return int.from_bytes(hashlib.sha256(name).digest()[:8], "big", signed=True)


def write_private(path: Path, data: bytes, *, folder_mode: int | None = None) -> None:
    """Write ``data`` to ``path`` readable by its owner only, atomically and durably: a crash leaves the old
    file or the new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if folder_mode is not None:
        with contextlib.suppress(OSError):  # not ours to change on a share, say
            path.parent.chmod(folder_mode)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(name, stat.S_IRUSR | stat.S_IWUSR)
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable where the platform allows it
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
