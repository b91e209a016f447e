"""The data-integrity exception report for QA self-inspection: everything that deserves a second look over a
period, from the records, the scans, the signatures and the audit trail (PDF and CSV)."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
from collections import Counter
from pathlib import Path

from sqlalchemy import select

from app import buildinfo
from app.forms.render.report import ReportMeta, Section, Table, Text, render_report
from app.models import (
    AuditEvent,
    Entry,
    EntryKind,
    Issuance,
    LinkMethod,
    Record,
    ScanOutcome,
    ScanPage,
    ScanSource,
    Signature,
    TemplateVersion,
)
from app.services.core import audit
from app.services.core.db import Actor, Database
from app.services.core.errors import ValidationError
from app.services.core.timefmt import local_text
from app.services.identity import signatures
from app.services.identity.permissions import Permission, require
from app.services.reconciliation.reconciliation import close_content, reconciliation
from app.services.records.record_views import record_content
from app.services.records.records import describe_delay
from app.services.site.setup import require_site
from app.services.templates import templates

CATEGORIES = {
    "late-entry": "Late entries", "correction": "Corrections", "out-of-limits": "Out-of-limit values",
    "manual-link": "Manual scan links", "possible-copy": "Possible uncontrolled copies",
    "broken-signature": "Signatures broken by later changes", "failed-login": "Failed log-ins and signing attempts",
    "lockout": "Account lockouts", "clock": "Clock anomalies and skew", "refused": "Refused actions "
    "(self-verification, self-approval, order of signing, permissions)",
}


@dataclasses.dataclass(frozen=True)
class Finding:
    category: str
    when: dt.datetime
    who: str
    subject: str
    detail: str


def findings(db: Database, actor: Actor, *, since: dt.date, until: dt.date) -> list[Finding]:
    require(db, actor, Permission.VIEW_AUDIT)
    if until < since:
        raise ValidationError("the end date is before the start date")
    start = dt.datetime.combine(since, dt.time()).astimezone()
    end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time()).astimezone()
    out: list[Finding] = []
    with db.read() as session:
        entries = session.execute(select(Entry, Record.serial).join(Record, Entry.record_id == Record.id)
                                  .where(Entry.entered_at >= start, Entry.entered_at < end)).all()
        for entry, serial in entries:
            subject = f"{serial} {entry.field_name}"
            if entry.late and entry.activity_at:
                out.append(Finding("late-entry", entry.entered_at, entry.entered_by, subject,
                                   f"late entry {describe_delay(entry.entered_at - entry.activity_at)}: "
                                   f"{entry.late_reason}"))
            if entry.kind is not EntryKind.ORIGINAL:
                out.append(Finding("correction", entry.entered_at, entry.entered_by, subject,
                                   f"{entry.kind.value} to {entry.value!r}: {entry.reason}"))
            if entry.out_of_limits:
                out.append(Finding("out-of-limits", entry.entered_at, entry.entered_by, subject,
                                   f"{entry.value} – justification: {entry.justification}"))
        pages = session.execute(select(ScanPage, ScanSource).join(ScanSource, ScanPage.source_id == ScanSource.id)
                                .where(ScanSource.imported_at >= start, ScanSource.imported_at < end)).all()
        for page, source in pages:
            subject = f"{source.original_name} p.{page.page_index + 1}"
            if page.link_method == LinkMethod.MANUAL.value:
                out.append(Finding("manual-link", page.linked_at or source.imported_at, page.linked_by or "",
                                   subject, f"linked by hand to page {page.page_no}: {page.resolution}"))
            if page.outcome is ScanOutcome.POSSIBLE_COPY:
                out.append(Finding("possible-copy", source.imported_at, source.imported_by, subject, page.reason or ""))
        out.extend(_broken_signatures(db, actor, session, start, end))
        events = session.scalars(select(AuditEvent).where(
            AuditEvent.occurred_at >= start, AuditEvent.occurred_at < end, AuditEvent.action.in_(
                ("LOGIN_FAILURE", "SIGN_FAIL", "LOCKOUT", "CLOCK_ANOMALY", "CLOCK_SKEW", "RULE_REFUSED",
                 "ACCESS_DENIED"))).order_by(AuditEvent.seq))
        category = {"LOGIN_FAILURE": "failed-login", "SIGN_FAIL": "failed-login", "LOCKOUT": "lockout",
                    "CLOCK_ANOMALY": "clock", "CLOCK_SKEW": "clock", "RULE_REFUSED": "refused",
                    "ACCESS_DENIED": "refused"}
        for event in events:
            detail = event.reason or ""
            if event.action.startswith("CLOCK"):
                detail = f"{event.field}: {event.old_value or ''} → {event.new_value} ({event.reason})"
            out.append(Finding(category[event.action], event.occurred_at, event.username,
                               f"{event.action} at {event.workstation}", detail))
    return sorted(out, key=lambda f: (list(CATEGORIES).index(f.category), f.when))


def _broken_signatures(db: Database, actor: Actor, session, start: dt.datetime, end: dt.datetime) -> list[Finding]:  # noqa: ANN001
    found = []
    sigs = session.scalars(select(Signature).where(Signature.signed_at < end)).all()
    for sig in sigs:
        content = None
        if sig.entity == "record":
            record = session.scalar(select(Record).where(Record.serial == sig.entity_id))
            if record is not None:
                version = session.get(TemplateVersion, record.template_version_id)
                content = record_content(record, templates.layout_of(version))
        elif sig.entity == "template_version":
            version = next((v for v in session.scalars(select(TemplateVersion)) if v.label == sig.entity_id), None)
            content = templates.approval_content(version) if version else None
        elif sig.entity == "issuance" and session.get(Issuance, int(sig.entity_id)) is not None:
            content = close_content(reconciliation(db, actor, int(sig.entity_id)))
        if content is None:
            continue
        info = next(s for s in signatures.signatures_of(session, sig.entity, sig.entity_id) if s.id == sig.id)
        if signatures.status(info, content) is signatures.SignatureStatus.CHANGED:
            found.append(Finding("broken-signature", sig.signed_at, sig.signer_username,
                                 f"{sig.entity} {sig.entity_id}",
                                 f"{info.manifestation()}: content changed after signing"))
    return found


def write_report(db: Database, actor: Actor, *, since: dt.date, until: dt.date, out: Path) -> tuple[Path, int]:
    """PDF or CSV by the file's extension; the report itself is recorded in the audit trail."""
    items = findings(db, actor, since=since, until=until)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".csv":
        with out.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["category", "when", "who", "subject", "detail"])
            for f in items:
                writer.writerow([f.category, f.when.isoformat(), f.who, f.subject, f.detail])
    elif out.suffix.lower() == ".pdf":
        with db.read() as session:
            head = "{}:{}".format(*audit.chain_head(session))
        meta = ReportMeta(title=f"Data-integrity exception report {since} to {until}", site=require_site(db).code,
                          printed_by=f"{actor.full_name} ({actor.username})", printed_at=local_text(db.clock.now()),
                          chain_head=head, app_version=buildinfo.text())
        counts = Counter(f.category for f in items)
        summary = [[title, str(counts.get(key, 0))] for key, title in CATEGORIES.items()]
        sections: list[Section] = [Table(columns=["What", "Findings"], rows=summary, widths=[5, 1], heading="Summary")]
        per_user = Counter(f.who for f in items if f.category == "correction")
        if per_user:
            sections.append(Table(columns=["User", "Corrections"],
                                  rows=[[u, str(n)] for u, n in per_user.most_common()],
                                  widths=[3, 1], heading="Corrections per user"))
        for key, title in CATEGORIES.items():
            rows = [[local_text(f.when), f.who, f.subject, f.detail] for f in items if f.category == key]
            sections.append(Table(columns=["When", "Who", "Subject", "Detail"], rows=rows, widths=[1.5, 1, 2, 5],
                                  heading=title) if rows else Text("None.", heading=title))
        render_report(out, meta, sections, wide=True)
    else:
        raise ValidationError("the integrity report is written as .pdf or .csv; name the output file accordingly")
    with db.write(actor, reason="integrity report") as session:
        audit.record_event(session, "EXPORT", entity="report", entity_id=f"integrity {since}..{until}",
                           new={"file": out.name, "findings": len(items)})
    return out, len(items)
