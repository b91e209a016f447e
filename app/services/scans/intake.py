"""Scan intake: files in, every page linked to its issued form or queued as an exception; nothing lost, nothing
stuck, and one bad file spoils only itself.

Files are taken in batches (``BATCH_FILES``), and each batch goes through six stages, in order
(``_Run.batch``, one method per stage):

  store      open each file safely (``intake_sources``) and store it byte for byte, content-addressed and
             hashed as it is copied; take the import's lease on it (``intake_lease``: held while this process
             lives, so an import that crashed or was killed is resumed by the next one at once)
  record     record the stored files as `pending` sources in one transaction (``intake_record``); a file an
             earlier import finished gets its line instead
  plan       probe each source against the site's limits before anything is decoded
             (``app.forms.scan.scan_probe``) and list the pages still to read (a resumed source: those missing)
  decode     decode the pages in worker processes (``intake_decode``: PDFium is not thread-safe, and a crash
             there takes one page, not the import), handed back in order; progress is reported and cancelling
             is noticed here
  link       record each decoded group in one short transaction (``intake_link``): linked, or an exception
             with the precise reason
  read       read every box of the pages just linked and raise the paper findings (``paper_reading``), on the
             same workers once decoding is over
  mark read  a source whose every page is recorded is marked read; one cut short stays pending, to resume

Anything that goes wrong with one file — it cannot be opened, is not a file, is damaged, too large, has too
many pages, crashes the decoder — becomes that file's own report line with a stable code, and the import goes
on with the others.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from sqlalchemy import select

from app.forms.pdfium_lock import PDFIUM_LOCK
from app.forms.scan.scan_device import device_of
from app.forms.scan.scan_pages import MAX_PIXELS, SourceError
from app.forms.scan.scan_probe import MAX_PAGES, Limits, probe
from app.forms.scan.scan_worker import decode_files
from app.models import ScanPage, SourceStatus
from app.services.core.db import Actor, Database
from app.services.core.errors import ValidationError
from app.services.core.filestore import PutResult, StorageError
from app.services.identity import workstations
from app.services.identity.permissions import Permission, require
from app.services.scans.intake_decode import (
    CHUNK,
    Chunk,
    DecodeFn,
    Item,
    PoolDecoder,
    chunks,
    decode_inline,
)
from app.services.scans.intake_lease import Leases
from app.services.scans.intake_link import record_pages
from app.services.scans.intake_pool import WorkerPool
from app.services.scans.intake_record import (
    Recorded,
    Stored,
    finished_sources,
    mark_read,
    mark_unreadable,
    record_sources,
)
from app.services.scans.intake_report import (
    DUPLICATE,
    NOT_STORED,
    FileResult,
    FileState,
    ImportReport,
    PageOutcome,
    file_outcome,
)
from app.services.scans.intake_sources import SUFFIXES, Entry, NotRegular, expand, open_entry
from app.services.scans.paper_reading import read_linked, unread_pages
from app.services.site import settings

__all__ = ["SUFFIXES", "FileResult", "FileState", "ImportReport", "PageOutcome", "decoder_pool", "import_files",
           "site_limits"]

Progress = Callable[[int, int], None]
Cancelled = Callable[[], bool]
BATCH_FILES = 100  # files stored, leased and recorded together (a lease is held until its batch is read)
POOL_BYTES = 20_000_000  # below this (and 2 chunks of files), decoding in this process beats starting workers
WORKER_MODULES = ("app.forms.scan.scan_worker", "app.forms.scan.read_worker")


def site_limits(db: Database) -> Limits:
    """The site's intake limits (settings ``intake.max_megapixels`` and ``intake.max_pages_per_file``)."""
    with db.read() as session:
        megapixels = settings.get(session, "intake.max_megapixels")
        pages = settings.get(session, "intake.max_pages_per_file")
    return Limits(max_pixels=int(float(megapixels) * 1_000_000) or MAX_PIXELS, max_pages=int(pages) or MAX_PAGES)


