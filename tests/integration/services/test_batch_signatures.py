"""Batch acts with one password entry (issue 14, item 2): many true copies, many pages set aside, many values
verified. Part 11 (ES-01, ES-02, ES-04): however many items are signed together, every item carries its own
signature, manifestation and content hash; the password is checked once; a wrong one signs nothing."""

from __future__ import annotations

import shutil

import pytest
from sqlalchemy import func, select

from app.models import IssuedForm, ScanOutcome, Signature, SignatureMeaning
from app.services.core import setting_specs
from app.services.core.error_codes import ErrorCode
from app.services.core.errors import AccountLocked, AuthenticationError, PermissionDenied, ValidationError
from app.services.identity import signatures
from app.services.issuance.issuance import IssuanceResult
from app.services.records import records
from app.services.reports import audit_log
from app.services.reports.audit_log import AuditFilter
from app.services.scans import intake, scans, true_copy
from tests.helpers import scanlike as sl
from tests.helpers.forms import effective_template, issue
from tests.helpers.records import fill
from tests.helpers.scans import write
from tests.helpers.seed import PASSWORD, Seed

DPI = 150


def _returned(seed: Seed, tmp_path, copies: int, *, importer: str = "op") -> IssuanceResult:  # noqa: ANN001
    """``copies`` forms issued and all returned: the issued PDF itself imported as their scans (fast; every
    page's code reads)."""
    effective_template(seed, "QC-WS-014")
    result = issue(seed, "QC-WS-014", copies=copies)
    scan = tmp_path / f"returned-{result.issuance_id}.pdf"
    shutil.copy(seed.db.files.path_for(result.pdf_sha256), scan)
    report = intake.import_files(seed.db, seed.actors[importer], [scan])
    assert (report.linked, report.exceptions) == (copies, 0)
    return result


def _count(seed: Seed, action: str, username: str | None = None) -> int:
    return audit_log.count_events(seed.db, seed.admin, AuditFilter(action=action, username=username))


def _signature_rows(seed: Seed) -> list[Signature]:
    with seed.db.read() as session:
        return list(session.scalars(select(Signature).where(Signature.meaning == SignatureMeaning.TRUE_COPY_VERIFIED)
                                    .order_by(Signature.id)))


@pytest.mark.compliance
def test_es02_twenty_true_copies_one_password_twenty_signatures(seed, tmp_path, clock) -> None:  # noqa: ANN001
    """Done when: verifying 20 true copies takes one selection and one password."""
    result = _returned(seed, tmp_path, 20)
    before = _count(seed, "SIGN_FAIL")
    done = true_copy.verify_many(seed.db, seed.op2, serials=result.serials, username="op2", password=PASSWORD,
        checklist=true_copy.Checklist.confirmed())
    assert done.signed == tuple(result.serials) and done.refused == ()
    rows = _signature_rows(seed)
    assert [r.entity_id for r in rows] == list(result.serials) and len({r.id for r in rows}) == 20
    with seed.db.read() as session:
        for serial in result.serials:
            [info] = signatures.signatures_of(session, "issued_form", serial)
            form = session.scalars(select(IssuedForm).where(IssuedForm.serial == serial)).one()
            # Each signature is bound to its own form's pages: valid for it, and no other form's content.
            assert signatures.status(info, true_copy.true_copy_content(session, form)) is \
                signatures.SignatureStatus.VALID
            assert info.genuine and info.activity == f"true-copy:{serial}"
            assert info.manifestation().startswith("Olga Operator (op2), True copy verified, ")
    assert len({r.content_hash for r in rows}) == 20  # twenty contents, twenty hashes
    # One SIGN audit event per signature; the password was typed once and nothing failed.
    assert _count(seed, "SIGN", "op2") == 20 and _count(seed, "SIGN_FAIL") == before
    assert all(true_copy.status(seed.db, seed.dc, s).verified_by == "op2" for s in result.serials)


