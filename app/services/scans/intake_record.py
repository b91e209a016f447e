"""The short transactions of an import that concern whole files: recording the stored files as sources,
marking the ones that cannot be read, and marking a source read once every page of it is recorded.

Each is one audited transaction over a batch of files, and none does anything slow inside it: the files were
hashed and stored before, and are probed and decoded afterwards. The caller holds the lease of every file it
passes (``intake_lease``), so no other import works on the same source meanwhile.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.forms.scan.scan_pages import sniff
from app.models import FileKind, ScanPage, ScanSource, SourceStatus, StoredFile
from app.services.core import setting_specs
from app.services.core.db import Actor, Database
from app.services.core.filestore import PutResult
from app.services.core.timefmt import local_text

HOT_FOLDER_SCANNER = "intake.hot_folder_scanner"


@dataclasses.dataclass(frozen=True)
class Stored:
    """A file of this import, safe in the store."""

    path: Path  # as given (for the report)
    name: str  # the name it arrived under (a link's target name is not used: the user named the link)
    put: PutResult
    head: bytes
    device: str | None = None  # the scanner, as the file names it (SC-01)


@dataclasses.dataclass(frozen=True)
class Recorded:
    """What the database says about one stored file: a source to read (new or resumed), or an earlier one."""

    stored: Stored
    source_id: int
    new: bool
    earlier: SourceStatus | None = None  # set when an earlier import already finished this file
    earlier_code: str | None = None
    earlier_text: str | None = None  # "as 'x.pdf' (12 Mar 2026 10:14, op)"


def media_type(head: bytes) -> str:
    kind = sniff(head)
    return {"pdf": "application/pdf", "tiff": "image/tiff", "png": "image/png", "jpeg": "image/jpeg"}.get(
        kind or "", "application/octet-stream")


def record_sources(db: Database, actor: Actor, stored: list[Stored], *, origin: str) -> list[Recorded]:
    """Record the stored files as sources (one transaction); files recorded before are returned as they are."""
    if not stored:
        return []
    try:
        return _record(db, actor, stored, origin=origin)
    except IntegrityError:
        # A workstation that does not take leases (an older version) recorded some of the same bytes at this
        # moment: go file by file, so each file's row is whichever was committed first.
        out = []
        for one in stored:
            try:
                out.extend(_record(db, actor, [one], origin=origin))
            except IntegrityError:
                out.extend(_record(db, actor, [one], origin=origin))
        return out


def _record(db: Database, actor: Actor, stored: list[Stored], *, origin: str) -> list[Recorded]:
    with db.write(actor, reason="scans received") as session:
        now = db.clock.now()
        hashes = {s.put.sha256 for s in stored}
        existing = {s.sha256: s for s in session.scalars(select(ScanSource).where(ScanSource.sha256.in_(hashes)))}
        known_files = set(session.scalars(select(StoredFile.sha256).where(StoredFile.sha256.in_(hashes))))
        out: list[Recorded] = []
        new: list[tuple[Stored, ScanSource]] = []
        # A file that does not name its scanner came from the hot folder's scanner, when the site named that one.
        folder_scanner = (str(setting_specs.get(session, HOT_FOLDER_SCANNER) or "").strip()[:200] or None
                          if origin == "hot-folder" else None)
        for one in stored:
            earlier = existing.get(one.put.sha256)
            if earlier is not None:
                done = earlier.status if earlier.status is not SourceStatus.PENDING else None
                out.append(Recorded(one, earlier.id, False, done, earlier.error_code, _as_text(earlier)))
                continue
            if one.put.sha256 not in known_files:
                session.add(StoredFile(sha256=one.put.sha256, size=one.put.size, kind=FileKind.SCAN.value,
                                       media_type=media_type(one.head), original_name=one.name, stored_at=now,
                                       stored_by=actor.username))
                known_files.add(one.put.sha256)
            source = ScanSource(sha256=one.put.sha256, original_name=one.name, size=one.put.size,
                                media_type=media_type(one.head), origin=origin, status=SourceStatus.PENDING,
                                imported_at=now, imported_by=actor.username, imported_by_id=actor.user_id,
                                workstation=db.workstation, device=one.device or folder_scanner)
            new.append((one, source))
        session.flush()  # the sources refer to the stored files; no ORM relationship orders the inserts
        session.add_all(source for _one, source in new)
        session.flush()
        out.extend(Recorded(one, source.id, True) for one, source in new)
    return out


def finished_sources(db: Database, hashes: list[str]) -> dict[str, tuple[SourceStatus, str, str | None]]:
    """Of these files, the ones an earlier import finished: {sha256: (status, "as 'x' (when, who)", code)}."""
    if not hashes:
        return {}
    with db.read() as session:
        rows = session.scalars(select(ScanSource).where(ScanSource.sha256.in_(hashes),
                                                        ScanSource.status != SourceStatus.PENDING))
        return {s.sha256: (s.status, _as_text(s), s.error_code) for s in rows}


def _as_text(source: ScanSource) -> str:
    return f"as {source.original_name!r} ({local_text(source.imported_at, seconds=False)}, {source.imported_by})"


def mark_unreadable(db: Database, actor: Actor, failures: dict[int, tuple[str, str]]) -> None:
    """Record that these sources cannot be read: {source id: (reason code, message)}."""
    if not failures:
        return
    with db.write(actor, reason="the scan file cannot be read") as session:
        for source in session.scalars(select(ScanSource).where(ScanSource.id.in_(failures))):
            if source.status is not SourceStatus.PENDING:
                continue
            code, message = failures[source.id]
            source.status, source.error_code, source.error_message = SourceStatus.UNREADABLE, code[:40], message
            source.page_count = 0


def mark_read(db: Database, actor: Actor, expected: dict[int, int]) -> set[int]:
    """Mark read every source whose pages are all recorded ({source id: page count}); returns those now read.
    A source with pages still missing (an import cancelled or cut short) stays pending, to be resumed."""
    if not expected:
        return set()
    with db.read() as session:
        counts = dict(session.execute(select(ScanPage.source_id, func.count()).where(
            ScanPage.source_id.in_(expected)).group_by(ScanPage.source_id)).all())
    complete = {sid for sid, pages in expected.items() if counts.get(sid, 0) >= pages}
    if not complete:
        return set()
    with db.write(actor, reason="all pages read") as session:
        for source in session.scalars(select(ScanSource).where(ScanSource.id.in_(complete))):
            if source.status is SourceStatus.PENDING:
                source.status, source.page_count = SourceStatus.READ, counts.get(source.id, 0)
    return complete
