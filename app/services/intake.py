"""Scan intake: files in, every page linked to its issued form or queued as an exception; nothing lost.

Each file is first stored byte for byte (content-addressed) and recorded as a `pending` source in its own
transaction, so whatever happens next the original is kept. Pages are then decoded in worker processes
(PDFium is not thread-safe) and linked in the database chunk by chunk; a source that was interrupted stays
`pending` and is resumed by importing it again. One bad page or one corrupt file never stops the import.
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import datetime as dt
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.forms.scan_decode import PageDecode, decode_pages
from app.forms.scan_pages import SourceError, count_pages, sniff
from app.models import FileKind, ScanOutcome, ScanPage, ScanSource, SourceStatus, StoredFile
from app.services.db import Actor, Database
from app.services.errors import ValidationError
from app.services.filestore import PutResult
from app.services.intake_link import classify, complete_if_returned
from app.services.issuance import site_of
from app.services.permissions import Permission, require
from app.services.timefmt import local_text

Progress = Callable[[int, int], None]
Cancelled = Callable[[], bool]
SUFFIXES = (".pdf", ".tif", ".tiff", ".png", ".jpg", ".jpeg")
CHUNK = 8  # pages per worker task: small enough to spread one big PDF over every core
# A source still "pending" this long after it arrived was interrupted (not still being read elsewhere).
RESUME_AFTER = dt.timedelta(minutes=10)


@dataclasses.dataclass(frozen=True)
class PageOutcome:
    """One line of an import report: a page, or a whole file that could not be used."""

    source: str
    page: int | None  # 1-based page within the file; None for a file-level line
    sha256: str | None
    outcome: str  # "linked", an exception code, "unreadable-file" or "duplicate-source"
    serial: str | None = None
    page_no: int | None = None
    reason: str | None = None
    scan_page_id: int | None = None

    @property
    def linked(self) -> bool:
        return self.outcome == ScanOutcome.LINKED.value

    def as_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class ImportReport:
    outcomes: tuple[PageOutcome, ...]
    cancelled: bool = False

    @property
    def linked(self) -> int:
        return sum(o.linked for o in self.outcomes)

    @property
    def exceptions(self) -> int:
        return sum(1 for o in self.outcomes if o.page is not None and not o.linked)

    @property
    def failed_files(self) -> int:
        return sum(1 for o in self.outcomes if o.outcome == "unreadable-file")


def expand(paths: Iterable[Path]) -> list[Path]:
    """Files as given, and the scan files directly inside given folders (sorted; hidden files skipped)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir()
                                if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in SUFFIXES))
        else:
            files.append(path)
    return files


def import_files(
    db: Database, actor: Actor, paths: Sequence[Path], *, origin: str = "file", progress: Progress | None = None,
    cancelled: Cancelled | None = None, processes: int | None = None,
) -> ImportReport:
    require(db, actor, Permission.IMPORT_SCANS)
    files = expand(paths)
    if not files:
        raise ValidationError("no scan files to import (PDF, TIFF, PNG or JPEG)")
    outcomes: list[PageOutcome] = []
    staged: list[tuple[Path, ScanSource]] = []
    for path in files:
        source, line = _store(db, actor, path, origin=origin)
        if line is not None:
            outcomes.append(line)
        if source is not None:
            staged.append((path, source))
    work = _plan(db, actor, staged, outcomes)
    total = sum(len(pages) for _path, _src, pages in work)
    done = 0
    was_cancelled = False
    for (path, source_id, chunk), decoded in _decode_all(db, work, processes=processes, cancelled=cancelled):
        if decoded is None:
            was_cancelled = True
            break
        outcomes.extend(_link_chunk(db, actor, path, source_id, chunk, decoded))
        done += len(chunk)
        if progress is not None:
            progress(done, total)
    if not was_cancelled:
        _mark_read(db, actor, [source_id for _p, source_id, _pages in work])
    return ImportReport(outcomes=tuple(outcomes), cancelled=was_cancelled)


