"""Printed reports of reconciliation: one issuance's reconciliation report, and accountability over a period.
Each carries who printed it and when, the audit chain head and "Page x of y"; printing is audited."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter, defaultdict
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import selectinload

import app
from app.forms.render.report import KeyValues, ReportMeta, Table, Text, render_report
from app.models import FormState, Issuance
from app.services.core import audit
from app.services.core.db import Actor, Database
from app.services.core.errors import ValidationError
from app.services.core.timefmt import local_text
from app.services.identity import signatures
from app.services.identity.permissions import Permission, require
from app.services.reconciliation.reconciliation import close_content, reconciliation, record_report_event
from app.services.site.setup import require_site
from app.textfmt import of_total, plural


def _meta(db: Database, actor: Actor, title: str) -> ReportMeta:
    with db.read() as session:
        head = "{}:{}".format(*audit.chain_head(session))
    return ReportMeta(title=title, site=require_site(db).code, printed_by=f"{actor.full_name} ({actor.username})",
                      printed_at=local_text(db.clock.now()), chain_head=head, app_version=app.__version__)


def reconciliation_report(db: Database, actor: Actor, issuance_id: int, *, out: Path) -> Path:
    view = reconciliation(db, actor, issuance_id)
    meta = _meta(db, actor, f"Reconciliation report – issuance {view.issuance_id}")
    counts = Counter(f.state.value for f in view.forms)
    outstanding = plural(len(view.outstanding), "form")
    status = "RECONCILED (closed)" if view.closed else f"OPEN – {outstanding} not accounted for"
    rows, highlight = [], set()
    for index, f in enumerate(view.forms):
        scans = "\n".join(f"p.{s.page_no or '?'} {s.outcome}{' (superseded)' if s.superseded else ''} "
                          f"{s.sha256[:16]}… {s.source_name}" for s in f.scans) or "—"
        links = " ".join(x for x in (f"replaces {f.replaces}" if f.replaces else "",
                                      f"replaced by {f.replaced_by}" if f.replaced_by else "") if x)
        who = f"{f.changed_by} {local_text(f.changed_at, seconds=False)}" if f.changed_at else ""
        rows.append([f.serial, str(f.copy_no), f.state.value.upper(), f"{f.pages_back}/{f.pages}",
                     "; ".join(x for x in (f.reason or "", links, f.note or "") if x), f.deviation_ref or "", who,
                     scans])
        if not f.accounted:
            highlight.add(index)
    sig_rows = []
    content = close_content(view)
    for sig in view.signatures:
        sig_rows.append([sig.manifestation(), signatures.status(sig, content).value, sig.content_hash[:32] + "…"])
    render_report(out, meta, [
        KeyValues([
            ("Template", f"{view.template} version {view.version} – {view.title}"),
            ("Purpose / reference", f"{view.purpose} / {view.reference or '—'}"),
            ("Issued to", view.issued_to),
            ("Issued by / on", f"{view.issued_by_name} ({view.issued_by}), {local_text(view.issued_at)}"),
            ("Return due", view.due_date.isoformat() + (" – OVERDUE" if view.overdue else "")),
            ("Status", status),
            ("Accounted for", f"{of_total(view.accounted, view.total, 'form')} ("
                              + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) + ")"),
        ], heading="Issuance"),
        Table(columns=["Serial", "Copy", "Final state", "Pages back", "Reason / links / note", "Deviation",
                       "Changed by / on", "Scans (page, outcome, SHA-256, file)"],
              rows=rows, widths=[0.9, 0.5, 1.0, 0.7, 2.6, 1.0, 1.5, 3.6], highlight_rows=frozenset(highlight),
              heading="Every issued serial"),
        Table(columns=["Signature (manifestation)", "Status", "Signed content SHA-256"], rows=sig_rows,
              widths=[4, 1.6, 2.4], heading="Signatures") if sig_rows else
        Text("Not signed: the reconciliation is not closed.", heading="Signatures"),
    ], wide=True)
    record_report_event(db, actor, kind="reconciliation", entity_id=str(issuance_id),
                        details={"file": out.name, "forms": view.total})
    return out


@dataclasses.dataclass(frozen=True)
class AccountabilityRow:
    group: str
    issued: int
    returned: int
    voided: int
    missing: int
    replaced: int
    outstanding: int


def accountability(db: Database, actor: Actor, *, since: dt.date,
                   until: dt.date) -> tuple[list[AccountabilityRow], list[AccountabilityRow]]:
    """Per template and per person issued to, for issuances made from ``since`` to ``until`` (inclusive)."""
    require(db, actor, Permission.VIEW_DATA)
    if until < since:
        raise ValidationError("the end date is before the start date")
    start = dt.datetime.combine(since, dt.time()).astimezone()
    end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time()).astimezone()
    per_template: dict[str, Counter[str]] = defaultdict(Counter)
    per_person: dict[str, Counter[str]] = defaultdict(Counter)
    with db.read() as session:
        issuances = session.scalars(select(Issuance).where(Issuance.issued_at >= start, Issuance.issued_at < end)
                                    .options(selectinload(Issuance.forms)))
        for issuance in issuances:
            label = issuance.template_version.label
            for form in issuance.forms:
                for bucket in (per_template[label], per_person[issuance.issued_to]):
                    bucket["total"] += 1  # not "issued": that is also the name of the state still out
                    bucket[form.state.value] += 1
    def rows(groups: dict[str, Counter[str]]) -> list[AccountabilityRow]:
        return [AccountabilityRow(group=name, issued=c["total"], returned=c[FormState.RETURNED.value],
                                  voided=c[FormState.VOIDED.value], missing=c[FormState.MISSING.value],
                                  replaced=c[FormState.REPLACED.value], outstanding=c[FormState.ISSUED.value])
                for name, c in sorted(groups.items())]
    return rows(per_template), rows(per_person)


def accountability_report(db: Database, actor: Actor, *, since: dt.date, until: dt.date, out: Path) -> Path:
    by_template, by_person = accountability(db, actor, since=since, until=until)
    meta = _meta(db, actor, f"Accountability report {since.isoformat()} to {until.isoformat()}")
    columns = ["Issued", "Returned", "Voided", "Missing", "Replaced", "Still out"]

    def table(heading: str, first: str, rows: list[AccountabilityRow]) -> Table:
        data = [[r.group, str(r.issued), str(r.returned), str(r.voided), str(r.missing), str(r.replaced),
                 str(r.outstanding)] for r in rows]
        totals = [sum(getattr(r, a) for r in rows) for a in ("issued", "returned", "voided", "missing", "replaced",
                                                               "outstanding")]
        data.append(["Total", *map(str, totals)])
        return Table(columns=[first, *columns], rows=data, widths=[3, 1, 1, 1, 1, 1, 1], heading=heading,
                     highlight_rows=frozenset({len(data) - 1}))

    render_report(out, meta, [
        Text(f"Forms issued from {since.isoformat()} to {until.isoformat()} (local dates), by their current state."),
        table("Per template", "Template@version", by_template),
        table("Per person or area issued to", "Issued to", by_person),
    ])
    record_report_event(db, actor, kind="accountability", entity_id=f"{since}..{until}", details={"file": out.name})
    return out
