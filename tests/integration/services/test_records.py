"""Issue 6: records, GDP corrections, verification, review, approval (RC-01..RC-06, TM-02, ES-05, ES-06)."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pypdfium2
import pytest

from app.models import RecordState
from app.models import SignatureMeaning as M
from app.services.core.error_codes import ErrorCode
from app.services.core.errors import DomainError, RuleViolation, ValidationError
from app.services.reconciliation import reconciliation
from app.services.records import records
from app.services.reports import audit_log, record_export
from tests.helpers import scanlike as sl
from tests.helpers.forms import effective_template, issue
from tests.helpers.records import QC_WS_014, fill, verify_critical
from tests.helpers.scans import issued_page_images, write
from tests.helpers.seed import PASSWORD

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def form(seed):
    effective_template(seed)
    return issue(seed, copies=2)


def test_rc02_save_on_entry_survives_a_killed_process(seed, form, db_url, runtime_config):
    serial = form.serials[0]
    pairs = [f"{k}={v}" for k, v in list(QC_WS_014.items())[:3]]
    worker = subprocess.Popen([sys.executable, "-m", "tests.helpers.record_worker", db_url,
                               str(runtime_config.home), serial, *pairs], cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    for line in worker.stdout:
        if line.strip() == "waiting":
            break
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=30)
    view = records.record_view(seed.db, seed.qa, serial)
    saved = {f.name: f.current.value for f in view.fields if f.current}
    assert saved == dict(list(QC_WS_014.items())[:3])
    trail = record_export.record_trail(seed.db, serial)
    assert len([e for e in trail if e.entity == "record_entry" and e.action == "CREATE"]) == 3


def test_rc01_correction_keeps_the_original_and_needs_a_reason(seed, form):
    serial = form.serials[0]
    fill(seed, serial)
    with pytest.raises(DomainError, match="correction"):
        records.enter_value(seed.db, seed.op, serial=serial, field="sample_weight_1", value="0.1003")
    with pytest.raises(ValidationError) as refused:
        records.correct_value(seed.db, seed.op, serial=serial, field="sample_weight_1", value="0.1003", reason=" ")
    assert refused.value.code == ErrorCode.REASON_REQUIRED
    view = records.correct_value(seed.db, seed.op, serial=serial, field="sample_weight_1", value="0.1003",
                                 reason="Transcription error: 2 misread for 3")
    history = view.field("sample_weight_1").history
    assert [(e.value, e.superseded, e.reason) for e in history] == [
        ("0.1002", True, None), ("0.1003", False, "Transcription error: 2 misread for 3")]
    events = audit_log.fetch_events(seed.db, seed.admin, audit_log.AuditFilter(entity="record_entry"), limit=100)
    superseding = [e for e in events if e.field == "superseded_by_id"]
    assert superseding and superseding[0].reason == "correction: Transcription error: 2 misread for 3"


def test_rc04_checks_type_limits_required_and_na(seed, form):
    serial = form.serials[0]
    enter = lambda field, value, **kw: records.enter_value(seed.db, seed.op, serial=serial, field=field,  # noqa
                                                           value=value, **kw)
    with pytest.raises(ValidationError, match="not a number"):
        enter("sample_weight_1", "12,5a")
    with pytest.raises(ValidationError, match="decimal point"):
        enter("sample_weight_1", "0,1002")
    with pytest.raises(ValidationError, match="YYYY-MM-DD"):
        enter("calibration_valid_until", "31.01.2027")
    with pytest.raises(ValidationError) as refused:
        enter("sample_weight_1", "0.1100")
    assert refused.value.code == ErrorCode.JUSTIFICATION_REQUIRED
    view = enter("sample_weight_1", "0.1100 g", justification="re-weighed per SOP, see deviation DEV-7")
    current = view.field("sample_weight_1").current
    assert current.out_of_limits and current.value == "0.1100"
    with pytest.raises(ValidationError, match="NA with a reason"):
        enter("weighing_time", "")
    with pytest.raises(ValidationError) as refused:
        records.enter_value(seed.db, seed.op, serial=serial, field="weighing_time", na_reason=" ")
    assert refused.value.code == ErrorCode.NA_REASON_REQUIRED
    view = records.enter_value(seed.db, seed.op, serial=serial, field="weighing_time",
                               na_reason="balance printout has no time")
    assert view.field("weighing_time").current.is_na


def test_tm02_late_entry_needs_a_reason_and_is_flagged(seed, form, clock):
    serial = form.serials[0]
    activity = clock.moment - dt.timedelta(days=3, hours=2)
    with pytest.raises(ValidationError) as refused:
        records.enter_value(seed.db, seed.op, serial=serial, field="balance_id", value="BAL-QC-03",
                            activity_at=activity)
    assert refused.value.code == ErrorCode.LATE_REASON_REQUIRED
    view = records.enter_value(seed.db, seed.op, serial=serial, field="balance_id", value="BAL-QC-03",
                               activity_at=activity, late_reason="worksheet returned after the weekend")
    entry = view.field("balance_id").current
    assert entry.late and entry.activity_at == activity and entry.entered_at > activity


def test_rc03_self_verification_refused_and_logged(seed, form):
    serial = form.serials[0]
    fill(seed, serial)
    with pytest.raises(RuleViolation) as refused:
        records.verify_field(seed.db, seed.op, serial=serial, field="sample_weight_1")
    assert refused.value.code == ErrorCode.SELF_VERIFICATION
    assert audit_log.count_events(seed.db, seed.admin, audit_log.AuditFilter(action="RULE_REFUSED")) == 1
    view = records.verify_field(seed.db, seed.op2, serial=serial, field="sample_weight_1")
    assert view.field("sample_weight_1").current.verified_by == "op2"
    assert view.state is RecordState.TRANSCRIBED


def test_review_and_approval_rules_and_change_after_signing(seed, form):
    serial = form.serials[0]
    fill(seed, serial)
    with pytest.raises(RuleViolation) as refused:
        records.sign_record(seed.db, seed.qa, serial=serial, meaning=M.REVIEWED, username="qa", password=PASSWORD)
    assert refused.value.code == ErrorCode.RECORD_NOT_READY
    verify_critical(seed, serial, who="qa2")
    with pytest.raises(RuleViolation) as refused:
        records.sign_record(seed.db, seed.qa2, serial=serial, meaning=M.REVIEWED, username="qa2", password=PASSWORD)
    assert refused.value.code == ErrorCode.SEPARATION_OF_DUTIES
    with pytest.raises(RuleViolation) as refused:
        records.sign_record(seed.db, seed.qa, serial=serial, meaning=M.APPROVED, username="qa", password=PASSWORD)
    assert refused.value.code == ErrorCode.RECORD_NOT_READY
    view = records.sign_record(seed.db, seed.qa, serial=serial, meaning=M.REVIEWED, username="qa", password=PASSWORD)
    assert view.state is RecordState.REVIEWED
    assert "audit trail" in view.signatures[0].info.comment

    # RC-06: approval waits for the reconciliation of the issuance.
    with pytest.raises(RuleViolation) as refused:
        records.sign_record(seed.db, seed.qa2, serial=serial, meaning=M.APPROVED, username="qa2", password=PASSWORD)
    assert refused.value.code == ErrorCode.ISSUANCE_NOT_RECONCILED
    reconciliation.void_form(seed.db, seed.dc, serial=form.serials[1], reason="not needed")
    _return_sheet(seed, form, serial)
    reconciliation.close(seed.db, seed.qa2, form.issuance_id, username="qa2", password=PASSWORD)
    with pytest.raises(RuleViolation) as refused:
        records.sign_record(seed.db, seed.qa, serial=serial, meaning=M.APPROVED, username="qa", password=PASSWORD)
    assert refused.value.code == ErrorCode.SEPARATION_OF_DUTIES


def _return_sheet(seed, form, serial):
    """Scan the sheet back so the issuance can be reconciled."""
    import tempfile

    from app.services.scans import intake
    images = issued_page_images(seed.db, form.pdf_sha256, dpi=150)
    folder = Path(tempfile.mkdtemp())
    path = write(folder, "back.png", sl.png_bytes(sl.scanned(images[form.serials.index(serial)]), dpi=150))
    assert intake.import_files(seed.db, seed.op, [path]).linked == 1


def test_es05_change_after_signature_breaks_it_and_needs_new_signing(seed, form):
    serial = form.serials[0]
    fill(seed, serial)
    verify_critical(seed, serial)
    records.sign_record(seed.db, seed.qa, serial=serial, meaning=M.REVIEWED, username="qa", password=PASSWORD)
    view = records.correct_value(seed.db, seed.op, serial=serial, field="balance_id", value="BAL-QC-04",
                                 reason="Entry in the wrong field: balance 04 was used")
    [sig] = view.signatures
    assert sig.status.value == "content changed after signing"
    assert view.state is RecordState.VERIFIED  # balance_id is not critical: no new verification needed
    view = records.sign_record(seed.db, seed.qa, serial=serial, meaning=M.REVIEWED, username="qa", password=PASSWORD)
    assert view.state is RecordState.REVIEWED and [s.valid for s in view.signatures] == [False, True]


def test_paper_correction_is_captured_with_its_scan_page(seed, form, tmp_path):
    serial = form.serials[0]
    _return_sheet(seed, form, serial)
    records.enter_value(seed.db, seed.op, serial=serial, field="sample_id", value="LOT 24-0117", source_page=1)
    with pytest.raises(ValidationError, match="source page"):
        records.correct_value(seed.db, seed.op, serial=serial, field="sample_id", value="LOT 24-0118",
                              reason="corrected on paper by JD 2026-03-04: wrong lot", paper=True)
    view = records.correct_value(seed.db, seed.op, serial=serial, field="sample_id", value="LOT 24-0118",
                                 reason="corrected on paper by JD 2026-03-04: wrong lot", paper=True, source_page=1)
    current = view.field("sample_id").current
    assert current.kind.value == "paper-correction" and current.source == "scan" and current.scan_page_id


def test_pr01_record_report_and_json_export(seed, form, tmp_path):
    serial = form.serials[0]
    _return_sheet(seed, form, serial)
    fill(seed, serial)
    records.correct_value(seed.db, seed.op, serial=serial, field="sample_weight_2", value="0.0999",
                          reason="Transcription error")
    verify_critical(seed, serial)
    records.sign_record(seed.db, seed.qa, serial=serial, meaning=M.REVIEWED, username="qa", password=PASSWORD)
    out = record_export.export_pdf(seed.db, seed.qa, serial, out=tmp_path / "record.pdf")
    doc = pypdfium2.PdfDocument(str(out))
    text = "\n".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
    view = records.record_view(seed.db, seed.qa, serial)
    scan_sha = view.scans[0].sha256
    for needle in ("0.0998", "0.0999", "Transcription error", "Quinn Müller (qa), Reviewed", scan_sha[:40],
                   "Audit trail of this record", "chain head at printing", f"Page 1 of {len(doc)}",
                   "Changed after entry"):
        assert needle in text.replace("\n", " ").replace("\r", " ") or needle in text, needle
    data = record_export.export_json(seed.db, seed.qa, serial, out=tmp_path / "record.json")
    assert json.loads((tmp_path / "record.json").read_text())["scans"][0]["sha256"] == scan_sha
    weights = next(f for f in data["fields"] if f["name"] == "sample_weight_2")
    assert [e["value"] for e in weights["entries"]] == ["0.0998", "0.0999"]
    assert data["chain_head"] and data["audit_trail"]


def test_a_correction_long_after_the_activity_keeps_the_original_lateness(seed, form, clock):
    serial = form.serials[0]
    activity = clock.moment - dt.timedelta(hours=2)
    records.enter_value(seed.db, seed.op, serial=serial, field="balance_id", value="BAL-QC-03", activity_at=activity)
    clock.advance(days=3)
    view = records.correct_value(seed.db, seed.op, serial=serial, field="balance_id", value="BAL-QC-04",
                                 reason="Transcription error: 3 misread for 4")
    current = view.field("balance_id").current
    assert current.value == "BAL-QC-04" and not current.late and current.activity_at == activity
