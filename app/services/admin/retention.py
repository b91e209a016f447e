"""Retention periods and legal holds (BK-05; PIC/S 9.9-5, WHO TRS 1033 11.17-11.18).

Records are kept per record type: a template's own retention period (``RetentionRule``, by template code) or
the site default (setting ``retention.default_years``). The unit kept and disposed of is the issuance — its
controlled PDF, its forms, their scans and records — because it is reconciled, and its PDF printed, as one.
Its retention starts when it is closed: the later of its reconciliation signature and the last signature on any
of its records (a record approved after the reconciliation restarts the clock). An issuance not reconciled yet
has not started its retention and can never be disposed of.

A legal hold on an issuance, a record (serial) or a template stops the disposal of everything it covers until
it is released with a reason; nothing is deleted, a released hold stays listed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Issuance, IssuanceState, IssuedForm, Record, Signature, Template, TemplateVersion
from app.models.lifecycle import (
    DisposalItem,
    DisposalRequest,
    DisposalStatus,
    HoldScope,
    HoldStatus,
    LegalHold,
    RetentionRule,
)
from app.services.core import limits
from app.services.core.db import Actor, Database
from app.services.core.error_codes import ErrorCode
from app.services.core.errors import DomainError, NotFound, RuleViolation, ValidationError
from app.services.core.setting_specs import get as setting
from app.services.identity.permissions import Permission, allowed, require, require_any
from app.services.issuance.issuance import form_by_serial

DEFAULT_KEY = "retention.default_years"
MAX_YEARS = 100


class Status:
    """Where an issuance stands in its retention (plain strings: shown and exported as they are)."""

    OPEN = "not reconciled"  # retention not started
    KEPT = "kept"  # within its retention period
    DUE = "due for disposal"  # past it, not held, not requested
    HELD = "on legal hold"
    REQUESTED = "disposal requested"
    DISPOSED = "disposed"


@dataclasses.dataclass(frozen=True)
class RuleView:
    template_code: str
    years: int
    reason: str
    set_at: dt.datetime
    set_by: str


@dataclasses.dataclass(frozen=True)
class HoldView:
    id: int
    scope: HoldScope
    target: str
    active: bool
    reason: str
    placed_at: dt.datetime
    placed_by: str
    released_at: dt.datetime | None
    released_by: str | None
    release_reason: str | None
    may_release: bool = False

    @property
    def subject(self) -> str:
        return f"{self.scope.value} {self.target}"


@dataclasses.dataclass(frozen=True)
class IssuanceRetention:
    issuance_id: int
    template_code: str
    purpose: str
    reference: str | None
    serials: tuple[str, ...]
    years: int
    basis: str  # "template rule" / "site default"
    start: dt.datetime | None  # None: not reconciled
    expires_at: dt.datetime | None
    holds: tuple[int, ...]  # the active holds that cover it
    request_id: int | None  # the disposal request that names it
    status: str
    expired: bool  # past its retention period (whatever else holds it)
    may_request: bool = False  # the actor may name it in a disposal request now


def add_years(moment: dt.datetime, years: int) -> dt.datetime:
    """The same day ``years`` later (29 February becomes 28 February)."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, day=28)


def reason_text(reason: str | None, missing: str) -> str:
    """The reason stripped; refused (code reason-required) when empty, or when longer than a reason may be."""
    if not (reason or "").strip():
        raise ValidationError(missing, code=ErrorCode.REASON_REQUIRED)
    return limits.checked("reason", reason)


# -- retention periods -------------------------------------------------------------------------------------------
def rules(db: Database, actor: Actor) -> tuple[int, list[RuleView]]:
    """(the site default in years, each template's own period)."""
    require(db, actor, Permission.VIEW_DATA)
    with db.read() as session:
        rows = session.scalars(select(RetentionRule).order_by(RetentionRule.template_code)).all()
        return int(setting(session, DEFAULT_KEY)), [_rule(r) for r in rows]


def may_set_rules(actor: Actor) -> bool:
    return allowed(actor, Permission.APPROVE_DISPOSAL) or allowed(actor, Permission.MANAGE_SETTINGS)


