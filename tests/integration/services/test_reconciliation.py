"""Issue 5 / BF-05 / BF-06: account for every sheet, refusals, QA close, reports read back."""

from __future__ import annotations

import datetime as dt

import pypdfium2
import pytest

from app.models import FormState, IssuanceState, RecordState
from app.services.core import audit_chain
from app.services.core.error_codes import ErrorCode
from app.services.core.errors import DomainError, PermissionDenied, RuleViolation, ValidationError
from app.services.issuance import replacement
from app.services.reconciliation import reconciliation
from app.services.records import records
from app.services.reports import audit_log, reports, work
from app.services.scans import intake, scans, true_copy
from app.services.site import settings
from tests.helpers import scanlike as sl
from tests.helpers.forms import effective_template, issue
from tests.helpers.governance import set_setting
from tests.helpers.records import QC_WS_014, fill, verify_critical
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


def _counts(seed, who: str) -> dict[str, int]:
    """Home's counts for one of the seeded users."""
    return {item.key: item.count for item in work.worklist(seed.db, seed.actors[who]).items}


def test_overdue_and_home_counts(seed, five, clock):
    result, _images = five
    assert (_counts(seed, "viewer")["still_out"], _counts(seed, "viewer")["overdue_issuances"]) == (5, 0)
    clock.advance(days=30)
    assert _counts(seed, "viewer")["overdue_issuances"] == 1
    [row] = [s for s in reconciliation.list_issuances(seed.db, seed.viewer) if s.overdue]
    assert row.issuance_id == result.issuance_id
    for serial in result.serials:
        reconciliation.void_form(seed.db, seed.qa, serial=serial, reason="expired")
    viewer = _counts(seed, "viewer")
    assert (viewer["overdue_issuances"], viewer["still_out"], _counts(seed, "qa")["ready_to_close"]) == (0, 0, 1)


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


def test_exceptions_count_on_home(seed, five, tmp_path):
    write(tmp_path, "x.png", sl.png_bytes(sl.make_page("hello", dpi=DPI).image, dpi=DPI))
    intake.import_files(seed.db, seed.op, [tmp_path / "x.png"])
    assert _counts(seed, "dc")["scan_exceptions"] == 1
    assert len(scans.list_exceptions(seed.db, seed.viewer)) == 1


# -- Issue 14, item 8: what closing leaves behind, and the site's settings on closing --------------------------

REQUIRE_TRUE_COPIES = "reconciliation.require_true_copies_before_close"
REQUIRE_RECORDS = "reconciliation.require_records_before_close"
CLOSER_INDEPENDENT = "reconciliation.closer_independent"


def _setting(seed, key, value):
    set_setting(seed, key, value, reason="issue 14 test")  # approved by QA (SE-02)


@pytest.fixture
def accounted(seed, five, tmp_path):
    """Five forms, all accounted for: three returned (scans imported by op), one voided by dc, one declared
    missing by qa. No true copy is verified and no data entered yet."""
    result, images = five
    s = result.serials
    assert _scan_back(seed, tmp_path, images, [0, 1, 2]).linked == 3
    reconciliation.void_form(seed.db, seed.dc, serial=s[3], reason="spoiled: wrong batch number written")
    reconciliation.declare_missing(seed.db, seed.qa, serial=s[4], reason="not found after shift", deviation="DEV-7")
    return result


def _verify_copy(seed, serial):
    true_copy.verify_true_copy(seed.db, seed.qa2, serial=serial, username="qa2", password=PASSWORD,
        checklist=true_copy.Checklist.confirmed())


def _refusals(seed):
    return audit_log.fetch_events(seed.db, seed.admin, audit_log.AuditFilter(action="RULE_REFUSED"))


@pytest.mark.compliance
def test_bf05_view_counts_what_closing_leaves_behind_and_says_it(seed, accounted):
    s = accounted.serials
    view = reconciliation.reconciliation(seed.db, seed.qa2, accounted.issuance_id)
    assert view.unverified_true_copy_serials == view.untranscribed_record_serials == tuple(s[:3])
    assert (view.unverified_true_copies, view.untranscribed_records) == (3, 3)
    assert view.close_warnings == (
        "3 returned forms have scans not yet verified as a true copy",
        "3 returned forms have no transcribed record (data not entered, or required fields still empty)")
    assert view.may_close and view.why_not_close is None  # by default closing only warns

    # s0: true copy verified and its record transcribed, critical fields verified (beyond transcribed);
    # s1: true copy verified, one value entered (the record is still open); s2: nothing done.
    _verify_copy(seed, s[0])
    _verify_copy(seed, s[1])
    fill(seed, s[0])
    assert verify_critical(seed, s[0]).state is RecordState.VERIFIED
    partial = records.enter_value(seed.db, seed.op, serial=s[1], field="balance_id", value="BAL-QC-03")
    assert partial.exists and partial.state is RecordState.OPEN
    view = reconciliation.reconciliation(seed.db, seed.qa2, accounted.issuance_id)
    assert view.unverified_true_copy_serials == (s[2],) and view.untranscribed_record_serials == (s[1], s[2])
    assert view.close_warnings == (
        "1 returned form has scans not yet verified as a true copy",
        "2 returned forms have no transcribed record (data not entered, or required fields still empty)")
    # A transcribed record (critical fields not yet verified) counts as transcribed.
    fill(seed, s[1], {k: v for k, v in QC_WS_014.items() if k != "balance_id"})
    assert records.record_view(seed.db, seed.op, s[1]).state is RecordState.TRANSCRIBED
    assert reconciliation.reconciliation(seed.db, seed.qa2, accounted.issuance_id).untranscribed_records == 1

    # Closing with the warnings is allowed; afterwards the counts remain, the warnings about closing do not.
    closed = reconciliation.close(seed.db, seed.qa2, accounted.issuance_id, username="qa2", password=PASSWORD)
    assert closed.closed and closed.close_warnings == () and closed.unverified_true_copies == 1
    assert _refusals(seed) == []


