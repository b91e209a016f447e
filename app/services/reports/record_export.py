"""The complete copy of a record (PR-01): PDF for people, JSON for machines. Both name the SHA-256 of every
included scan and carry the record's own audit trail and the chain head."""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path

from sqlalchemy import and_, or_, select

import app
from app.forms.render.report import KeyValues, Picture, ReportMeta, Table, Text, render_report
from app.models import AuditEvent, IssuedForm, ScanPage
from app.services.core import audit
from app.services.core.db import Actor, Database
from app.services.core.timefmt import local_text
from app.services.identity.permissions import Permission, require
from app.services.records.record_views import EntryInfo, RecordView
from app.services.records.records import record_view
from app.services.reports.audit_log import AuditEventView, event_view
from app.services.scans import scans, true_copy
from app.services.site.setup import require_site
from app.textfmt import plural


def record_trail(db: Database, serial: str) -> list[AuditEventView]:
    """Every audit event about the record, its entries, its signatures, its form and the form's scans."""
    with db.read() as session:
        form = session.scalar(select(IssuedForm).where(IssuedForm.serial == serial))
        scan_ids = [str(i) for i in session.scalars(select(ScanPage.id).where(ScanPage.issued_form_id == form.id))]
        query = select(AuditEvent).where(or_(
            and_(AuditEvent.entity == "record", AuditEvent.entity_id == serial),
            and_(AuditEvent.entity == "record_entry", AuditEvent.entity_id.like(f"{serial}/%")),
            and_(AuditEvent.entity == "signature", or_(AuditEvent.entity_id.like(f"record:{serial}#%"),
                                                      AuditEvent.entity_id.like(f"issued_form:{serial}#%"))),
            and_(AuditEvent.entity == "issued_form", AuditEvent.entity_id == serial),
            and_(AuditEvent.entity == "scan_page", AuditEvent.entity_id.in_(scan_ids or ["-"])),
        )).order_by(AuditEvent.seq)
        return [event_view(e) for e in session.scalars(query)]


def _entry_text(e: EntryInfo) -> str:
    value = f"NA ({e.reason})" if e.is_na else (e.value or "")
    return value


def _flags(e: EntryInfo) -> str:
    flags = []
    if e.kind.value != "original":
        flags.append(f"{e.kind.value}: {e.reason}")
    if e.out_of_limits:
        flags.append(f"OUT OF LIMITS – {e.justification}")
    if e.late:
        flags.append(f"LATE ENTRY – {e.late_reason}")
    if e.superseded:
        flags.append("superseded")
    return "; ".join(flags)


