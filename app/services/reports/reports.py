"""Printed reports of reconciliation: one issuance's reconciliation report, and accountability over a period.
Each carries who printed it and when, the audit chain head and "Page x of y"; printing is audited.

Each report reads everything it shows in one read transaction (``gather_*``, into a dataclass of plain data),
is laid out by ``app.forms.render.reconciliation_report``, and is then recorded in a short audited write.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter, defaultdict
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.forms.render.reconciliation_report import (
    AccountabilityReport,
    AccountabilityRow,
    ReconciliationReport,
    ReconciliationSignature,
    SheetLine,
    SheetScan,
    render_accountability_report,
    render_reconciliation_report,
)
from app.forms.render.report import Printed
from app.models import FormState, Issuance
from app.services.core.db import Actor, Database
from app.services.core.errors import ValidationError
from app.services.core.timefmt import local_text
from app.services.identity import signatures
from app.services.identity.permissions import Permission, require
from app.services.reconciliation import reconciliation
from app.services.reconciliation.reconciliation import (
    ReconciliationView,
    ReconFormRow,
    close_content,
    record_report_event,
)
from app.services.reports import wording
from app.services.reports.naming import people_in
from app.services.reports.printed import copy_status, printed_in, report_prints_in, seal

__all__ = ["AccountabilityRow", "accountability", "accountability_report", "gather_accountability",
           "gather_reconciliation", "local_days", "reconciliation_in", "reconciliation_report", "save_reconciliation"]


# -- reconciliation of one issuance ----------------------------------------------------------------------------
def gather_reconciliation(db: Database, actor: Actor, issuance_id: int) -> ReconciliationReport:
    """Everything the reconciliation report shows, read in one transaction."""
    require(db, actor, Permission.VIEW_DATA)
    with db.read() as session:
        return reconciliation_in(session, db, issuance_id, printed_in(session, db, actor))


def reconciliation_in(session: Session, db: Database, issuance_id: int, printed: Printed) -> ReconciliationReport:
    """The reconciliation report's data, read in ``session`` (the archive reads several in its one transaction)."""
    view = reconciliation.view_in(db, session, issuance_id)
    # PR-03: the issuance's reconciliation report is one document: its first print is the ORIGINAL.
    earlier = report_prints_in(session, entity_id=str(issuance_id), kind="reconciliation")
    printed = dataclasses.replace(printed, status=copy_status(earlier),
                                  document=f"Reconciliation of issuance {issuance_id}",
                                  signed=tuple(s.manifestation() for s in view.signatures))
    return _reconciliation_report(view, printed, wording.Names(people=people_in(session)))


def _reconciliation_report(view: ReconciliationView, printed: Printed, names: wording.Names) -> ReconciliationReport:
    content = close_content(view)
    return ReconciliationReport(
        printed=printed, issuance_id=view.issuance_id, template=view.template, version=view.version,
        title=view.title, purpose=view.purpose, reference=view.reference, issued_to=view.issued_to,
        issued_by=view.issued_by, issued_by_name=view.issued_by_name, issued_at=local_text(view.issued_at),
        due_date=view.due_date, overdue=view.overdue, closed=view.closed,
        forms=tuple(_sheet_line(f, names) for f in view.forms),
        signatures=tuple(ReconciliationSignature(s.manifestation(), signatures.status(s, content).value,
                                                 s.content_hash) for s in view.signatures),
    )


def _sheet_line(f: ReconFormRow, names: wording.Names) -> SheetLine:
    """One sheet as the report prints it: the serials as labelled on the paper."""
    return SheetLine(
        serial=f.label or f.serial, copy_no=f.copy_no, state=f.state.value, pages=f.pages, pages_back=f.pages_back,
        reason=f.reason, deviation_ref=f.deviation_ref, changed_by=wording.person(f.changed_by, names) or None,
        changed_at=local_text(f.changed_at, seconds=False) if f.changed_at else None,
        replaces=f.replaces_label or f.replaces, replaced_by=f.replaced_by_label or f.replaced_by, note=f.note,
        accounted=f.accounted,
        scans=tuple(SheetScan(s.page_no, wording.value_text("scan_page", "outcome", s.outcome, names).lower(),
                              s.superseded, s.sha256, s.source_name) for s in f.scans),
    )


