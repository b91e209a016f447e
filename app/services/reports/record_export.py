"""The complete copy of a record (PR-01): PDF for people, JSON for machines. Both name the SHA-256 of every
included scan and carry the record's own audit trail and the chain head.

Each export reads everything it shows in one read transaction (:func:`read_record`), then writes the file
(the PDF laid out by ``app.forms.render.record_report``), then records the export in a short audited write.
The PDF names people by full name and user name, scans by the form's page and their file, and words the trail
with ``app.services.reports.wording``; the JSON keeps the stored values.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import tempfile
from pathlib import Path

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from app.forms.render.record_report import (
    EntryLine,
    FieldLines,
    RecordReport,
    RecordScan,
    RecordSignature,
    render_record_report,
)
from app.forms.render.report import Printed
from app.models import AuditEvent, IssuedForm, Record, RecordState, ScanPage
from app.services.core import audit
from app.services.core.db import Actor, Database
from app.services.core.timefmt import local_text
from app.services.identity.permissions import Permission, require
from app.services.issuance.issuance import form_by_serial
from app.services.records.record_views import EntryInfo, FieldView, RecordView, build_view
from app.services.reports import wording
from app.services.reports.audit_log import AuditEventView, audit_line, event_views
from app.services.reports.naming import people_in, scan_pages_in
from app.services.reports.printed import chain_head_text, copy_status, printed_in, prints_of, seal
from app.services.reports.wording import Names, ScanPageName
from app.services.scans import scans
from app.services.templates import templates

PICTURE_SIDE = 1600  # pixels: the longer side of each scan as pictured in the PDF


@dataclasses.dataclass(frozen=True)
class RecordCopy:
    """One record as read in one transaction: what both the PDF and the JSON copy show."""

    view: RecordView
    trail: tuple[AuditEventView, ...]
    chain_head: str
    true_copy_verified_by: str | None
    true_copy_verified_at: dt.datetime | None
    people: dict[str, str] = dataclasses.field(default_factory=dict)  # user name -> full name
    scan_pages: dict[int, ScanPageName] = dataclasses.field(default_factory=dict)  # the scans values were read from
    true_copy_checklist: str | None = None  # what the true-copy verifier confirmed (SC-02)


def read_record(session: Session, db: Database, serial: str) -> RecordCopy:
    """The record of ``serial`` (empty if no value was saved yet), its trail and the chain head, in ``session``."""
    form = form_by_serial(session, serial)
    record = session.scalar(select(Record).where(Record.issued_form_id == form.id))
    if record is None:  # not created until the first value is saved: shown as the empty record it will be
        record = Record(issued_form_id=form.id, serial=form.serial,
                        template_version_id=form.issuance.template_version_id, state=RecordState.OPEN,
                        created_at=db.clock.now(), created_by="")
    layout = templates.layout_of(form.issuance.template_version)  # the record's: it is made from the issued form
    view = build_view(session, record, layout, form=form)
    read_from = {e.scan_page_id for f in view.fields for e in f.history if e.scan_page_id is not None}
    return RecordCopy(view=view, trail=_trail_in(session, form), chain_head=chain_head_text(session),
                      true_copy_verified_by=form.true_copy_verified_by,
                      true_copy_verified_at=form.true_copy_verified_at, people=people_in(session),
                      true_copy_checklist=form.true_copy_checklist,
                      scan_pages=scan_pages_in(session, read_from | {s.scan_page_id for s in view.scans}))


def record_trail(db: Database, serial: str) -> list[AuditEventView]:
    """Every audit event about the record, its entries, its signatures, its form, the form's scans and their
    paper findings."""
    with db.read() as session:
        return list(_trail_in(session, form_by_serial(session, serial)))


def _trail_in(session: Session, form: IssuedForm) -> tuple[AuditEventView, ...]:
    serial = form.serial
    scan_ids = [str(i) for i in session.scalars(select(ScanPage.id).where(ScanPage.issued_form_id == form.id))]
    query = select(AuditEvent).where(or_(
        and_(AuditEvent.entity == "record", AuditEvent.entity_id == serial),
        and_(AuditEvent.entity == "record_entry", AuditEvent.entity_id.like(f"{serial}/%")),
        and_(AuditEvent.entity == "entry_invalidation", AuditEvent.entity_id.like(f"{serial}/%")),  # RC-05
        and_(AuditEvent.entity == "signature", or_(AuditEvent.entity_id.like(f"record:{serial}#%"),
                                                  AuditEvent.entity_id.like(f"record_entry:{serial}/%"),
                                                  AuditEvent.entity_id.like(f"issued_form:{serial}#%"))),
        and_(AuditEvent.entity == "issued_form", AuditEvent.entity_id == serial),
        and_(AuditEvent.entity == "scan_page", AuditEvent.entity_id.in_(scan_ids or ["-"])),
        # Paper findings are keyed "<serial>/p<page>#<id>": raised on the form's scans, resolved by QA.
        and_(AuditEvent.entity == "paper_finding", AuditEvent.entity_id.like(f"{serial}/p%")),
    )).order_by(AuditEvent.seq)
    return tuple(event_views(session, list(session.scalars(query))))


# -- the PDF ---------------------------------------------------------------------------------------------------
def gather_record(db: Database, actor: Actor, serial: str) -> RecordReport:
    """Everything the record's PDF shows, read in one transaction."""
    require(db, actor, Permission.VIEW_DATA)
    with db.read() as session:
        return record_report(read_record(session, db, serial), printed_in(session, db, actor))


