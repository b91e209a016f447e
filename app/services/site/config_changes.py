"""Configuration changes as versions (SE-02; 21 CFR 11.10(k), Annex 11 §10): every change of a setting is a numbered
version of the site's configuration with its old and new value, who asked, when and why. A change to a GMP-relevant
setting (the rules that protect records: passwords, lock-out, sessions, workflow switches, correction reasons,
retention...) is pending until QA, another person, approves it with an e-signature; until then the old value stays
in effect. QA may reject it instead, with a reason. Other settings apply at once, still as a version.

The requests and decisions are controlled rows (``config_change``): their creation and every state change are on
the audit trail, and the setting's own update is the CONFIG_CHANGE event (old → new) in the same transaction as
the approval that puts it in effect.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Setting, SignatureMeaning, User
from app.models.governance import ConfigChange, ConfigChangeStatus
from app.services.core import audit, limits
from app.services.core.db import Actor, Database
from app.services.core.error_codes import ErrorCode
from app.services.core.errors import NotFound, RuleViolation, ValidationError
from app.services.core.setting_specs import SPECS, SettingSpec, spec_of
from app.services.identity import signatures
from app.services.identity.permissions import Permission, allowed, require, require_any
from app.services.site import serial_format

__all__ = ["GMP_KEYS", "ConfigChangeStatus", "ConfigChangeView", "approve", "check_approval", "coerce", "get_change",
           "history", "is_gmp", "pending", "reject", "request"]

# The settings whose change needs QA's approval: the rules that protect GMP records. Keep new ones here (a unit
# test checks each names a declared setting). Last: those other parts of issue 16 declared at the same time.
GMP_KEYS: frozenset[str] = frozenset({
    "password.min_length", "password.history", "password.expiry_days", "password.temporary_hours",
    "login.max_failures", "session.idle_lock_minutes", "clock.tolerance_seconds",
    "records.late_entry_hours", "records.correction_reasons",
    "reconciliation.require_true_copies_before_close", "reconciliation.require_records_before_close",
    "reconciliation.closer_independent",
    "review.audit_trail_days", "review.access_days",
    # Issue 16, other parts: dormant accounts, the retention period, the capture specification at intake. (Backup
    # and test-restore schedules are operations, like backup.interval_hours: they apply at once.)
    "access.dormant_days", "retention.default_years", "intake.min_dpi", "intake.colour_mode",
})

# Text settings with a grammar of their own: each returns the value to store or raises ValidationError.
_CHECKS: dict[str, Callable[[str], str]] = {serial_format.KEY: serial_format.checked}


def is_gmp(key: str) -> bool:
    return key in GMP_KEYS and key in SPECS


@dataclasses.dataclass(frozen=True)
class ConfigChangeView:
    id: int
    version: int
    key: str
    title: str
    old_value: Any
    new_value: Any
    gmp: bool
    reason: str
    status: ConfigChangeStatus
    requested_at: dt.datetime
    requested_by: str
    decided_at: dt.datetime | None
    decided_by: str | None
    decision_reason: str | None
    # What the viewer may do with it (the UI offers only that); why not, when it is pending but they may not.
    may_approve: bool = False
    may_reject: bool = False
    why_not: str | None = None
    signature: str | None = None  # the approval's manifestation

    @property
    def in_effect(self) -> bool:
        return self.status in (ConfigChangeStatus.APPLIED, ConfigChangeStatus.APPROVED)

    @property
    def is_pending(self) -> bool:
        return self.status is ConfigChangeStatus.PENDING

    @property
    def status_text(self) -> str:
        if self.status is ConfigChangeStatus.PENDING:
            return "Pending QA approval (not in effect)"
        if self.status is ConfigChangeStatus.APPLIED:
            return "In effect (no approval needed)"
        return self.status.title


def coerce(spec: SettingSpec, value: Any) -> Any:
    """``value`` as the setting stores it, or ValidationError saying what is wrong."""
    if isinstance(spec.default, list):
        items = value if isinstance(value, list) else str(value).split(",")
        items = [str(i).strip() for i in items if str(i).strip()]
        if not items and spec.default:  # a list that may start empty (issued-to choices) may be emptied again
            raise ValidationError(f"{spec.title}: give at least one entry")
        return items
    if isinstance(spec.default, str):
        text = str(value).strip()
        if spec.choices and text not in spec.choices:
            raise ValidationError(f"{spec.title}: {text!r} is not one of {', '.join(spec.choices)}")
        check = _CHECKS.get(spec.key)
        return check(text) if check is not None else text
    if isinstance(spec.default, int):
        try:
            value = int(value)
        except (TypeError, ValueError):
            raise ValidationError(f"{spec.title}: {value!r} is not a whole number") from None
        if (spec.minimum is not None and value < spec.minimum) or (spec.maximum is not None and value > spec.maximum):
            raise ValidationError(f"{spec.title} must be between {spec.minimum:g} and {spec.maximum:g}")
    return value


def request(db: Database, actor: Actor, *, key: str, value: Any, reason: str) -> ConfigChangeView | None:
    """Ask for a change of one setting (administrators): a new configuration version, in effect at once unless
    the setting is GMP-relevant (then pending until QA approves). None when the value is already in effect: that
    changes nothing and writes nothing."""
    require(db, actor, Permission.MANAGE_SETTINGS)
    spec = spec_of(key)
    if not reason or not reason.strip():
        raise ValidationError("a configuration change needs a reason", code=ErrorCode.REASON_REQUIRED)
    reason = limits.checked("reason", reason.strip())
    value = coerce(spec, value)
    gmp = is_gmp(key)
    with db.write(actor, reason=reason) as session:
        current = _current(session, spec)
        if current == value:
            return None
        waiting = session.scalar(select(ConfigChange).where(ConfigChange.key == key,
                                                            ConfigChange.status == ConfigChangeStatus.PENDING))
        if waiting is not None:
            raise RuleViolation(f"{spec.title}: version {waiting.version} ({_text(json.loads(waiting.new_value))}) "
                                f"is still waiting for QA; it must be approved or rejected first",
                                code=ErrorCode.CONFIG_CHANGE_PENDING)
        now = db.clock.now()
        version = (session.scalar(select(func.max(ConfigChange.version))) or 0) + 1
        change = ConfigChange(version=version, key=key, old_value=json.dumps(current), new_value=json.dumps(value),
                              gmp=gmp, reason=reason, requested_at=now, requested_by=actor.username,
                              status=ConfigChangeStatus.PENDING if gmp else ConfigChangeStatus.APPLIED)
        session.add(change)
        session.flush()
        if not gmp:
            _apply(session, change, actor, now)
        return _view(change, None)


def approve(db: Database, actor: Actor, *, change_id: int, username: str, password: str) -> ConfigChangeView:
    """QA approves a pending change with an e-signature ("approved"); it is in effect from this moment. The one
    who asked for it never approves it."""
    check_approval(db, actor, change_id)
    signatures.reauthenticate(db, actor, username=username, password=password)
    with db.write(actor, reason=f"configuration change approved (signed: {SignatureMeaning.APPROVED.title})") \
            as session:
        change = _change(session, change_id)
        refusal = _refusal(session, change, actor)
        if refusal is not None:
            raise refusal
        requester = session.scalar(select(User.id).where(User.username == change.requested_by))
        sig = signatures.add_signature(
            db, session, actor, meaning=SignatureMeaning.APPROVED, entity="config_change", entity_id=str(change.id),
            content=signed_content(change), activity=f"config_change:{change.id}",
            other_roles={requester: "requester"} if requester is not None else None)
        now = db.clock.now()
        change.status, change.decided_at, change.decided_by = ConfigChangeStatus.APPROVED, now, actor.username
        session.flush()
        with audit.reason(session, f"configuration v{change.version} approved by {actor.username}: {change.reason}"):
            _apply(session, change, actor, now)
        return _view(change, None, signature=sig.manifestation())


def check_approval(db: Database, actor: Actor, change_id: int) -> None:
    """Refuse (and log) an approval ``actor`` may not give, before the signing password is asked for."""
    require(db, actor, Permission.APPROVE_CONFIGURATION)
    with db.read(actor) as session:
        refusal = _refusal(session, _change(session, change_id), actor)
    if refusal is not None:
        db.record_refusal(actor, refusal)
        raise refusal


def reject(db: Database, actor: Actor, *, change_id: int, reason: str) -> ConfigChangeView:
    """QA rejects a pending change with a reason: it never takes effect (the row stays, as rejected)."""
    require(db, actor, Permission.APPROVE_CONFIGURATION)
    if not reason or not reason.strip():
        raise ValidationError("rejecting a configuration change needs a reason", code=ErrorCode.REASON_REQUIRED)
    reason = limits.checked("reason", reason.strip())
    with db.write(actor, reason=reason) as session:
        change = _change(session, change_id)
        if change.status is not ConfigChangeStatus.PENDING:
            raise _not_pending(change)
        change.status, change.decided_at, change.decided_by = ConfigChangeStatus.REJECTED, db.clock.now(), \
            actor.username
        change.decision_reason = reason
        session.flush()
        return _view(change, None)


def pending(db: Database, actor: Actor) -> list[ConfigChangeView]:
    """The changes waiting for QA, oldest first, each saying whether ``actor`` may approve or reject it."""
    _may_view(db, actor)
    with db.read() as session:
        rows = session.scalars(select(ConfigChange).where(ConfigChange.status == ConfigChangeStatus.PENDING)
                               .order_by(ConfigChange.version))
        return [_view(c, actor, session=session) for c in rows]


def history(db: Database, actor: Actor, *, key: str | None = None) -> list[ConfigChangeView]:
    """Every version of the configuration (or of one setting), newest first."""
    _may_view(db, actor)
    if key is not None:
        spec_of(key)
    with db.read() as session:
        query = select(ConfigChange).order_by(ConfigChange.version.desc())
        if key is not None:
            query = query.where(ConfigChange.key == key)
        return [_view(c, actor, session=session) for c in session.scalars(query)]


def get_change(db: Database, actor: Actor, change_id: int) -> ConfigChangeView:
    _may_view(db, actor)
    with db.read() as session:
        return _view(_change(session, change_id), actor, session=session)


def signed_content(change: ConfigChange) -> dict[str, Any]:
    """What QA's approval binds: which version changes which setting from what to what, asked by whom and why."""
    return {"version": change.version, "key": change.key, "old": change.old_value, "new": change.new_value,
            "reason": change.reason, "requested_by": change.requested_by,
            "requested_at": audit.iso_utc(change.requested_at)}


