"""The incident log as people use it (SE-03): QA lists and reads incidents, and closes one with its assessment
(root cause), the action taken (CAPA), a closing reason and an e-signature. The incidents themselves are opened by
the system (``app.services.core.incidents``); nobody opens, edits or deletes one by hand.

Closing without an assessment or a reason is refused with a stable code and the refusal is written to the audit
trail, before the password is asked for (``check_close``), and again inside the closing transaction."""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.enums import SignatureMeaning
from app.models.incidents import TEXT_LIMIT, Incident, IncidentStatus
from app.services.core import audit
from app.services.core.db import Actor, Database
from app.services.core.error_codes import ErrorCode
from app.services.core.errors import NotFound, RuleViolation, ValidationError
from app.services.identity import signatures
from app.services.identity.permissions import Permission, allowed, current_roles, permissions_of, require

MEANING = SignatureMeaning.APPROVED  # QA approves the assessment and the action taken


@dataclasses.dataclass(frozen=True)
class IncidentView:
    id: int
    label: str  # "INC-7"
    kind: str  # the stored value ("verify-failed")
    kind_title: str  # "Integrity check failed"
    subject: str
    detail: str
    status: str  # "open" / "closed"
    open: bool
    opened_at: dt.datetime
    opened_by: str
    occurrences: int
    last_seen_at: dt.datetime
    assessment: str | None
    capa: str | None
    closed_at: dt.datetime | None
    closed_by: str | None
    closing_reason: str | None
    signature: str | None  # the closing signature's manifestation
    may_close: bool
    why_not_close: str | None


def _view(session: Session, incident: Incident, *, may_close: bool, why_not: str | None) -> IncidentView:
    manifestation = None
    if incident.signature_id is not None:
        found = [s for s in signatures.signatures_of(session, "incident", incident.audit_label)
                 if s.id == incident.signature_id]
        manifestation = found[0].manifestation() if found else "(signature not found)"
    is_open = incident.status is IncidentStatus.OPEN
    return IncidentView(
        id=incident.id, label=incident.audit_label, kind=incident.kind.value, kind_title=incident.kind.title,
        subject=incident.subject, detail=incident.detail, status=incident.status.value, open=is_open,
        opened_at=incident.opened_at, opened_by=incident.opened_by, occurrences=incident.occurrences,
        last_seen_at=incident.last_seen_at, assessment=incident.assessment, capa=incident.capa,
        closed_at=incident.closed_at, closed_by=incident.closed_by, closing_reason=incident.closing_reason,
        signature=manifestation, may_close=may_close and is_open,
        why_not_close=why_not if is_open else "the incident is closed")


def _may_close(db: Database, actor: Actor) -> tuple[bool, str | None]:
    held = permissions_of(current_roles(db, actor))
    if Permission.CLOSE_INCIDENTS not in held:
        return False, "QA assesses and closes incidents"
    if Permission.SIGN not in held:
        return False, "closing an incident needs an e-signature, and your roles do not sign"
    return True, None


def list_incidents(db: Database, actor: Actor, *, include_closed: bool = False) -> list[IncidentView]:
    """Open incidents (or all), newest first. Anyone who may read the audit trail or close incidents may list them."""
    _require_read(db, actor)
    may, why = _may_close(db, actor)
    with db.read(actor) as session:
        query = select(Incident).order_by(Incident.id.desc())
        if not include_closed:
            query = query.where(Incident.status == IncidentStatus.OPEN)
        return [_view(session, i, may_close=may, why_not=why) for i in session.scalars(query)]


def get_incident(db: Database, actor: Actor, incident_id: int) -> IncidentView:
    _require_read(db, actor)
    may, why = _may_close(db, actor)
    with db.read(actor) as session:
        return _view(session, _incident(session, incident_id), may_close=may, why_not=why)


def open_count(db: Database) -> int:
    """How many incidents are open (Home)."""
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(Incident)
                                  .where(Incident.status == IncidentStatus.OPEN)) or 0)


def _require_read(db: Database, actor: Actor) -> None:
    if not allowed(actor, Permission.CLOSE_INCIDENTS):
        require(db, actor, Permission.VIEW_AUDIT)