def record_version(view: RecordView) -> int:
    """The record's version as printed (PR-03): one more with every value entered or corrected and every
    signature, so two prints of the same version show the same data and signatures."""
    return sum(len(f.history) for f in view.fields) + len(view.signatures)


def record_furniture(copy: RecordCopy, printed: Printed) -> Printed:
    """``printed`` with what every page of this record's PDF carries (PR-03): which record and version, ORIGINAL
    or COPY n (the earlier prints of this version are in the record's trail, read in the same transaction) and
    the manifestation of each signature over the data shown."""
    view = copy.view
    version = record_version(view)
    earlier = prints_of((e.new_value for e in copy.trail if e.action == "PRINT" and e.entity == "record"),
                        format="pdf", version=version)
    signed = tuple(s.info.manifestation() + ("" if s.valid else f" [{s.status.value.upper()}]")
                   for s in view.signatures)
    return dataclasses.replace(printed, status=copy_status(earlier), signed=signed,
                               document=f"Record {view.label or view.serial} version {version}")


def record_report(copy: RecordCopy, printed: Printed) -> RecordReport:
    """The record as the PDF shows it: plain data, times, people and scans as people read them."""
    view = copy.view
    names = Names(people=copy.people)
    printed = record_furniture(copy, printed)
    return RecordReport(
        printed=printed, serial=view.serial, template=view.template, version=view.version, title=view.title,
        state=view.state.value, form_state=view.form_state, issuance_id=view.issuance_id,
        issuance_reconciled=view.issuance_reconciled, created_by=wording.person(view.created_by, names) or None,
        created_at=local_text(view.created_at) if view.created_at else None,
        changed_after_entry=view.changed_after_entry, content_sha256=view.content_sha256,
        fields=tuple(_field_lines(f, copy, names) for f in view.fields),
        signatures=tuple(RecordSignature(s.info.manifestation(), s.status.value, s.info.comment)
                         for s in view.signatures),
        scans=tuple(RecordScan(s.scan_page_id, s.page_no, s.sha256, s.source_name, s.page_index,
                               imported=_received(copy.scan_pages.get(s.scan_page_id))) for s in view.scans),
        true_copy_verified_by=wording.person(copy.true_copy_verified_by, names) or None,
        true_copy_verified_at=local_text(copy.true_copy_verified_at) if copy.true_copy_verified_at else None,
        true_copy_checklist=copy.true_copy_checklist,
        trail=tuple(audit_line(e) for e in copy.trail), label=view.label,
    )


def _received(page: ScanPageName | None) -> str:
    return f"imported {local_text(page.imported_at, seconds=False)}" if page else ""


def _scan_text(page_id: int | None, copy: RecordCopy) -> str | None:
    """The scan a value was read from: the form's page and the file it came in (never the database number)."""
    page = copy.scan_pages.get(page_id) if page_id is not None else None
    if page is None:
        return None
    where = f"{page.file}, file page {page.file_page}, {_received(page)}"
    return f"page {page.page_no} ({where})" if page.page_no else f"an unlinked page ({where})"


def _field_lines(f: FieldView, copy: RecordCopy, names: Names) -> FieldLines:
    return FieldLines(label=f.label, unit=f.unit, limits=f.limits, critical=f.critical, required=f.required,
                      entries=tuple(_entry_line(e, copy, names) for e in f.history))


