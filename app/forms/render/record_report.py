"""The printed copy of one electronic record (PR-01): the record, its data with full history (superseded values
struck through, still readable), its signatures, each scan as a (true) copy and the record's own audit trail.

The service reads a :class:`RecordReport` (plain data, one transaction); this lays it out. Times arrive as
the text people read (local time with the zone), people as "Full Name (username)", scans by the form's page and
the file they came in, the audit trail worded by ``app.services.reports.wording``: nothing here is an internal
name or a database number.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import BinaryIO

from app.forms.render.audit_trail_report import AuditLine, audit_table
from app.forms.render.report import KeyValues, Picture, Printed, Section, Table, Text, render_report
from app.textfmt import plural

TrailLine = AuditLine  # one event of the record's trail, worded as in the printed audit trail
_KINDS = {"correction": "correction", "paper-correction": "correction made on the paper"}


@dataclasses.dataclass(frozen=True)
class EntryLine:
    """One value entered for a field, as it stands in the history."""

    value: str | None
    is_na: bool
    kind: str  # "original", "correction", "paper-correction"
    reason: str | None
    entered_by: str  # "Otto Operator (op)"
    entered_at: str
    activity_at: str | None  # when it was done on paper, if given (minutes)
    source: str  # "direct" or "scan"
    scan: str | None  # read from: "page 1 of form 000123 (back.png, file page 1, imported 2026-03-04 10:00)"
    verified_by: str | None
    verified_at: str | None  # minutes; None: not verified
    out_of_limits: bool
    justification: str | None
    late: bool
    late_reason: str | None
    superseded: bool
    # RC-05: "by Quinn Müller (qa), 2026-03-04 14:07:12 CET (UTC+01:00): <reason>" when the value was invalidated;
    # it stays shown, flagged VOID.
    invalidated: str | None = None


@dataclasses.dataclass(frozen=True)
class FieldLines:
    label: str
    unit: str | None
    limits: str | None  # "0.0950 – 0.1050 g"
    critical: bool
    required: bool
    entries: tuple[EntryLine, ...]  # oldest first


@dataclasses.dataclass(frozen=True)
class RecordSignature:
    manifestation: str  # printed name, date/time with zone, meaning
    status: str  # "valid", "changed", ...
    comment: str | None


@dataclasses.dataclass(frozen=True)
class RecordScan:
    scan_page_id: int  # which picture is this page's (never printed)
    page_no: int  # the page of the form
    sha256: str  # of the file as received
    source_name: str
    page_index: int  # within that file, from 0
    imported: str = ""  # when and by whom the file was received


@dataclasses.dataclass(frozen=True)
class RecordReport:
    printed: Printed
    serial: str
    template: str
    version: int
    title: str
    state: str
    form_state: str
    issuance_id: int
    issuance_reconciled: bool
    created_by: str | None  # "Otto Operator (op)"
    created_at: str | None  # None: no value saved yet
    changed_after_entry: int
    content_sha256: str
    fields: tuple[FieldLines, ...]
    signatures: tuple[RecordSignature, ...]
    scans: tuple[RecordScan, ...]
    true_copy_verified_by: str | None  # "Dora Control (dc)"
    true_copy_verified_at: str | None  # None: the scans are not verified as a true copy yet
    trail: tuple[TrailLine, ...]
    # The serial as printed on the paper ("BSL-01-000123", the issuance's serial format); "": the serial itself.
    label: str = ""
    true_copy_checklist: str | None = None  # "all pages present; legible; …": what the verifier confirmed (SC-02)

    @property
    def printed_as(self) -> str:
        """How the form is named in the report: as on the sheet in the reader's hand."""
        return self.label or self.serial

    @property
    def heading(self) -> str:
        return f"Record {self.printed_as} – {self.template} v{self.version}"


def render_record_report(out: Path | BinaryIO, report: RecordReport, pictures: Mapping[int, Path]) -> None:
    """Write the record's PDF; ``pictures`` holds the image file of each scan page (by scan page id)."""
    render_report(out, report.printed.meta(report.heading), record_sections(report, pictures), wide=True)


def record_sections(report: RecordReport, pictures: Mapping[int, Path]) -> list[Section]:
    return [
        _summary(report),
        _data(report),
        _signatures(report),
        *(Picture(pictures[scan.scan_page_id], _caption(report, scan)) for scan in report.scans),
        audit_table(report.trail, heading="Audit trail of this record (in the order it happened)"),
    ]


