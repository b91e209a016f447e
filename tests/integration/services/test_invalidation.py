"""Issue 16 / RC-05: a recorded result is invalidated with a reason and an e-signature, never deleted: it stays
shown, flagged VOID, in the record, its PDF and its JSON copy; the row count is unchanged."""

from __future__ import annotations

import json

import pypdfium2
import pytest
from sqlalchemy import func, select

from app.models import AuditEvent, Entry, RecordState, Signature
from app.models.lifecycle import EntryInvalidation
from app.services.core.error_codes import ErrorCode
from app.services.core.errors import AuthenticationError, DomainError, PermissionDenied, ValidationError
from app.services.integrity import integrity
from app.services.records import invalidation, records
from app.services.reports import record_export
from tests.helpers.forms import effective_template, issue
from tests.helpers.insider import raw
from tests.helpers.records import fill
from tests.helpers.seed import PASSWORD


@pytest.fixture
def filled(seed):
    effective_template(seed, "QC-WS-014")
    serial = issue(seed, "QC-WS-014", copies=1).serials[0]
    fill(seed, serial)
    return seed, serial


def _entries(db) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(Entry))


@pytest.mark.compliance
def test_rc05_void_a_result_still_shown_flagged_void_row_count_unchanged(filled, tmp_path):
    """RC-05 acceptance: void a result → still shown, flagged VOID; DB row count unchanged."""
    seed, serial = filled
    db = seed.db
    before = _entries(db)
    view = records.record_view(db, seed.qa, serial)
    assert view.field("sample_weight_1").may_invalidate and view.state is not RecordState.OPEN

    voided = invalidation.invalidate_result(db, seed.qa, serial=serial, field="sample_weight_1",
                                            reason="balance found out of calibration (DEV-2026-044)",
                                            username="qa", password=PASSWORD)
    assert _entries(db) == before  # nothing deleted, nothing added to the entries
    field = voided.field("sample_weight_1")
    [entry] = field.history
    assert entry.value == "0.1002" and entry.invalidated and entry.invalidated_by == "qa"
    assert entry.invalidation_reason == "balance found out of calibration (DEV-2026-044)"
    assert entry.invalidated_at is not None
    # It no longer counts: the required field is empty again, so the record is open until a new value is entered.
    assert field.current is None and not field.may_invalidate
    assert voided.state is RecordState.OPEN

    with db.read() as session:
        [sig] = session.scalars(select(Signature).where(Signature.entity == "record_entry")).all()
        assert sig.meaning.value == "approved" and sig.signer_username == "qa"
        assert session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.entity == "entry_invalidation", AuditEvent.action == "INVALIDATE")) == 1

    # Shown, flagged, in the JSON copy and the PDF copy.
    data = record_export.export_json(db, seed.qa, serial, out=tmp_path / "r.json")
    [exported] = [f for f in data["fields"] if f["name"] == "sample_weight_1"]
    assert exported["value"] is None
    flagged = [(e["value"], e["invalidated"], e["invalidated_by"]) for e in exported["entries"]]
    assert flagged == [("0.1002", True, "qa")]
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["fields"]
    assert any(e["entity"] == "entry_invalidation" for e in data["audit_trail"])
    pdf = record_export.export_pdf(db, seed.qa, serial, out=tmp_path / "r.pdf")
    doc = pypdfium2.PdfDocument(str(pdf))
    words = " ".join(doc[i].get_textpage().get_text_range() for i in range(len(doc))).replace("\r\n", " ")
    assert "VOID: 0.1002" in words and "INVALIDATED" in words and "DEV-2026-044" in words

    # A new value is entered for the field (a first value again, not a correction of the void one).
    again = records.enter_value(db, seed.op, serial=serial, field="sample_weight_1", value="0.1004")
    assert again.field("sample_weight_1").current.value == "0.1004"
    assert [e.invalidated for e in again.field("sample_weight_1").history] == [True, False]
    assert again.state is not RecordState.OPEN


