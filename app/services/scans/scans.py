"""Scanned pages after intake: the exceptions queue and its resolutions, page lists, page images."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import uuid
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from app.forms.layout import payload as qr_payload
from app.forms.pdfium_lock import PDFIUM_LOCK
from app.forms.scan.scan_decode import decode_pages
from app.forms.scan.scan_pages import iter_pages
from app.models import (
    FormState,
    Issuance,
    IssuedForm,
    LinkMethod,
    ScanOutcome,
    ScanPage,
    ScanSource,
    TemplateVersion,
)
from app.services.core import audit, limits
from app.services.core.db import Actor, Database
from app.services.core.error_codes import ErrorCode
from app.services.core.errors import DomainError, NotFound, RuleViolation, ValidationError
from app.services.core.filestore import FileStore
from app.services.identity import batch
from app.services.identity.permissions import Permission, require
from app.services.issuance import labels
from app.services.issuance.issuance import form_by_serial, site_of
from app.services.scans import capture_spec
from app.services.scans.intake_link import (
    RETURNABLE,
    classify,
    complete_if_returned,
    current_page_scan,
    link_page,
    within_spec,
)
from app.services.scans.paper_reading import read_linked

O = ScanOutcome  # noqa: E741 - the outcomes read as O.LINKED, O.BLANK
OPEN_EXCEPTIONS = tuple(o for o in ScanOutcome if o not in (O.LINKED, O.NOT_CONTROLLED, O.RESCANNED))
# Outcomes a harder second decode can change; for the others the code was read and its verdict stands.
RETRYABLE = frozenset({O.NO_CODE, O.UNREADABLE_PAGE, O.BLANK, O.FOREIGN_CODE})


@dataclasses.dataclass(frozen=True)
class ScanPageInfo:
    id: int
    source_id: int
    source_name: str
    source_sha256: str
    page_index: int
    outcome: ScanOutcome
    reason: str | None
    serial: str | None
    page_no: int | None
    form_state: FormState | None
    imported_at: dt.datetime
    imported_by: str
    width: int | None
    height: int | None
    dpi: float | None
    colour_mode: str | None
    link_method: str | None
    linked_by: str | None
    resolution: str | None
    resolved_by: str | None
    superseded: bool
    label: str | None = None  # the form's serial as printed on it (its issuance's serial format); None: no form
    device: str | None = None  # the scanner, where the file or the hot folder names it (SC-01)
    # The template version the sheet itself was printed from ("QC-WS-014@2", ES-08): the form's, which its code
    # names (a code naming another version is not linked); None: no form.
    sheet_version: str | None = None

    @property
    def printed_as(self) -> str | None:
        """The form as people read it on the paper: its label (the serial for a view made without one)."""
        return self.label or self.serial

    @property
    def is_exception(self) -> bool:
        return self.outcome in OPEN_EXCEPTIONS

    @property
    def linkable(self) -> bool:
        """Whether a person may link it by hand (what link_manually accepts): never a page below the capture
        specification (SC-03), which is rescanned."""
        return self.outcome is not O.BELOW_SPEC and self.outcome in OPEN_EXCEPTIONS

    @property
    def capture(self) -> str:
        """"2480 × 3508 px · 300 dpi · RGB · Canon DR-C225": the capture metadata as a person reads it (SC-01)."""
        parts = [f"{self.width} × {self.height} px" if self.width else "",
                 f"{round(self.dpi)} dpi" if self.dpi else "", self.colour_mode or "",
                 f"scanner {self.device}" if self.device else ""]
        return " · ".join(p for p in parts if p)

    @property
    def retryable(self) -> bool:
        """Whether reading its code again could change the outcome (what retry_decoding accepts)."""
        return self.outcome in RETRYABLE

    @property
    def location(self) -> str:
        return f"{self.source_name} p.{self.page_index + 1}"


def _info(row: ScanPage, form: IssuedForm | None, label: str | None = None) -> ScanPageInfo:
    return ScanPageInfo(
        id=row.id, source_id=row.source_id, source_name=row.source.original_name, source_sha256=row.source.sha256,
        page_index=row.page_index, outcome=row.outcome, reason=row.reason, serial=form.serial if form else None,
        page_no=row.page_no, form_state=form.state if form else None, imported_at=row.source.imported_at,
        imported_by=row.source.imported_by, width=row.width, height=row.height, dpi=row.dpi,
        colour_mode=row.colour_mode, link_method=row.link_method, linked_by=row.linked_by,
        resolution=row.resolution, resolved_by=row.resolved_by, superseded=row.superseded_by_id is not None,
        label=label if form else None, device=row.source.device,
        sheet_version=form.issuance.template_version.label if form else None,
    )


def _rows(session: Session, query) -> list[ScanPageInfo]:  # noqa: ANN001 - a Select over ScanPage
    rows = session.scalars(query.options(joinedload(ScanPage.source))).all()
    form_ids = {r.issued_form_id for r in rows if r.issued_form_id}
    forms = ({f.id: f for f in session.scalars(select(IssuedForm).where(IssuedForm.id.in_(form_ids)).options(
        joinedload(IssuedForm.issuance).joinedload(Issuance.template_version)
        .joinedload(TemplateVersion.template)))} if form_ids else {})
    label_of = labels.labels_of(session, form_ids)
    return [_info(r, forms.get(r.issued_form_id), label_of.get(r.issued_form_id or 0)) for r in rows]


def _one(session: Session, row: ScanPage, form: IssuedForm | None) -> ScanPageInfo:
    """One page's view, its form labelled as printed (read in the same transaction)."""
    return _info(row, form, labels.label_of(form, labels.site_code(session)) if form else None)


