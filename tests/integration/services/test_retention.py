"""Issue 16 / BK-05: retention per record type, legal holds, disposal approved by QA e-signature, with its log."""

from __future__ import annotations

import pypdfium2
import pytest
from sqlalchemy import func, select, text

from app.models import AuditEvent, IssuedForm, Record, Signature
from app.models.lifecycle import HoldScope
from app.services.admin import disposal, retention
from app.services.core import audit_chain
from app.services.core.error_codes import ErrorCode
from app.services.core.errors import AuthenticationError, PermissionDenied, RuleViolation, ValidationError
from app.services.integrity import integrity
from tests.helpers.forms import effective_template, issue
from tests.helpers.insider import raw
from tests.helpers.lifecycle import past_retention, reconciled
from tests.helpers.seed import PASSWORD


@pytest.fixture
def site(seed):
    effective_template(seed, "QC-WS-014")
    return seed


def _refusals(db, code_text: str) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "RULE_REFUSED", AuditEvent.reason.contains(code_text))) or 0


def _pdf_text(path) -> str:
    doc = pypdfium2.PdfDocument(str(path))
    return "\n".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))


@pytest.mark.compliance
def test_bk05_dispose_unexpired_refused_expired_needs_signature_log_retained(site, tmp_path):
    """BK-05 acceptance: dispose an unexpired record → refused; expired → signature required, log retained."""
    db = site.db
    done = reconciled(site, copies=2)
    pdf_path = db.files.path_for(done.pdf_sha256)
    assert pdf_path.exists()

    # Unexpired: not listed as due, and a request naming it is refused with a stable code and logged.
    assert disposal.due(db, site.dc) == []
    [item] = disposal.overview(db, site.dc)
    assert item.status == retention.Status.KEPT and item.years == 10 and item.basis == "site default"
    with pytest.raises(RuleViolation) as refused:
        disposal.request(db, site.dc, issuance_ids=[done.issuance_id], reason="end of retention")
    assert refused.value.code == ErrorCode.RETENTION_NOT_EXPIRED
    assert _refusals(db, "retention has not expired") == 1
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.entity == "disposal_request")) == 0

    # Expired: listed, requested (with a reason), and nothing destroyed until QA signs.
    past_retention(site)
    [due] = disposal.due(db, site.dc)
    assert due.issuance_id == done.issuance_id and due.may_request
    with pytest.raises(ValidationError) as no_reason:
        disposal.request(db, site.dc, issuance_ids=[done.issuance_id], reason=" ")
    assert no_reason.value.code == ErrorCode.REASON_REQUIRED
    req = disposal.request(db, site.dc, issuance_ids=[done.issuance_id], reason="retention of 10 years expired")
    assert [f.sha256 for f in req.files] == [done.pdf_sha256]
    assert disposal.due(db, site.dc) == []

    with pytest.raises(PermissionDenied):  # Document Control requests, QA approves
        disposal.approve(db, site.dc, req.id, username="dc", password=PASSWORD)
    with pytest.raises(AuthenticationError):  # the signature is required: the password again, right
        disposal.approve(db, site.qa2, req.id, username="qa2", password="wrong-password")
    assert pdf_path.exists() and disposal.show(db, site.qa, req.id).status.value == "requested"

    approved = disposal.approve(db, site.qa, req.id, username="qa", password=PASSWORD)
    assert approved.status.value == "completed" and approved.approved_by == "qa"
    assert "Quinn Müller (qa), Approved" in (approved.approval or "")
    assert not pdf_path.exists()
    assert [f.sha256 for f in approved.files] == [done.pdf_sha256]

    # The log is retained: the rows, the signature, the whole trail, and a stored certificate.
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(IssuedForm)) == 2
        [sig] = session.scalars(select(Signature).where(Signature.entity == "disposal_request")).all()
        assert sig.meaning.value == "approved" and sig.signer_username == "qa"
        actions = set(session.scalars(select(AuditEvent.action).where(AuditEvent.entity.in_(
            ("disposal_request", "disposal_item", "disposed_file")))))
    assert {"CREATE", "STATE_CHANGE"} <= actions
    assert audit_chain.verify_chain(db).ok
    certificate = disposal.certificate_path(db, site.qa, req.id)
    words = _pdf_text(certificate)
    for needle in (*done.serials, done.pdf_sha256[:40], "Dora Control (dc)", "Quinn Müller (qa), Approved",
                   "10 years (site default)", "UTC"):
        assert needle in words.replace("\r", "").replace("\n", " ") or needle in words, needle

    # verify expects the disposed file absent: no "missing" finding for it.
    report = integrity.verify_everything(db, site.qa)
    assert not [f for f in report.findings if f.area in ("file", "data", "signature", "chain")], report.findings


