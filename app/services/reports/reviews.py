"""Periodic reviews (issue 16): the system audit-trail review and the user access review, produced as reports QA
signs, and when each is next due.

A review is made in three short steps: its data read in one transaction (``review_content``), its PDF laid out
outside any transaction and kept in the file store (content-addressed, verified by `formtrail verify`), then the
review row recorded in a short audited write. QA signs it later with an e-signature ("reviewed") and a
conclusion; the signature binds the report's SHA-256, so the report signed is the report stored. The next review
is due a set number of days (a setting per kind) after the last signed one, or after the site was set up.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.enums import FileKind
from app.forms.render.report import KeyValues, Printed, render_report
from app.models import SignatureMeaning, Site, StoredFile
from app.models.governance import PeriodicReview, ReviewKind, ReviewStatus
from app.services.core import audit, limits
from app.services.core.db import Actor, Database
from app.services.core.error_codes import ErrorCode
from app.services.core.errors import NotFound, RuleViolation, ValidationError
from app.services.core.setting_specs import get
from app.services.identity import signatures
from app.services.identity.permissions import Permission, allowed, require, require_any
from app.services.reports import review_content
from app.services.reports.printed import printed_in

__all__ = ["INTERVAL_KEYS", "ReviewDue", "ReviewKind", "ReviewStatus", "ReviewView", "check_sign", "due_reviews",
           "export_report", "generate", "get_review", "list_reviews", "sign"]

INTERVAL_KEYS: dict[ReviewKind, str] = {ReviewKind.AUDIT_TRAIL: "review.audit_trail_days",
                                        ReviewKind.ACCESS: "review.access_days"}


@dataclasses.dataclass(frozen=True)
class ReviewDue:
    title: str  # e.g. "Audit-trail review"
    due_on: dt.date
    overdue: bool
    last_done: dt.datetime | None


@dataclasses.dataclass(frozen=True)
class ReviewView:
    id: int
    kind: ReviewKind
    title: str
    period_start: dt.datetime | None
    period_end: dt.datetime
    generated_at: dt.datetime
    generated_by: str
    report_sha256: str
    summary: dict[str, int]
    signed: bool
    signed_at: dt.datetime | None
    signed_by: str | None
    conclusion: str | None
    signature: str | None = None  # the manifestation of QA's signature, with its status
    may_sign: bool = False
    why_not: str | None = None

    @property
    def status_text(self) -> str:
        return "Signed" if self.signed else "Waiting for QA's signature"

    @property
    def file_name(self) -> str:
        return f"{self.kind.value}-review-{self.id}.pdf"


def due_reviews(db: Any) -> tuple[ReviewDue, ...]:
    """When each periodic review is next due (Home shows it): the interval after the last signed one, or after
    the site was set up when none is signed yet."""
    with db.read() as session:
        created = session.scalar(select(Site.created_at))
        if created is None:
            return ()
        today = db.clock.now().astimezone().date()
        out = []
        for kind, key in INTERVAL_KEYS.items():
            last = session.scalar(select(PeriodicReview.signed_at).where(
                PeriodicReview.kind == kind, PeriodicReview.status == ReviewStatus.SIGNED)
                .order_by(PeriodicReview.signed_at.desc()).limit(1))
            start = (last or created).astimezone().date()
            due = start + dt.timedelta(days=int(get(session, key)))
            out.append(ReviewDue(title=kind.title, due_on=due, overdue=today > due, last_done=last))
        return tuple(out)


def generate(db: Database, actor: Actor, kind: ReviewKind, *, out: Path | None = None) -> ReviewView:
    """Produce the report of a new review of ``kind`` (QA), keep it in the file store, and write a copy to
    ``out`` if given. The audit-trail review covers the time since the period of the last signed one."""
    require(db, actor, Permission.SIGN_PERIODIC_REVIEW)
    with db.read() as session:  # everything the report shows, and its printed-by line, in one transaction
        now = db.clock.now()
        printed = printed_in(session, db, actor)
        since = None
        if kind is ReviewKind.AUDIT_TRAIL:
            since = session.scalar(select(PeriodicReview.period_end).where(
                PeriodicReview.kind == kind, PeriodicReview.status == ReviewStatus.SIGNED)
                .order_by(PeriodicReview.period_end.desc()).limit(1))
            content = review_content.audit_trail_review(session, since=since, until=now)
        else:
            content = review_content.access_review(session, now=now)
    with db.files.staging(".pdf") as staged:  # laid out outside any transaction: it may take a while
        render_report(staged, printed.meta(content.title), content.sections, wide=content.wide)
        put = db.files.adopt(staged)
    with db.write(actor, reason=f"{kind.title.lower()} generated") as session:
        if session.get(StoredFile, put.sha256) is None:
            session.add(StoredFile(sha256=put.sha256, size=put.size, kind=FileKind.REPORT.value,
                                   media_type="application/pdf", original_name=f"{kind.value}-review.pdf",
                                   stored_at=now, stored_by=actor.username))
            session.flush()  # before the review that refers to it (no relationship orders the two inserts)
        review = PeriodicReview(kind=kind, period_start=since, period_end=now, report_sha256=put.sha256,
                                summary=json.dumps(content.summary), status=ReviewStatus.GENERATED,
                                generated_at=now, generated_by=actor.username)
        session.add(review)
        session.flush()
        view = _view(session, review, actor)
    if out is not None:
        export_report(db, actor, view.id, out=out)
    return view


def export_report(db: Database, actor: Actor, review_id: int, *, out: Path) -> Path:
    """Write a review's stored report to ``out`` (checked against its hash first); once signed, followed by a
    sign-off page with the conclusion and the signature's manifestation (where a signed record is shown, its
    signature is shown). The copy is audited."""
    _may_view(db, actor)
    with db.read() as session:
        review = _review(session, review_id)
        view = _view(session, review, actor)
        printed = printed_in(session, db, actor)
    source = db.files.verified_path(view.report_sha256)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    if view.signed:
        _with_signoff(source, view, printed, tmp)
    else:
        shutil.copyfile(source, tmp)
    tmp.replace(out)
    with db.write(actor, reason="periodic review report copied") as session:
        audit.record_event(session, "EXPORT", entity="periodic_review", entity_id=str(review_id),
                           new={"file": out.name, "sha256": view.report_sha256, "sign_off": view.signed})
    return out


def _with_signoff(source: Path, view: ReviewView, printed: Printed, out: Path) -> None:
    """The stored report's pages, then one sign-off page (laid out like every report, so it numbers itself: its
    title says how many report pages come before it)."""
    import pikepdf  # here: Home imports this module for the due dates, and pikepdf takes a while to load

    with pikepdf.open(source) as report:
        count = len(report.pages)
        page = io.BytesIO()
        render_report(page, printed.meta(f"{view.title} {view.id}: sign-off"), [KeyValues([
            ("Review", f"{view.title} {view.id}"),
            ("Report", f"the {count} pages before this one; SHA-256 of the stored original {view.report_sha256}"),
            ("Conclusion", view.conclusion or ""),
            ("Signed", view.signature or ""),
        ], heading="Reviewed and signed electronically in Formtrail")])
        with pikepdf.open(io.BytesIO(page.getvalue())) as signoff:
            report.pages.extend(signoff.pages)
            report.save(out)


def sign(db: Database, actor: Actor, review_id: int, *, conclusion: str, username: str,
         password: str) -> ReviewView:
    """QA signs a review ("reviewed") with its conclusion; the signature binds the report's hash and the text."""
    conclusion = check_sign(db, actor, review_id, conclusion=conclusion)
    signatures.reauthenticate(db, actor, username=username, password=password)
    with db.write(actor, reason=f"periodic review signed: {SignatureMeaning.REVIEWED.title.lower()}") as session:
        review = _review(session, review_id)
        refusal = _refusal(review)
        if refusal is not None:
            raise refusal
        review.conclusion = conclusion
        signatures.add_signature(db, session, actor, meaning=SignatureMeaning.REVIEWED, entity="periodic_review",
                                 entity_id=str(review.id), content=signed_content(review),
                                 activity=f"periodic_review:{review.id}")
        review.status, review.signed_at, review.signed_by = ReviewStatus.SIGNED, db.clock.now(), actor.username
        session.flush()
        return _view(session, review, actor)