def list_exceptions(db: Database, actor: Actor, *, limit: int = 5000) -> list[ScanPageInfo]:
    """Pages waiting for a person: every outcome except linked and "not a controlled form"."""
    require(db, actor, Permission.VIEW_DATA)
    with db.read() as session:
        return _rows(session, select(ScanPage).where(ScanPage.outcome.in_(OPEN_EXCEPTIONS))
                     .order_by(ScanPage.id.desc()).limit(limit))


def count_exceptions(db: Database, actor: Actor) -> int:
    from sqlalchemy import func
    require(db, actor, Permission.VIEW_DATA)
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(ScanPage)
                              .where(ScanPage.outcome.in_(OPEN_EXCEPTIONS))) or 0


def pages_of_form(db: Database, actor: Actor, serial: str) -> list[ScanPageInfo]:
    """Every scan identified as this form, linked or not (pages of voided forms are kept and shown)."""
    require(db, actor, Permission.VIEW_DATA)
    with db.read() as session:
        form = form_by_serial(session, serial)
        return _rows(session, select(ScanPage).where(ScanPage.issued_form_id == form.id)
                     .order_by(ScanPage.page_no, ScanPage.id))


def pages_of_source(db: Database, actor: Actor, source_id: int) -> list[ScanPageInfo]:
    """Every page of one received file, in file order."""
    require(db, actor, Permission.VIEW_DATA)
    with db.read() as session:
        return _rows(session, select(ScanPage).where(ScanPage.source_id == source_id).order_by(ScanPage.page_index))


def recent_pages(db: Database, actor: Actor, *, limit: int = 500) -> list[ScanPageInfo]:
    require(db, actor, Permission.VIEW_DATA)
    with db.read() as session:
        return _rows(session, select(ScanPage).order_by(ScanPage.id.desc()).limit(limit))


def get_page(db: Database, actor: Actor, scan_page_id: int) -> ScanPageInfo:
    require(db, actor, Permission.VIEW_DATA)
    with db.read() as session:
        row = _page(session, scan_page_id)
        form = session.get(IssuedForm, row.issued_form_id) if row.issued_form_id else None
        return _one(session, row, form)


def _page(session: Session, scan_page_id: int) -> ScanPage:
    row = session.get(ScanPage, scan_page_id)
    if row is None:
        raise NotFound(f"no scanned page {scan_page_id}")
    return row




def _reason(reason: str | None, what: str) -> str:
    if reason is None or not reason.strip():
        raise ValidationError(f"{what} needs a reason")
    return reason.strip()


