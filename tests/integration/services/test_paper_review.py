"""RC-07 paper review by exception, stored: readings of a linked page and the findings derived from them, kept in
step when the page is read again; QA resolves a finding (reason or deviation reference, on the audit trail); a
record is not approved while its sheets have open findings. On SQLite and PostgreSQL (``seed``)."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from app.enums import PaperFindingKind as K
from app.enums import PaperFindingStatus as S
from app.forms.scan.readings import BoxState as B
from app.models import AuditEvent, PaperFinding, ScanBoxReading, ScanOutcome, ScanPage, ScanReading
from app.models import SignatureMeaning as M
from app.services.core import server_audit
from app.services.core.error_codes import ErrorCode
from app.services.core.errors import DomainError, PermissionDenied, RuleViolation, ValidationError
from app.services.integrity import integrity
from app.services.reconciliation import reconciliation
from app.services.records import records
from app.services.reports import audit_log
from app.services.scans import paper_review, paper_views
from tests.helpers.forms import effective_template, issue, sample_layout
from tests.helpers.insider import findings, raw
from tests.helpers.paper import linked_scans, reading
from tests.helpers.records import fill, verify_critical
from tests.helpers.seed import PASSWORD

LAYOUT = sample_layout("QC-WS-014")
DEFECTS = {("balance_id", "done_by"): B.BLANK, ("sample_id", "checked_by"): B.BLANK,
           (None, "signature:reviewed"): B.BLANK}


@pytest.fixture
def sheet(seed):  # noqa: ANN001, ANN201
    """One issued QC-WS-014 form, its only page scanned back and linked: (serial, scan page id)."""
    effective_template(seed)
    serial = issue(seed, copies=1).serials[0]
    return serial, linked_scans(seed, serial)[1]


def _store(seed, scan_id, states=None, **kw):  # noqa: ANN001, ANN201
    return paper_review.store_reading(seed.db, seed.op, scan_page_id=scan_id, reading=reading(LAYOUT, 1, states, **kw))


@pytest.mark.compliance
def test_rc07_a_read_page_raises_findings_named_by_serial_page_field_and_part(seed, sheet):
    serial, scan_id = sheet
    summary = _store(seed, scan_id, DEFECTS)
    assert (summary.serial, summary.page, summary.opened, summary.open_findings) == (serial, 1, 3, 3)
    assert summary.boxes == len(reading(LAYOUT).boxes) and summary.error is None

    form = paper_views.findings_of_form(seed.db, seed.qa, serial)
    assert form.open_count == 3 and form.serial == serial
    rows = {(f.field, f.part): f for f in form.findings}
    done_by = rows[("balance_id", "done_by")]
    assert (done_by.kind, done_by.field_label, done_by.part_label, done_by.page) == (
        K.MISSING_DONE_BY, "Balance ID", "done by", 1)
    assert done_by.scan_page_id == scan_id and done_by.label == form.label and done_by.opened_by == "op"
    assert rows[(None, "signature:reviewed")].field_label == "Reviewed by (QC)"
    assert all(f.may_resolve and f.why_not_resolve is None for f in form.findings)
    as_operator = paper_views.findings_of_record(seed.db, seed.op, serial)
    assert not any(f.may_resolve for f in as_operator.findings)
    assert as_operator.findings[0].why_not_resolve == "QA resolves paper findings"
    assert {f.id for f in paper_views.open_findings(seed.db, seed.viewer)} == {f.id for f in form.findings}

    fields = paper_views.readings_of_form(seed.db, seed.viewer, serial)
    [page] = fields.pages
    assert (page.scan_page_id, page.page, page.read_by, page.open_findings) == (scan_id, 1, "op", 3)
    states = {(b.field, b.part): b.state for b in page.boxes}
    assert states[("balance_id", "done_by")] is B.BLANK and states[("balance_id", "entry")] is B.INK
    assert fields.template == "QC-WS-014@1"


def test_reading_a_page_again_keeps_what_is_found_again_and_supersedes_what_is_not(seed, sheet):
    serial, scan_id = sheet
    _store(seed, scan_id, DEFECTS)
    before = {(f.field, f.part): f.id for f in paper_views.findings_of_form(seed.db, seed.qa, serial).findings}
    resolved = before[(None, "signature:reviewed")]
    paper_review.resolve_finding(seed.db, seed.qa, resolved, reason="signed in the review meeting, see minutes")

    # Read again: "done by" now initialled, a new blank entry, the rest as before.
    again = _store(seed, scan_id, {("sample_id", "checked_by"): B.BLANK, (None, "signature:reviewed"): B.BLANK,
                                   ("weighing_time", "entry"): B.BLANK})
    assert (again.opened, again.kept_open, again.superseded, again.already_resolved) == (1, 1, 1, 1)
    after = {(f.field, f.part): f for f in paper_views.findings_of_form(seed.db, seed.qa, serial).findings}
    assert after[("sample_id", "checked_by")].id == before[("sample_id", "checked_by")]  # the same finding
    assert after[("sample_id", "checked_by")].status is S.OPEN
    gone = after[("balance_id", "done_by")]
    assert gone.status is S.SUPERSEDED and "read again" in gone.resolution
    assert after[(None, "signature:reviewed")].status is S.RESOLVED  # history: not opened again on this image
    assert after[("weighing_time", "entry")].kind is K.REQUIRED_BLANK
    with seed.db.read() as session:  # the old reading is kept as read; the newest is the page's reading
        assert len(session.scalars(select(ScanReading).where(ScanReading.scan_page_id == scan_id)).all()) == 2


def test_a_rescan_supersedes_the_open_findings_of_the_scan_it_replaces(seed, sheet):
    serial, scan_id = sheet
    _store(seed, scan_id, DEFECTS)
    new_id = linked_scans(seed, serial)[1]
    summary = _store(seed, new_id, {("comments", "entry"): B.BLANK})  # optional: nothing to find
    assert (summary.open_findings, summary.superseded) == (0, 3)
    form = paper_views.findings_of_form(seed.db, seed.qa, serial)
    assert form.open_count == 0 and {f.status for f in form.findings} == {S.SUPERSEDED}
    assert all("newer scan" in f.resolution for f in form.findings)
    assert [p.scan_page_id for p in paper_views.readings_of_form(seed.db, seed.qa, serial).pages] == [new_id]
    with pytest.raises(DomainError, match="rescan"):  # the replaced image is not the page any more
        _store(seed, scan_id, DEFECTS)


def test_a_page_that_could_not_be_read_is_one_open_finding_and_shows_its_error(seed, sheet):
    serial, scan_id = sheet
    summary = _store(seed, scan_id, error="only one code could be read")
    assert (summary.error, summary.boxes, summary.open_findings) == ("only one code could be read", 0, 1)
    [finding] = paper_views.open_findings(seed.db, seed.qa)
    assert (finding.kind, finding.part, finding.field, finding.field_label) == (K.PAGE_UNREAD, "page", None,
                                                                                "the whole page")
    [page] = paper_views.readings_of_form(seed.db, seed.qa, serial).pages
    assert page.error == "only one code could be read" and page.boxes == ()


def test_only_linked_pages_are_read_and_a_batch_skips_the_others(seed, sheet):
    serial, scan_id = sheet
    with pytest.raises(ValidationError, match="page 2"):  # a reading of another page than the scan is
        paper_review.store_reading(seed.db, seed.op, scan_page_id=scan_id, reading=reading(LAYOUT, 2, error="x"))
    with seed.db.write(seed.dc, reason="test: an exception page") as session:
        linked = session.get(ScanPage, scan_id)
        exception = ScanPage(source_id=linked.source_id, page_index=1, outcome=ScanOutcome.NO_CODE, reason="no code")
        session.add(exception)
        session.flush()
        exception_id = exception.id
    with pytest.raises(DomainError, match="not linked"):
        paper_review.store_reading(seed.db, seed.op, scan_page_id=exception_id, reading=reading(LAYOUT, 1))
    with pytest.raises(PermissionDenied):
        _store_as(seed, "viewer", scan_id)
    stored = paper_review.store_readings(seed.db, seed.op, [(scan_id, reading(LAYOUT, 1, DEFECTS)),
                                                            (exception_id, reading(LAYOUT, 1)),
                                                            (999_999, reading(LAYOUT, 1))])
    assert (stored.pages, stored.unread, stored.findings) == (1, 0, 3)
    assert [sid for sid, _why in stored.skipped] == [exception_id, 999_999]


def _store_as(seed, who, scan_id):  # noqa: ANN001, ANN201
    return paper_review.store_reading(seed.db, seed.actors[who], scan_page_id=scan_id, reading=reading(LAYOUT))


def test_resolving_needs_qa_a_reason_or_a_deviation_and_an_open_finding(seed, sheet):
    serial, scan_id = sheet
    _store(seed, scan_id, DEFECTS)
    first, second, third = (f.id for f in paper_views.open_findings(seed.db, seed.qa))
    with pytest.raises(PermissionDenied) as refused:
        paper_review.resolve_finding(seed.db, seed.op, first, reason="looks fine to me")
    assert refused.value.code == ErrorCode.SEPARATION_OF_DUTIES
    assert audit_log.count_events(seed.db, seed.admin, audit_log.AuditFilter(action="ACCESS_DENIED")) == 1
    with pytest.raises(ValidationError) as refused:
        paper_review.resolve_finding(seed.db, seed.qa, first, reason="  ")
    assert refused.value.code == ErrorCode.REASON_REQUIRED

    view = paper_review.resolve_finding(seed.db, seed.qa, first, deviation_ref="DEV-2026-014")
    assert (view.status, view.deviation_ref, view.resolution, view.resolved_by) == (S.RESOLVED, "DEV-2026-014",
                                                                                      None, "qa")
    assert not view.may_resolve and "already resolved" in view.why_not_resolve
    with pytest.raises(DomainError) as refused:
        paper_review.resolve_finding(seed.db, seed.qa2, first, reason="again")
    assert refused.value.code == ErrorCode.FINDING_NOT_OPEN
    both = paper_review.resolve_finding(seed.db, seed.qa2, second, reason="initialled late, see note",
                                        deviation_ref="DEV-2026-015")
    assert (both.resolution, both.deviation_ref) == ("initialled late, see note", "DEV-2026-015")

    # Everything is on the audit trail: each finding's creation, and its resolution with the reason.
    with seed.db.read() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.entity == "paper_finding")
                                 .order_by(AuditEvent.seq)).all()
    assert [e.action for e in events if e.field is None] == ["CREATE"] * 3
    [change] = [e for e in events if e.field == "status" and e.entity_id.endswith(f"#{first}")]
    assert (change.action, change.old_value, change.new_value, change.username) == ("STATE_CHANGE", "open",
                                                                                    "resolved", "qa")
    assert change.reason == "paper finding resolved: deviation DEV-2026-014"
    assert change.entity_id == f"{serial}/p1#{first}"
    assert paper_views.findings_of_form(seed.db, seed.qa, serial).open_count == 1
    assert third in {f.id for f in paper_views.open_findings(seed.db, seed.qa)}
    report = integrity.verify_everything(seed.db, seed.qa)
    assert report.ok, report.findings


@pytest.mark.compliance
def test_rc07_a_record_is_approved_only_once_its_paper_findings_are_resolved(seed, sheet):
    serial, scan_id = sheet
    fill(seed, serial)
    verify_critical(seed, serial, who="op2")
    records.sign_record(seed.db, seed.qa, serial=serial, meaning=M.REVIEWED, username="qa", password=PASSWORD)
    view = reconciliation.reconciliation(seed.db, seed.qa2, records.record_view(seed.db, seed.qa2, serial).issuance_id)
    reconciliation.close(seed.db, seed.qa2, view.issuance_id, username="qa2", password=PASSWORD)
    _store(seed, scan_id, {("balance_id", "done_by"): B.BLANK})

    record = records.record_view(seed.db, seed.qa2, serial)
    assert not record.may_approve
    with pytest.raises(RuleViolation) as refused:
        records.sign_record(seed.db, seed.qa2, serial=serial, meaning=M.APPROVED, username="qa2", password=PASSWORD)
    assert refused.value.code == ErrorCode.PAPER_FINDINGS_OPEN
    assert audit_log.count_events(seed.db, seed.admin, audit_log.AuditFilter(action="RULE_REFUSED")) == 1
    with pytest.raises(RuleViolation) as refused:  # the reviewer is told they never approve, not to wait
        records.sign_record(seed.db, seed.qa, serial=serial, meaning=M.APPROVED, username="qa", password=PASSWORD)
    assert refused.value.code == ErrorCode.SEPARATION_OF_DUTIES

    [finding] = paper_views.findings_of_record(seed.db, seed.qa2, serial).open
    paper_review.resolve_finding(seed.db, seed.qa2, finding.id, reason="initials added and dated per SOP-QA-002")
    assert records.record_view(seed.db, seed.qa2, serial).may_approve
    approved = records.sign_record(seed.db, seed.qa2, serial=serial, meaning=M.APPROVED, username="qa2",
                                   password=PASSWORD)
    assert approved.state.value == "approved"


def test_an_insider_changing_a_finding_or_a_reading_is_caught(seed, sheet):
    serial, scan_id = sheet
    _store(seed, scan_id, DEFECTS)
    [first, *_rest] = paper_views.open_findings(seed.db, seed.qa)
    # Readings are kept as read: the database itself refuses to change or delete them (and findings are never
    # deleted), whoever holds the application's connection.
    for statement in ("UPDATE scan_box_reading SET state = 'ink'", "DELETE FROM scan_reading",
                      "DELETE FROM paper_finding"):
        with pytest.raises(DBAPIError, match="refused"), seed.db.engine.begin() as conn:
            conn.execute(text(statement))
    # With the protection out of the way, a finding closed behind the application's back is named by verify.
    raw(seed.db, f"UPDATE paper_finding SET status = 'resolved', resolved_by = 'qa' WHERE id = {first.id}")
    data = findings(seed.db, seed.qa, "data")
    assert {f.subject for f in data} >= {f"paper_finding {serial}/p1#{first.id} field status"}
    with seed.db.read() as session:
        assert session.scalar(select(PaperFinding.status).where(PaperFinding.id == first.id)) is S.RESOLVED
        assert session.scalar(select(ScanBoxReading.id).limit(1)) is not None


@pytest.mark.direct_sql
def test_on_postgresql_the_server_notes_a_finding_changed_behind_the_application(seed, sheet):
    if seed.db.dialect != "postgresql":
        pytest.skip("the server trail is PostgreSQL's own")
    serial, scan_id = sheet
    _store(seed, scan_id, DEFECTS)
    assert server_audit.direct_changes(seed.db.engine) == ([], 0)  # the application's writes are accounted for
    assert server_audit.switched_off(seed.db.engine) == []  # paper_finding's noting triggers are there
    [first, *_rest] = paper_views.open_findings(seed.db, seed.qa)
    with seed.db.engine.begin() as conn:
        conn.execute(text("UPDATE paper_finding SET detail = 'nothing to see' WHERE id = :i"), {"i": first.id})
    changes, total = server_audit.direct_changes(seed.db.engine)
    assert total == 1 and (changes[0].table, changes[0].operation, changes[0].row_id) == (
        "paper_finding", "UPDATE", str(first.id))