def _store(db: Database, actor: Actor, path: Path, *, origin: str) -> tuple[ScanSource | None, PageOutcome | None]:
    """Keep the file's bytes and record the source (pending); or say why the file cannot be taken."""
    try:
        with path.open("rb") as fh:
            head = fh.read(16)
        put = db.files.put_file(path)
    except OSError as exc:
        return None, PageOutcome(source=str(path), page=None, sha256=None, outcome="unreadable-file",
                                 reason=f"the file cannot be read: {exc.strerror or exc}")
    try:
        return _record_source(db, actor, path, put, head, origin=origin)
    except IntegrityError:
        # Another workstation recorded the same bytes at the same moment: it is theirs to read.
        return _record_source(db, actor, path, put, head, origin=origin)


def _duplicate(path: Path, sha: str, existing: ScanSource, now_importing: bool) -> PageOutcome:
    when = local_text(existing.imported_at, seconds=False)
    what = "is being imported right now" if now_importing else "was already imported"
    return PageOutcome(source=str(path), page=None, sha256=sha, outcome="duplicate-source",
                       reason=f"the same file {what} as {existing.original_name!r} ({when}, {existing.imported_by}); "
                              "not stored again")


def _record_source(db: Database, actor: Actor, path: Path, put: PutResult, head: bytes, *,
                   origin: str) -> tuple[ScanSource | None, PageOutcome | None]:
    with db.write(actor, reason=f"scan received: {path.name}") as session:
        now = db.clock.now()
        existing = session.scalar(select(ScanSource).where(ScanSource.sha256 == put.sha256))
        if existing is not None and existing.status is not SourceStatus.PENDING:
            return None, _duplicate(path, put.sha256, existing, False)
        if existing is not None:
            if now - existing.imported_at < RESUME_AFTER:
                return None, _duplicate(path, put.sha256, existing, True)
            return existing, None  # an interrupted import: carry on with its remaining pages
        if session.get(StoredFile, put.sha256) is None:
            session.add(StoredFile(sha256=put.sha256, size=put.size, kind=FileKind.SCAN.value,
                                   media_type=_media_type(head), original_name=path.name, stored_at=now,
                                   stored_by=actor.username))
            session.flush()
        source = ScanSource(sha256=put.sha256, original_name=path.name, size=put.size,
                            media_type=_media_type(head), origin=origin, status=SourceStatus.PENDING,
                            imported_at=now, imported_by=actor.username, imported_by_id=actor.user_id,
                            workstation=db.workstation)
        session.add(source)
        session.flush()
        return source, None


def _media_type(head: bytes) -> str:
    kind = sniff(head)
    return {"pdf": "application/pdf", "tiff": "image/tiff", "png": "image/png", "jpeg": "image/jpeg"}.get(
        kind or "", "application/octet-stream")


def _plan(db: Database, actor: Actor, staged: list[tuple[Path, ScanSource]],
          outcomes: list[PageOutcome]) -> list[tuple[Path, int, list[int]]]:
    """Which pages of which stored file still need decoding; unreadable files become a report line."""
    work = []
    for path, source in staged:
        stored = db.files.verified_path(source.sha256)
        try:
            count = count_pages(str(stored), filename=source.original_name)
        except SourceError as exc:
            _mark_unreadable(db, actor, source.id, exc)
            outcomes.append(PageOutcome(source=str(path), page=None, sha256=source.sha256, outcome="unreadable-file",
                                        reason=f"{exc.message} [{exc.reason_code}]"))
            continue
        with db.read() as session:
            seen = set(session.scalars(select(ScanPage.page_index).where(ScanPage.source_id == source.id)))
        pages = [i for i in range(count) if i not in seen]
        work.append((path, source.id, pages))
    return work


def _mark_unreadable(db: Database, actor: Actor, source_id: int, exc: SourceError) -> None:
    with db.write(actor, reason="the scan file cannot be read") as session:
        source = session.get(ScanSource, source_id)
        source.status, source.error_code, source.error_message = SourceStatus.UNREADABLE, exc.reason_code, exc.message
        source.page_count = 0


Task = tuple[Path, int, list[int]]


