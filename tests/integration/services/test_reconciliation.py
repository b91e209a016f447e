"""Issue 5 / BF-05 / BF-06: account for every sheet, refusals, QA close, reports read back."""

from __future__ import annotations

import datetime as dt

import pypdfium2
import pytest

from app.models import FormState, IssuanceState
from app.services.core import audit_chain
from app.services.core.error_codes import ErrorCode
from app.services.core.errors import DomainError, PermissionDenied, RuleViolation, ValidationError
from app.services.issuance import replacement
from app.services.reconciliation import reconciliation
from app.services.reports import audit_log, dashboard, reports
from app.services.scans import intake, scans
from tests.helpers import scanlike as sl
from tests.helpers.forms import effective_template, issue
from tests.helpers.scans import issued_page_images, write
from tests.helpers.seed import PASSWORD

DPI = 150


@pytest.fixture
def five(seed):
    effective_template(seed, "QC-WS-014")
    result = issue(seed, "QC-WS-014", copies=5)
    return result, issued_page_images(seed.db, result.pdf_sha256, dpi=DPI)


def _scan_back(seed, tmp_path, images, indexes):
    paths = [write(tmp_path / "scans", f"s{i}.png", sl.png_bytes(sl.scanned(images[i], seed=i), dpi=DPI))
             for i in indexes]
    return intake.import_files(seed.db, seed.op, paths)


def _text(path):
    doc = pypdfium2.PdfDocument(str(path))
    return "\n".join(doc[i].get_textpage().get_text_range() for i in range(len(doc))), len(doc)


def test_bf05_whole_loop_issue_scan_void_missing_close_report(seed, five, tmp_path):
    result, images = five
    s = result.serials
    report = _scan_back(seed, tmp_path, images, [0, 1, 2])
    assert report.linked == 3
    view = reconciliation.reconciliation(seed.db, seed.qa, result.issuance_id)
    assert (view.accounted, view.total) == (3, 5)

    with pytest.raises(DomainError, match="2 of 5 forms are not accounted for") as refused:
        reconciliation.close(seed.db, seed.qa, result.issuance_id, username="qa", password=PASSWORD)
    assert s[3] in str(refused.value) and s[4] in str(refused.value)

    with pytest.raises(ValidationError, match="reason"):
        reconciliation.void_form(seed.db, seed.dc, serial=s[3], reason="  ")
    reconciliation.void_form(seed.db, seed.dc, serial=s[3], reason="spoiled: wrong batch number written")
    with pytest.raises(ValidationError, match="deviation"):
        reconciliation.declare_missing(seed.db, seed.qa, serial=s[4], reason="lost", deviation="")
    reconciliation.declare_missing(seed.db, seed.qa, serial=s[4], reason="not found after shift", deviation="DEV-2026-031")

    # The voided sheet comes back anyway: kept and shown with its form, never dropped.
    late = _scan_back(seed, tmp_path, images, [3])
    assert late.outcomes[0].outcome == "form-not-returnable"
    view = reconciliation.reconciliation(seed.db, seed.qa, result.issuance_id)
    voided = next(f for f in view.forms if f.serial == s[3])
    assert voided.state is FormState.VOIDED and voided.pages_back == 1 and len(voided.scans) == 1

    with pytest.raises(PermissionDenied):
        reconciliation.close(seed.db, seed.dc, result.issuance_id, username="dc", password=PASSWORD)
    closed = reconciliation.close(seed.db, seed.qa, result.issuance_id, username="qa", password=PASSWORD)
    assert closed.state is IssuanceState.RECONCILED and closed.accounted == 5
    [sig] = closed.signatures
    assert sig.meaning.value == "reconciled" and sig.signer_username == "qa"

    # Read-only afterwards.
    with pytest.raises(DomainError, match="read-only"):
        reconciliation.void_form(seed.db, seed.qa, serial=s[0], reason="late")
    with pytest.raises(DomainError):
        replacement.replace_form(seed.db, seed.qa, serial=s[1], reason="x", username="qa", password=PASSWORD)
    after = _scan_back(seed, tmp_path, [sl.add_noise(images[1], 9, seed=8)], [0])
    assert after.outcomes[0].outcome == "form-not-returnable"

    out = reports.reconciliation_report(seed.db, seed.qa, result.issuance_id, out=tmp_path / "recon.pdf")
    text, pages = _text(out)
    head = audit_chain.verify_chain(seed.db)
    for serial in s:
        assert serial in text
    assert "DEV-2026-031" in text and "Quinn Müller (qa), Reconciled" in text and "VOIDED" in text
    assert "Page 1 of" in text and f"{pages}" in text
    # The chain head printed is the head at printing (the PRINT event came after it).
    printed_head = text.split("chain head at printing: ")[1].split()[0]
    assert int(printed_head.split(":")[0]) == head.count - 1
    assert audit_log.count_events(seed.db, seed.admin, audit_log.AuditFilter(action="PRINT")) == 1