def set_rule(db: Database, actor: Actor, *, template_code: str, years: int, reason: str) -> RuleView:
    """Set how many years the records of one template are kept: a configuration change on the audit trail (the
    old and new period, who, when, why). QA, who approve disposals, or an administrator set it."""
    require_any(db, actor, Permission.APPROVE_DISPOSAL, Permission.MANAGE_SETTINGS)
    why = reason_text(reason, "changing a retention period needs a reason")
    if not 1 <= years <= MAX_YEARS:
        raise ValidationError(f"a retention period is 1 to {MAX_YEARS} years, not {years}")
    with db.write(actor, reason=f"retention period: {why}") as session:
        code = _template_code(session, template_code)
        rule = session.scalar(select(RetentionRule).where(RetentionRule.template_code == code))
        now = db.clock.now()
        if rule is None:
            rule = RetentionRule(template_code=code, years=years, reason=why, set_at=now, set_by=actor.username)
            session.add(rule)
        elif rule.years == years:
            raise DomainError(f"{code} is already kept {years} years")
        else:
            rule.years, rule.reason, rule.set_at, rule.set_by = years, why, now, actor.username
        session.flush()
        return _rule(rule)


def _rule(rule: RetentionRule) -> RuleView:
    return RuleView(rule.template_code, rule.years, rule.reason, rule.set_at, rule.set_by)


def _template_code(session: Session, code: str) -> str:
    wanted = (code or "").strip()
    found = session.scalar(select(Template.code).where(func.upper(Template.code) == wanted.upper()))
    if found is None:
        raise NotFound(f"no template with the code {wanted!r}")
    return found


# -- legal holds -----------------------------------------------------------------------------------------------
def place_hold(db: Database, actor: Actor, *, scope: HoldScope, target: str, reason: str) -> HoldView:
    """Put an issuance (its id), a record (its serial) or a template (its code) on legal hold."""
    require(db, actor, Permission.PLACE_LEGAL_HOLD)
    why = reason_text(reason, "a legal hold needs a reason (the matter it is kept for)")
    with db.write(actor, reason=f"legal hold: {why}") as session:
        hold = LegalHold(scope=scope, target=_target(session, scope, target), status=HoldStatus.ACTIVE, reason=why,
                         placed_at=db.clock.now(), placed_by=actor.username)
        session.add(hold)
        session.flush()
        return _hold(hold, actor)


def release_hold(db: Database, actor: Actor, hold_id: int, *, reason: str) -> HoldView:
    require(db, actor, Permission.PLACE_LEGAL_HOLD)
    why = reason_text(reason, "releasing a legal hold needs a reason")
    with db.write(actor, reason=f"legal hold released: {why}") as session:
        hold = session.get(LegalHold, hold_id)
        if hold is None:
            raise NotFound(f"no legal hold {hold_id}")
        if hold.status is not HoldStatus.ACTIVE:
            raise DomainError(f"legal hold {hold_id} was already released by {hold.released_by}",
                              code=ErrorCode.HOLD_NOT_ACTIVE)
        hold.status, hold.released_at, hold.released_by = HoldStatus.RELEASED, db.clock.now(), actor.username
        hold.release_reason = why
        session.flush()
        return _hold(hold, actor)


def holds(db: Database, actor: Actor, *, include_released: bool = False) -> list[HoldView]:
    require(db, actor, Permission.VIEW_DATA)
    with db.read() as session:
        query = select(LegalHold).order_by(LegalHold.id.desc())
        if not include_released:
            query = query.where(LegalHold.status == HoldStatus.ACTIVE)
        return [_hold(h, actor) for h in session.scalars(query)]


def _hold(hold: LegalHold, actor: Actor) -> HoldView:
    active = hold.status is HoldStatus.ACTIVE
    return HoldView(hold.id, hold.scope, hold.target, active, hold.reason, hold.placed_at, hold.placed_by,
                    hold.released_at, hold.released_by, hold.release_reason,
                    may_release=active and allowed(actor, Permission.PLACE_LEGAL_HOLD))


def _target(session: Session, scope: HoldScope, target: str) -> str:
    text = (target or "").strip()
    if scope is HoldScope.TEMPLATE:
        return _template_code(session, text)
    if scope is HoldScope.RECORD:
        return form_by_serial(session, text).serial
    if not text.isdigit() or session.get(Issuance, int(text)) is None:
        raise NotFound(f"no issuance {text!r}")
    return str(int(text))


