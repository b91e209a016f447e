"""What paper review by exception shows: the open findings of the site, the findings of one form (its record),
and what the reader saw in every box of a form's pages. Frozen plain data, with what the actor may do."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.enums import PaperFindingKind, PaperFindingStatus
from app.forms.layout.layout import TemplateLayout
from app.forms.scan.readings import BoxState
from app.models import (
    IssuedForm,
    PaperFinding,
    ScanBoxReading,
    ScanOutcome,
    ScanPage,
    ScanReading,
)
from app.services.core.db import Actor, Database
from app.services.identity.permissions import Permission, allowed, require
from app.services.issuance import labels
from app.services.issuance.issuance import form_by_serial
from app.services.scans.paper_findings import field_text, part_text
from app.services.templates import templates

S = PaperFindingStatus
RESOLVER = Permission.REVIEW_RECORDS  # QA: resolving what the paper shows is part of reviewing the record


@dataclasses.dataclass(frozen=True)
class PaperFindingView:
    """One finding as people read it: the form as printed (``label``), the field's label, the part in words."""

    id: int
    scan_page_id: int
    serial: str
    label: str
    page: int
    field: str | None
    field_label: str
    part: str
    part_label: str
    kind: PaperFindingKind
    detail: str
    status: PaperFindingStatus
    opened_at: dt.datetime
    opened_by: str
    resolved_at: dt.datetime | None
    resolved_by: str | None
    resolution: str | None
    deviation_ref: str | None
    may_resolve: bool = False
    why_not_resolve: str | None = None

    @property
    def is_open(self) -> bool:
        return self.status is S.OPEN


@dataclasses.dataclass(frozen=True)
class FormFindings:
    """Every finding of one issued form (and so of its record), by page; ``open_count`` of them still open."""

    serial: str
    label: str
    findings: tuple[PaperFindingView, ...]
    open_count: int

    @property
    def open(self) -> tuple[PaperFindingView, ...]:
        return tuple(f for f in self.findings if f.is_open)


@dataclasses.dataclass(frozen=True)
class BoxReadingView:
    field: str | None
    field_label: str
    part: str
    part_label: str
    state: BoxState
    confidence: float
    ink: float
    note: str | None


@dataclasses.dataclass(frozen=True)
class PageReadingView:
    """The current scan of one page and its newest reading (``read_at`` None: not read yet)."""

    scan_page_id: int
    page: int
    read_at: dt.datetime | None
    read_by: str | None
    residual_mm: float | None
    error: str | None
    boxes: tuple[BoxReadingView, ...]
    open_findings: int


@dataclasses.dataclass(frozen=True)
class FormReadings:
    serial: str
    label: str
    template: str  # "QC-WS-014@1"
    pages: tuple[PageReadingView, ...]
    layout: TemplateLayout = dataclasses.field(repr=False)  # of the template version the form was issued from


def resolve_refusal(actor: Actor, finding: PaperFinding) -> str | None:
    """Why ``actor`` may not resolve ``finding`` now, in words (None: they may). The act asks the same."""
    if not allowed(actor, RESOLVER):
        return "QA resolves paper findings"
    if finding.status is S.RESOLVED:
        return f"already resolved by {finding.resolved_by}"
    if finding.status is S.SUPERSEDED:
        return "superseded: a later reading of the page no longer finds it"
    return None


class Layouts:
    """The layout of each template version met, parsed once per read."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._by_version: dict[int, TemplateLayout] = {}

    def of_form(self, form: IssuedForm) -> TemplateLayout:
        version_id = form.issuance.template_version_id
        if version_id not in self._by_version:
            self._by_version[version_id] = templates.layout_of(form.issuance.template_version)
        return self._by_version[version_id]


def finding_views(session: Session, actor: Actor, rows: Sequence[PaperFinding]) -> list[PaperFindingView]:
    """The views of ``rows`` (forms, labels and layouts read once for all of them)."""
    form_ids = {r.issued_form_id for r in rows}
    forms = ({f.id: f for f in session.scalars(select(IssuedForm).where(IssuedForm.id.in_(form_ids)))}
             if form_ids else {})
    printed = labels.labels_of(session, form_ids)
    layouts = Layouts(session)
    return [_finding_view(actor, r, printed.get(r.issued_form_id, r.serial), layouts.of_form(forms[r.issued_form_id]))
            for r in rows]


def _finding_view(actor: Actor, row: PaperFinding, label: str, layout: TemplateLayout) -> PaperFindingView:
    why_not = resolve_refusal(actor, row)
    return PaperFindingView(
        id=row.id, scan_page_id=row.scan_page_id, serial=row.serial, label=label, page=row.page,
        field=row.field_name, field_label=field_text(layout, row.field_name, row.part), part=row.part,
        part_label=part_text(row.part), kind=row.kind, detail=row.detail, status=row.status, opened_at=row.opened_at,
        opened_by=row.opened_by, resolved_at=row.resolved_at, resolved_by=row.resolved_by, resolution=row.resolution,
        deviation_ref=row.deviation_ref, may_resolve=why_not is None, why_not_resolve=why_not)


def open_count(session: Session, form_id: int) -> int:
    """How many findings of the form are still open (a record is not approved while any is)."""
    return session.scalar(select(func.count()).select_from(PaperFinding).where(
        PaperFinding.issued_form_id == form_id, PaperFinding.status == S.OPEN)) or 0


def open_findings(db: Database, actor: Actor, *, include_closed: bool = False,
                  limit: int = 2000) -> list[PaperFindingView]:
    """The site's open findings, oldest first (QA's worklist); with ``include_closed`` the resolved and superseded
    ones too."""
    require(db, actor, Permission.VIEW_DATA)
    with db.read() as session:
        query = select(PaperFinding).order_by(PaperFinding.id).limit(limit)
        if not include_closed:
            query = query.where(PaperFinding.status == S.OPEN)
        return finding_views(session, actor, session.scalars(query).all())


def count_open(db: Database, actor: Actor) -> int:
    require(db, actor, Permission.VIEW_DATA)
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(PaperFinding)
                              .where(PaperFinding.status == S.OPEN)) or 0


def findings_of_form(db: Database, actor: Actor, serial: str) -> FormFindings:
    """Every finding of one issued form (serial or printed label), open or not, by page."""
    require(db, actor, Permission.VIEW_DATA)
    with db.read() as session:
        form = form_by_serial(session, serial)
        return _form_findings(session, actor, form)


def findings_of_record(db: Database, actor: Actor, serial: str) -> FormFindings:
    """The findings a record's review meets: those of its issued form (one record per form)."""
    return findings_of_form(db, actor, serial)


