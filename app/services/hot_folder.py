"""The watched hot folder a scanner writes into: each file is imported once it is completely written, then
moved to done/ or failed/ beside it. A file is never deleted."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path

from app.services.db import Actor, Database
from app.services.errors import FormtrailError
from app.services.intake import SUFFIXES, ImportReport, import_files

DONE, FAILED = "done", "failed"


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


class HotFolder:
    """Polling, because network shares do not deliver file-system events reliably. A file counts as complete
    when its size and modification time have not changed for ``settle_s`` seconds and it can be opened."""

    def __init__(self, db: Database, actor: Actor, folder: Path, *, settle_s: float = 2.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.db, self.actor, self.folder = db, actor, folder
        self.settle_s = settle_s
        self._clock = clock
        self._seen: dict[Path, _Seen] = {}
        for sub in (DONE, FAILED):
            (folder / sub).mkdir(parents=True, exist_ok=True)

    def poll(self) -> list[HotFolderResult]:
        """Import every file that is now complete; returns what was done with each."""
        now = self._clock()
        ready = []
        present = set()
        for path in sorted(self.folder.iterdir()):
            if not path.is_file() or path.name.startswith(".") or path.suffix.lower() not in SUFFIXES:
                continue
            present.add(path)
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            seen = self._seen.get(path)
            if seen is None or (seen.size, seen.mtime) != (stat.st_size, stat.st_mtime):
                self._seen[path] = _Seen(stat.st_size, stat.st_mtime, now)
            elif now - seen.since >= self.settle_s:
                ready.append(path)
        for gone in set(self._seen) - present:
            del self._seen[gone]
        return [self._take(path) for path in ready]

    def _take(self, path: Path) -> HotFolderResult:
        self._seen.pop(path, None)
        try:
            report = import_files(self.db, self.actor, [path], origin="hot-folder")
        except FormtrailError as exc:
            return HotFolderResult(path, self._move(path, FAILED), None, str(exc))
        failed = any(o.outcome == "unreadable-file" for o in report.outcomes)
        return HotFolderResult(path, self._move(path, FAILED if failed else DONE), report)

    def _move(self, path: Path, where: str) -> Path:
        target = self.folder / where / path.name
        if target.exists():  # never overwrite an earlier file of the same name
            stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%f")
            target = target.with_name(f"{target.stem}.{stamp}{target.suffix}")
        path.replace(target)
        return target

    def run(self, *, stop: Callable[[], bool], on_result: Callable[[HotFolderResult], None],
            poll_s: float = 1.0) -> None:
        while not stop():
            for result in self.poll():
                on_result(result)
            time.sleep(poll_s)
