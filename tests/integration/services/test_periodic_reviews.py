"""Periodic reviews with evidence: the system audit-trail review and the user access review, produced as stored PDF
reports (read back here with pypdfium2), signed by QA ("reviewed") with a conclusion; the next due dates Home
shows. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pypdfium2
import pytest

from app.enums import Role, SignatureMeaning
from app.services.core.error_codes import ErrorCode
from app.services.core.errors import AuthenticationError, FormtrailError
from app.services.identity import auth, signatures, users
from app.services.integrity import integrity
from app.services.reports import reviews
from app.services.reports.reviews import ReviewKind
from tests.helpers.governance import set_setting
from tests.helpers.seed import PASSWORD
from tests.helpers.training import set_dormant_days

pytestmark = pytest.mark.compliance("SE-02", "AT-05")


def pdf_text(path: Path) -> str:
    doc = pypdfium2.PdfDocument(str(path))
    try:
        return "\n".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
    finally:
        doc.close()


def _code(call) -> str:  # noqa: ANN001
    with pytest.raises(FormtrailError) as caught:
        call()
    return caught.value.code


def test_ar_audit_trail_review_shows_failures_refusals_configuration_and_admin_acts(seed, tmp_path) -> None:  # noqa: ANN001
    with pytest.raises(AuthenticationError):
        auth.authenticate(seed.db, username="op", password="wrong password")
    with pytest.raises(FormtrailError):
        reviews.generate(seed.db, seed.op, ReviewKind.AUDIT_TRAIL)  # refused: operators do not review
    set_setting(seed, "login.max_failures", 4, reason="CR-2026-040 lock-out")
    out = tmp_path / "review.pdf"
    review = reviews.generate(seed.db, seed.qa, ReviewKind.AUDIT_TRAIL, out=out)
    assert not review.signed and review.may_sign and review.period_start is None
    assert review.summary["Failed log-ins and signatures"] >= 1
    assert review.summary["Refused acts"] >= 1
    assert review.summary["Configuration changes"] >= 3  # asked, approved, applied
    assert review.summary["User and role administration"] >= 7  # the seeded accounts and their roles
    text = pdf_text(out)
    for expected in ("Periodic review: system audit trail", "Failed log-ins and signatures", "Refused acts",
                     "Configuration changes", "CR-2026-040 lock-out", "User and role administration",
                     "Page 1 of"):
        assert expected in text, expected
    # The copy written is the stored report, byte for byte.
    assert integrity.verify_everything(seed.db, seed.qa).ok


def test_ar_signing_binds_the_report_and_moves_the_next_due_date(seed, clock, tmp_path) -> None:  # noqa: ANN001
    before = {d.title: d for d in reviews.due_reviews(seed.db)}
    audit_due = before["Audit-trail review"]
    assert audit_due.last_done is None and not audit_due.overdue
    assert audit_due.due_on == clock.moment.astimezone().date() + dt.timedelta(days=90)
    assert before["User access review"].due_on == clock.moment.astimezone().date() + dt.timedelta(days=180)

    clock.advance(days=100)
    assert {d.title: d for d in reviews.due_reviews(seed.db)}["Audit-trail review"].overdue
    review = reviews.generate(seed.db, seed.qa, ReviewKind.AUDIT_TRAIL)
    assert _code(lambda: reviews.sign(seed.db, seed.qa, review.id, conclusion="  ", username="qa",
                                      password=PASSWORD)) == ErrorCode.REASON_REQUIRED
    signed = reviews.sign(seed.db, seed.qa, review.id, conclusion="All failures explained; no deviation.",
                          username="qa", password=PASSWORD)
    assert signed.signed and signed.signed_by == "qa" and signed.conclusion == "All failures explained; no deviation."
    assert signed.signature and "Quinn Müller (qa), Reviewed" in signed.signature and "content changed" not in \
        signed.signature
    assert not signed.may_sign
    with seed.db.read() as session:
        (sig,) = signatures.signatures_of(session, "periodic_review", str(review.id))
    assert sig.meaning is SignatureMeaning.REVIEWED
    assert signatures.status(sig, {"kind": "audit-trail", "period_start": None,
                                   "period_end": sig.signed_at.isoformat(), "report_sha256": "0" * 64,
                                   "conclusion": "x"}) is signatures.SignatureStatus.CHANGED
    after = {d.title: d for d in reviews.due_reviews(seed.db)}["Audit-trail review"]
    assert after.last_done == signed.signed_at and not after.overdue
    assert after.due_on == signed.signed_at.astimezone().date() + dt.timedelta(days=90)

    assert _code(lambda: reviews.sign(seed.db, seed.qa2, review.id, conclusion="again", username="qa2",
                                      password=PASSWORD)) == ErrorCode.REVIEW_ALREADY_SIGNED
    # A copy of a signed review shows its signature: the stored report's pages, then the sign-off page.
    copy = reviews.export_report(seed.db, seed.qa2, review.id, out=tmp_path / "signed.pdf")
    text = pdf_text(copy)
    assert "Periodic review: system audit trail" in text and "sign-off" in text
    assert "All failures explained; no deviation." in text and "Quinn Müller (qa), Reviewed" in text
    assert review.report_sha256 in text.replace("\n", "").replace("\r", "")
    # The next review starts where the signed one ended.
    clock.advance(days=1)
    nxt = reviews.generate(seed.db, seed.qa2, ReviewKind.AUDIT_TRAIL, out=tmp_path / "next.pdf")
    assert nxt.period_start == review.period_end
    assert [r.id for r in reviews.list_reviews(seed.db, seed.qa)] == [nxt.id, review.id]


def test_ar_a_wrong_password_signs_nothing(seed) -> None:  # noqa: ANN001
    review = reviews.generate(seed.db, seed.qa, ReviewKind.ACCESS)
    with pytest.raises(AuthenticationError):
        reviews.sign(seed.db, seed.qa, review.id, conclusion="fine", username="qa", password="nope")
    assert not reviews.get_review(seed.db, seed.qa, review.id).signed


def test_access_review_who_holds_which_role_dormant_and_never_used(seed, clock, tmp_path) -> None:  # noqa: ANN001
    set_dormant_days(seed.db, 90)  # the default (the seed turns dormancy off: tests/helpers/training.py)
    users.create_user(seed.db, seed.admin, username="newbie", full_name="Nina Newbie", roles=[Role.OPERATOR],
                      temporary_password="Temp0rary-Pw!")
    clock.advance(days=60)
    auth.authenticate(seed.db, username="qa", password=PASSWORD)  # qa logs in again: not dormant
    clock.advance(days=60)
    out = tmp_path / "access.pdf"
    review = reviews.generate(seed.db, seed.qa, ReviewKind.ACCESS, out=out)
    assert review.summary["Never used"] == 1  # newbie
    # Everyone but qa last logged in 120 days ago (the dormant period is 90 days).
    assert review.summary["Dormant accounts"] == review.summary["Active accounts"] - 1
    text = pdf_text(out)
    for expected in ("Periodic review: user access", "Who holds which role", "Nina Newbie", "newbie",
                     "never used", "dormant", "Document Control", "Operator"):
        assert expected in text, expected
    signed = reviews.sign(seed.db, seed.qa, review.id, conclusion="Dormant accounts to be deactivated: CR-77.",
                          username="qa", password=PASSWORD)
    assert signed.signed
    due = {d.title: d for d in reviews.due_reviews(seed.db)}["User access review"]
    assert due.due_on == signed.signed_at.astimezone().date() + dt.timedelta(days=180)
