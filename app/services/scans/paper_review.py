"""Paper review by exception (RC-07): store what the scan reader saw on a linked page, keep the page's GDP
findings in step with it, and let QA resolve each finding with a reason or a deviation reference.

A page read again gets a new reading (the old one stays, never changed); its findings are matched to the open
ones by field, part and kind: one found again stays open as it was (same number, so a screen or a deviation
that names it still does), one no longer found is superseded, a new one is opened. A finding QA resolved is
history: it stays resolved, and the same defect on the same image is not opened again. When the current scan of
a page is read, the open findings of older scans of that page (a rescan replaced them) are superseded too.

Readings are derived data but written like everything else: in an audited unit of work, by the user whose
import linked the page (the intake's acting user) or who asked for the page to be read again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.enums import PaperFindingStatus
from app.forms.scan.readings import BoxState, PageReading
from app.models import IssuedForm, PaperFinding, ScanBoxReading, ScanOutcome, ScanPage, ScanReading
from app.models.paper import NOTE_LIMIT
from app.services.core import audit, limits
from app.services.core.db import Actor, Database
from app.services.core.error_codes import ErrorCode
from app.services.core.errors import DomainError, NotFound, ValidationError
from app.services.identity import batch
from app.services.identity.batch import BatchResult
from app.services.identity.permissions import Permission, require, require_any
from app.services.scans import version_check
from app.services.scans.paper_findings import Finding, findings_for
from app.services.scans.paper_views import RESOLVER, Layouts, PaperFindingView, finding_views, resolve_refusal

S = PaperFindingStatus
_TEXT = 64  # field names and parts as stored (scan_box_reading, paper_finding)
NOT_FOUND_AGAIN = "no longer found when the page was read again"
RESCANNED = "a newer scan of the page replaced this one"


@dataclasses.dataclass(frozen=True)
class ReadingSummary:
    """What storing one page's reading did: ``opened`` findings are new, ``kept_open`` were open already and
    found again, ``superseded`` were open and are not found any more; ``open_findings`` are open on the page
    now; ``already_resolved`` were found again but QA had resolved them (they stay resolved)."""

    scan_page_id: int
    reading_id: int
    serial: str
    page: int
    boxes: int
    unclear: int
    error: str | None
    opened: int
    kept_open: int
    superseded: int
    already_resolved: int
    open_findings: int


@dataclasses.dataclass(frozen=True)
class StoredReadings:
    """What storing a batch of readings did: one summary per page stored, and the pages ``skipped`` (no longer
    a linked page, or a reading of another page than the scan is: each is named in ``skipped``)."""

    summaries: tuple[ReadingSummary, ...]
    skipped: tuple[tuple[int, str], ...] = ()  # (scan page id, why)

    @property
    def pages(self) -> int:
        return len(self.summaries)

    @property
    def unread(self) -> int:
        """Pages that could not be matched to their template (each is a finding of its own)."""
        return sum(1 for s in self.summaries if s.error is not None)

    @property
    def findings(self) -> int:
        """Findings open on these pages now."""
        return sum(s.open_findings for s in self.summaries)


def store_reading(db: Database, actor: Actor, *, scan_page_id: int, reading: PageReading) -> ReadingSummary:
    """Store the reading of one linked scan page and bring its findings in step, in one audited transaction.
    The template layout is the one the page's form was issued with (read here, so it cannot be another).
    Refused (NotFound, DomainError, ValidationError) for a page that is not linked or was replaced by a rescan,
    and for a reading of another page."""
    require_any(db, actor, Permission.IMPORT_SCANS, Permission.LINK_SCANS)
    with db.write(actor, reason="scan page read: paper review") as session:
        page, form = _linked(session, scan_page_id, reading)
        return _store(db, session, actor, page, form, reading, Layouts(session))


def store_readings(db: Database, actor: Actor, readings: Sequence[tuple[int, PageReading]]) -> StoredReadings:
    """:func:`store_reading` for many pages at once (an import's batch) in one audited transaction. A page that
    is no longer linked (its link undone, or superseded meanwhile) is skipped and named; the others are stored."""
    require_any(db, actor, Permission.IMPORT_SCANS, Permission.LINK_SCANS)
    if not readings:
        return StoredReadings(())
    summaries: list[ReadingSummary] = []
    skipped: list[tuple[int, str]] = []
    with db.write(actor, reason="scan pages read: paper review") as session:
        layouts = Layouts(session)  # a batch holds pages of few template versions
        for scan_page_id, reading in readings:
            try:  # the checks change nothing: a page refused leaves the transaction as it was
                page, form = _linked(session, scan_page_id, reading)
            except (NotFound, DomainError, ValidationError) as refused:
                skipped.append((scan_page_id, str(refused)))
                continue
            summaries.append(_store(db, session, actor, page, form, reading, layouts))
    return StoredReadings(tuple(summaries), tuple(skipped))


def _linked(session: Session, scan_page_id: int, reading: PageReading) -> tuple[ScanPage, IssuedForm]:
    page = session.get(ScanPage, scan_page_id)
    if page is None:
        raise NotFound(f"there is no scan page {scan_page_id}")
    if page.outcome is not ScanOutcome.LINKED or page.issued_form_id is None or page.page_no is None:
        raise DomainError(f"scan page {scan_page_id} is not linked to a page of an issued form; only linked pages "
                          "are read for paper review")
    if page.superseded_by_id is not None:  # its findings would be about an image that is no longer the page's
        raise DomainError(f"scan page {scan_page_id} was replaced by a rescan (scan page {page.superseded_by_id}); "
                          "read that one")
    form = session.get(IssuedForm, page.issued_form_id)
    if form is None:  # a foreign key: only reachable if the database was changed behind the application
        raise NotFound(f"scan page {scan_page_id} names issued form {page.issued_form_id}, which does not exist")
    if reading.page != page.page_no:
        raise ValidationError(f"the reading is of page {reading.page}, but scan page {scan_page_id} is page "
                              f"{page.page_no} of {form.serial}")
    return page, form


def _store(db: Database, session: Session, actor: Actor, page: ScanPage, form: IssuedForm, reading: PageReading,
           layouts: Layouts) -> ReadingSummary:
    assert page.page_no is not None  # checked by _linked
    layout = layouts.of_form(form)
    now = db.clock.now()
    row = ScanReading(scan_page_id=page.id, page=page.page_no, residual_mm=_number(reading.residual_mm),
                      error=_error(reading.error), read_at=now, read_by=actor.username)
    row.boxes = [ScanBoxReading(field_name=_clip(b.field, _TEXT), part=_clip(b.part, _TEXT) or "?",
                                state=b.state.value, confidence=_number(b.confidence) or 0.0,
                                ink=_number(b.ink) or 0.0, note=_clip(b.note, NOTE_LIMIT))
                 for b in reading.boxes]
    session.add(row)
    found = {_key(f): f for f in findings_for(layout, reading, last_page=page.page_no == layout.pages)}
    if page.page_no == layout.pages:  # ES-08: once per form, on the page with the signature blocks
        version = version_check.older_version(session, form, page=page.page_no, scanned_at=page.source.imported_at)
        if version is not None:
            found[_key(version)] = version
    mine = session.scalars(select(PaperFinding).where(PaperFinding.scan_page_id == page.id)).all()
    still_open = {_row_key(f): f for f in mine if f.status is S.OPEN}
    resolved = {_row_key(f) for f in mine if f.status is S.RESOLVED}
    gone = [f for key, f in still_open.items() if key not in found]
    with audit.reason(session, NOT_FOUND_AGAIN):
        for old in gone:
            _supersede(old, actor, now, NOT_FOUND_AGAIN)
    # This is the page's current scan (``_linked``): what older scans of the page found is done with.
    older = session.scalars(select(PaperFinding).where(
        PaperFinding.issued_form_id == form.id, PaperFinding.page == page.page_no,
        PaperFinding.scan_page_id != page.id, PaperFinding.status == S.OPEN)).all()
    with audit.reason(session, RESCANNED):
        for old in older:
            _supersede(old, actor, now, RESCANNED)
    opened = kept = again = 0
    for key, finding in found.items():
        field, part, _kind = key
        if key in still_open:
            kept += 1
            if still_open[key].detail != finding.detail:  # the same defect, worded as the reader sees it now
                still_open[key].detail = finding.detail
        elif key in resolved:
            again += 1
        else:
            opened += 1
            session.add(PaperFinding(
                scan_page_id=page.id, issued_form_id=form.id, serial=form.serial, page=page.page_no,
                field_name=field, part=part, kind=finding.kind, detail=finding.detail,
                status=S.OPEN, opened_at=now, opened_by=actor.username))
    session.flush()
    return ReadingSummary(
        scan_page_id=page.id, reading_id=row.id, serial=form.serial, page=page.page_no, boxes=len(row.boxes),
        unclear=sum(1 for b in reading.boxes if b.state is BoxState.UNCLEAR), error=row.error, opened=opened,
        kept_open=kept, superseded=len(gone) + len(older), already_resolved=again, open_findings=opened + kept)


def _key(finding: Finding) -> tuple[str | None, str, str]:
    return (_clip(finding.field, _TEXT), _clip(finding.part, _TEXT) or "", finding.kind.value)


def _row_key(row: PaperFinding) -> tuple[str | None, str, str]:
    return (row.field_name, row.part, row.kind.value)


def _supersede(finding: PaperFinding, actor: Actor, now: dt.datetime, why: str) -> None:
    finding.status = S.SUPERSEDED
    finding.resolved_at, finding.resolved_by, finding.resolution = now, actor.username, why


def _clip(text: str | None, limit: int) -> str | None:
    if text is None:
        return None
    text = text.strip()
    if not text:
        return None
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _error(error: str | None) -> str | None:
    """A page the reader could not register keeps a reason, even one the reader left empty."""
    return None if error is None else _clip(error, 2000) or "the page could not be registered"


def _number(value: float | None) -> float | None:
    """A measurement as stored: a value that is not a finite number (a reader's NaN) is stored as none."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def resolve_finding(db: Database, actor: Actor, finding_id: int, *, reason: str | None = None,
                    deviation_ref: str | None = None) -> PaperFindingView:
    """QA resolves one open finding: with a reason (what was done, why it is acceptable), or the reference of
    the deviation raised for it, or both. Refused for anyone but QA, without either, and for a finding that is
    no longer open."""
    require(db, actor, RESOLVER)
    why, ref = _resolution(reason, deviation_ref)
    trail_reason = f"paper finding resolved: {why}" if why else f"paper finding resolved: deviation {ref}"
    with db.write(actor, reason=trail_reason) as session:
        finding = session.get(PaperFinding, finding_id)
        if finding is None:
            raise NotFound(f"there is no paper finding {finding_id}")
        refusal = resolve_refusal(actor, finding)
        if refusal is not None:
            raise DomainError(f"paper finding {finding_id} cannot be resolved: {refusal}",
                              code=ErrorCode.FINDING_NOT_OPEN)
        finding.status = S.RESOLVED
        finding.resolved_at, finding.resolved_by = db.clock.now(), actor.username
        finding.resolution, finding.deviation_ref = why or None, ref or None
        session.flush()
        return finding_views(session, actor, [finding])[0]


def _resolution(reason: str | None, deviation_ref: str | None) -> tuple[str, str]:
    """The reason and the deviation reference as stored ("" for none); refused when both are empty."""
    why = limits.checked("reason", reason)
    ref = limits.checked("reference", deviation_ref)
    if not why and not ref:
        raise ValidationError("resolving a paper finding needs a reason, or the reference of the deviation raised "
                              "for it", code=ErrorCode.REASON_REQUIRED)
    return why, ref


def resolve_findings(db: Database, actor: Actor, finding_ids: Iterable[int], *, reason: str | None = None,
                     deviation_ref: str | None = None, progress: batch.Progress | None = None) -> BatchResult[int]:
    """QA resolves several findings with one reason (or deviation reference): each on its own, exactly as
    :func:`resolve_finding` does (its own transaction and audit rows); a finding no longer open is that
    finding's refusal and the others go on. Refused as a whole, before any is resolved, for anyone but QA and
    without a reason or a reference."""
    require(db, actor, RESOLVER)
    _resolution(reason, deviation_ref)
    return batch.each(db, actor, finding_ids, lambda finding_id: resolve_finding(
        db, actor, finding_id, reason=reason, deviation_ref=deviation_ref), progress=progress)