def pending_values(session: Session) -> dict[str, Any]:
    """key -> the value waiting for QA (for the settings list)."""
    return {c.key: json.loads(c.new_value) for c in session.scalars(
        select(ConfigChange).where(ConfigChange.status == ConfigChangeStatus.PENDING))}


# -- inside ----------------------------------------------------------------------------------------------------
def _current(session: Session, spec: SettingSpec) -> Any:
    stored = session.get(Setting, spec.key)
    return json.loads(stored.value) if stored is not None else spec.default


def _apply(session: Session, change: ConfigChange, actor: Actor, now: dt.datetime) -> None:
    """Put ``change`` in effect: the setting's update is the CONFIG_CHANGE event (old → new) of the trail."""
    stored = session.get(Setting, change.key)
    if stored is None:
        session.add(Setting(key=change.key, value=change.new_value, changed_at=now, changed_by=actor.username))
    else:
        stored.value, stored.changed_at, stored.changed_by = change.new_value, now, actor.username
    session.flush()


def _change(session: Session, change_id: int) -> ConfigChange:
    change = session.get(ConfigChange, change_id)
    if change is None:
        raise NotFound(f"no configuration change {change_id}")
    return change


def _not_pending(change: ConfigChange) -> RuleViolation:
    return RuleViolation(f"configuration change v{change.version} ({change.key}) is {change.status.value}, not "
                         "pending: nothing to decide", code=ErrorCode.CONFIG_CHANGE_NOT_PENDING)


