"""Qualification records (21 CFR 11.100(b), (c); 11.10(i), (j); AC-07): identity verified, accountability statement
signed, training per activity. Signing and verifying values are refused unless all three are on record and current.

Records are controlled data: recorded by QA (RECORD_TRAINING), never by the person they qualify, revoked with a
reason, never deleted. The gate reads them at the act, so a revocation or an expiry applies at once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import User
from app.models.stations import Qualification, QualificationKind, TrainedActivity
from app.services.core import limits
from app.services.core.db import Actor, Database
from app.services.core.error_codes import ErrorCode
from app.services.core.errors import NotFound, RuleViolation, ValidationError
from app.services.identity.permissions import Permission, allowed, require, require_any

# The two acts gated on qualification (the Part 11 signature and the second-person check of a critical value).
GATED = (TrainedActivity.SIGNING, TrainedActivity.VERIFYING)


@dataclasses.dataclass(frozen=True)
class QualificationInfo:
    id: int
    username: str
    kind: QualificationKind
    activity: TrainedActivity | None
    reference: str
    completed_on: dt.date
    expires_on: dt.date | None
    recorded_at: dt.datetime
    recorded_by: str
    revoked_at: dt.datetime | None
    revoked_by: str | None
    revoke_reason: str | None
    status: str  # "current", "expired on …", "revoked", "from …" (completed in the future)
    current: bool
    may_revoke: bool = False

    @property
    def what(self) -> str:
        return self.kind.title if self.activity is None else f"Training: {self.activity.title}"


@dataclasses.dataclass(frozen=True)
class Standing:
    """Whether a user may sign and verify values now, and why not (what the Users page and refusals say)."""

    username: str
    may_sign: bool
    why_not_sign: str | None
    may_verify: bool
    why_not_verify: str | None


@dataclasses.dataclass(frozen=True)
class UserQualifications:
    standing: Standing
    records: tuple[QualificationInfo, ...]
    may_record: bool  # the acting user may record (and revoke) qualifications of this user


def _state(q: Qualification, today: dt.date) -> tuple[bool, str]:
    if q.revoked_at is not None:
        return False, "revoked"
    if q.completed_on > today:
        return False, f"from {q.completed_on.isoformat()}"
    if q.expires_on is not None and q.expires_on <= today:
        return False, f"expired on {q.expires_on.isoformat()}"
    return True, "current" if q.expires_on is None else f"current (expires {q.expires_on.isoformat()})"


def _info(q: Qualification, today: dt.date, actor: Actor | None) -> QualificationInfo:
    current, status = _state(q, today)
    return QualificationInfo(
        id=q.id, username=q.username, kind=q.kind, activity=q.activity, reference=q.reference,
        completed_on=q.completed_on, expires_on=q.expires_on, recorded_at=q.recorded_at, recorded_by=q.recorded_by,
        revoked_at=q.revoked_at, revoked_by=q.revoked_by, revoke_reason=q.revoke_reason, status=status,
        current=current, may_revoke=(actor is not None and allowed(actor, Permission.RECORD_TRAINING)
                                     and q.revoked_at is None and q.username != actor.username),
    )


def _today(db: Database) -> dt.date:
    return db.clock.now().date()


def missing(session: Session, user_id: int, today: dt.date, activity: TrainedActivity) -> str | None:
    """What is missing for ``activity`` (None: nothing): identity verification, the accountability statement,
    current training for it. An expired or revoked record is named as such."""
    rows = list(session.scalars(select(Qualification).where(Qualification.user_id == user_id)))
    for kind, title in ((QualificationKind.IDENTITY_VERIFIED, "no identity verification"),
                        (QualificationKind.ACCOUNTABILITY_SIGNED, "no signed accountability statement"),
                        (QualificationKind.TRAINING, f"no training for {activity.title}")):
        mine = [q for q in rows
                if q.kind is kind and (kind is not QualificationKind.TRAINING or q.activity is activity)]
        if any(_state(q, today)[0] for q in mine):
            continue
        lapsed = [q for q in mine if q.revoked_at is None and q.expires_on is not None and q.expires_on <= today]
        if lapsed:
            last = max(q.expires_on for q in lapsed if q.expires_on is not None)
            subject = f"training for {activity.title}" if kind is QualificationKind.TRAINING else kind.title.lower()
            return f"{subject} expired on {last.isoformat()}"
        if mine and all(q.revoked_at is not None for q in mine):
            return f"{title} on record (revoked)"
        later = [q.completed_on for q in mine if q.revoked_at is None and q.completed_on > today]
        return f"{title} on record" + (f" (in effect from {min(later).isoformat()})" if later else "")
    return None


def standing(session: Session, user: User, today: dt.date) -> Standing:
    sign = missing(session, user.id, today, TrainedActivity.SIGNING)
    verify = missing(session, user.id, today, TrainedActivity.VERIFYING)
    return Standing(username=user.username, may_sign=sign is None, why_not_sign=sign, may_verify=verify is None,
                    why_not_verify=verify)


def qualification_refusal(session: Session, actor: Actor, today: dt.date,
                          activity: TrainedActivity) -> RuleViolation | None:
    """Why ``actor`` may not do ``activity`` now for want of qualification records (None: they may)."""
    if actor.user_id is None:
        return RuleViolation(f"{actor.full_name} is not a user and may not {activity.title}",
                             code=ErrorCode.NOT_QUALIFIED)
    gap = missing(session, actor.user_id, today, activity)
    if gap is None:
        return None
    act = "sign electronically" if activity is TrainedActivity.SIGNING else f"do {activity.title}"
    return RuleViolation(f"{actor.full_name} ({actor.username}) may not {act}: {gap}. QA records qualifications "
                         "(Users → Record training…)", code=ErrorCode.NOT_QUALIFIED)


def require_qualified(db: Database, actor: Actor, activity: TrainedActivity) -> None:
    """Refuse (and log) ``activity`` unless the actor's qualification records are complete and current."""
    with db.read() as session:
        refusal = qualification_refusal(session, actor, _today(db), activity)
    if refusal is not None:
        db.record_refusal(actor, refusal)
        raise refusal


