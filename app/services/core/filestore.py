"""The content-addressed file store for issued PDFs and scans: bytes kept exactly as written, named by their
SHA-256, read-only on disk, and checked against their hash on every read.

Permissions follow the store's own folder: a stored file is readable by its owner, and by the group when the
folder is group-readable (a shared store on a site server); never by everyone. The store's folders get the
same treatment. So a scan imported through a symbolic link to a private (0600) file stays private."""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import errno
import hashlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from app.services.core.errors import FormtrailError

_CHUNK = 1 << 20


class StorageError(FormtrailError):
    """The store could not write (disk full, permissions, share unreachable); nothing was recorded."""

    default_code = "storage-failed"


class StoredFileCorrupt(FormtrailError):
    """A stored file is missing or no longer matches its hash."""

    default_code = "stored-file-corrupt"


class FileStatus(enum.Enum):
    OK = "ok"
    MISSING = "missing"
    ALTERED = "altered"


@dataclasses.dataclass(frozen=True)
class PutResult:
    sha256: str
    size: int
    path: Path
    new: bool


def _fsync(path: Path) -> None:
    with path.open("rb") as fh:
        os.fsync(fh.fileno())


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


class FileStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def file_mode(self) -> int:
        """Read-only for the owner, and for the group where the store's folder lets the group read."""
        return 0o400 | (self._root_mode() & 0o040)

    @property
    def dir_mode(self) -> int:
        return 0o700 | (self._root_mode() & 0o050)

    def _root_mode(self) -> int:
        try:
            return stat.S_IMODE(self.root.stat().st_mode)
        except OSError:
            return 0o700

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / sha256

    @contextlib.contextmanager
    def staging(self, suffix: str = "") -> Iterator[Path]:
        """A temporary file on the store's own file system, so adopting it is an atomic rename."""
        tmp_dir = self.root / "tmp"
        self._mkdir(tmp_dir)
        fd, name = tempfile.mkstemp(dir=tmp_dir, suffix=suffix)
        os.close(fd)
        path = Path(name)
        try:
            yield path
        finally:
            path.unlink(missing_ok=True)

    def adopt(self, staged: Path, *, sha256: str | None = None, sync: bool = True) -> PutResult:
        """Move a finished staged file into the store under its hash (``sha256`` if the caller hashed it as
        it was written, which saves reading it again). ``sync=False``: the caller calls :meth:`sync` for it
        (and others) before it records the file anywhere."""
        sha = sha256 or sha256_file(staged)
        target = self.path_for(sha)
        if target.exists() and self.status(sha) is FileStatus.OK:
            staged.unlink(missing_ok=True)
            return PutResult(sha, target.stat().st_size, target, new=False)
        self._mkdir(target.parent)
        try:
            if sync:
                _fsync(staged)
            if target.exists():  # an altered copy: keep it aside for the investigation, store the good one
                target.chmod(0o600)
                target.replace(target.with_name(target.name + ".altered"))
            staged.chmod(self.file_mode)
            staged.replace(target)
        except OSError as exc:
            raise self._storage_error(exc) from exc
        return PutResult(sha, target.stat().st_size, target, new=True)

    def put_bytes(self, data: bytes, *, suffix: str = "") -> PutResult:
        with self.staging(suffix) as staged:
            try:
                staged.write_bytes(data)
            except OSError as exc:
                raise self._storage_error(exc) from exc
            return self.adopt(staged)

    def put_file(self, source: Path) -> PutResult:
        try:
            fh = source.open("rb")
        except OSError as exc:
            raise self._storage_error(exc) from exc
        with fh:
            return self.put_stream(fh, suffix=source.suffix)

    def put_stream(self, source: BinaryIO, *, suffix: str = "", sync: bool = True) -> PutResult:
        """Store what can be read from an open file, hashing it on the way (one read of the source).
        An OSError reading the source propagates as it is (the source's problem, not the store's).
        ``sync=False``: see :meth:`adopt`."""
        digest = hashlib.sha256()
        with self.staging(suffix) as staged:
            try:
                out = staged.open("wb")
            except OSError as exc:
                raise self._storage_error(exc) from exc
            with out:
                while True:
                    chunk = source.read(_CHUNK)
                    if not chunk:
                        break
                    digest.update(chunk)
                    try:
                        out.write(chunk)
                    except OSError as exc:
                        raise self._storage_error(exc) from exc
            return self.adopt(staged, sha256=digest.hexdigest(), sync=sync)

    def sync(self, paths: list[Path]) -> None:
        """Flush newly stored files to the disk, several at once (each fsync waits for the disk; together they
        share its journal commits): a folder of 200 single-page scans is not 200 waits in a row."""
        if not paths:
            return
        from concurrent.futures import ThreadPoolExecutor

        try:
            with ThreadPoolExecutor(max_workers=min(8, len(paths))) as pool:
                list(pool.map(_fsync, paths))
        except OSError as exc:
            raise self._storage_error(exc) from exc

    def status(self, sha256: str) -> FileStatus:
        path = self.path_for(sha256)
        if not path.exists():
            return FileStatus.MISSING
        return FileStatus.OK if sha256_file(path) == sha256 else FileStatus.ALTERED

    def read(self, sha256: str) -> bytes:
        """The stored bytes, after checking they still match their hash."""
        path = self.path_for(sha256)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise StoredFileCorrupt(f"stored file {sha256} is missing from {self.root}; restore it from a backup") \
                from None
        if hashlib.sha256(data).hexdigest() != sha256:
            raise StoredFileCorrupt(f"stored file {path} no longer matches its SHA-256 (altered or damaged); "
                                    "restore it from a backup")
        return data

    def verified_path(self, sha256: str) -> Path:
        status = self.status(sha256)
        if status is not FileStatus.OK:
            self.read(sha256)  # raises with the precise message
        return self.path_for(sha256)

    def _mkdir(self, path: Path) -> None:
        if path.is_dir():
            return
        try:
            if not self.root.exists():
                # A new store takes the group's access from the data directory it lives in, never others'.
                self.root.mkdir(parents=True, exist_ok=True)
                self.root.chmod(0o700 | (stat.S_IMODE(self.root.parent.stat().st_mode) & 0o050))
            mode = self.dir_mode
            for folder in reversed([path, *path.parents]):
                if folder.is_relative_to(self.root) and folder != self.root and not folder.exists():
                    with contextlib.suppress(FileExistsError):
                        folder.mkdir(mode=mode)
                        folder.chmod(mode)  # mkdir's mode is narrowed by the umask; this one is meant
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise self._storage_error(exc) from exc

    def _storage_error(self, exc: OSError) -> StorageError:
        if exc.errno == errno.ENOSPC:
            return StorageError(f"the file store at {self.root} is full; free disk space and try again "
                                "(nothing was recorded)")
        return StorageError(f"cannot write to the file store at {self.root}: {exc.strerror or exc}; "
                            "check the path and its permissions (nothing was recorded)")
