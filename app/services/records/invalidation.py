"""Invalidating a recorded result (RC-05; FDA-DI Q2, Part 11 11.10(e)).

A result is never deleted or overwritten: invalidating it adds an ``EntryInvalidation`` row, with the reason and
the invalidator's e-signature (meaning "approved": they approve taking the result back), beside the entry, which
stays exactly as it was. The value stays shown everywhere, flagged VOID with who, when and why; the record keeps
its row count. It no longer counts as the field's result: a required field is empty again (the record goes back
to open) until a new value is entered, and the record's earlier signatures no longer match its content, so it is
reviewed and approved again.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.forms.layout.layout import TemplateLayout
from app.models import Entry, Record, SignatureMeaning
from app.models.lifecycle import EntryInvalidation
from app.services.core import limits
from app.services.core.db import Actor, Database
from app.services.core.error_codes import ErrorCode
from app.services.core.errors import FormtrailError, ValidationError
from app.services.identity import signatures
from app.services.identity.permissions import Permission, require
from app.services.records import records
from app.services.records.record_views import RecordView, current_entries, form_of


def check_invalidate(db: Database, actor: Actor, *, serial: str, field: str, reason: str) -> None:
    """Refuse (and log) an invalidation that cannot happen, before the password is asked for."""
    require(db, actor, Permission.INVALIDATE_RESULTS)
    _reason(reason)
    with db.read(actor) as session:
        _refuse(session, actor, serial, field)


def invalidate_result(db: Database, actor: Actor, *, serial: str, field: str, reason: str, username: str,
                      password: str) -> RecordView:
    """Invalidate the current value of ``field`` on the record of ``serial``: reason and e-signature."""
    check_invalidate(db, actor, serial=serial, field=field, reason=reason)
    signatures.reauthenticate(db, actor, username=username, password=password)
    why = _reason(reason)
    with db.write(actor, reason=f"result invalidated: {why}") as session:
        record, layout, entry = _refuse(session, actor, serial, field)
        label = entry.audit_label
        sig = signatures.add_signature(
            db, session, actor, meaning=SignatureMeaning.APPROVED, entity="record_entry", entity_id=label,
            content={"value": entry.value, "na": entry.is_na, "entered_by": entry.entered_by,
                     "entered_at": entry.entered_at.isoformat(), "invalidation_reason": why},
            activity=f"invalidation:{label}", comment=f"result invalidated: {why}")
        assert actor.user_id is not None
        session.add(EntryInvalidation(
            entry_id=entry.id, record_id=record.id, serial=record.serial, field_name=entry.field_name, reason=why,
            invalidated_at=db.clock.now(), invalidated_by=actor.username, invalidated_by_id=actor.user_id,
            signature_id=sig.id))
        session.flush()
        session.expire(entry, ["invalidation"])  # the flag is read again: the entry no longer counts
        records.refresh_state(session, record, layout)
        return records.view_for(session, actor, record, layout)


def _reason(reason: str) -> str:
    why = (reason or "").strip()
    if not why:
        raise ValidationError("invalidating a result needs a reason", code=ErrorCode.REASON_REQUIRED)
    limits.checked("reason", why)
    return why


def _refuse(session: Session, actor: Actor, serial: str, field: str) -> tuple[Record, TemplateLayout, Entry]:
    record = records.record_of(session, serial)
    layout, definition = records.field_of(record, field)
    entry = current_entries(record).get(definition.name)
    refusal: FormtrailError | None = records.invalidate_refusal(actor, form_of(session, record), definition, entry)
    if refusal is not None:
        raise refusal
    assert entry is not None
    return record, layout, entry