def test_close_by_the_issuer_is_refused(seed):
    from app.models import Role
    from app.services.identity import auth, users
    effective_template(seed)
    users.set_roles(seed.db, seed.admin, username="dc", roles=[Role.DOCUMENT_CONTROL, Role.QA], reason="CC-9")
    dc = auth.authenticate(seed.db, username="dc", password=PASSWORD).actor
    from app.services.issuance import issuance
    result = issuance.issue_forms(seed.db, dc, code="QC-WS-014", copies=1, purpose="x", reference=None,
                                  issued_to="y", due=dt.date(2099, 1, 1))
    reconciliation.void_form(seed.db, dc, serial=result.serials[0], reason="test")
    with pytest.raises(RuleViolation) as refused:
        reconciliation.close(seed.db, dc, result.issuance_id, username="dc", password=PASSWORD)
    assert refused.value.code == ErrorCode.SEPARATION_OF_DUTIES


def test_replaced_sheet_needs_its_paper_or_a_missing_declaration(seed, five, tmp_path):
    result, images = five
    done = replacement.replace_form(seed.db, seed.qa, serial=result.serials[0], reason="torn", username="qa",
                                    password=PASSWORD)
    for serial in result.serials[1:]:
        reconciliation.void_form(seed.db, seed.dc, serial=serial, reason="batch cancelled")
    reconciliation.void_form(seed.db, seed.dc, serial=done.new_serial, reason="batch cancelled")
    view = reconciliation.reconciliation(seed.db, seed.qa, result.issuance_id)
    [outstanding] = view.outstanding
    assert outstanding.serial == result.serials[0] and "replaced" in outstanding.note
    _scan_back(seed, tmp_path, images, [0])  # the torn original comes back
    view = reconciliation.reconciliation(seed.db, seed.qa, result.issuance_id)
    assert view.outstanding == ()


def test_overdue_and_dashboard(seed, five, clock):
    result, _images = five
    board = dashboard.dashboard(seed.db, seed.viewer)
    assert (board.outstanding_forms, board.overdue_issuances) == (5, 0)
    clock.advance(days=30)
    board = dashboard.dashboard(seed.db, seed.viewer)
    assert board.overdue_issuances == 1
    [row] = [s for s in reconciliation.list_issuances(seed.db, seed.viewer) if s.overdue]
    assert row.issuance_id == result.issuance_id
    for serial in result.serials:
        reconciliation.void_form(seed.db, seed.qa, serial=serial, reason="expired")
    board = dashboard.dashboard(seed.db, seed.viewer)
    assert (board.overdue_issuances, board.ready_to_reconcile, board.outstanding_forms) == (0, 1, 0)


def test_accountability_report(seed, five, tmp_path):
    result, _images = five
    reconciliation.void_form(seed.db, seed.qa, serial=result.serials[0], reason="spoiled")
    reconciliation.declare_missing(seed.db, seed.qa, serial=result.serials[1], reason="lost", deviation="DEV-1")
    today = seed.db.clock.now().astimezone().date()
    by_template, by_person = reports.accountability(seed.db, seed.qa, since=today, until=today)
    [row] = by_template
    assert (row.group, row.issued, row.voided, row.missing, row.outstanding) == ("QC-WS-014@1", 5, 1, 1, 3)
    out = reports.accountability_report(seed.db, seed.qa, since=today, until=today, out=tmp_path / "acc.pdf")
    text, _ = _text(out)
    assert "QC-WS-014@1" in text and "Otto Operator" in text


def test_exceptions_count_on_dashboard(seed, five, tmp_path):
    write(tmp_path, "x.png", sl.png_bytes(sl.make_page("hello", dpi=DPI).image, dpi=DPI))
    intake.import_files(seed.db, seed.op, [tmp_path / "x.png"])
    assert dashboard.dashboard(seed.db, seed.viewer).scan_exceptions == 1
    assert len(scans.list_exceptions(seed.db, seed.viewer)) == 1