def export_pdf(db: Database, actor: Actor, serial: str, *, out: Path) -> Path:
    require(db, actor, Permission.VIEW_DATA)
    view = record_view(db, actor, serial)
    trail = record_trail(db, view.serial)
    copy = true_copy.status(db, actor, view.serial)
    with db.read() as session:
        head = "{}:{}".format(*audit.chain_head(session))
    meta = ReportMeta(title=f"Record {view.serial} – {view.template} v{view.version}", site=require_site(db).code,
                      printed_by=f"{actor.full_name} ({actor.username})", printed_at=local_text(db.clock.now()),
                      chain_head=head, app_version=app.__version__)
    rows, struck, highlight = [], set(), set()
    for f in view.fields:
        label = f"{f.label}" + (f" [{f.unit}]" if f.unit else "") + (f"\nlimits {f.limits}" if f.limits else "") \
            + (" ◆ critical" if f.critical else "")
        for e in f.history or ():
            if e.superseded:
                struck.add(len(rows))
            if e.out_of_limits and not e.superseded:
                highlight.add(len(rows))
            source = "direct entry" if e.source == "direct" else f"scan page {e.scan_page_id}"
            activity = local_text(e.activity_at, seconds=False) if e.activity_at else "—"
            rows.append([label, _entry_text(e), f"{e.entered_by}\n{local_text(e.entered_at)}", activity, source,
                         f"{e.verified_by} {local_text(e.verified_at, seconds=False)}" if e.verified_at else
                         ("UNVERIFIED" if f.critical and not e.is_na and not e.superseded else ""), _flags(e)])
            label = ""
        if not f.history:
            rows.append([label, "(no value)", "", "", "", "", "required" if f.required else ""])
    sig_rows = [[s.info.manifestation(), s.status.value, s.info.comment or ""] for s in view.signatures]
    sections = [
        KeyValues([
            ("Form", f"{view.serial} – {view.template} version {view.version}: {view.title}"),
            ("Record state", view.state.value.upper() + f" (form {view.form_state}, issuance {view.issuance_id}"
             + (", reconciled)" if view.issuance_reconciled else ")")),
            ("Created", f"{view.created_by} {local_text(view.created_at)}" if view.created_at else "no data yet"),
            ("Changed after entry", plural(view.changed_after_entry, "value")),
            ("Content SHA-256", view.content_sha256),
        ], heading="Record"),
        Table(columns=["Field", "Value", "Entered by / at", "Activity (paper)", "Source", "Verified by", "Notes"],
              rows=rows, widths=[2.2, 1.6, 1.5, 1.1, 1, 1.3, 2.2], struck_rows=frozenset(struck),
              highlight_rows=frozenset(highlight), heading="Data with full history (struck through = superseded)"),
        Table(columns=["Signature (manifestation)", "Status", "Meaning of the review"], rows=sig_rows,
              widths=[4, 2, 3], heading="Signatures") if sig_rows else Text("No signatures yet.", heading="Signatures"),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for scan in view.scans:
            png = Path(tmp) / f"{scan.scan_page_id}.png"
            png.write_bytes(scans.page_png(db, actor, scan.scan_page_id, max_side=1600))
            statement = (f"TRUE COPY of {view.serial} page {scan.page_no}, verified by {copy.verified_by}, "
                         f"{local_text(copy.verified_at)}" if copy.verified_at else
                         f"Scan of {view.serial} page {scan.page_no} (not yet verified as a true copy)")
            sections.append(Picture(png, f"{statement}; original file {scan.source_name} page "
                                         f"{scan.page_index + 1}, SHA-256 {scan.sha256}"))
        sections.append(Table(
            columns=["#", "When", "Who", "Action", "Entity", "Field", "Old", "New", "Reason"],
            rows=[[str(e.seq), local_text(e.occurred_at), e.username, e.action, f"{e.entity} {e.entity_id or ''}",
                   e.field or "", _short(e.old_value), _short(e.new_value), e.reason or ""] for e in trail],
            widths=[0.5, 1.4, 0.8, 1.0, 1.6, 1.0, 1.5, 1.5, 1.6], heading="Audit trail of this record"))
        out.parent.mkdir(parents=True, exist_ok=True)
        render_report(out, meta, sections, wide=True)
    _audited(db, actor, view.serial, out, "pdf")
    return out


def _short(text: str | None, limit: int = 160) -> str:
    if not text:
        return ""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def export_json(db: Database, actor: Actor, serial: str, *, out: Path | None = None) -> dict[str, object]:
    require(db, actor, Permission.VIEW_DATA)
    view = record_view(db, actor, serial)
    data = as_dict(view, history=True)
    with db.read() as session:
        data["chain_head"] = "{}:{}".format(*audit.chain_head(session))
    data["audit_trail"] = [e.as_dict() for e in record_trail(db, view.serial)]
    data["exported_at"] = db.clock.now().isoformat()
    data["exported_by"] = actor.username
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
        _audited(db, actor, view.serial, out, "json")
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
        "serial": view.serial, "state": view.state.value, "template": view.template, "version": view.version,
        "title": view.title, "form_state": view.form_state, "issuance_id": view.issuance_id,
        "content_sha256": view.content_sha256, "changed_after_entry": view.changed_after_entry, "fields": fields,
        "signatures": [{"manifestation": s.info.manifestation(), "meaning": s.info.meaning.value,
                        "signer": s.info.signer_username, "signed_at": s.info.signed_at.isoformat(),
                        "status": s.status.value} for s in view.signatures],
        "scans": [{"page": s.page_no, "sha256": s.sha256, "source": s.source_name, "source_page": s.page_index + 1,
                   "scan_id": s.scan_page_id} for s in view.scans],
    }


def _audited(db: Database, actor: Actor, serial: str, out: Path, fmt: str) -> None:
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    with db.write(actor, reason="record exported") as session:
        audit.record_event(session, "EXPORT", entity="record", entity_id=serial,
                           new={"format": fmt, "file": out.name, "sha256": digest})