@pytest.mark.compliance
def test_bk05_same_person_never_requests_and_approves(site):
    db = site.db
    done = reconciled(site)
    past_retention(site)
    req = disposal.request(db, site.qa, issuance_ids=[done.issuance_id], reason="retention expired")
    [view] = disposal.requests(db, site.qa)
    assert not view.may_approve and view.approve_refused == ErrorCode.SEPARATION_OF_DUTIES
    with pytest.raises(RuleViolation) as refused:
        disposal.approve(db, site.qa, req.id, username="qa", password=PASSWORD)
    assert refused.value.code == ErrorCode.SEPARATION_OF_DUTIES
    assert db.files.path_for(done.pdf_sha256).exists()
    assert disposal.requests(db, site.qa2)[0].may_approve
    assert disposal.approve(db, site.qa2, req.id, username="qa2", password=PASSWORD).status.value == "completed"


@pytest.mark.compliance
def test_bk05_legal_hold_blocks_disposal_until_released_with_a_reason(site):
    db = site.db
    done = reconciled(site)
    past_retention(site)
    with pytest.raises(ValidationError) as no_reason:
        retention.place_hold(db, site.qa, scope=HoldScope.RECORD, target=done.serials[0], reason="")
    assert no_reason.value.code == ErrorCode.REASON_REQUIRED
    with pytest.raises(PermissionDenied):
        retention.place_hold(db, site.dc, scope=HoldScope.RECORD, target=done.serials[0], reason="litigation")
    hold = retention.place_hold(db, site.qa, scope=HoldScope.RECORD, target=done.serials[0],
                                reason="litigation L-2036-4")
    assert disposal.due(db, site.dc) == []
    [held] = disposal.due(db, site.dc, include_held=True)
    assert held.status == retention.Status.HELD and held.holds == (hold.id,) and not held.may_request
    with pytest.raises(RuleViolation) as refused:
        disposal.request(db, site.dc, issuance_ids=[done.issuance_id], reason="retention expired")
    assert refused.value.code == ErrorCode.LEGAL_HOLD_ACTIVE

    with pytest.raises(ValidationError):
        retention.release_hold(db, site.qa, hold.id, reason="  ")
    released = retention.release_hold(db, site.qa, hold.id, reason="litigation settled")
    assert not released.active and released.released_by == "qa"
    assert [h.id for h in retention.holds(db, site.qa, include_released=True)] == [hold.id]
    assert retention.holds(db, site.qa) == []
    req = disposal.request(db, site.dc, issuance_ids=[done.issuance_id], reason="retention expired")

    # A hold placed after the request (here on the template) stops the approval too.
    template_hold = retention.place_hold(db, site.qa, scope=HoldScope.TEMPLATE, target="qc-ws-014",
                                         reason="regulatory inquiry")
    assert template_hold.target == "QC-WS-014"
    with pytest.raises(RuleViolation) as refused:
        disposal.approve(db, site.qa, req.id, username="qa", password=PASSWORD)
    assert refused.value.code == ErrorCode.LEGAL_HOLD_ACTIVE
    assert db.files.path_for(done.pdf_sha256).exists()
    retention.release_hold(db, site.qa, template_hold.id, reason="inquiry closed")
    assert disposal.approve(db, site.qa, req.id, username="qa", password=PASSWORD).status.value == "completed"
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.entity == "legal_hold")) >= 4  # two placed, two released


