"""Scan intake: files in, every page linked to its issued form or queued as an exception; nothing lost.

Each file is first stored byte for byte (content-addressed) and recorded as a `pending` source in its own
transaction, so whatever happens next the original is kept. Pages are then decoded in worker processes
(PDFium is not thread-safe) and linked in the database chunk by chunk; a source that was interrupted stays
`pending` and is resumed by importing it again. One bad page or one corrupt file never stops the import.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
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
from app.services.intake_link import Verdict, classify, complete_if_returned
from app.services.issuance import site_of
from app.services.permissions import Permission, require
from app.services.scans import PDFIUM_LOCK
from app.services.timefmt import local_text

Progress = Callable[[int, int], None]
Cancelled = Callable[[], bool]
SUFFIXES = (".pdf", ".tif", ".tiff", ".png", ".jpg", ".jpeg")
CHUNK = 8  # pages per worker task: small enough to spread one big PDF over every core
POOL_BYTES = 20_000_000  # below this (and 16 files), decoding in this process beats starting workers
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
    with contextlib.ExitStack() as stack:
        pool = _pool(files, processes, stack)  # its workers start up while the files are being stored
        stored: list[tuple[Path, PutResult, bytes]] = []
        for path in files:
            try:
                with path.open("rb") as fh:
                    head = fh.read(16)
                stored.append((path, db.files.put_file(path), head))
            except OSError as exc:
                outcomes.append(PageOutcome(source=str(path), page=None, sha256=None, outcome="unreadable-file",
                                            reason=f"the file cannot be read: {exc.strerror or exc}"))
        staged = _record_sources(db, actor, stored, origin=origin, outcomes=outcomes)
        work = _plan(db, actor, staged, outcomes)
        total = sum(len(pages) for _path, _src, pages in work)
        done = 0
        was_cancelled = False
        for task, decoded in _decode_all(db, work, pool=pool, cancelled=cancelled):
            if decoded is None:
                was_cancelled = True
                break
            outcomes.extend(_link_chunk(db, actor, task, decoded))
            done += len(task)
            if progress is not None:
                progress(done, total)
    if not was_cancelled:
        _mark_read(db, actor, [source_id for _p, source_id, _pages in work])
    return ImportReport(outcomes=tuple(outcomes), cancelled=was_cancelled)


def _record_sources(db: Database, actor: Actor, stored: list[tuple[Path, PutResult, bytes]], *, origin: str,
                    outcomes: list[PageOutcome]) -> list[tuple[Path, ScanSource, bool]]:
    """Record the stored files as sources in one transaction: (path, source, new?) for each file to read.
    The bytes are already safe in the store, so a crash before the commit loses nothing: importing the same
    files again records them."""
    try:
        return _record_batch(db, actor, stored, origin=origin, outcomes=outcomes)
    except IntegrityError:
        # Another workstation recorded some of the same bytes at the same moment: go file by file.
        staged = []
        for path, put, head in stored:
            try:
                source, line = _record_source(db, actor, path, put, head, origin=origin)
            except IntegrityError:  # lost the race for this very file: the other workstation's row is there now
                source, line = _record_source(db, actor, path, put, head, origin=origin)
            if line is not None:
                outcomes.append(line)
            if source is not None:
                staged.append((path, source, False))
        return staged


def _record_batch(db: Database, actor: Actor, stored: list[tuple[Path, PutResult, bytes]], *, origin: str,
                  outcomes: list[PageOutcome]) -> list[tuple[Path, ScanSource, bool]]:
    lines: list[PageOutcome] = []
    staged: list[tuple[Path, ScanSource, bool]] = []
    with db.write(actor, reason="scans received") as session:
        now = db.clock.now()
        hashes = {put.sha256 for _p, put, _h in stored}
        existing = {s.sha256: s for s in session.scalars(select(ScanSource).where(ScanSource.sha256.in_(hashes)))}
        known_files = set(session.scalars(select(StoredFile.sha256).where(StoredFile.sha256.in_(hashes))))
        new: list[tuple[Path, PutResult, bytes]] = []
        for path, put, head in stored:
            earlier = existing.get(put.sha256)
            if earlier is not None and earlier.status is not SourceStatus.PENDING:
                lines.append(_duplicate(path, put.sha256, earlier, False))
            elif earlier is not None and now - earlier.imported_at < RESUME_AFTER:
                lines.append(_duplicate(path, put.sha256, earlier, True))
            elif earlier is not None:
                staged.append((path, earlier, False))  # an interrupted import: carry on with its remaining pages
            elif any(put.sha256 == other.sha256 for _p, other, _h in new):
                twin = next(p for p, other, _h in new if other.sha256 == put.sha256)
                lines.append(PageOutcome(source=str(path), page=None, sha256=put.sha256, outcome="duplicate-source",
                                         reason=f"the same file as {twin.name!r} in this import; not stored again"))
            else:
                new.append((path, put, head))
        session.add_all(StoredFile(sha256=put.sha256, size=put.size, kind=FileKind.SCAN.value,
                                   media_type=_media_type(head), original_name=path.name, stored_at=now,
                                   stored_by=actor.username)
                        for path, put, head in new if put.sha256 not in known_files)
        session.flush()  # the sources refer to the stored files; no ORM relationship orders the inserts
        for path, put, head in new:
            source = ScanSource(sha256=put.sha256, original_name=path.name, size=put.size,
                                media_type=_media_type(head), origin=origin, status=SourceStatus.PENDING,
                                imported_at=now, imported_by=actor.username, imported_by_id=actor.user_id,
                                workstation=db.workstation)
            session.add(source)
            staged.append((path, source, True))
        session.flush()
    outcomes.extend(lines)
    return staged


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


def _plan(db: Database, actor: Actor, staged: list[tuple[Path, ScanSource, bool]],
          outcomes: list[PageOutcome]) -> list[tuple[Path, int, list[int]]]:
    """Which pages of which stored file still need decoding; unreadable files become a report line."""
    work = []
    for path, source, new in staged:
        # A file stored by this import was hashed as it was written; one left by an earlier, interrupted import
        # is checked against its hash before it is read again.
        stored = db.files.path_for(source.sha256) if new else db.files.verified_path(source.sha256)
        try:
            count = count_pages(str(stored), filename=source.original_name)
        except SourceError as exc:
            _mark_unreadable(db, actor, source.id, exc)
            outcomes.append(PageOutcome(source=str(path), page=None, sha256=source.sha256, outcome="unreadable-file",
                                        reason=f"{exc.message} [{exc.reason_code}]"))
            continue
        seen: set[int] = set()
        if not new:
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


@dataclasses.dataclass(frozen=True)
class _Item:
    """One page to decode: which source (and its stored file) and which page of it."""

    source_id: int
    path: Path  # as given by the user, for the report
    stored: str  # the stored file the worker reads
    page: int


def _chunks(db: Database, work: list[tuple[Path, int, list[int]]]) -> list[list[_Item]]:
    """Pages in tasks of CHUNK: a big PDF is spread over the workers, and a folder of single-page JPEGs
    travels in groups rather than one round trip (and one transaction) per file."""
    with db.read() as session:
        stored = {source_id: str(db.files.path_for(session.get(ScanSource, source_id).sha256))
                  for _p, source_id, _pages in work}
    items = [_Item(source_id, path, stored[source_id], page) for path, source_id, pages in work for page in pages]
    return [items[i:i + CHUNK] for i in range(0, len(items), CHUNK)]


def _pool(files: list[Path], processes: int | None, stack: contextlib.ExitStack) -> cf.ProcessPoolExecutor | None:
    """Worker processes, when the import is big enough to repay starting them (a fraction of a second each)."""
    workers = processes if processes is not None else min(os.cpu_count() or 1, 4)
    size = 0
    for path in files:
        with contextlib.suppress(OSError):
            size += path.stat().st_size
    small = len(files) < 2 * CHUNK and size < POOL_BYTES
    if workers <= 1 or (processes is None and small):  # an explicit number of processes is always honoured
        return None
    # spawn, not fork: the GUI process has threads, and a forked child of a threaded process can deadlock.
    pool = stack.enter_context(cf.ProcessPoolExecutor(max_workers=workers,
                                                      mp_context=multiprocessing.get_context("spawn")))
    for _ in range(workers):
        pool.submit(_warm_up)
    return pool


def _warm_up() -> None:
    """Start a worker and import the decoder in it before the first real task arrives."""


def _decode_all(db: Database, work: list[tuple[Path, int, list[int]]], *, pool: cf.ProcessPoolExecutor | None,
                cancelled: Cancelled | None) -> Iterator[tuple[list[_Item], dict[tuple[str, int], PageDecode] | None]]:
    """Decode every chunk, in order, in worker processes when there is a pool; yields (task, None) on cancel."""
    tasks = _chunks(db, work)
    if pool is None:
        for task in tasks:
            if cancelled is not None and cancelled():
                yield task, None
                return
            with PDFIUM_LOCK:  # in this process, other threads (the page viewer) may be using PDFium too
                decoded = _decode_task([(i.stored, i.page) for i in task])
            yield task, decoded
        return
    window = 2 * (os.cpu_count() or 2)  # submit ahead of use, never the whole file (memory stays flat)
    pending: list[tuple[list[_Item], cf.Future[dict[tuple[str, int], PageDecode]]]] = []
    queue = iter(tasks)
    for task in queue:
        pending.append((task, pool.submit(_decode_task, [(i.stored, i.page) for i in task])))
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
            pending.append((nxt, pool.submit(_decode_task, [(i.stored, i.page) for i in nxt])))
        yield task, result


def _decode_task(pages: list[tuple[str, int]]) -> dict[tuple[str, int], PageDecode]:
    """In a worker: decode the given (stored file, page) pairs, one file at a time."""
    out: dict[tuple[str, int], PageDecode] = {}
    for path in dict.fromkeys(p for p, _i in pages):
        for decoded in decode_pages(path, pages=[i for p, i in pages if p == path]):
            out[(path, decoded.index)] = decoded
    return out


def _link_chunk(db: Database, actor: Actor, task: list[_Item],
                decoded: dict[tuple[str, int], PageDecode]) -> list[PageOutcome]:
    """Record one chunk of decoded pages (one transaction), each linked or queued."""
    rows: list[tuple[_Item, ScanPage, Verdict]] = []
    with db.write(actor, reason="scan intake") as session:
        site = site_of(session)
        now = db.clock.now()
        known = {(r.source_id, r.page_index) for r in session.execute(select(ScanPage.source_id, ScanPage.page_index)
                 .where(ScanPage.source_id.in_({i.source_id for i in task})))}
        claimed: set[tuple[int, int]] = set()
        # One flush for the whole chunk: the pages linked so far in it are tracked in ``claimed``.
        with session.no_autoflush:
            for item in task:
                page = decoded.get((item.stored, item.page))
                if page is None or (item.source_id, item.page) in known:
                    continue  # the file changed while read, or another workstation recorded the page meanwhile
                verdict = classify(session, site, page, claimed)
                row = ScanPage(
                    source_id=item.source_id, page_index=item.page, width=page.width, height=page.height,
                    dpi=page.dpi, colour_mode=page.mode, method=page.method, decoded_text=verdict.text,
                    outcome=verdict.outcome, reason=verdict.reason,
                    issued_form_id=verdict.form.id if verdict.form else None, page_no=verdict.page_no,
                )
                if verdict.outcome is ScanOutcome.LINKED:
                    row.link_method, row.linked_at, row.linked_by = "auto", now, actor.username
                    claimed.add((verdict.form.id, verdict.page_no))
                session.add(row)
                rows.append((item, row, verdict))
        session.flush()
        completed = {v.form.id: v.form for _i, _r, v in rows if v.outcome is ScanOutcome.LINKED and v.form}
        for form in completed.values():
            complete_if_returned(session, form, now=now, by=actor.username)
        sha = {i.source_id: session.get(ScanSource, i.source_id).sha256 for i, _r, _v in rows}
        return [PageOutcome(
            source=str(item.path), page=item.page + 1, sha256=sha[item.source_id], outcome=verdict.outcome.value,
            serial=verdict.form.serial if verdict.form else None, page_no=verdict.page_no, reason=verdict.reason,
            scan_page_id=row.id) for item, row, verdict in rows]


def _mark_read(db: Database, actor: Actor, source_ids: list[int]) -> None:
    if not source_ids:
        return
    with db.write(actor, reason="all pages read") as session:
        for source_id in source_ids:
            source = session.get(ScanSource, source_id)
            count = len(source.pages)
            if source.status is SourceStatus.PENDING:
                source.status, source.page_count = SourceStatus.READ, count