def _chunks(work: list[tuple[Path, int, list[int]]]) -> Iterator[Task]:
    for path, source_id, pages in work:
        for start in range(0, len(pages), CHUNK):
            yield path, source_id, pages[start:start + CHUNK]


def _decode_all(db: Database, work: list[tuple[Path, int, list[int]]], *, processes: int | None,
                cancelled: Cancelled | None) -> Iterator[tuple[Task, list[PageDecode] | None]]:
    """Decode every chunk, in order, in worker processes when it pays; yields (task, None) on cancel."""
    tasks = list(_chunks(work))
    paths = {source_id: str(db.files.path_for(_sha(db, source_id))) for _p, source_id, _pages in work}
    workers = processes if processes is not None else min(os.cpu_count() or 1, 4)
    if workers <= 1 or sum(len(t[2]) for t in tasks) < 2 * CHUNK:
        for task in tasks:
            if cancelled is not None and cancelled():
                yield task, None
                return
            yield task, _decode_task(paths[task[1]], task[2])
        return
    # spawn, not fork: the GUI process has threads, and a forked child of a threaded process can deadlock.
    context = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        window = workers * 2  # submit ahead of use, but never the whole file at once (memory stays flat)
        pending: list[tuple[Task, cf.Future[list[PageDecode]]]] = []
        queue = iter(tasks)
        for task in queue:
            pending.append((task, pool.submit(_decode_task, paths[task[1]], task[2])))
            if len(pending) >= window:
                break
        while pending:
            task, future = pending.pop(0)
            if cancelled is not None and cancelled():
                for _t, other in pending:
                    other.cancel()
                yield task, None
                return
            result = future.result()
            nxt = next(queue, None)
            if nxt is not None:
                pending.append((nxt, pool.submit(_decode_task, paths[nxt[1]], nxt[2])))
            yield task, result


def _sha(db: Database, source_id: int) -> str:
    with db.read() as session:
        return session.get(ScanSource, source_id).sha256


def _decode_task(path: str, pages: list[int]) -> list[PageDecode]:
    return decode_pages(path, pages=pages)


def _link_chunk(db: Database, actor: Actor, path: Path, source_id: int, chunk: list[int],
                decoded: list[PageDecode]) -> list[PageOutcome]:
    by_index = {d.index: d for d in decoded}
    lines = []
    with db.write(actor, reason="scan intake") as session:
        site = site_of(session)
        source = session.get(ScanSource, source_id)
        now = db.clock.now()
        recorded = set(session.scalars(select(ScanPage.page_index).where(ScanPage.source_id == source.id)))
        for index in chunk:
            page = by_index.get(index)
            if page is None or index in recorded:
                continue
            verdict = classify(session, site, page)
            row = ScanPage(
                source_id=source.id, page_index=index, width=page.width, height=page.height, dpi=page.dpi,
                colour_mode=page.mode, method=page.method, decoded_text=verdict.text, outcome=verdict.outcome,
                reason=verdict.reason, issued_form_id=verdict.form.id if verdict.form else None,
                page_no=verdict.page_no,
            )
            if verdict.outcome is ScanOutcome.LINKED:
                row.link_method, row.linked_at, row.linked_by = "auto", now, actor.username
            session.add(row)
            session.flush()
            if verdict.outcome is ScanOutcome.LINKED and verdict.form is not None:
                complete_if_returned(session, verdict.form, now=now, by=actor.username)
            lines.append(PageOutcome(
                source=str(path), page=index + 1, sha256=source.sha256, outcome=verdict.outcome.value,
                serial=verdict.form.serial if verdict.form else None, page_no=verdict.page_no,
                reason=verdict.reason, scan_page_id=row.id,
            ))
    return lines


def _mark_read(db: Database, actor: Actor, source_ids: list[int]) -> None:
    if not source_ids:
        return
    with db.write(actor, reason="all pages read") as session:
        for source_id in source_ids:
            source = session.get(ScanSource, source_id)
            count = len(source.pages)
            if source.status is SourceStatus.PENDING:
                source.status, source.page_count = SourceStatus.READ, count