@pytest.mark.compliance
def test_bk05_retention_per_template_is_an_audited_configuration_change(site):
    db = site.db
    done = reconciled(site)
    open_one = issue(site, "QC-WS-014", copies=1)  # never reconciled: its retention never starts
    with pytest.raises(PermissionDenied):
        retention.set_rule(db, site.op, template_code="QC-WS-014", years=2, reason="SOP-QA-012 rev 3")
    with pytest.raises(ValidationError):
        retention.set_rule(db, site.qa, template_code="QC-WS-014", years=0, reason="SOP-QA-012 rev 3")
    retention.set_rule(db, site.qa, template_code="QC-WS-014", years=3, reason="SOP-QA-012 rev 3")
    retention.set_rule(db, site.qa, template_code="QC-WS-014", years=2, reason="SOP-QA-012 rev 4")
    default, rules = retention.rules(db, site.dc)
    assert default == 10 and [(r.template_code, r.years, r.set_by) for r in rules] == [("QC-WS-014", 2, "qa")]
    with db.read() as session:
        change = session.scalar(select(AuditEvent).where(AuditEvent.entity == "retention_rule",
                                                         AuditEvent.action == "CONFIG_CHANGE",
                                                         AuditEvent.field == "years"))
        assert (change.old_value, change.new_value, change.reason) == ("3", "2", "retention period: SOP-QA-012 rev 4")

    past_retention(site, days=366)
    assert disposal.due(db, site.dc) == []
    past_retention(site, days=366)
    assert [d.issuance_id for d in disposal.due(db, site.dc)] == [done.issuance_id]
    [due] = disposal.due(db, site.dc)
    assert due.basis == "template rule" and due.years == 2
    with pytest.raises(RuleViolation) as refused:
        disposal.request(db, site.dc, issuance_ids=[open_one.issuance_id], reason="old")
    assert refused.value.code == ErrorCode.RETENTION_NOT_EXPIRED

    # Lengthening the period after a request stops its approval.
    req = disposal.request(db, site.dc, issuance_ids=[done.issuance_id], reason="2 years expired")
    retention.set_rule(db, site.qa, template_code="QC-WS-014", years=15, reason="SOP-QA-012 rev 5")
    with pytest.raises(RuleViolation) as refused:
        disposal.approve(db, site.qa, req.id, username="qa", password=PASSWORD)
    assert refused.value.code == ErrorCode.RETENTION_NOT_EXPIRED


@pytest.mark.compliance
@pytest.mark.direct_sql
def test_bk05_insider_file_removed_without_disposal_is_named_and_a_forged_disposal_is_caught(site):
    """A stored file deleted without an approved disposal is named by verify; a disposal row written with SQL to
    excuse it is caught by the data check (no audit event)."""
    db = site.db
    gone = reconciled(site)
    kept = reconciled(site)
    past_retention(site)
    req = disposal.request(db, site.dc, issuance_ids=[gone.issuance_id], reason="retention expired")
    disposal.approve(db, site.qa, req.id, username="qa", password=PASSWORD)

    path = db.files.path_for(kept.pdf_sha256)
    path.chmod(0o600)
    path.unlink()
    report = integrity.verify_everything(db, site.qa)
    files = [f for f in report.findings if f.area == "file"]
    assert [kept.pdf_sha256 in f.subject for f in files] == [True], files
    assert not any(gone.pdf_sha256 in f.subject for f in report.findings)

    raw(db, "INSERT INTO disposed_file (request_id, sha256, kind, original_name, size) "
            "VALUES (:req, :sha, 'issued-pdf', 'x.pdf', 1)", req=req.id, sha=kept.pdf_sha256)
    report = integrity.verify_everything(db, site.qa)
    assert not report.ok
    assert any(f.area == "data" and f.subject.startswith("disposed_file") for f in report.findings), report.findings