@pytest.mark.compliance
def test_sc02_mixed_batch_signs_the_rest_and_reports_each_refusal(seed, tmp_path) -> None:  # noqa: ANN001
    own = _returned(seed, tmp_path, 2, importer="op2")  # op2 imported these: separation of duties
    others = _returned(seed, tmp_path, 3, importer="op")
    true_copy.verify_true_copy(seed.db, seed.qa, serial=others.serials[0], username="qa", password=PASSWORD,
        checklist=true_copy.Checklist.confirmed())
    refusals_before = _count(seed, "RULE_REFUSED", "op2")
    asked = [own.serials[0], others.serials[0], others.serials[1], own.serials[1], "999999", others.serials[2],
             others.serials[1]]  # a duplicate counts once
    done = true_copy.verify_many(seed.db, seed.op2, serials=asked, username="op2", password=PASSWORD,
        checklist=true_copy.Checklist.confirmed())
    assert done.signed == (others.serials[1], others.serials[2])
    assert [(key, code) for key, code, _ in done.refused] == [
        (own.serials[0], ErrorCode.SEPARATION_OF_DUTIES), (others.serials[0], ErrorCode.NOT_ALLOWED_NOW),
        (own.serials[1], ErrorCode.SEPARATION_OF_DUTIES), ("999999", ErrorCode.NOT_FOUND)]
    assert all(message for _, _, message in done.refused) and "already verified" in done.refused[1][2]
    # Each separation-of-duties refusal is written to the trail, as for one signature.
    assert _count(seed, "RULE_REFUSED", "op2") == refusals_before + 2
    assert [r.entity_id for r in _signature_rows(seed)] == [others.serials[0], others.serials[1], others.serials[2]]


@pytest.mark.compliance
def test_es02_wrong_password_signs_nothing_and_counts_once(seed, tmp_path) -> None:  # noqa: ANN001
    result = _returned(seed, tmp_path, 4)
    with pytest.raises(AuthenticationError):
        true_copy.verify_many(seed.db, seed.op2, serials=result.serials, username="op2", password="wrong",
            checklist=true_copy.Checklist.confirmed())
    with pytest.raises(AuthenticationError, match="your own user name"):
        true_copy.verify_many(seed.db, seed.op2, serials=result.serials, username="qa", password=PASSWORD,
            checklist=true_copy.Checklist.confirmed())
    assert _signature_rows(seed) == []
    assert _count(seed, "SIGN_FAIL") == 2  # one per attempt, not one per form
    with pytest.raises(PermissionDenied):  # a viewer may not verify: refused before the password is checked
        true_copy.verify_many(seed.db, seed.viewer, serials=result.serials, username="viewer", password=PASSWORD,
            checklist=true_copy.Checklist.confirmed())
    with pytest.raises(ValidationError) as empty:
        true_copy.verify_many(seed.db, seed.op2, serials=[], username="op2", password=PASSWORD,
            checklist=true_copy.Checklist.confirmed())
    assert empty.value.code == ErrorCode.NOTHING_SELECTED
    assert _signature_rows(seed) == []


@pytest.mark.compliance
def test_es03_batch_wrong_passwords_lock_the_account_as_single_signatures_do(seed, tmp_path) -> None:  # noqa: ANN001
    result = _returned(seed, tmp_path, 3)
    with seed.db.read() as session:
        limit = setting_specs.get(session, "login.max_failures")
    for _ in range(limit - 1):
        with pytest.raises(AuthenticationError):
            true_copy.verify_many(seed.db, seed.op2, serials=result.serials, username="op2", password="wrong",
                checklist=true_copy.Checklist.confirmed())
    with pytest.raises(AccountLocked):
        true_copy.verify_many(seed.db, seed.op2, serials=result.serials, username="op2", password="wrong",
            checklist=true_copy.Checklist.confirmed())
    # Locked: even the right password signs nothing now, refused as one signature is.
    with pytest.raises(PermissionDenied, match="locked"):
        true_copy.verify_many(seed.db, seed.op2, serials=result.serials, username="op2", password=PASSWORD,
            checklist=true_copy.Checklist.confirmed())
    with pytest.raises(PermissionDenied, match="locked"):
        true_copy.verify_true_copy(seed.db, seed.op2, serial=result.serials[0], username="op2", password=PASSWORD,
            checklist=true_copy.Checklist.confirmed())
    assert _count(seed, "LOCKOUT") == 1 and _signature_rows(seed) == []