def check_sign(db: Database, actor: Actor, review_id: int, *, conclusion: str) -> str:
    """Refuse (and log) a signature ``actor`` may not give, before the password is asked for; the conclusion as
    it will be signed."""
    require(db, actor, Permission.SIGN_PERIODIC_REVIEW)
    if not conclusion or not conclusion.strip():
        raise ValidationError("signing a periodic review needs its conclusion", code=ErrorCode.REASON_REQUIRED)
    conclusion = limits.checked("comment", conclusion)  # as long as any comment (the column allows as much)
    with db.read(actor) as session:
        review = _review(session, review_id)
        refusal = _refusal(review)
        sha = review.report_sha256
    if refusal is not None:
        db.record_refusal(actor, refusal)
        raise refusal
    db.files.verified_path(sha)  # the report signed is the one stored, unaltered
    return conclusion


def list_reviews(db: Database, actor: Actor, *, kind: ReviewKind | None = None) -> list[ReviewView]:
    """Every review, newest first."""
    _may_view(db, actor)
    with db.read() as session:
        query = select(PeriodicReview).order_by(PeriodicReview.id.desc())
        if kind is not None:
            query = query.where(PeriodicReview.kind == kind)
        return [_view(session, r, actor) for r in session.scalars(query)]


def get_review(db: Database, actor: Actor, review_id: int) -> ReviewView:
    _may_view(db, actor)
    with db.read() as session:
        return _view(session, _review(session, review_id), actor)