def test_bk05_files_of_records_and_counts_stay(site):
    """Only stored files go: rows of forms and records stay (their count is unchanged)."""
    db = site.db
    done = reconciled(site, copies=3)
    past_retention(site)
    with db.read() as session:
        before = [session.scalar(select(func.count()).select_from(t)) for t in (IssuedForm, Record)]
        before.append(session.scalar(text("SELECT count(*) FROM audit_event")))
    req = disposal.request(db, site.dc, issuance_ids=[done.issuance_id], reason="retention expired")
    disposal.approve(db, site.qa, req.id, username="qa", password=PASSWORD)
    with db.read() as session:
        after = [session.scalar(select(func.count()).select_from(t)) for t in (IssuedForm, Record)]
        events = session.scalar(text("SELECT count(*) FROM audit_event"))
    assert after == before[:2] and events > before[2]


@pytest.mark.sqlite_only
def test_bk05_a_scan_file_goes_only_with_the_last_issuance_it_holds_pages_of(site, tmp_path):
    """The scanned file is the original record: disposed of with its issuance, but kept (and the certificate says
    why) while it also holds a page of an issuance that is kept."""
    from app.services.reconciliation import reconciliation
    from app.services.scans import intake
    from tests.helpers import scanlike as sl
    from tests.helpers.scans import issued_page_images

    db = site.db
    first, second = issue(site, copies=1), issue(site, copies=1)
    pages = [sl.scanned(issued_page_images(db, r.pdf_sha256, dpi=150)[0], seed=n)
             for n, r in enumerate((first, second))]
    both = tmp_path / "both.tiff"
    pages[0].save(both, save_all=True, append_images=pages[1:], dpi=(150, 150))
    assert intake.import_files(db, site.op, [both]).linked == 2
    for result in (first, second):
        reconciliation.close(db, site.qa, result.issuance_id, username="qa", password=PASSWORD)
    with db.read() as session:
        scan_sha = session.scalar(text("SELECT sha256 FROM scan_source"))
    past_retention(site)

    req = disposal.request(db, site.dc, issuance_ids=[first.issuance_id], reason="retention expired")
    assert [f.sha256 for f in req.files] == [first.pdf_sha256]
    assert len(req.kept) == 1 and scan_sha in req.kept[0] and f"issuance {second.issuance_id}" in req.kept[0]
    disposal.approve(db, site.qa, req.id, username="qa", password=PASSWORD)
    assert db.files.path_for(scan_sha).exists() and not db.files.path_for(first.pdf_sha256).exists()
    assert "kept, it also holds" in _pdf_text(disposal.certificate_path(db, site.qa, req.id))

    later = disposal.request(db, site.dc, issuance_ids=[second.issuance_id], reason="retention expired")
    assert sorted(f.sha256 for f in later.files) == sorted([second.pdf_sha256, scan_sha])
    disposal.approve(db, site.qa2, later.id, username="qa2", password=PASSWORD)
    assert not db.files.path_for(scan_sha).exists()
    report = integrity.verify_everything(db, site.qa)
    assert not [f for f in report.findings if f.area in ("file", "data", "signature", "chain")], report.findings


@pytest.mark.compliance
def test_bk05_bk04_an_issuance_whose_files_were_disposed_still_archives_and_lists_what_was_destroyed(site, tmp_path):
    """After an approved disposal the archive of that issuance is still complete for what is kept (register,
    reports, audit trail) and names the destroyed files instead of failing on them."""
    from app.services.reports import archive

    done = reconciled(site)
    past_retention(site)
    req = disposal.request(site.db, site.dc, issuance_ids=[done.issuance_id], reason="retention expired")
    disposal.approve(site.db, site.qa, req.id, username="qa", password=PASSWORD)
    out = archive.export_archive(site.db, site.qa, out=tmp_path / "arch", issuance_id=done.issuance_id)
    check = archive.verify_archive(out.path, keys=site.db.keys)
    assert check.ok, check.problems
    listed = (out.path / "data" / "disposed_files.csv").read_text(encoding="utf-8")
    assert done.pdf_sha256 in listed
    assert not any((out.path / "issued").iterdir())  # the destroyed controlled PDF is not pretended to exist