# -- where each issuance stands ----------------------------------------------------------------------------------
def overview(session: Session, actor: Actor, *, now: dt.datetime,
             issuance_ids: list[int] | None = None) -> list[IssuanceRetention]:
    """Each issuance's retention at ``now`` (all, or ``issuance_ids``), newest first, read in ``session``."""
    query = (select(Issuance.id, Issuance.state, Issuance.purpose, Issuance.reference, Template.code)
             .join(TemplateVersion, Issuance.template_version_id == TemplateVersion.id)
             .join(Template, TemplateVersion.template_id == Template.id).order_by(Issuance.id.desc()))
    if issuance_ids is not None:
        query = query.where(Issuance.id.in_(issuance_ids))
    issuances = session.execute(query).all()
    ids = [row.id for row in issuances]
    serials: dict[int, list[str]] = defaultdict(list)
    for issuance_id, serial in session.execute(select(IssuedForm.issuance_id, IssuedForm.serial)
                                               .where(IssuedForm.issuance_id.in_(ids)).order_by(IssuedForm.serial_no)):
        serials[issuance_id].append(serial)
    starts = _starts(session, ids)
    default = int(setting(session, DEFAULT_KEY))
    periods = {code: years for code, years in session.execute(select(RetentionRule.template_code,
                                                                      RetentionRule.years))}
    active = session.scalars(select(LegalHold).where(LegalHold.status == HoldStatus.ACTIVE)).all()
    requested = {issuance_id: request_id for issuance_id, request_id in session.execute(
        select(DisposalItem.issuance_id, DisposalItem.request_id).join(DisposalRequest)
        .where(DisposalItem.issuance_id.in_(ids)))}
    disposed = set(session.scalars(select(DisposalItem.issuance_id).join(DisposalRequest).where(
        DisposalItem.issuance_id.in_(ids), DisposalRequest.status != DisposalStatus.REQUESTED)))
    may = allowed(actor, Permission.REQUEST_DISPOSAL)
    out = []
    for row in issuances:
        years = periods.get(row.code, default)
        start = starts.get(row.id) if row.state is IssuanceState.RECONCILED else None
        expires = add_years(start, years) if start is not None else None
        covering = tuple(h.id for h in active if _covers(h, row.id, row.code, serials[row.id]))
        if row.id in disposed:
            status = Status.DISPOSED
        elif row.id in requested:
            status = Status.REQUESTED
        elif expires is None:
            status = Status.OPEN
        elif expires > now:
            status = Status.KEPT
        else:
            status = Status.HELD if covering else Status.DUE
        out.append(IssuanceRetention(
            row.id, row.code, row.purpose, row.reference, tuple(serials[row.id]), years,
            "template rule" if row.code in periods else "site default", start, expires, covering,
            requested.get(row.id), status, expires is not None and expires <= now,
            may_request=may and status == Status.DUE))
    return out


def refusal(item: IssuanceRetention) -> DomainError | None:
    """Why ``item`` cannot be disposed of now (None: it can): the stable codes the acts and views share."""
    if item.status == Status.OPEN:
        return RuleViolation(f"issuance {item.issuance_id} is not reconciled: its retention has not started",
                             code=ErrorCode.RETENTION_NOT_EXPIRED)
    if item.status == Status.KEPT:
        assert item.expires_at is not None
        return RuleViolation(f"issuance {item.issuance_id} ({item.template_code}) is kept until "
                             f"{item.expires_at:%Y-%m-%d} ({item.years} years, {item.basis}): its retention has not "
                             "expired", code=ErrorCode.RETENTION_NOT_EXPIRED)
    if item.status == Status.HELD:
        return RuleViolation(f"issuance {item.issuance_id} is on legal hold ({', '.join(f'#{h}' for h in item.holds)})"
                             "; it is not disposed of until every hold on it is released",
                             code=ErrorCode.LEGAL_HOLD_ACTIVE)
    if item.status in (Status.REQUESTED, Status.DISPOSED):
        return DomainError(f"issuance {item.issuance_id} is already named in disposal request {item.request_id}")
    return None


def _covers(hold: LegalHold, issuance_id: int, code: str, serials: list[str]) -> bool:
    if hold.scope is HoldScope.ISSUANCE:
        return hold.target == str(issuance_id)
    if hold.scope is HoldScope.TEMPLATE:
        return hold.target == code
    return hold.target in serials


def _starts(session: Session, ids: list[int]) -> dict[int, dt.datetime]:
    """When each issuance's retention starts: its newest reconciliation or record signature."""
    starts: dict[int, dt.datetime] = {}
    for entity_id, signed_at in session.execute(
            select(Signature.entity_id, func.max(Signature.signed_at))
            .where(Signature.entity == "issuance", Signature.entity_id.in_([str(i) for i in ids]))
            .group_by(Signature.entity_id)):
        starts[int(entity_id)] = signed_at
    for issuance_id, signed_at in session.execute(
            select(IssuedForm.issuance_id, func.max(Signature.signed_at))
            .join(Record, Record.issued_form_id == IssuedForm.id)
            .join(Signature, (Signature.entity == "record") & (Signature.entity_id == Record.serial))
            .where(IssuedForm.issuance_id.in_(ids)).group_by(IssuedForm.issuance_id)):
        if issuance_id in starts and signed_at is not None:
            starts[issuance_id] = max(starts[issuance_id], signed_at)
    return starts