def link_manually(db: Database, actor: Actor, *, scan_page_id: int, serial: str, page_no: int,
                  reason: str) -> ScanPageInfo:
    """Link an exception page by hand (QA or Document Control, reason required). Linking a page that was
    already returned accepts this image as a new version (a rescan); the earlier one stays available."""
    require(db, actor, Permission.LINK_SCANS)
    reason = _reason(reason, "a manual link")
    with db.write(actor, reason=f"manual link: {reason}") as session:
        row = _page(session, scan_page_id)
        if row.outcome is O.LINKED:
            raise DomainError(f"scan page {row.id} is already linked")
        if row.decoded_text and qr_payload.is_preview(row.decoded_text):
            # The one thing a reason cannot make right: a preview was never a controlled copy.
            raise RuleViolation("this page is a scanned PREVIEW print, not a controlled copy: it cannot be linked "
                                "to a form; set it aside as not controlled", code=ErrorCode.PREVIEW_NOT_CONTROLLED)
        # SC-03: a page captured below the site's specification is rescanned; no reason makes it a true copy. (A
        # file that states no resolution is judged at intake; here a person looked at it and gives a reason.)
        shortfall = (capture_spec.site_spec(session).shortfall(dpi=row.dpi, mode=row.colour_mode)
                     if row.dpi is not None else None)
        if row.outcome is O.BELOW_SPEC or shortfall is not None:
            raise RuleViolation(f"scan page {row.id} is {shortfall or row.reason or 'below the capture specification'}"
                                ": rescan the page (the rescan links by its code and closes this one), or set it "
                                "aside", code=ErrorCode.BELOW_CAPTURE_SPEC)
        form = form_by_serial(session, serial)
        if form.state not in RETURNABLE or form.issuance.state.value != "open":
            raise DomainError(f"serial {form.serial} is {form.state.value}; a page cannot be linked to it "
                              f"(it stays recorded with the form)")
        if not 1 <= page_no <= form.pages:
            raise ValidationError(f"serial {form.serial} has pages 1 to {form.pages}, not {page_no}")
        now = db.clock.now()
        earlier = current_page_scan(session, form.id, page_no)
        link_page(row, form, page_no, method=LinkMethod.MANUAL, now=now, by=actor.username)
        row.resolution, row.resolved_at, row.resolved_by = reason, now, actor.username
        session.flush()
        if earlier is not None:
            with audit.reason(session, f"superseded by rescan (scan page {row.id}): {reason}"):
                earlier.superseded_by_id = row.id
        capture_spec.close_rescanned(session, [(form.id, page_no, row.id)], now=now, by=actor.username)
        complete_if_returned(session, form, now=now, by=actor.username)
        info = _one(session, row, form)
    read_linked(db, actor, scan_page_ids=[scan_page_id])  # its boxes, and the paper findings they raise
    return info


def mark_not_controlled(db: Database, actor: Actor, *, scan_page_id: int, reason: str) -> ScanPageInfo:
    require(db, actor, Permission.LINK_SCANS)
    reason = _reason(reason, "marking a page as not a controlled form")
    with db.write(actor, reason=reason) as session:
        row = _page(session, scan_page_id)
        if row.outcome is O.LINKED:
            raise DomainError(f"scan page {row.id} is linked to a form; it cannot be set aside")
        now = db.clock.now()
        row.outcome = O.NOT_CONTROLLED
        row.resolution, row.resolved_at, row.resolved_by = reason, now, actor.username
        session.flush()
        return _info(row, None)


def set_aside_many(db: Database, actor: Actor, *, scan_page_ids: Iterable[int], reason: str,
                   progress: batch.Progress | None = None) -> batch.BatchResult[int]:
    """Set many pages aside as not controlled forms with one reason (each page on its own, as
    :func:`mark_not_controlled` does it; a page refused, e.g. linked meanwhile, is reported and the rest go on)."""
    require(db, actor, Permission.LINK_SCANS)
    reason = limits.checked("reason", _reason(reason, "marking a page as not a controlled form"))
    return batch.each(db, actor, scan_page_ids,
                      lambda page_id: mark_not_controlled(db, actor, scan_page_id=page_id, reason=reason),
                      progress=progress)