@pytest.mark.compliance
def test_rc05_invalidation_needs_reason_signature_and_right(filled):
    seed, serial = filled
    db = seed.db
    with pytest.raises(ValidationError) as no_reason:
        invalidation.invalidate_result(db, seed.qa, serial=serial, field="sample_weight_2", reason=" ",
                                       username="qa", password=PASSWORD)
    assert no_reason.value.code == ErrorCode.REASON_REQUIRED
    with pytest.raises(AuthenticationError):
        invalidation.invalidate_result(db, seed.qa, serial=serial, field="sample_weight_2", reason="retest",
                                       username="qa", password="not-my-password")
    with pytest.raises(AuthenticationError):  # never under another person's name
        invalidation.invalidate_result(db, seed.qa, serial=serial, field="sample_weight_2", reason="retest",
                                       username="qa2", password=PASSWORD)
    with pytest.raises(PermissionDenied):
        invalidation.invalidate_result(db, seed.viewer, serial=serial, field="sample_weight_2", reason="retest",
                                       username="viewer", password=PASSWORD)
    assert not records.record_view(db, seed.viewer, serial).field("sample_weight_2").may_invalidate
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(EntryInvalidation)) == 0

    invalidation.invalidate_result(db, seed.op, serial=serial, field="sample_weight_2", reason="sample spilt",
                                   username="op", password=PASSWORD)
    with pytest.raises(DomainError) as twice:
        invalidation.invalidate_result(db, seed.qa, serial=serial, field="sample_weight_2", reason="again",
                                       username="qa", password=PASSWORD)
    assert twice.value.code == ErrorCode.RESULT_NOT_CURRENT
    with pytest.raises(DomainError):  # nothing to correct either: a new value is entered
        records.correct_value(db, seed.op, serial=serial, field="sample_weight_2", value="0.1", reason="x")


@pytest.mark.compliance
def test_rc05_invalidation_breaks_the_record_signatures_that_covered_the_value(filled):
    seed, serial = filled
    db = seed.db
    from tests.helpers.records import verify_critical
    verify_critical(seed, serial)
    reviewed = records.sign_record(db, seed.qa, serial=serial, meaning=records.SignatureMeaning.REVIEWED,
                                   username="qa", password=PASSWORD)
    assert reviewed.state is RecordState.REVIEWED
    after = invalidation.invalidate_result(db, seed.qa2, serial=serial, field="weighing_time",
                                           reason="time copied from the wrong line", username="qa2",
                                           password=PASSWORD)
    assert after.state is RecordState.OPEN
    assert [s.valid for s in after.signatures] == [False]


@pytest.mark.compliance
@pytest.mark.direct_sql
def test_rc05_insider_invalidation_row_forged_by_sql_is_caught_by_verify(filled):
    seed, serial = filled
    db = seed.db
    with db.read() as session:
        entry = session.scalar(select(Entry).where(Entry.field_name == "sample_id"))
        sig_id = session.scalar(select(func.max(Signature.id)))
        entry_id, record_id, user_id = entry.id, entry.record_id, entry.entered_by_id
    raw(db, "INSERT INTO entry_invalidation (entry_id, record_id, serial, field_name, reason, invalidated_at, "
            "invalidated_by, invalidated_by_id, signature_id) VALUES (:e, :r, :s, 'sample_id', 'forged', "
            "CURRENT_TIMESTAMP, 'op', :u, :sig)", e=entry_id, r=record_id, s=serial, u=user_id, sig=sig_id)
    assert records.record_view(db, seed.qa, serial).field("sample_id").current is None  # the forgery "works"...
    report = integrity.verify_everything(db, seed.qa)
    assert not report.ok  # ...and verify names it
    assert any(f.area == "data" and f.subject.startswith("entry_invalidation") for f in report.findings), \
        report.findings
