"""The watched hot folder a scanner writes into: each file is imported once it is completely written, then
moved to done/ or failed/ beside it. A file is never deleted.

A file goes to done/ only when every page of it is recorded (linked or queued as an exception), by this import
or an earlier one; to failed/ — with ``<name>.reason.txt`` beside it saying why, with its code — when it is
recorded as unreadable or cannot be taken at all. Anything else (another workstation is importing the same
file right now, the file store is unreachable, the import stopped part way) leaves the file where it is, to
be taken again on a later look: a file is never filed before it was read. Nothing a file does stops the
watcher: every failure is that file's result, and files are decoded in worker processes the watcher keeps
(stopped after ``IDLE_S`` without work), so even a file that crashes the decoder costs one page.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import stat
import time
import weakref
from collections.abc import Callable
from pathlib import Path

from app.forms.scan.scan_worker import decode_files
from app.services.core.db import Actor, Database
from app.services.core.errors import FormtrailError
from app.services.scans.intake import SUFFIXES, WORKER_MODULES, FileState, ImportReport, import_files
from app.services.scans.intake_decode import DecodeFn
from app.services.scans.intake_pool import WorkerPool

DONE, FAILED = "done", "failed"
REASON_SUFFIX = ".reason.txt"
IDLE_S = 120.0
log = logging.getLogger(__name__)


@dataclasses.dataclass
class _Seen:
    size: int
    mtime: float
    since: float


@dataclasses.dataclass(frozen=True)
class HotFolderResult:
    path: Path
    moved_to: Path
    report: ImportReport | None
    error: str | None = None
    code: str | None = None  # why it went to failed/ (a stable code), None for done/


class HotFolder:
    """Polling, because network shares do not deliver file-system events reliably. A file counts as complete
    when its size and modification time have not changed for ``settle_s`` seconds and it can be opened."""

    def __init__(self, db: Database, actor: Actor, folder: Path, *, settle_s: float = 2.0,
                 clock: Callable[[], float] = time.monotonic, decoder: DecodeFn = decode_files) -> None:
        self.db, self.actor, self.folder, self.decoder = db, actor, folder, decoder
        self.settle_s = settle_s
        self._clock = clock
        self._seen: dict[Path, _Seen] = {}
        self._pool: WorkerPool | None = None
        self._last_work = clock()
        for sub in (DONE, FAILED):
            (folder / sub).mkdir(parents=True, exist_ok=True)

    def close(self) -> None:
        """Stop the decoder workers (they start again with the next file)."""
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def _workers(self) -> WorkerPool:
        if self._pool is None:
            self._pool = WorkerPool(min(os.cpu_count() or 1, 2), preload=WORKER_MODULES)
            # A watcher dropped without close() (a test, a page torn down) does not leave its workers behind.
            weakref.finalize(self, self._pool.close)
        self._last_work = self._clock()
        return self._pool

    def poll(self) -> list[HotFolderResult]:
        """Import every file that is now complete; returns what was done with each (files left for a later
        look are not in the list)."""
        now = self._clock()
        ready = []
        present = set()
        for path in sorted(self.folder.iterdir()):
            if path.name.startswith(".") or path.suffix.lower() not in SUFFIXES:
                continue  # the scanner's own temporary files, our done/ and failed/, notes
            try:
                info = path.lstat()
            except FileNotFoundError:
                continue
            if stat.S_ISDIR(info.st_mode):
                continue
            present.add(path)
            seen = self._seen.get(path)
            if seen is None or (seen.size, seen.mtime) != (info.st_size, info.st_mtime):
                self._seen[path] = _Seen(info.st_size, info.st_mtime, now)
            elif now - seen.since >= self.settle_s:
                ready.append(path)
        for gone in set(self._seen) - present:
            del self._seen[gone]
        if not ready and self._pool is not None and now - self._last_work > IDLE_S:
            self.close()
        results = []
        for path in ready:
            result = self._take(path)
            if result is not None:
                results.append(result)
        return results

    def _take(self, path: Path) -> HotFolderResult | None:
        self._seen.pop(path, None)
        try:
            report = import_files(self.db, self.actor, [path], origin="hot-folder", pool=self._workers(),
                                  decoder=self.decoder)
        except FormtrailError as exc:  # e.g. the user may no longer import: the file stays for someone who may
            log.warning("hot folder: %s not imported: %s", path.name, exc)
            return None
        except Exception:  # the database or the store is unreachable: try again on a later look
            log.exception("hot folder: importing %s failed; it stays in the folder", path.name)
            return None
        state = next((f for f in report.files if Path(f.source) == path), None)
        if state is None or state.state is FileState.UNFINISHED:
            return None
        try:
            if state.state is FileState.RECORDED:
                return HotFolderResult(path, self._move(path, DONE), report)
            reason = state.reason or "the file cannot be read"
            moved = self._move(path, FAILED)
            self._write_reason(moved, state.code or "unreadable", reason)
            return HotFolderResult(path, moved, report, reason, state.code or "unreadable")
        except OSError as exc:
            log.warning("hot folder: %s cannot be moved (%s); it stays in the folder", path.name, exc)
            return None

    def _move(self, path: Path, where: str) -> Path:
        target = self.folder / where / path.name
        if target.exists() or target.is_symlink():  # never overwrite an earlier file of the same name
            stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
            target = target.with_name(f"{target.stem}.{stamp}{target.suffix}")
        path.replace(target)
        return target

    @staticmethod
    def _write_reason(moved: Path, code: str, reason: str) -> None:
        note = moved.with_name(moved.name + REASON_SUFFIX)
        note.write_text(f"{moved.name}: not imported as pages [{code}]\n{reason}\n", encoding="utf-8")

    def run(self, *, stop: Callable[[], bool], on_result: Callable[[HotFolderResult], None],
            poll_s: float = 1.0, on_error: Callable[[BaseException], None] | None = None) -> None:
        """Look again every ``poll_s`` seconds until ``stop()``; a look that fails (the folder unreachable)
        is reported to ``on_error`` and tried again."""
        try:
            while not stop():
                try:
                    results = self.poll()
                except Exception as exc:  # noqa: BLE001 - the watcher outlives a share that is gone for a while
                    if on_error is not None:
                        on_error(exc)
                    results = []
                for result in results:
                    on_result(result)
                time.sleep(poll_s)
        finally:
            self.close()