def _summary(r: RecordReport) -> KeyValues:
    return KeyValues([
        ("Form", f"{_form_name(r)} – {r.template} version {r.version}: {r.title}"),
        ("Record state", r.state.upper() + f" (form {r.form_state}, issuance {r.issuance_id}"
         + (", reconciled)" if r.issuance_reconciled else ")")),
        ("Created", f"by {r.created_by}, {r.created_at}" if r.created_at else "no data yet"),
        ("Changed after entry", plural(r.changed_after_entry, "value")),
        ("Content SHA-256", r.content_sha256),
    ], heading="Record")


def _form_name(r: RecordReport) -> str:
    """The label, and the bare serial the audit trail names the record by when the label prints more."""
    return r.printed_as if r.printed_as == r.serial else f"{r.printed_as} (serial {r.serial})"


def _data(r: RecordReport) -> Table:
    rows: list[list[str]] = []
    struck: set[int] = set()
    highlight: set[int] = set()
    for field in r.fields:
        for entry, row in zip(field.entries or (None,), _field_rows(field), strict=True):
            if entry is not None and entry.superseded:
                struck.add(len(rows))
            elif entry is not None and entry.out_of_limits:
                highlight.add(len(rows))
            rows.append(row)
    return Table(columns=["Field", "Value", "Entered by / at", "Activity (paper)", "Source", "Verified by", "Notes"],
                 rows=rows, widths=[2.2, 1.6, 1.5, 1.1, 1, 1.3, 2.2], struck_rows=frozenset(struck),
                 highlight_rows=frozenset(highlight), heading="Data with full history (struck through = superseded)")


def _field_rows(field: FieldLines) -> list[list[str]]:
    """The field's rows: its label on the first, one row per value (or "(no value)")."""
    label = field.label + (f" [{field.unit}]" if field.unit else "") \
        + (f"\nlimits {field.limits}" if field.limits else "") + (" ◆ critical" if field.critical else "")
    if not field.entries:
        return [[label, "(no value)", "", "", "", "", "required" if field.required else ""]]
    return [[label if index == 0 else "", ("VOID: " if e.invalidated else "")
             + (f"NA ({e.reason})" if e.is_na else (e.value or "")),
             f"{e.entered_by}\n{e.entered_at}", e.activity_at or "—",
             "direct entry" if e.source == "direct" else f"scan: {e.scan or 'page not known'}", _verified(field, e),
             _notes(e)]
            for index, e in enumerate(field.entries)]


def _verified(field: FieldLines, e: EntryLine) -> str:
    if e.verified_at:
        return f"{e.verified_by}\n{e.verified_at}"
    return "UNVERIFIED" if field.critical and not e.is_na and not e.superseded and not e.invalidated else ""


def _notes(e: EntryLine) -> str:
    notes = []
    if e.kind != "original":
        notes.append(f"{_KINDS.get(e.kind, e.kind.replace('-', ' '))}: {e.reason}")
    if e.out_of_limits:
        notes.append(f"OUT OF LIMITS – {e.justification}")
    if e.late:
        notes.append(f"LATE ENTRY – {e.late_reason}")
    if e.superseded:
        notes.append("superseded")
    if e.invalidated:
        notes.append(f"VOID / INVALIDATED {e.invalidated}")
    return "; ".join(notes)


def _signatures(r: RecordReport) -> Table | Text:
    if not r.signatures:
        return Text("No signatures yet.", heading="Signatures")
    return Table(columns=["Signature (manifestation)", "Status", "Meaning of the review"],
                 rows=[[s.manifestation, s.status, s.comment or ""] for s in r.signatures], widths=[4, 2, 3],
                 heading="Signatures")


def _caption(r: RecordReport, scan: RecordScan) -> str:
    if r.true_copy_verified_at:
        statement = (f"TRUE COPY of {r.printed_as} page {scan.page_no}, verified by {r.true_copy_verified_by}, "
                     f"{r.true_copy_verified_at}")
        if r.true_copy_checklist:
            statement += f" (checked: {r.true_copy_checklist.replace('; ', ', ')})"
    else:
        statement = f"Scan of {r.printed_as} page {scan.page_no} (not yet verified as a true copy)"
    received = f", {scan.imported}" if scan.imported else ""
    return (f"{statement}; original file {scan.source_name} page {scan.page_index + 1}{received}, "
            f"SHA-256 {scan.sha256}")