def _incident(session: Session, incident_id: int) -> Incident:
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(f"there is no incident INC-{incident_id}")
    return incident


def _close_refusal(incident: Incident, *, assessment: str, reason: str) -> RuleViolation | None:
    if incident.status is not IncidentStatus.OPEN:
        return RuleViolation(f"{incident.audit_label} is already closed", code=ErrorCode.INCIDENT_NOT_OPEN)
    if not assessment:
        return RuleViolation(f"{incident.audit_label} cannot be closed without an assessment (what happened, its root "
                             "cause and its impact on the data)", code=ErrorCode.INCIDENT_ASSESSMENT_REQUIRED)
    if not reason:
        return RuleViolation(f"{incident.audit_label} cannot be closed without a reason for closing it",
                             code=ErrorCode.INCIDENT_REASON_REQUIRED)
    return None


def _texts(assessment: str | None, capa: str | None, reason: str | None) -> tuple[str, str, str]:
    texts = tuple((t or "").strip() for t in (assessment, capa, reason))
    for name, text in zip(("the assessment", "the CAPA", "the closing reason"), texts, strict=True):
        if len(text) > TEXT_LIMIT:
            raise ValidationError(f"{name} is {len(text):,} characters long; at most {TEXT_LIMIT:,} are allowed",
                                  code=ErrorCode.TEXT_TOO_LONG)
    return texts  # type: ignore[return-value]


def check_close(db: Database, actor: Actor, incident_id: int, *, assessment: str | None, capa: str | None,
                reason: str | None) -> IncidentView:
    """Refuse now (logged) what ``close`` would refuse, before anyone types a password."""
    require(db, actor, Permission.CLOSE_INCIDENTS)
    assessment_, _capa, reason_ = _texts(assessment, capa, reason)
    with db.read(actor) as session:
        incident = _incident(session, incident_id)
        refusal = _close_refusal(incident, assessment=assessment_, reason=reason_)
        if refusal is not None:
            raise refusal
        return _view(session, incident, may_close=True, why_not=None)


def close(db: Database, actor: Actor, incident_id: int, *, assessment: str | None, capa: str | None,
          reason: str | None, username: str, password: str) -> IncidentView:
    """QA closes an open incident: assessment, CAPA, reason, and an "approved" e-signature over all of them."""
    check_close(db, actor, incident_id, assessment=assessment, capa=capa, reason=reason)
    assessment_, capa_, reason_ = _texts(assessment, capa, reason)
    signatures.reauthenticate(db, actor, username=username, password=password)
    with db.write(actor, reason=reason_) as session:
        incident = _incident(session, incident_id)
        refusal = _close_refusal(incident, assessment=assessment_, reason=reason_)
        if refusal is not None:
            raise refusal
        content = {"incident": incident.audit_label, "kind": incident.kind.value, "subject": incident.subject,
                   "detail": incident.detail, "occurrences": incident.occurrences, "assessment": assessment_,
                   "capa": capa_, "reason": reason_}
        sig = signatures.add_signature(db, session, actor, meaning=MEANING, entity="incident",
                                       entity_id=incident.audit_label, content=content,
                                       activity=f"incident:{incident.id}")
        incident.assessment, incident.capa, incident.closing_reason = assessment_, capa_ or None, reason_
        incident.closed_at, incident.closed_by, incident.signature_id = db.clock.now(), actor.username, sig.id
        incident.status = IncidentStatus.CLOSED
        session.flush()
        return _view(session, incident, may_close=True, why_not=None)


def record_crash(db: Database, *, error: str) -> None:
    """An unexpected error in the desktop application (SE-03): a CRASH event in the system's name, which opens an
    incident for QA (or counts one more on the workstation's open one). Never raises: it is called from the
    exception hook, where a second failure (the database gone, say) must not hide the first."""
    try:
        with db.write(Actor.system("crash report"), check_actor=False) as session:
            audit.record_event(session, "CRASH", entity="workstation", new={"error": error[:TEXT_LIMIT]})
    except Exception:  # noqa: BLE001, S110 - see above: the error itself is already on stderr and on screen
        pass