def import_files(
    db: Database, actor: Actor, paths: Sequence[Path], *, origin: str = "file", progress: Progress | None = None,
    cancelled: Cancelled | None = None, processes: int | None = None, pool: WorkerPool | None = None,
    decoder: DecodeFn = decode_files,
) -> ImportReport:
    """Import scan files and the scan files directly inside folders. ``pool``: decoder workers the caller
    keeps between imports (the hot folder); else they are started here when the import is big enough.
    ``decoder`` is the function the workers run (tests give one that crashes on purpose)."""
    require(db, actor, Permission.IMPORT_SCANS)
    workstations.require_registered(db, actor, "import scans")  # AC-08
    entries, skipped = expand(paths)
    if not entries and not skipped:
        raise ValidationError("no scan files to import (PDF, TIFF, PNG or JPEG)", code="nothing-to-import")
    run = _Run(db, actor, origin=origin, limits=site_limits(db), progress=progress, cancelled=cancelled,
               decoder=decoder)
    for line in skipped:
        run.lines.append(line)
        if line.outcome != "followed-symlink":
            run.files[line.source] = FileResult(line.source, None, FileState.FAILED, line.code, line.reason)
    with contextlib.ExitStack() as stack:
        if pool is None:
            pool = _pool(entries, processes, stack)  # its workers start up while the files are being stored
        for start in range(0, len(entries), BATCH_FILES):
            if run.stopped:
                break
            run.batch(entries[start:start + BATCH_FILES], pool)
    for entry in entries:
        run.files.setdefault(str(entry.path), FileResult(str(entry.path), None, FileState.UNFINISHED, "cancelled",
                                                         "not reached: the import was cancelled"))
    for twin, first in run.twins.items():  # what became of the first copy became of this one
        run.files[twin] = dataclasses.replace(run.files[first], source=twin)
    return ImportReport(outcomes=tuple(run.lines), cancelled=run.stopped, files=tuple(run.files.values()))


@contextlib.contextmanager
def decoder_pool(paths: Sequence[Path], processes: int | None = None) -> Iterator[WorkerPool | None]:
    """The worker processes an import of ``paths`` would start, started now: a caller with other work to do
    first (the command line opens the database and logs the user in) lets them start up meanwhile."""
    with contextlib.ExitStack() as stack:
        yield _pool(expand(paths)[0], processes, stack)


def _pool(entries: list[Entry], processes: int | None, stack: contextlib.ExitStack) -> WorkerPool | None:
    """Worker processes, when the import is big enough to repay starting them (a fraction of a second each)."""
    workers = processes if processes is not None else min(os.cpu_count() or 1, 4)
    size = 0
    for entry in entries:
        with contextlib.suppress(OSError):
            size += (entry.target or entry.path).stat().st_size
    small = len(entries) < 2 * CHUNK and size < POOL_BYTES
    if workers <= 1 or (processes is None and small):  # an explicit number of processes is always honoured
        return None
    try:
        return stack.enter_context(WorkerPool(workers, preload=WORKER_MODULES))
    except (OSError, RuntimeError):  # no processes can be started here: decode in this process instead
        return None