def _user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is None:
        raise NotFound(f"no user named {username!r}")
    return user


def record(db: Database, actor: Actor, *, username: str, kind: QualificationKind, reference: str,
           completed_on: dt.date, activity: TrainedActivity | None = None,
           expires_on: dt.date | None = None) -> QualificationInfo:
    """Record one qualification of ``username`` (QA; never one's own)."""
    require(db, actor, Permission.RECORD_TRAINING)
    reference = limits.checked("reference", reference, required="give the reference (course, SOP or document id) "
                                                                "of the record")
    if (kind is QualificationKind.TRAINING) != (activity is not None):
        raise ValidationError("training is recorded for one activity; identity verification and the accountability "
                              "statement are not")
    if expires_on is not None and expires_on <= completed_on:
        raise ValidationError("the expiry date must be after the completion date")
    if completed_on > _today(db):
        raise ValidationError("the completion date cannot be in the future")
    with db.write(actor, reason=f"qualification recorded: {reference}") as session:
        user = _user(session, username)
        if user.id == actor.user_id:
            raise RuleViolation(f"{actor.full_name} may not record their own qualifications; another QA person "
                                "records them", code=ErrorCode.SEPARATION_OF_DUTIES)
        row = Qualification(user_id=user.id, username=user.username, kind=kind, activity=activity,
                            reference=reference, completed_on=completed_on, expires_on=expires_on,
                            recorded_at=db.clock.now(), recorded_by=actor.username)
        session.add(row)
        session.flush()
        return _info(row, _today(db), actor)


def revoke(db: Database, actor: Actor, *, qualification_id: int, reason: str) -> QualificationInfo:
    require(db, actor, Permission.RECORD_TRAINING)
    why = limits.checked("reason", reason, required="revoking a qualification needs a reason")
    with db.write(actor, reason=f"qualification revoked: {why}") as session:
        row = session.get(Qualification, qualification_id)
        if row is None:
            raise NotFound(f"no qualification record {qualification_id}")
        if row.revoked_at is not None:
            raise ValidationError(f"qualification record {qualification_id} was already revoked",
                                  code=ErrorCode.QUALIFICATION_NOT_CURRENT)
        if row.user_id == actor.user_id:
            raise RuleViolation(f"{actor.full_name} may not revoke their own qualifications",
                                code=ErrorCode.SEPARATION_OF_DUTIES)
        row.revoked_at, row.revoked_by, row.revoke_reason = db.clock.now(), actor.username, why
        session.flush()
        return _info(row, _today(db), actor)


def list_qualifications(db: Database, actor: Actor, username: str | None = None) -> list[QualificationInfo]:
    require_any(db, actor, Permission.RECORD_TRAINING, Permission.MANAGE_USERS, Permission.VIEW_AUDIT)
    with db.read() as session:
        query = select(Qualification).order_by(Qualification.username, Qualification.id)
        if username is not None:
            query = query.where(Qualification.user_id == _user(session, username).id)
        return [_info(q, _today(db), actor) for q in session.scalars(query)]


def of_user(db: Database, actor: Actor, username: str) -> UserQualifications:
    """The Users page's panel: the user's standing (may sign / verify, why not) and their records."""
    require_any(db, actor, Permission.RECORD_TRAINING, Permission.MANAGE_USERS, Permission.VIEW_AUDIT)
    today = _today(db)
    with db.read() as session:
        user = _user(session, username)
        rows = session.scalars(select(Qualification).where(Qualification.user_id == user.id)
                               .order_by(Qualification.id))
        return UserQualifications(
            standing=standing(session, user, today), records=tuple(_info(q, today, actor) for q in rows),
            may_record=allowed(actor, Permission.RECORD_TRAINING) and user.id != actor.user_id)