def _refusal(session: Session, change: ConfigChange, actor: Actor) -> RuleViolation | None:
    """Why ``actor`` may not approve ``change`` now (None: they may)."""
    if change.status is not ConfigChangeStatus.PENDING:
        return _not_pending(change)
    if change.requested_by == actor.username:
        return RuleViolation(f"{actor.full_name} asked for configuration change v{change.version} and may not also "
                             "approve it; another person (QA) must", code=ErrorCode.SEPARATION_OF_DUTIES)
    return None


def _may_view(db: Database, actor: Actor) -> None:
    require_any(db, actor, Permission.MANAGE_SETTINGS, Permission.APPROVE_CONFIGURATION, Permission.VIEW_AUDIT)


def _view(change: ConfigChange, actor: Actor | None, *, session: Session | None = None,
          signature: str | None = None) -> ConfigChangeView:
    may_decide = (actor is not None and change.status is ConfigChangeStatus.PENDING
                  and allowed(actor, Permission.APPROVE_CONFIGURATION))
    why = None
    if actor is not None and change.status is ConfigChangeStatus.PENDING:
        if not may_decide:
            why = "QA approves or rejects configuration changes"
        else:
            assert session is not None
            refusal = _refusal(session, change, actor)
            why = str(refusal) if refusal is not None else None
    if signature is None and session is not None and change.status is ConfigChangeStatus.APPROVED:
        signed = signatures.signatures_of(session, "config_change", str(change.id))
        signature = signed[-1].manifestation() if signed else None
    spec = SPECS.get(change.key)
    return ConfigChangeView(
        id=change.id, version=change.version, key=change.key, title=spec.title if spec else change.key,
        old_value=json.loads(change.old_value), new_value=json.loads(change.new_value), gmp=change.gmp,
        reason=change.reason, status=change.status, requested_at=change.requested_at,
        requested_by=change.requested_by, decided_at=change.decided_at, decided_by=change.decided_by,
        decision_reason=change.decision_reason, may_approve=may_decide and why is None,
        may_reject=may_decide, why_not=why, signature=signature)


def _text(value: Any) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)