def _foreign_pages(seed: Seed, tmp_path, count: int) -> list[int]:  # noqa: ANN001
    """``count`` pages in the exceptions queue (a supplier's letter with someone else's QR code)."""
    letter = sl.png_bytes(sl.make_page("https://example.org", dpi=DPI).image, dpi=DPI)
    paths = [write(tmp_path / "letters", f"letter-{i}.png", letter + bytes([i])) for i in range(count)]
    report = intake.import_files(seed.db, seed.op, paths)
    assert [o.outcome for o in report.outcomes] == ["foreign-code"] * count
    return [o.scan_page_id for o in report.outcomes]


def test_set_aside_many_pages_with_one_reason(seed, tmp_path) -> None:  # noqa: ANN001
    effective_template(seed, "QC-WS-014")
    pages = _foreign_pages(seed, tmp_path, 3)
    scans.mark_not_controlled(seed.db, seed.dc, scan_page_id=pages[1], reason="set aside earlier")
    with pytest.raises(ValidationError):  # one reason for all, and it is required
        scans.set_aside_many(seed.db, seed.dc, scan_page_ids=pages, reason=" ")
    with pytest.raises(PermissionDenied):
        scans.set_aside_many(seed.db, seed.op, scan_page_ids=pages, reason="supplier letters")
    progress: list[tuple[int, int]] = []
    done = scans.set_aside_many(seed.db, seed.dc, scan_page_ids=[*pages, 10**6], reason="supplier letters",
                                progress=lambda n, total: progress.append((n, total)))
    # Setting aside a page already set aside is allowed (as for one page): only the unknown page is refused.
    assert done.done == tuple(pages) and [(k, c) for k, c, _ in done.refused] == [(10**6, ErrorCode.NOT_FOUND)]
    assert progress == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert scans.list_exceptions(seed.db, seed.dc) == []
    for page_id in (pages[0], pages[2]):
        info = scans.get_page(seed.db, seed.dc, page_id)
        assert (info.outcome, info.resolution, info.resolved_by) == (ScanOutcome.NOT_CONTROLLED, "supplier letters",
                                                                     "dc")
    with seed.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Signature)) == 1  # the template's approval only


@pytest.mark.compliance
def test_rc03_verify_many_values_refuses_the_verifiers_own(seed, tmp_path) -> None:  # noqa: ANN001
    effective_template(seed, "QC-WS-014")
    serial = issue(seed, "QC-WS-014", copies=1).serials[0]
    view = fill(seed, serial, who="op")
    critical = [f.name for f in view.fields if f.needs_verification]
    assert len(critical) >= 2
    # op2 corrects one critical value: now it is op2's own entry, which op2 may not verify.
    field = next(f for f in view.fields if f.name == critical[0])
    records.correct_value(seed.db, seed.op2, serial=serial, field=field.name, value=field.current.value,
                          reason="transcription checked")
    refusals_before = _count(seed, "RULE_REFUSED", "op2")
    done = records.verify_many(seed.db, seed.op2, serial=serial, fields=[*critical, "no_such_field"])
    assert done.signed == tuple(critical[1:])
    assert [(k, c) for k, c, _ in done.refused] == [(critical[0], ErrorCode.SELF_VERIFICATION),
                                                    ("no_such_field", ErrorCode.NOT_FOUND)]
    assert _count(seed, "RULE_REFUSED", "op2") == refusals_before + 1  # logged as a single refusal is
    after = records.record_view(seed.db, seed.op2, serial)
    assert [f.name for f in after.fields if f.needs_verification] == [critical[0]]
    assert all(f.current.verified_by == "op2" for f in after.fields if f.name in critical[1:])
    with pytest.raises(PermissionDenied):
        records.verify_many(seed.db, seed.viewer, serial=serial, fields=critical)