def retry_decoding(db: Database, actor: Actor, *, scan_page_id: int) -> ScanPageInfo:
    """Decode the page again, trying every region and fallback, and link it if its code now reads."""
    require(db, actor, Permission.IMPORT_SCANS)
    with db.read() as session:
        row = _page(session, scan_page_id)
        if row.outcome not in RETRYABLE:
            raise DomainError(f"scan page {row.id} is '{row.outcome.title}'; decoding it again would not change that")
        sha, name, index = row.source.sha256, row.source.original_name, row.page_index
    path = db.files.verified_path(sha)
    with PDFIUM_LOCK:
        [decoded] = decode_pages(str(path), filename=name, pages=[index], exhaustive=True)
    with db.write(actor, reason="decoded again") as session:
        row = _page(session, scan_page_id)
        verdict = within_spec(classify(session, site_of(session), decoded), capture_spec.site_spec(session),
                              dpi=decoded.dpi, mode=decoded.mode)
        row.outcome, row.reason, row.decoded_text = verdict.outcome, verdict.reason, verdict.text
        row.issued_form_id = verdict.form.id if verdict.form else row.issued_form_id
        row.page_no = verdict.page_no
        now = db.clock.now()
        if verdict.outcome is O.LINKED and verdict.form is not None:
            link_page(row, verdict.form, verdict.page_no or 0, method=LinkMethod.AUTO, now=now, by=actor.username)
            session.flush()
            capture_spec.close_rescanned(session, [(verdict.form.id, verdict.page_no or 0, row.id)], now=now,
                                         by=actor.username)
            complete_if_returned(session, verdict.form, now=now, by=actor.username)
        session.flush()
        info = _one(session, row, verdict.form)
    if info.outcome is O.LINKED:
        read_linked(db, actor, scan_page_ids=[scan_page_id])
    return info


def page_png(db: Database, actor: Actor, scan_page_id: int, *, max_side: int = 2200) -> bytes:
    """The page as PNG for viewing: derived from the stored original (checked against its hash) and cached;
    the original is never re-encoded or replaced."""
    require(db, actor, Permission.VIEW_DATA)
    with db.read() as session:
        row = _page(session, scan_page_id)
        sha, name, index = row.source.sha256, row.source.original_name, row.page_index
    return source_page_png(db.files, sha256=sha, name=name, index=index, max_side=max_side)


def source_page_png(files: FileStore, *, sha256: str, name: str, index: int, max_side: int = 2200) -> bytes:
    """Page ``index`` (from 0) of the stored file ``sha256`` (received as ``name``) as PNG, as :func:`page_png`
    makes it; for a caller that read the page's source already (no database here)."""
    cache = files.root / "cache" / f"{sha256}-{index}-{max_side}.png"
    if cache.exists():
        return cache.read_bytes()
    path = files.verified_path(sha256)
    with PDFIUM_LOCK:
        page = next(iter_pages(str(path), filename=name, pages=[index], min_dpi=300.0))
        image = page.full_resolution() or page.image
    if image is None:
        raise DomainError(f"page {index + 1} of {name} cannot be shown: {page.error.message if page.error else ''}")
    image.thumbnail((max_side, max_side))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False, compress_level=1)
    data = buffer.getvalue()
    cache.parent.mkdir(parents=True, exist_ok=True)
    # A name of its own per writer: the viewer and a snippet may make the same page at once, and a shared
    # ".part" could be moved into place by one while the other still writes it (a truncated page image).
    tmp = cache.with_suffix(f".{uuid.uuid4().hex}.part")
    tmp.write_bytes(data)
    tmp.replace(cache)
    return data


def sources(db: Database, actor: Actor, *, limit: int = 200) -> list[tuple[int, str, str, str, int | None]]:
    """Recent source files: (id, name, status, imported by, page count)."""
    require(db, actor, Permission.VIEW_DATA)
    with db.read() as session:
        rows = session.scalars(select(ScanSource).order_by(ScanSource.id.desc()).limit(limit))
        return [(s.id, s.original_name, s.status.value, s.imported_by, s.page_count) for s in rows]