class _Run:
    """One import: its report lines, what became of each file, and the steps of one batch."""

    def __init__(self, db: Database, actor: Actor, *, origin: str, limits: Limits, progress: Progress | None,
                 cancelled: Cancelled | None, decoder: DecodeFn) -> None:
        self.db, self.actor, self.origin, self.limits = db, actor, origin, limits
        self.progress, self.cancelled, self.decoder = progress, cancelled, decoder
        self.lines: list[PageOutcome] = []
        self.files: dict[str, FileResult] = {}
        self.twins: dict[str, str] = {}  # a file that is the same as an earlier one of this import -> that one
        self.busy: list[tuple[Path, str]] = []  # (path, sha256) of files whose lease another import holds
        self.stopped = False
        self.done = self.total = 0
        self.linked: list[int] = []  # scan pages linked in the current batch, for the read stage

    def _file(self, path: Path | str, sha: str | None, state: FileState, code: str | None = None,
              reason: str | None = None) -> None:
        self.files[str(path)] = FileResult(str(path), sha, state, code, reason)

    def _fail(self, path: Path | str, sha: str | None, outcome: str, code: str, reason: str,
              state: FileState) -> None:
        self.lines.append(PageOutcome(source=str(path), page=None, sha256=sha, outcome=outcome, reason=reason,
                                      code=code))
        self._file(path, sha, state, code, reason)

    # -- one batch, stage by stage: store → record → plan → decode → link → read → mark read -----------------
    def batch(self, entries: list[Entry], pool: WorkerPool | None) -> None:
        """Take one batch of files through the stages of an import, in order (one method each, below)."""
        with Leases(self.db.engine) as leases:
            stored = self._store(entries, leases)
            recorded = self._record(stored, leases)
            work, expected = self._plan(recorded)
            if self.stopped:
                return
            failed: set[int] = set()  # sources the decoder failed on as a whole
            for group in self._decode(work, pool):
                self._link(group, failed)
            self._read(pool)
            self._mark_read(recorded, {sid: pages for sid, pages in expected.items() if sid not in failed})

    def _store(self, entries: list[Entry], leases: Leases) -> list[Stored]:
        """Store each file byte for byte and take its lease, then sync the new ones to the disk; a file whose
        lease another import holds waits in ``busy`` for the record stage to say why."""
        stored: list[Stored] = []
        first: dict[str, Path] = {}
        for entry in entries:
            if self.cancelled is not None and self.cancelled():
                self.stopped = True
                break
            path = entry.path
            if (taken := self._put(entry)) is None:
                continue
            put, head = taken
            sha = put.sha256
            if sha in first:
                self._fail(path, sha, DUPLICATE, "same-file-in-import",
                           f"the same file as {first[sha].name!r} in this import; not stored again",
                           FileState.RECORDED)
                self.twins[str(path)] = str(first[sha])
                continue
            first[sha] = path
            if not leases.take(sha):
                self.busy.append((path, sha))
                continue
            with PDFIUM_LOCK:  # the file's own metadata (SC-01); other threads may be using PDFium
                device = device_of(str(put.path), filename=path.name)
            stored.append(Stored(path=path, name=path.name, put=put, head=head, device=device))
        try:  # on the disk before the database records them
            self.db.files.sync([s.put.path for s in stored if s.put.new])
        except StorageError as exc:
            for lost in stored:
                leases.drop(lost.put.sha256)
                self._fail(lost.path, lost.put.sha256, NOT_STORED, exc.code, str(exc), FileState.UNFINISHED)
            return []
        return stored

    def _put(self, entry: Entry) -> tuple[PutResult, bytes] | None:
        """Store one file byte for byte; its first bytes (to tell its type); None, and its line, if it cannot be."""
        path = entry.path
        try:
            with open_entry(entry) as fh:
                put = self.db.files.put_stream(fh, suffix=path.suffix, sync=False)
            with put.path.open("rb") as fh:
                return put, fh.read(16)
        except StorageError as exc:
            self._fail(path, None, NOT_STORED, exc.code, str(exc), FileState.UNFINISHED)
        except NotRegular as exc:
            self._fail(path, None, NOT_STORED, "not-a-regular-file", str(exc), FileState.FAILED)
        except OSError as exc:
            self._fail(path, None, NOT_STORED, "cannot-open", f"the file cannot be read: {exc.strerror or exc}",
                       FileState.FAILED)
        return None

    def _record(self, stored: list[Stored], leases: Leases) -> list[Recorded]:
        """The sources to read now; files an earlier import finished get their line and lose their lease."""
        done = finished_sources(self.db, [sha for _path, sha in self.busy])
        for path, sha in self.busy:  # another import holds it: perhaps only to find it was imported before
            if sha in done:
                status, text, code = done[sha]
                self._already(path, sha, status, text, code)
            else:
                self._fail(path, sha, DUPLICATE, "being-imported", "the same file is being imported right now by "
                           "another import (this or another workstation); it is stored and will be read there",
                           FileState.UNFINISHED)
        self.busy.clear()
        out = []
        for r in record_sources(self.db, self.actor, stored, origin=self.origin):
            path, sha = r.stored.path, r.stored.put.sha256
            if r.earlier is None:
                out.append(r)
                continue
            leases.drop(sha)
            self._already(path, sha, r.earlier, r.earlier_text or "", r.earlier_code)
        return out

    def _already(self, path: Path, sha: str, status: SourceStatus, text: str, code: str | None) -> None:
        unreadable = status is SourceStatus.UNREADABLE
        what = f"was already imported {text}" + (f" and cannot be read [{code}]" if unreadable else "")
        self._fail(path, sha, DUPLICATE, "already-imported", f"the same file {what}; not read again",
                   FileState.UNREADABLE if unreadable else FileState.RECORDED)

    def _plan(self, recorded: list[Recorded]) -> tuple[list[Chunk], dict[int, int]]:
        """Probe each source against the limits (nothing decoded yet) and list the pages still to read."""
        failures: dict[int, tuple[str, str]] = {}
        counts: dict[int, int] = {}
        for r in recorded:
            stored = self.db.files.path_for(r.stored.put.sha256)
            try:
                with PDFIUM_LOCK:  # other threads of this process (the page viewer) may be using PDFium
                    counts[r.source_id] = probe(str(stored), filename=r.stored.name, limits=self.limits).pages
            except SourceError as exc:
                failures[r.source_id] = (exc.reason_code, exc.message)
            except Exception as exc:  # noqa: BLE001 - whatever a hostile file does to a parser is its own line
                failures[r.source_id] = ("unreadable", f"{r.stored.name}: the file could not be read "
                                                       f"({type(exc).__name__}: {exc})")
        self._unreadable([(r.stored.path, r.stored.put.sha256, r.source_id) for r in recorded], failures)
        for source_id in failures:
            counts.pop(source_id, None)
        resumed = [r.source_id for r in recorded if not r.new and r.source_id in counts]
        seen: set[tuple[int, int]] = set()
        if resumed:
            with self.db.read() as session:
                seen = {(sid, index) for sid, index in session.execute(
                    select(ScanPage.source_id, ScanPage.page_index).where(ScanPage.source_id.in_(resumed)))}
            # An import stopped between linking and reading left pages linked but unread: read them now.
            self.linked.extend(unread_pages(self.db, source_ids=resumed))
        items = [Item(r.source_id, r.stored.put.sha256, r.stored.path, r.stored.name,
                      str(self.db.files.path_for(r.stored.put.sha256)), page)
                 for r in recorded if r.source_id in counts
                 for page in range(counts[r.source_id]) if (r.source_id, page) not in seen]
        return chunks(items), counts

    def _unreadable(self, sources: list[tuple[Path, str, int]], failures: dict[int, tuple[str, str]]) -> None:
        """Record and report the sources (path, sha256, id) that failed: {source id: (code, message)}."""
        if not failures:
            return
        mark_unreadable(self.db, self.actor, failures)
        for path, sha, source_id in sources:
            if source_id in failures:
                code, message = failures[source_id]
                self._fail(path, sha, file_outcome(code), code, f"{message} [{code}]", FileState.UNREADABLE)

    def _decode(self, work: list[Chunk], pool: WorkerPool | None) -> Iterator[list[Chunk]]:
        """Decode every page of ``work`` (in the worker processes, or here for a small import), handed back in
        order in groups ready to link; stops when the import is cancelled."""
        if not work:
            return
        self.total += sum(len(c.items) for c in work)
        if pool is None:
            groups = decode_inline(work, max_pixels=self.limits.max_pixels, cancelled=self.cancelled,
                                   fn=self.decoder)
        else:
            groups = PoolDecoder(pool, max_pixels=self.limits.max_pixels, fn=self.decoder).run(
                work, cancelled=self.cancelled)
        for group in groups:
            if group is None:
                self.stopped = True
                return
            yield group

    def _link(self, group: list[Chunk], failed: set[int]) -> None:
        """Record one decoded group: a file the decoder failed on as a whole becomes unreadable (added to
        ``failed``); every other page is linked to its form or queued as an exception, in one transaction."""
        by_stored = {i.stored: i for c in group for i in c.items}
        failures = {by_stored[p].source_id: (f.code, f.message) for c in group for p, f in c.failures.items()
                    if by_stored[p].source_id not in failed}
        if failures:
            failed.update(failures)
            self._unreadable([(i.path, i.sha256, i.source_id) for i in by_stored.values()], failures)
        pages = [(item, c.pages[(item.stored, item.page)]) for c in group for item in c.items
                 if item.source_id not in failed and (item.stored, item.page) in c.pages]
        lines = record_pages(self.db, self.actor, pages)
        self.lines.extend(lines)
        self.linked.extend(line.scan_page_id for line in lines if line.linked and line.scan_page_id is not None)
        self.done += sum(len(c.items) for c in group)
        if self.progress is not None:
            self.progress(self.done, self.total)

    def _read(self, pool: WorkerPool | None) -> None:
        """Read every box of the pages this batch linked: the readings and the paper findings they raise. A page
        the reader cannot place becomes a finding itself, so the import never fails here."""
        linked, self.linked = self.linked, []
        if linked:
            read_linked(self.db, self.actor, scan_page_ids=linked, pool=pool)

    def _mark_read(self, recorded: list[Recorded], expected: dict[int, int]) -> None:
        """Mark read each source of ``expected`` ({id: pages}) whose every page is recorded, and say what became
        of each file: recorded, or unfinished (a cancelled import leaves it pending, for the next one)."""
        read = mark_read(self.db, self.actor, expected)
        for r in recorded:
            if r.source_id not in expected:
                continue
            path, sha = r.stored.path, r.stored.put.sha256
            if r.source_id in read:
                self._file(path, sha, FileState.RECORDED)
            elif str(path) not in self.files:
                self._file(path, sha, FileState.UNFINISHED, "not-finished",
                           "not every page was read; import the file again to finish it")