def _form_findings(session: Session, actor: Actor, form: IssuedForm) -> FormFindings:
    rows = session.scalars(select(PaperFinding).where(PaperFinding.issued_form_id == form.id)
                           .order_by(PaperFinding.page, PaperFinding.id)).all()
    views = tuple(finding_views(session, actor, rows))
    label = labels.label_of(form, labels.site_code(session))
    return FormFindings(serial=form.serial, label=label, findings=views, open_count=sum(v.is_open for v in views))


def readings_of_form(db: Database, actor: Actor, serial: str) -> FormReadings:
    """What the reader saw in every box of the current scan of each page of a form (a page not read yet has no
    boxes and no reading time)."""
    require(db, actor, Permission.VIEW_DATA)
    with db.read() as session:
        form = form_by_serial(session, serial)
        version = form.issuance.template_version
        layout = templates.layout_of(version)
        pages = session.scalars(select(ScanPage).where(
            ScanPage.issued_form_id == form.id, ScanPage.outcome == ScanOutcome.LINKED,
            ScanPage.superseded_by_id.is_(None)).order_by(ScanPage.page_no)).all()
        page_ids = [p.id for p in pages]
        newest = _newest_readings(session, page_ids)
        boxes = _boxes_of(session, [r.id for r in newest.values()])
        still_open = dict(session.execute(
            select(PaperFinding.scan_page_id, func.count()).where(
                PaperFinding.scan_page_id.in_(page_ids or [-1]), PaperFinding.status == S.OPEN)
            .group_by(PaperFinding.scan_page_id)).all())
        views = []
        for page in pages:
            reading = newest.get(page.id)
            views.append(PageReadingView(
                scan_page_id=page.id, page=page.page_no or 0,
                read_at=reading.read_at if reading else None, read_by=reading.read_by if reading else None,
                residual_mm=reading.residual_mm if reading else None, error=reading.error if reading else None,
                boxes=tuple(_box_view(layout, b) for b in boxes.get(reading.id, ())) if reading else (),
                open_findings=still_open.get(page.id, 0)))
        label = labels.label_of(form, labels.site_code(session))
        return FormReadings(serial=form.serial, label=label, template=version.label, pages=tuple(views),
                            layout=layout)


def _newest_readings(session: Session, page_ids: Iterable[int]) -> dict[int, ScanReading]:
    ids = list(page_ids)
    if not ids:
        return {}
    newest = select(func.max(ScanReading.id)).where(ScanReading.scan_page_id.in_(ids)).group_by(
        ScanReading.scan_page_id)
    return {r.scan_page_id: r for r in session.scalars(select(ScanReading).where(ScanReading.id.in_(newest)))}


def _boxes_of(session: Session, reading_ids: list[int]) -> dict[int, list[ScanBoxReading]]:
    found: dict[int, list[ScanBoxReading]] = {}
    if reading_ids:
        for box in session.scalars(select(ScanBoxReading).where(ScanBoxReading.reading_id.in_(reading_ids))
                                   .order_by(ScanBoxReading.id)):
            found.setdefault(box.reading_id, []).append(box)
    return found


def _box_view(layout: TemplateLayout, box: ScanBoxReading) -> BoxReadingView:
    return BoxReadingView(field=box.field_name, field_label=field_text(layout, box.field_name, box.part),
                          part=box.part, part_label=part_text(box.part), state=BoxState(box.state),
                          confidence=box.confidence, ink=box.ink, note=box.note)