def reconciliation_report(db: Database, actor: Actor, issuance_id: int, *, out: Path) -> Path:
    save_reconciliation(db, actor, gather_reconciliation(db, actor, issuance_id), out)
    return out


def save_reconciliation(db: Database, actor: Actor, report: ReconciliationReport, out: Path) -> None:
    """Lay the report out into ``out``, then record the printing in its own short write."""
    render_reconciliation_report(out, report)
    seal(db, out, reason=f"{report.printed.document}, {report.printed.status}")
    record_report_event(db, actor, kind="reconciliation", entity_id=str(report.issuance_id),
                        details={"file": out.name, "forms": len(report.forms), "copy": report.printed.status})


# -- accountability over a period ------------------------------------------------------------------------------
def local_days(since: dt.date, until: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The local dates ``since`` to ``until`` (inclusive) as a half-open range of aware times."""
    if until < since:
        raise ValidationError("the end date is before the start date")
    return (dt.datetime.combine(since, dt.time()).astimezone(),
            dt.datetime.combine(until + dt.timedelta(days=1), dt.time()).astimezone())


def _accountability_in(session: Session, since: dt.date,
                       until: dt.date) -> tuple[tuple[AccountabilityRow, ...], tuple[AccountabilityRow, ...]]:
    start, end = local_days(since, until)
    per_template: dict[str, Counter[str]] = defaultdict(Counter)
    per_person: dict[str, Counter[str]] = defaultdict(Counter)
    issuances = session.scalars(select(Issuance).where(Issuance.issued_at >= start, Issuance.issued_at < end)
                                .options(selectinload(Issuance.forms)))
    for issuance in issuances:
        label = issuance.template_version.label
        for form in issuance.forms:
            for bucket in (per_template[label], per_person[issuance.issued_to]):
                bucket["total"] += 1  # not "issued": that is also the name of the state still out
                bucket[form.state.value] += 1
    return _rows(per_template), _rows(per_person)


def _rows(groups: dict[str, Counter[str]]) -> tuple[AccountabilityRow, ...]:
    return tuple(AccountabilityRow(group=name, issued=c["total"], returned=c[FormState.RETURNED.value],
                                   voided=c[FormState.VOIDED.value], missing=c[FormState.MISSING.value],
                                   replaced=c[FormState.REPLACED.value], outstanding=c[FormState.ISSUED.value])
                 for name, c in sorted(groups.items()))


def accountability(db: Database, actor: Actor, *, since: dt.date,
                   until: dt.date) -> tuple[list[AccountabilityRow], list[AccountabilityRow]]:
    """Per template and per person issued to, for issuances made from ``since`` to ``until`` (inclusive)."""
    require(db, actor, Permission.VIEW_DATA)
    with db.read() as session:
        by_template, by_person = _accountability_in(session, since, until)
    return list(by_template), list(by_person)


def gather_accountability(db: Database, actor: Actor, *, since: dt.date, until: dt.date) -> AccountabilityReport:
    """Everything the accountability report shows, read in one transaction."""
    require(db, actor, Permission.VIEW_DATA)
    with db.read() as session:
        by_template, by_person = _accountability_in(session, since, until)
        return AccountabilityReport(printed=printed_in(session, db, actor), since=since, until=until,
                                    by_template=by_template, by_person=by_person)


def accountability_report(db: Database, actor: Actor, *, since: dt.date, until: dt.date, out: Path) -> Path:
    report = gather_accountability(db, actor, since=since, until=until)
    render_accountability_report(out, report)
    seal(db, out, reason="accountability report")
    record_report_event(db, actor, kind="accountability", entity_id=f"{since}..{until}", details={"file": out.name})
    return out
