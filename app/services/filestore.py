"""The content-addressed file store for issued PDFs and scans: bytes kept exactly as written, named by their
SHA-256, read-only on disk, and checked against their hash on every read."""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import errno
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from app.services.errors import FormtrailError

_CHUNK = 1 << 20


class StorageError(FormtrailError):
    """The store could not write (disk full, permissions, share unreachable); nothing was recorded."""


class StoredFileCorrupt(FormtrailError):
    """A stored file is missing or no longer matches its hash."""


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


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


class FileStore:
    def __init__(self, root: Path) -> None:
        self.root = root

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

    def adopt(self, staged: Path) -> PutResult:
        """Move a finished staged file into the store under its hash."""
        sha = sha256_file(staged)
        target = self.path_for(sha)
        if target.exists() and self.status(sha) is FileStatus.OK:
            staged.unlink(missing_ok=True)
            return PutResult(sha, target.stat().st_size, target, new=False)
        self._mkdir(target.parent)
        try:
            with staged.open("rb") as fh:
                os.fsync(fh.fileno())
            if target.exists():  # an altered copy: keep it aside for the investigation, store the good one
                target.chmod(0o644)
                target.replace(target.with_name(target.name + ".altered"))
            staged.replace(target)
            target.chmod(0o444)
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
        with self.staging(source.suffix) as staged:
            try:
                shutil.copyfile(source, staged)
            except OSError as exc:
                raise self._storage_error(exc) from exc
            return self.adopt(staged)

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
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise self._storage_error(exc) from exc

    def _storage_error(self, exc: OSError) -> StorageError:
        if exc.errno == errno.ENOSPC:
            return StorageError(f"the file store at {self.root} is full; free disk space and try again "
                                "(nothing was recorded)")
        return StorageError(f"cannot write to the file store at {self.root}: {exc.strerror or exc}; "
                            "check the path and its permissions (nothing was recorded)")