def signed_content(review: PeriodicReview) -> dict[str, Any]:
    """What the reviewer's signature binds: which review, of which period, which report (its hash), concluding what."""
    return {"kind": review.kind.value, "period_start": audit.iso_utc(review.period_start) if review.period_start
            else None, "period_end": audit.iso_utc(review.period_end), "report_sha256": review.report_sha256,
            "conclusion": review.conclusion}


# -- inside ----------------------------------------------------------------------------------------------------
def _may_view(db: Database, actor: Actor) -> None:
    require_any(db, actor, Permission.SIGN_PERIODIC_REVIEW, Permission.VIEW_AUDIT)


def _review(session: Session, review_id: int) -> PeriodicReview:
    review = session.get(PeriodicReview, review_id)
    if review is None:
        raise NotFound(f"no periodic review {review_id}")
    return review


def _refusal(review: PeriodicReview) -> RuleViolation | None:
    if review.status is ReviewStatus.SIGNED:
        return RuleViolation(f"{review.kind.title} {review.id} is signed already (by {review.signed_by}); generate a "
                             "new review instead", code=ErrorCode.REVIEW_ALREADY_SIGNED)
    return None


def _view(session: Session, review: PeriodicReview, actor: Actor | None) -> ReviewView:
    signature = None
    if review.status is ReviewStatus.SIGNED:
        for sig in signatures.signatures_of(session, "periodic_review", str(review.id)):
            state = signatures.status(sig, signed_content(review))
            signature = sig.manifestation() + ("" if state is signatures.SignatureStatus.VALID else f" — {state.value}")
    why = None
    if review.status is ReviewStatus.SIGNED:
        why = "signed already"
    elif actor is not None and not allowed(actor, Permission.SIGN_PERIODIC_REVIEW):
        why = "QA performs and signs periodic reviews"
    return ReviewView(
        id=review.id, kind=review.kind, title=review.kind.title, period_start=review.period_start,
        period_end=review.period_end, generated_at=review.generated_at, generated_by=review.generated_by,
        report_sha256=review.report_sha256, summary=json.loads(review.summary),
        signed=review.status is ReviewStatus.SIGNED, signed_at=review.signed_at, signed_by=review.signed_by,
        conclusion=review.conclusion, signature=signature, may_sign=actor is not None and why is None, why_not=why)
