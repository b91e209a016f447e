"""The printed reports of reconciliation: one issuance's reconciliation report (every issued serial, what became
of it and its scans, the QA signature) and the accountability report over a period.

The service reads a :class:`ReconciliationReport` or an :class:`AccountabilityReport` (plain data, one
transaction); this lays it out. Times arrive as the text people read (local time with the zone), people as
"Full Name (username)"; hashes are printed whole, so that they can be checked against the files.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from pathlib import Path
from typing import BinaryIO

from app.forms.render.report import KeyValues, Printed, Section, Table, Text, render_report
from app.textfmt import of_total, plural


@dataclasses.dataclass(frozen=True)
class SheetScan:
    """One scanned page kept with an issued form (linked, or an exception that names it)."""

    page_no: int | None
    outcome: str  # in words: "linked", "page already returned: possible uncontrolled copy"
    superseded: bool
    sha256: str
    source_name: str


@dataclasses.dataclass(frozen=True)
class SheetLine:
    """One issued serial and what became of it. Serials are given as printed on the paper (their label, e.g.
    "BSL-01-000123"), so the report names each sheet as the person holding it reads it."""

    serial: str  # the label
    copy_no: int
    state: str  # "returned", "voided", ...
    pages: int
    pages_back: int
    reason: str | None
    deviation_ref: str | None
    changed_by: str | None  # "Dora Control (dc)"
    changed_at: str | None  # minutes
    replaces: str | None  # the label of the form this one replaces
    replaced_by: str | None  # the label of its replacement
    note: str | None  # what is still expected of the sheet, in words
    accounted: bool
    scans: tuple[SheetScan, ...]


@dataclasses.dataclass(frozen=True)
class ReconciliationSignature:
    manifestation: str
    status: str  # "valid", "changed", ...
    content_sha256: str


@dataclasses.dataclass(frozen=True)
class ReconciliationReport:
    printed: Printed
    issuance_id: int
    template: str
    version: int
    title: str
    purpose: str
    reference: str | None
    issued_to: str
    issued_by: str
    issued_by_name: str
    issued_at: str
    due_date: dt.date
    overdue: bool
    closed: bool  # reconciled and signed
    forms: tuple[SheetLine, ...]
    signatures: tuple[ReconciliationSignature, ...]

    @property
    def accounted(self) -> int:
        return sum(f.accounted for f in self.forms)


def render_reconciliation_report(out: Path | BinaryIO, report: ReconciliationReport) -> None:
    render_report(out, report.printed.meta(f"Reconciliation report – issuance {report.issuance_id}"),
                  reconciliation_sections(report), wide=True)


def reconciliation_sections(r: ReconciliationReport) -> list[Section]:
    outstanding = plural(len(r.forms) - r.accounted, "form")
    counts = Counter(f.state for f in r.forms)
    return [
        KeyValues([
            ("Template", f"{r.template} version {r.version} – {r.title}"),
            ("Purpose / reference", f"{r.purpose} / {r.reference or '—'}"),
            ("Issued to", r.issued_to),
            ("Issued by / on", f"{r.issued_by_name} ({r.issued_by}), {r.issued_at}"),
            ("Return due", r.due_date.isoformat() + (" – OVERDUE" if r.overdue else "")),
            ("Status", "RECONCILED (closed)" if r.closed else f"OPEN – {outstanding} not accounted for"),
            ("Accounted for", f"{of_total(r.accounted, len(r.forms), 'form')} ("
                              + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) + ")"),
        ], heading="Issuance"),
        Table(columns=["Serial", "Copy", "Final state", "Pages back", "Reason / links / note", "Deviation",
                       "Changed by / on", "Scans (form page, outcome, file, SHA-256)"],
              rows=[_sheet_row(f) for f in r.forms], widths=[1.8, 0.5, 1.0, 0.7, 2.3, 1.0, 1.5, 3.1],
              highlight_rows=frozenset(i for i, f in enumerate(r.forms) if not f.accounted),
              heading="Every issued serial"),
        Table(columns=["Signature (manifestation)", "Status", "Signed content SHA-256"],
              rows=[[s.manifestation, s.status, s.content_sha256] for s in r.signatures],
              widths=[4, 1.6, 2.4], heading="Signatures") if r.signatures else
        Text("Not signed: the reconciliation is not closed.", heading="Signatures"),
    ]


def _sheet_row(f: SheetLine) -> list[str]:
    scans = "\n".join(f"page {s.page_no or '?'}: {s.outcome}{' (superseded)' if s.superseded else ''}, "
                      f"{s.source_name}, SHA-256 {s.sha256}" for s in f.scans) or "—"
    links = " ".join(x for x in (f"replaces {f.replaces}" if f.replaces else "",
                                  f"replaced by {f.replaced_by}" if f.replaced_by else "") if x)
    who = f"{f.changed_by}\n{f.changed_at}" if f.changed_at else ""
    return [f.serial, str(f.copy_no), f.state.upper(), f"{f.pages_back}/{f.pages}",
            "; ".join(x for x in (f.reason or "", links, f.note or "") if x), f.deviation_ref or "", who, scans]


@dataclasses.dataclass(frozen=True)
class AccountabilityRow:
    group: str  # a template@version, or the person or area issued to
    issued: int
    returned: int
    voided: int
    missing: int
    replaced: int
    outstanding: int


COUNTS = ("issued", "returned", "voided", "missing", "replaced", "outstanding")


@dataclasses.dataclass(frozen=True)
class AccountabilityReport:
    printed: Printed
    since: dt.date
    until: dt.date
    by_template: tuple[AccountabilityRow, ...]
    by_person: tuple[AccountabilityRow, ...]


def render_accountability_report(out: Path | BinaryIO, report: AccountabilityReport) -> None:
    period = f"{report.since.isoformat()} to {report.until.isoformat()}"
    render_report(out, report.printed.meta(f"Accountability report {period}"), [
        Text(f"Forms issued from {period} (local dates), by their current state."),
        _accountability_table("Per template", "Template@version", report.by_template),
        _accountability_table("Per person or area issued to", "Issued to", report.by_person),
    ])


def _accountability_table(heading: str, first: str, rows: tuple[AccountabilityRow, ...]) -> Table:
    data = [[r.group, *(str(getattr(r, c)) for c in COUNTS)] for r in rows]
    data.append(["Total", *(str(sum(getattr(r, c) for r in rows)) for c in COUNTS)])
    return Table(columns=[first, "Issued", "Returned", "Voided", "Missing", "Replaced", "Still out"], rows=data,
                 widths=[3, 1, 1, 1, 1, 1, 1], heading=heading, highlight_rows=frozenset({len(data) - 1}))
