"""Electronic signatures (21 CFR Part 11): re-authentication, meaning, manifestation, binding to content."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import AuditEvent, Signature, SignatureMeaning
from app.models.stations import TrainedActivity
from app.services.core import audit, keys
from app.services.core.db import Actor, Database
from app.services.core.error_codes import ErrorCode
from app.services.core.errors import AuthenticationError, PermissionDenied, RuleViolation
from app.services.core.timefmt import local_text
from app.services.identity import auth, training, workstations
from app.services.identity.permissions import Permission, require


class SignatureStatus(enum.Enum):
    VALID = "valid"
    CHANGED = "content changed after signing"
    NOT_GENUINE = "not genuine: its binding does not verify (copied, inserted or altered outside Formtrail)"


@dataclasses.dataclass(frozen=True)
class SignatureInfo:
    id: int
    entity: str
    entity_id: str
    activity: str
    meaning: SignatureMeaning
    signer_username: str
    signer_full_name: str
    signed_at: dt.datetime
    content_hash: str
    comment: str | None
    genuine: bool = True  # its keyed binding verifies (or it predates keys and its audit event says so)

    def manifestation(self, tz: dt.tzinfo | None = None) -> str:
        return manifestation(self.signer_full_name, self.signer_username, self.meaning, self.signed_at, tz)


def manifestation(
    full_name: str, username: str, meaning: SignatureMeaning, signed_at: dt.datetime, tz: dt.tzinfo | None = None
) -> str:
    """"Jane Doe (jdoe), Reviewed, 2025-03-04 14:07:12 CET (UTC+01:00)": what screens and printouts show."""
    return f"{full_name} ({username}), {meaning.title}, {local_text(signed_at, tz)}"


def content_hash(entity: str, entity_id: str, content: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical signed content. The entity and its id are part of it, so a signature row
    copied onto another record does not verify there."""
    canonical = json.dumps(
        {"entity": entity, "entity_id": entity_id, "content": content},
        ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def binding_text(sig: Signature) -> bytes:
    """What the keyed binding covers: who signed what, with which meaning, when, and the content's hash."""
    return json.dumps([sig.entity, sig.entity_id, sig.activity, sig.meaning.value, sig.signer_id,
                       sig.signer_username, sig.signer_full_name, audit.iso_utc(sig.signed_at), sig.content_hash,
                       sig.key_version], ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def is_genuine(session: Session, sig: Signature) -> bool:
    """The binding verifies under the site's signature key; a signature without one (made before keys left
    the database) only if its own audit event is from that time too (an unkeyed audit row)."""
    if sig.binding is not None and sig.key_version is not None:
        return keys.ring_of(session).check("signature", binding_text(sig), sig.binding, sig.key_version)
    label = f"{sig.entity}:{sig.entity_id}#{sig.id}"
    return session.scalar(select(AuditEvent.seq).where(
        AuditEvent.action == "SIGN", AuditEvent.entity == "signature", AuditEvent.entity_id == label,
        AuditEvent.key_version.is_(None))) is not None


def _info(sig: Signature, session: Session | None = None) -> SignatureInfo:
    return SignatureInfo(
        id=sig.id, entity=sig.entity, entity_id=sig.entity_id, activity=sig.activity, meaning=sig.meaning,
        signer_username=sig.signer_username, signer_full_name=sig.signer_full_name, signed_at=sig.signed_at,
        content_hash=sig.content_hash, comment=sig.comment,
        genuine=True if session is None else is_genuine(session, sig),
    )


def reauthenticate(db: Database, actor: Actor, *, username: str, password: str) -> None:
    """Ask for the credentials again (every signing, whatever the session state). Failures are recorded as
    SIGN_FAIL and count toward the lockout; signing under another person's name is refused."""
    if username.strip() != actor.username:
        with db.write(actor, check_actor=False) as session:
            audit.record_event(session, "SIGN_FAIL", reason=f"signing attempted with another user name ({username!r})")
        raise AuthenticationError(f"sign with your own user name ({actor.username}), not {username!r}")
    require_may_sign(db, actor)
    auth.authenticate(db, username=username, password=password, purpose=auth.Purpose.SIGN)


def require_may_sign(db: Database, actor: Actor) -> None:
    """Before the password is asked: this station is registered (AC-08) and the signer's identity check,
    accountability statement and signing training are on record and current (AC-07); refused and logged if not."""
    workstations.require_registered(db, actor, "sign")
    training.require_qualified(db, actor, TrainedActivity.SIGNING)


def gate_refusal(db: Database, session: Session, actor: Actor) -> PermissionDenied | RuleViolation | None:
    """The same two checks inside the signing transaction, where the signature is bound (nothing signs past them)."""
    return (workstations.station_refusal(session, db, "sign")
            or training.qualification_refusal(session, actor, db.clock.now().date(), TrainedActivity.SIGNING))


def signer_refusal(
    session: Session, actor: Actor, *, activity: str, meaning: SignatureMeaning,
    other_roles: Mapping[int, str] | None = None,
) -> RuleViolation | None:
    """Why ``actor`` may not sign ``activity`` with ``meaning`` (None: they may). The same person never signs
    two roles for one activity; ``other_roles`` names people who already took part in another role (author,
    enterer) by user id. Views ask this to offer a signature; ``ensure_distinct_signer`` raises it."""
    role = (other_roles or {}).get(actor.user_id)  # type: ignore[arg-type]
    if role is not None:
        return RuleViolation(f"{actor.full_name} is the {role} of {activity} and may not also sign it as "
                             f"{meaning.title.lower()}; another person must sign", code=ErrorCode.SEPARATION_OF_DUTIES)
    earlier = session.scalars(
        select(Signature).where(
            Signature.activity == activity, Signature.signer_id == actor.user_id, Signature.meaning != meaning
        )
    ).first()
    if earlier is not None:
        return RuleViolation(f"{actor.full_name} already signed {activity} as {earlier.meaning.title.lower()} and "
                             f"may not also sign it as {meaning.title.lower()}; another person must sign",
                             code=ErrorCode.SEPARATION_OF_DUTIES)
    return None


def ensure_distinct_signer(
    db: Database, session: Session, actor: Actor, *, activity: str, meaning: SignatureMeaning,
    other_roles: Mapping[int, str] | None = None,
) -> None:
    refusal = signer_refusal(session, actor, activity=activity, meaning=meaning, other_roles=other_roles)
    if refusal is not None:
        raise refusal


def add_signature(
    db: Database, session: Session, actor: Actor, *, meaning: SignatureMeaning, entity: str, entity_id: str,
    content: Mapping[str, Any], activity: str, other_roles: Mapping[int, str] | None = None,
    comment: str | None = None,
) -> SignatureInfo:
    """Record a signature inside the caller's transaction (after ``reauthenticate``), so the signature and
    the state change it authorises commit together."""
    require(db, actor, Permission.SIGN)
    gate = gate_refusal(db, session, actor)
    if gate is not None:
        raise gate
    ensure_distinct_signer(db, session, actor, activity=activity, meaning=meaning, other_roles=other_roles)
    assert actor.user_id is not None
    ring = keys.ring_of(session)
    sig = Signature(
        entity=entity, entity_id=entity_id, activity=activity, meaning=meaning, signer_id=actor.user_id,
        signer_username=actor.username, signer_full_name=actor.full_name, signed_at=db.clock.now(),
        content_hash=content_hash(entity, entity_id, content), comment=comment, key_version=ring.current,
    )
    sig.binding = ring.mac("signature", binding_text(sig), ring.current)
    session.add(sig)
    session.flush()
    return _info(sig)


def sign(
    db: Database, actor: Actor, *, username: str, password: str, meaning: SignatureMeaning, entity: str,
    entity_id: str, content: Mapping[str, Any], activity: str, other_roles: Mapping[int, str] | None = None,
    comment: str | None = None,
) -> SignatureInfo:
    """Re-authenticate and sign in one step, for signatures that change nothing else."""
    require(db, actor, Permission.SIGN)
    reauthenticate(db, actor, username=username, password=password)
    with db.write(actor, reason=f"signed: {meaning.title.lower()}") as session:
        return add_signature(
            db, session, actor, meaning=meaning, entity=entity, entity_id=entity_id, content=content,
            activity=activity, other_roles=other_roles, comment=comment,
        )


def signatures_of(session: Session, entity: str, entity_id: str) -> list[SignatureInfo]:
    rows = session.scalars(
        select(Signature).where(Signature.entity == entity, Signature.entity_id == entity_id).order_by(Signature.id)
    )
    return [_info(s, session) for s in rows]


def status(signature: SignatureInfo, content: Mapping[str, Any]) -> SignatureStatus:
    if not signature.genuine:
        return SignatureStatus.NOT_GENUINE
    current = content_hash(signature.entity, signature.entity_id, content)
    return SignatureStatus.VALID if current == signature.content_hash else SignatureStatus.CHANGED
