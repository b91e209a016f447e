"""The report layouts of app/forms, from hand-made data (no database): what each PDF says, read back with pdfium."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io

import pypdfium2 as pdfium
from PIL import Image

from app.forms.render.audit_trail_report import AuditLine, AuditTrailReport, render_audit_trail_report
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
from app.forms.render.record_report import (
    EntryLine,
    FieldLines,
    RecordReport,
    RecordScan,
    RecordSignature,
    TrailLine,
    render_record_report,
)
from app.forms.render.report import Printed

PRINTED = Printed(site="BSL-01", printed_by="Quinn Müller (qa)", printed_at="2026-03-04 14:07:12 CET (UTC+01:00)",
                  chain_head="42:" + "ab" * 32, app_version="9.9.9")
WHEN = "2026-03-04 10:00:00 CET (UTC+01:00)"


def _text(data: bytes) -> tuple[str, int]:
    doc = pdfium.PdfDocument(data)
    text = "\n".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
    return " ".join(text.replace("\r", " ").split()), len(doc)  # cells wrap: compare with single spaces


def _entry(value: str, **changes: object) -> EntryLine:
    fields: dict[str, object] = dict(
        value=value, is_na=False, kind="original", reason=None, entered_by="Otto Operator (op)", entered_at=WHEN,
        activity_at=None, source="direct", scan=None, verified_by=None, verified_at=None, out_of_limits=False,
        justification=None, late=False, late_reason=None, superseded=False)
    fields.update(changes)
    return EntryLine(**fields)  # type: ignore[arg-type]


def test_record_report_layout(tmp_path):
    picture = tmp_path / "7.png"
    Image.new("L", (300, 420), 255).save(picture)
    report = RecordReport(
        printed=PRINTED, serial="000123", template="QC-WS-014", version=2, title="Balance weighing worksheet",
        state="reviewed", form_state="returned", issuance_id=5, issuance_reconciled=True,
        created_by="Otto Operator (op)",
        created_at=WHEN, changed_after_entry=1, content_sha256="c" * 64,
        fields=(
            FieldLines(label="Sample weight", unit="g", limits="0.0950 – 0.1050 g", critical=True, required=True,
                       entries=(_entry("0.0998", superseded=True, verified_by="Olga Operator (op2)",
                                       verified_at="2026-03-04 10:05"),
                                _entry("0.0999", kind="correction", reason="Transcription error",
                                       out_of_limits=True, justification="re-weighed"))),
            FieldLines(label="Balance ID", unit=None, limits=None, critical=False, required=True, entries=()),
            FieldLines(label="Comment", unit=None, limits=None, critical=False, required=False,
                       entries=(_entry(None, is_na=True, reason="not applicable", source="scan",
                                       scan="page 1 (back.png, file page 3, imported 2026-03-04 09:00)",
                                       late=True, late_reason="entered next day"),)),
        ),
        signatures=(RecordSignature("Quinn Müller (qa), Reviewed, " + WHEN, "valid", "data checked"),),
        scans=(RecordScan(scan_page_id=7, page_no=1, sha256="d" * 64, source_name="back.png", page_index=2,
                          imported="imported 2026-03-04 09:00"),),
        true_copy_verified_by="Dora Control (dc)", true_copy_verified_at=WHEN,
        trail=(TrailLine(seq=41, when=WHEN, who="Otto Operator (op)", workstation="WS-3", action="Created",
                         what="Record value 000123, Sample weight (entry 1)",
                         changes=("Value: 0.0998", "Note: " + "x" * 400), reason="value entered"),),
    )
    out = io.BytesIO()
    render_record_report(out, report, {7: picture})
    text, pages = _text(out.getvalue())
    for needle in (
        "Record 000123 – QC-WS-014 v2",  # the title, from the data
        "000123 – QC-WS-014 version 2: Balance weighing worksheet",
        "REVIEWED (form returned, issuance 5, reconciled)", f"by Otto Operator (op), {WHEN}", "1 value", "c" * 64,
        "Sample weight [g] limits 0.0950 – 0.1050 g ◆ critical", "0.0998", "Olga Operator (op2) 2026-03-04 10:05",
        "correction: Transcription error; OUT OF LIMITS – re-weighed", "UNVERIFIED",
        "(no value)", "required", "NA (not applicable)", "scan: page 1 (back.png, file page 3, imported",
        "LATE ENTRY – entered next day", "Quinn Müller (qa), Reviewed", "data checked",
        f"TRUE COPY of 000123 page 1, verified by Dora Control (dc), {WHEN}; original file back.png page 3, "
        "imported 2026-03-04 09:00, SHA-256 " + "d" * 64,
        "Audit trail of this record", "Otto Operator (op) WS-3 Created Record value 000123, Sample weight (entry 1)",
        "Value: 0.0998", "value entered",
        "Printed by Quinn Müller (qa) on 2026-03-04 14:07:12 CET", "chain head at printing: 42:" + "ab" * 32,
        "Formtrail 9.9.9", f"Page 1 of {pages}",
    ):
        assert needle in text, needle
    assert "Note:" + "x" * 400 in text.replace(" ", "") and "…" not in text  # the trail is never cut short


def test_record_report_without_data_or_signatures(tmp_path):
    report = RecordReport(
        printed=PRINTED, serial="000124", template="QC-WS-014", version=2, title="t", state="open",
        form_state="issued", issuance_id=5, issuance_reconciled=False, created_by=None, created_at=None,
        changed_after_entry=0, content_sha256="e" * 64, fields=(), signatures=(), scans=(),
        true_copy_verified_by=None, true_copy_verified_at=None, trail=())
    out = io.BytesIO()
    render_record_report(out, report, {})
    text, _ = _text(out.getvalue())
    assert "OPEN (form issued, issuance 5)" in text and "no data yet" in text and "No signatures yet." in text


def _sheet(serial: str, state: str, **changes: object) -> SheetLine:
    fields: dict[str, object] = dict(
        serial=serial, copy_no=1, state=state, pages=2, pages_back=2, reason=None, deviation_ref=None,
        changed_by=None, changed_at=None, replaces=None, replaced_by=None, note=None, accounted=True, scans=())
    fields.update(changes)
    return SheetLine(**fields)  # type: ignore[arg-type]


def test_reconciliation_report_layout():
    report = ReconciliationReport(
        printed=PRINTED, issuance_id=5, template="PRD-BR-102", version=3, title="Batch record", purpose="Batch",
        reference=None, issued_to="Line 2", issued_by="dc", issued_by_name="Dora Control", issued_at=WHEN,
        due_date=dt.date(2026, 3, 31), overdue=True, closed=False,
        forms=(
            _sheet("000010", "returned", scans=(SheetScan(1, "linked", False, "f" * 64, "s1.pdf"),
                                                SheetScan(None, "possible-copy", True, "9" * 64, "s2.pdf"))),
            _sheet("000011", "voided", copy_no=2, pages_back=0, reason="spoiled", changed_by="Quinn Müller (qa)",
                   changed_at="2026-03-04 11:00", replaced_by="000013", note="voided; not scanned back"),
            _sheet("000012", "issued", copy_no=3, pages_back=1, accounted=False, note="still out: 1 of 2 pages back"),
        ),
        signatures=(),
    )
    out = io.BytesIO()
    render_reconciliation_report(out, report)
    text, _ = _text(out.getvalue())
    for needle in (
        "Reconciliation report – issuance 5", "PRD-BR-102 version 3 – Batch record", "Batch / —",
        f"Dora Control (dc), {WHEN}", "2026-03-31 – OVERDUE", "OPEN – 1 form not accounted for",
        "2 of 3 forms (1 issued, 1 returned, 1 voided)", "000010", "RETURNED", "2/2",
        "page 1: linked, s1.pdf, SHA-256", "page ?: possible-copy (superseded), s2.pdf, SHA-256",
        "spoiled; replaced by 000013; voided; not scanned back", "Quinn Müller (qa) 2026-03-04 11:00", "VOIDED",
        "ISSUED", "1/2",
        "still out: 1 of 2 pages back", "Not signed: the reconciliation is not closed.",
    ):
        assert needle in text, needle

    closed = dataclasses.replace(report, closed=True, overdue=False, signatures=(
        ReconciliationSignature("Quinn Müller (qa), Reconciled, " + WHEN, "valid", "a" * 64),))
    out = io.BytesIO()
    render_reconciliation_report(out, closed)
    text, _ = _text(out.getvalue())
    assert "RECONCILED (closed)" in text and "valid" + "a" * 64 in text.replace(" ", "") and "OVERDUE" not in text
    assert "…" not in text  # hashes are printed whole


def test_accountability_report_layout():
    row = AccountabilityRow(group="QC-WS-014@1", issued=5, returned=2, voided=1, missing=1, replaced=0, outstanding=1)
    other = AccountabilityRow(group="PRD-BR-102@3", issued=3, returned=3, voided=0, missing=0, replaced=0,
                              outstanding=0)
    report = AccountabilityReport(printed=PRINTED, since=dt.date(2026, 1, 1), until=dt.date(2026, 3, 31),
                                  by_template=(other, row), by_person=())
    out = io.BytesIO()
    render_accountability_report(out, report)
    text, _ = _text(out.getvalue())
    for needle in ("Accountability report 2026-01-01 to 2026-03-31",
                   "Forms issued from 2026-01-01 to 2026-03-31 (local dates), by their current state.",
                   "Per template", "Template@version Issued Returned Voided Missing Replaced Still out",
                   "QC-WS-014@1 5 2 1 1 0 1", "Total 8 5 1 1 0 1", "Per person or area issued to", "Total 0 0 0 0 0 0"):
        assert needle in text, needle


def test_audit_trail_report_layout():
    line = AuditLine(seq=7, when=WHEN, who="Otto Operator (op)", workstation="WS-3", action="Changed",
                     what="Record value 000123, Sample ID (entry 1)", changes=("Value: LOT 1 → LOT 2",), reason="typo")
    bare = AuditLine(seq=8, when=WHEN, who="SYSTEM", workstation="WS-3", action="Backed up", what="", changes=(),
                     reason=None)
    # One event with more to say than a page holds: it continues on the next page, nothing cut short.
    long = AuditLine(seq=9, when=WHEN, who="Dora Control (dc)", workstation="WS-3", action="Created",
                     what="Template version QC-WS-014 v2",
                     changes=tuple(f"Field {n}: {'word ' * 30}end{n}" for n in range(120)), reason=None)
    out = io.BytesIO()
    render_audit_trail_report(out, AuditTrailReport(
        printed=PRINTED, filter=(("User", "Otto Operator (op)"), ("Action", "Changed")), events=(line, bare, long)))
    text, pages = _text(out.getvalue())
    for needle in ("Audit trail", "User Otto Operator (op) Action Changed Events 3", "Otto Operator (op) WS-3",
                   "Record value 000123, Sample ID (entry 1)", "Value: LOT 1 → LOT 2", "typo",
                   "SYSTEM WS-3 Backed up", "end0", "end119"):
        assert needle in text, needle
    assert pages > 2
    out = io.BytesIO()
    render_audit_trail_report(out, AuditTrailReport(printed=PRINTED, filter=(), events=()))
    assert "Filter none (the complete trail) Events 0" in _text(out.getvalue())[0]