def _entry_line(e: EntryInfo, copy: RecordCopy, names: Names) -> EntryLine:
    return EntryLine(
        value=e.value, is_na=e.is_na, kind=e.kind.value, reason=e.reason,
        entered_by=wording.person(e.entered_by, names), entered_at=local_text(e.entered_at),
        activity_at=local_text(e.activity_at, seconds=False) if e.activity_at else None, source=e.source,
        scan=_scan_text(e.scan_page_id, copy), verified_by=wording.person(e.verified_by, names) or None,
        verified_at=local_text(e.verified_at, seconds=False) if e.verified_at else None,
        out_of_limits=e.out_of_limits, justification=e.justification, late=e.late, late_reason=e.late_reason,
        superseded=e.superseded,
        invalidated=(f"by {wording.person(e.invalidated_by, names)}, {local_text(e.invalidated_at)}: "
                     f"{e.invalidation_reason}") if e.invalidated_at else None,
    )


def export_pdf(db: Database, actor: Actor, serial: str, *, out: Path) -> Path:
    save_pdf(db, actor, gather_record(db, actor, serial), out)
    return out


def save_pdf(db: Database, actor: Actor, report: RecordReport, out: Path) -> None:
    """Lay ``report`` out into ``out``, each scan pictured from its stored original (no transaction open
    meanwhile), then record the export in its own short write."""
    with tempfile.TemporaryDirectory() as tmp:
        pictures = {}
        for scan in report.scans:
            png = Path(tmp) / f"{scan.scan_page_id}.png"
            png.write_bytes(scans.source_page_png(db.files, sha256=scan.sha256, name=scan.source_name,
                                                  index=scan.page_index, max_side=PICTURE_SIDE))
            pictures[scan.scan_page_id] = png
        out.parent.mkdir(parents=True, exist_ok=True)
        render_record_report(out, report, pictures)
    seal(db, out, reason=f"{report.printed.document}, {report.printed.status}")
    # PR-03: a record's PDF is its printed copy, logged as a PRINT with the version and copy it is.
    version = int(report.printed.document.rsplit(" ", 1)[-1])
    _audited(db, actor, report.serial, out, "pdf", action="PRINT",
             extra={"version": version, "copy": report.printed.status})


# -- the JSON --------------------------------------------------------------------------------------------------
def export_json(db: Database, actor: Actor, serial: str, *, out: Path | None = None) -> dict[str, object]:
    require(db, actor, Permission.VIEW_DATA)
    with db.read() as session:
        copy = read_record(session, db, serial)
    return save_json(db, actor, copy, out)


def save_json(db: Database, actor: Actor, copy: RecordCopy, out: Path | None) -> dict[str, object]:
    """The JSON copy of ``copy``; with ``out``, written there and the export recorded in its own short write."""
    data = as_dict(copy.view, history=True)
    data["chain_head"] = copy.chain_head
    data["audit_trail"] = [e.as_dict() for e in copy.trail]
    data["exported_at"] = db.clock.now().isoformat()
    data["exported_by"] = actor.username
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
        _audited(db, actor, copy.view.serial, out, "json")
    return data


def as_dict(view: RecordView, *, history: bool) -> dict[str, object]:
    """The record as plain JSON-able data (the CLI's `record show --json` shape)."""
    fields = []
    for f in view.fields:
        item: dict[str, object] = {
            "name": f.name, "label": f.label, "type": f.type.value, "unit": f.unit, "required": f.required,
            "critical": f.critical, "limits": f.limits,
            "value": None if f.current is None else ("NA" if f.current.is_na else f.current.value),
            "entered_by": f.current.entered_by if f.current else None,
            "verified_by": f.current.verified_by if f.current else None,
            "needs_verification": f.needs_verification,
        }
        if history:
            item["entries"] = [e.as_dict() for e in f.history]
        fields.append(item)
    return {
        "serial": view.serial, "label": view.label or view.serial, "state": view.state.value,
        "template": view.template, "version": view.version, "title": view.title, "form_state": view.form_state,
        "issuance_id": view.issuance_id,
        "content_sha256": view.content_sha256, "changed_after_entry": view.changed_after_entry, "fields": fields,
        "signatures": [{"manifestation": s.info.manifestation(), "meaning": s.info.meaning.value,
                        "signer": s.info.signer_username, "signed_at": s.info.signed_at.isoformat(),
                        "status": s.status.value} for s in view.signatures],
        "scans": [{"page": s.page_no, "sha256": s.sha256, "source": s.source_name, "source_page": s.page_index + 1,
                   "scan_id": s.scan_page_id} for s in view.scans],
    }


def _audited(db: Database, actor: Actor, serial: str, out: Path, fmt: str, *, action: str = "EXPORT",
             extra: dict[str, object] | None = None) -> None:
    """Record the export (format, file, SHA-256) in its own short write, after the file is written."""
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    with db.write(actor, reason="record printed" if action == "PRINT" else "record exported") as session:
        audit.record_event(session, action, entity="record", entity_id=serial,
                           new={"format": fmt, "file": out.name, "sha256": digest, **(extra or {})})