@pytest.mark.compliance
@pytest.mark.parametrize(("key", "code"), [
    (REQUIRE_TRUE_COPIES, ErrorCode.TRUE_COPIES_UNVERIFIED),
    (REQUIRE_RECORDS, ErrorCode.RECORDS_NOT_TRANSCRIBED),
    (CLOSER_INDEPENDENT, ErrorCode.CLOSER_NOT_INDEPENDENT),
])
def test_bf05_each_setting_refuses_close_and_the_view_agrees(seed, accounted, key, code):
    s = accounted.serials
    issuance_id = accounted.issuance_id
    # The one who closes: qa declared s[4] missing, so the independence rule is about them.
    closer = "qa" if key == CLOSER_INDEPENDENT else "qa2"
    assert reconciliation.reconciliation(seed.db, seed.actors[closer], issuance_id).may_close  # setting off: allowed
    _setting(seed, key, 1)
    view = reconciliation.reconciliation(seed.db, seed.actors[closer], issuance_id)
    assert not view.may_close and view.why_not_close
    with pytest.raises(RuleViolation) as refused:
        reconciliation.check_close(seed.db, seed.actors[closer], issuance_id)
    assert refused.value.code == code and str(refused.value) == view.why_not_close
    with pytest.raises(RuleViolation) as refused:  # refused before the password is even checked
        reconciliation.close(seed.db, seed.actors[closer], issuance_id, username=closer, password="not checked")
    assert refused.value.code == code and str(refused.value) == view.why_not_close
    events = _refusals(seed)
    assert [(e.username, e.reason) for e in events] == [(closer, view.why_not_close)] * 2
    if key == CLOSER_INDEPENDENT:
        assert s[4] in view.why_not_close and s[3] not in view.why_not_close  # dc voided s[3], not qa
        assert view.close_warnings  # the other two settings are off: they only warn
        assert not reconciliation.reconciliation(seed.db, seed.dc, issuance_id).may_close  # dc voided s[3]
        closer = "qa2"  # did neither
    else:
        assert all(serial in view.why_not_close for serial in s[:3])
        for serial in s[:3]:  # do what the setting asks
            if key == REQUIRE_TRUE_COPIES:
                _verify_copy(seed, serial)
            else:
                fill(seed, serial)
        view = reconciliation.reconciliation(seed.db, seed.actors[closer], issuance_id)
        assert len(view.close_warnings) == 1  # the other thing is still only warned about
    assert reconciliation.reconciliation(seed.db, seed.actors[closer], issuance_id).may_close
    closed = reconciliation.close(seed.db, seed.actors[closer], issuance_id, username=closer, password=PASSWORD)
    assert closed.state is IssuanceState.RECONCILED and len(_refusals(seed)) == 2


def test_settings_off_again_close_with_warnings(seed, accounted):
    """A setting switched on and off again: closing is allowed again, with the warnings."""
    for key in (REQUIRE_TRUE_COPIES, REQUIRE_RECORDS, CLOSER_INDEPENDENT):
        _setting(seed, key, 1)
    assert not reconciliation.reconciliation(seed.db, seed.qa, accounted.issuance_id).may_close
    for key in (REQUIRE_TRUE_COPIES, REQUIRE_RECORDS, CLOSER_INDEPENDENT):
        _setting(seed, key, 0)
    view = reconciliation.check_close(seed.db, seed.qa, accounted.issuance_id)
    assert view.may_close and len(view.close_warnings) == 2
    with pytest.raises(ValidationError):
        settings.change(seed.db, seed.admin, key=REQUIRE_RECORDS, value=2, reason="only 0 or 1")


def test_closer_who_voided_is_not_independent(seed, five):
    result, _images = five
    reconciliation.void_form(seed.db, seed.dc, serial=result.serials[0], reason="batch cancelled")
    for serial in result.serials[1:]:
        reconciliation.void_form(seed.db, seed.qa, serial=serial, reason="batch cancelled")
    _setting(seed, CLOSER_INDEPENDENT, 1)
    view = reconciliation.reconciliation(seed.db, seed.qa, result.issuance_id)
    assert not view.may_close and view.close_warnings == ()  # nothing returned: nothing left behind
    assert ", ".join(result.serials[1:]) in view.why_not_close and result.serials[0] not in view.why_not_close
    with pytest.raises(RuleViolation) as refused:
        reconciliation.close(seed.db, seed.qa, result.issuance_id, username="qa", password=PASSWORD)
    assert refused.value.code == ErrorCode.CLOSER_NOT_INDEPENDENT
    assert reconciliation.check_close(seed.db, seed.qa2, result.issuance_id).may_close
