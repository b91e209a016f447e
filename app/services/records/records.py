"""Electronic records and GDP corrections: save-on-entry, reasons for change, verification, review, approval.

Every confirmed value is committed at once with its audit rows (RC-02). A saved value is never changed: a
correction is a new entry superseding the old one, with a reason; the old one stays readable (RC-01).
The record's state is derived from its entries and signatures after every change, so a change after a
signature immediately shows that signature as broken and sends the record back for signing (ES-05).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.forms.layout.layout import FieldDef, TemplateLayout
from app.models import (
    Entry,
    EntryKind,
    FormState,
    IssuanceState,
    IssuedForm,
    Record,
    RecordState,
    SignatureMeaning,
)
from app.models.stations import TrainedActivity
from app.services.core import limits
from app.services.core.db import Actor, Database
from app.services.core.error_codes import ErrorCode
from app.services.core.errors import (
    DomainError,
    FormtrailError,
    NotFound,
    PermissionDenied,
    RuleViolation,
    ValidationError,
)
from app.services.identity import batch, signatures, training
from app.services.identity.permissions import Permission, allowed, require
from app.services.issuance.issuance import form_by_serial
from app.services.records.record_values import check
from app.services.records.record_views import (
    RecordView,
    build_view,
    current_entries,
    form_of,
    record_content,
    session_of,
    version_of,
)
from app.services.scans import paper_views
from app.services.scans.intake_link import current_page_scan
from app.services.site import settings
from app.services.templates import templates
from app.textfmt import plural

ENTERABLE = (FormState.ISSUED, FormState.RETURNED)
# Activity times this far ahead of the clock are typing mistakes, not clock skew.
FUTURE_TOLERANCE = dt.timedelta(minutes=5)


def _layout(record: Record) -> TemplateLayout:
    return templates.layout_of(version_of(session_of(record), record))


def _field(layout: TemplateLayout, name: str) -> FieldDef:
    for field in layout.fields:
        if field.name == name:
            return field
    names = ", ".join(f.name for f in layout.fields)
    raise NotFound(f"{layout.code} has no field {name!r}; its fields are: {names}")


def _record(session: Session, serial: str, *, create_for: Actor | None = None, db: Database | None = None) -> Record:
    form = form_by_serial(session, serial)
    record = session.scalar(select(Record).where(Record.issued_form_id == form.id))
    if record is not None:
        return record
    if create_for is None or db is None:
        raise NotFound(f"no data has been entered for {form.serial} yet")
    if form.state not in ENTERABLE:
        raise DomainError(f"{form.serial} is {form.state.value}; its data is not transcribed")
    record = Record(issued_form_id=form.id, serial=form.serial,
                    template_version_id=form.issuance.template_version_id, state=RecordState.OPEN,
                    created_at=db.clock.now(), created_by=create_for.username)
    session.add(record)
    session.flush()
    return record


def refresh_state(session: Session, record: Record, layout: TemplateLayout) -> RecordState:
    """Derive the state from the entries and the signatures that still match the content."""
    current = current_entries(record)
    complete = all(f.name in current for f in layout.fields if f.required)
    verified = complete and all(current[f.name].verified_at is not None or current[f.name].is_na
                                for f in layout.fields if f.critical and f.name in current)
    content = record_content(record, layout)
    valid = {s.meaning for s in signatures.signatures_of(session, "record", record.serial)
             if signatures.status(s, content) is signatures.SignatureStatus.VALID}
    if not complete:
        state = RecordState.OPEN
    elif not verified:
        state = RecordState.TRANSCRIBED
    elif SignatureMeaning.REVIEWED in valid and SignatureMeaning.APPROVED in valid:
        state = RecordState.APPROVED
    elif SignatureMeaning.REVIEWED in valid:
        state = RecordState.REVIEWED
    else:
        state = RecordState.VERIFIED
    if record.state is not state:
        record.state = state
    return state


def edit_refusal(form: IssuedForm) -> DomainError | None:
    """Why the record of ``form`` can no longer be changed (None: it can)."""
    if form.state not in ENTERABLE:
        return DomainError(f"{form.serial} is {form.state.value}; its record can no longer be changed")
    return None


def _check_editable(record: Record) -> None:
    _raise(edit_refusal(form_of(session_of(record), record)))


def _raise(refusal: FormtrailError | None) -> None:
    if refusal is not None:
        raise refusal


def _source(session: Session, record: Record, source_page: int | None) -> tuple[str, int | None]:
    if source_page is None:
        return "direct", None
    scan = current_page_scan(session, record.issued_form_id, source_page)
    if scan is None:
        raise ValidationError(f"page {source_page} of {record.serial} has no linked scan; link the scan first, "
                              "or leave out the source page for a direct entry")
    return "scan", scan.id


def _lateness(session: Session, activity_at: dt.datetime | None, now: dt.datetime,
              late_reason: str | None) -> tuple[bool, str | None]:
    if activity_at is None:
        return False, None
    if activity_at.tzinfo is None:
        raise ValidationError("the activity time needs its time zone")
    if activity_at > now + FUTURE_TOLERANCE:
        raise ValidationError("the activity time is in the future; check the date and time written on the paper")
    threshold = dt.timedelta(hours=settings.get(session, "records.late_entry_hours"))
    delay = now - activity_at
    if delay <= threshold:
        return False, None
    if not late_reason or not late_reason.strip():
        raise ValidationError(f"this entry is made {describe_delay(delay)} after the activity (more than "
                              f"{threshold.total_seconds() / 3600:g} h): give the reason for the late entry",
                              code=ErrorCode.LATE_REASON_REQUIRED)
    return True, late_reason.strip()


def describe_delay(delay: dt.timedelta) -> str:
    days, rest = divmod(int(delay.total_seconds()), 86400)
    hours, rest = divmod(rest, 3600)
    return f"{days}d {hours}h" if days else f"{hours}h {rest // 60}m"


def _new_entry(
    db: Database, session: Session, actor: Actor, record: Record, field: FieldDef, *, value: str | None,
    na_reason: str | None, kind: EntryKind, reason: str | None, source_page: int | None,
    activity_at: dt.datetime | None, justification: str | None, late_reason: str | None,
    inherit_lateness: Entry | None = None,
) -> Entry:
    now = db.clock.now()
    out_of_limits = False
    for name, text in (("value", value), ("reason", na_reason), ("reason", reason), ("reason", justification),
                       ("reason", late_reason)):
        limits.checked(name, text)
    if na_reason is not None:
        if not na_reason.strip():
            raise ValidationError(f"{field.label}: marking the field NA needs a reason",
                                  code=ErrorCode.NA_REASON_REQUIRED)
        stored, is_na = "NA", True
    else:
        checked = check(field, value or "")
        stored, is_na, out_of_limits = checked.value, False, checked.out_of_limits
        if out_of_limits and not (justification or "").strip():
            raise ValidationError(f"{field.label}: {stored} is outside the limits {checked.limits}; "
                                  "give a justification (it stays highlighted)", code=ErrorCode.JUSTIFICATION_REQUIRED)
    if inherit_lateness is not None:
        # A correction is always made after the activity; whether the value was late is the original's story.
        late, late_why = inherit_lateness.late, inherit_lateness.late_reason
    else:
        late, late_why = _lateness(session, activity_at, now, late_reason)
    source, scan_id = _source(session, record, source_page)
    if kind is EntryKind.PAPER_CORRECTION and scan_id is None:
        raise ValidationError("a correction made on the paper is captured from its scan: give the source page")
    entry = Entry(
        record_id=record.id, field_name=field.name, value=stored, is_na=is_na, kind=kind,
        reason=(na_reason.strip() if is_na and na_reason else reason), activity_at=activity_at, entered_at=now,
        entered_by=actor.username, entered_by_id=actor.user_id, source=source, scan_page_id=scan_id, late=late,
        late_reason=late_why, out_of_limits=out_of_limits,
        justification=(justification or "").strip() or None if out_of_limits else None,
    )
    record.entries.append(entry)
    session.flush()
    return entry


def enter_value(
    db: Database, actor: Actor, *, serial: str, field: str, value: str | None = None, na_reason: str | None = None,
    source_page: int | None = None, activity_at: dt.datetime | None = None, justification: str | None = None,
    late_reason: str | None = None,
) -> RecordView:
    """Save one first value of a field (save-on-entry: committed with its audit rows before returning)."""
    require(db, actor, Permission.ENTER_DATA)
    with db.write(actor, reason="value entered") as session:
        record = _record(session, serial, create_for=actor, db=db)
        _check_editable(record)
        layout = _layout(record)
        definition = _field(layout, field)
        if definition.name in current_entries(record):
            raise DomainError(f"{definition.label} already has a value; change it with a correction and a reason")
        _new_entry(db, session, actor, record, definition, value=value, na_reason=na_reason,
                   kind=EntryKind.ORIGINAL, reason=None, source_page=source_page, activity_at=activity_at,
                   justification=justification, late_reason=late_reason)
        refresh_state(session, record, layout)
        return _view(session, actor, record, layout)


def correct_value(
    db: Database, actor: Actor, *, serial: str, field: str, value: str | None = None, reason: str,
    na_reason: str | None = None, paper: bool = False, source_page: int | None = None,
    justification: str | None = None,
) -> RecordView:
    """Replace a saved value by a new entry with a reason; the original stays, struck through, in the history."""
    require(db, actor, Permission.ENTER_DATA)
    if not reason or not reason.strip():
        raise ValidationError("a correction needs a reason (pick one and explain)", code=ErrorCode.REASON_REQUIRED)
    with db.write(actor, reason=f"correction: {reason.strip()}") as session:
        record = _record(session, serial)
        _check_editable(record)
        layout = _layout(record)
        definition = _field(layout, field)
        previous = current_entries(record).get(definition.name)
        if previous is None:
            raise DomainError(f"{definition.label} has no value yet; enter it instead of correcting it")
        entry = _new_entry(db, session, actor, record, definition, value=value, na_reason=na_reason,
                           kind=EntryKind.PAPER_CORRECTION if paper else EntryKind.CORRECTION,
                           reason=reason.strip(), source_page=source_page, activity_at=previous.activity_at,
                           justification=justification, late_reason=None, inherit_lateness=previous)
        entry.supersedes_id = previous.id
        previous.superseded_by_id = entry.id
        session.flush()
        refresh_state(session, record, layout)
        return _view(session, actor, record, layout)


def verify_field(db: Database, actor: Actor, *, serial: str, field: str) -> RecordView:
    """Second-person verification of a critical entry (never the person who entered it)."""
    require(db, actor, Permission.VERIFY_DATA)
    training.require_qualified(db, actor, TrainedActivity.VERIFYING)  # AC-07
    with db.write(actor, reason="second-person verification") as session:
        record = _record(session, serial)
        layout = _layout(record)
        definition = _field(layout, field)
        entry = current_entries(record).get(definition.name)
        _raise(verify_refusal(actor, record.serial, definition, entry))
        assert entry is not None
        entry.verified_at, entry.verified_by, entry.verified_by_id = db.clock.now(), actor.username, actor.user_id
        session.flush()
        refresh_state(session, record, layout)
        return _view(session, actor, record, layout)


def verify_many(db: Database, actor: Actor, *, serial: str, fields: Iterable[str],
                progress: batch.Progress | None = None) -> batch.BatchResult[str]:
    """Second-person verification of many values of one record at once: each as :func:`verify_field` verifies
    one (no password, as for one value), in its own transaction; a value refused (the verifier's own, verified
    meanwhile) is reported with its code and the rest go on."""
    require(db, actor, Permission.VERIFY_DATA)
    training.require_qualified(db, actor, TrainedActivity.VERIFYING)  # AC-07: refused once, not per value
    return batch.each(db, actor, fields, lambda name: verify_field(db, actor, serial=serial, field=name),
                      progress=progress)


def verify_refusal(actor: Actor, serial: str, definition: FieldDef, entry: Entry | None) -> FormtrailError | None:
    """Why ``actor`` may not verify the current ``entry`` of a field (None: they may): never their own."""
    if not definition.critical:
        return DomainError(f"{definition.label} is not a critical field; it needs no second-person verification")
    if entry is None:
        return DomainError(f"{definition.label} has no value to verify yet")
    if entry.verified_at is not None:
        return DomainError(f"{definition.label} was already verified by {entry.verified_by}")
    if entry.entered_by_id == actor.user_id:
        return RuleViolation(f"{actor.full_name} entered {definition.label} on {serial} and may not verify it: "
                             "self-verification refused; another person must verify", code=ErrorCode.SELF_VERIFICATION)
    return None


def invalidate_refusal(actor: Actor, form: IssuedForm, definition: FieldDef,
                       entry: Entry | None) -> FormtrailError | None:
    """Why ``actor`` may not invalidate the current value of a field (None: they may): only a result that
    counts now, of a record that can still change (RC-05; app.services.records.invalidation acts on it)."""
    if not allowed(actor, Permission.INVALIDATE_RESULTS):
        return PermissionDenied(f"{actor.username} may not {Permission.INVALIDATE_RESULTS.value}")
    closed = edit_refusal(form)
    if closed is not None:
        return closed
    if entry is None:
        return DomainError(f"{definition.label} has no current value to invalidate", code=ErrorCode.RESULT_NOT_CURRENT)
    return None


def record_of(session: Session, serial: str) -> Record:
    """The record of the form with ``serial`` (NotFound before its first value)."""
    return _record(session, serial)


def field_of(record: Record, name: str) -> tuple[TemplateLayout, FieldDef]:
    """The record's layout and its field ``name`` (NotFound naming the fields there are)."""
    layout = _layout(record)
    return layout, _field(layout, name)


def view_for(session: Session, actor: Actor, record: Record, layout: TemplateLayout) -> RecordView:
    """The record as ``actor`` sees it, with what they may do now."""
    return _view(session, actor, record, layout)


def sign_record(
    db: Database, actor: Actor, *, serial: str, meaning: SignatureMeaning, username: str, password: str,
    comment: str | None = None,
) -> RecordView:
    """QA review ("reviewed": record, scans and audit trail) and approval ("approved"), by distinct people."""
    if meaning is SignatureMeaning.REVIEWED:
        require(db, actor, Permission.REVIEW_RECORDS)
    elif meaning is SignatureMeaning.APPROVED:
        require(db, actor, Permission.APPROVE_RECORDS)
    else:
        raise ValidationError("a record is signed as reviewed or approved")
    with db.read(actor) as session:
        _check_signable(db, actor, _record(session, serial), meaning)
    signatures.reauthenticate(db, actor, username=username, password=password)
    with db.write(actor, reason=f"record {meaning.title.lower()}") as session:
        record = _record(session, serial)
        layout = _layout(record)
        _check_signable(db, actor, record, meaning)
        default = "record, its scans and its audit trail reviewed" if meaning is SignatureMeaning.REVIEWED else None
        signatures.add_signature(
            db, session, actor, meaning=meaning, entity="record", entity_id=record.serial,
            content=record_content(record, layout), activity=f"record:{record.serial}",
            other_roles=_participants(record),
            comment=comment or default,
        )
        refresh_state(session, record, layout)
        return _view(session, actor, record, layout)


def _participants(record: Record) -> dict[int, str]:
    """Who took part in the record before its signatures (by user id): they never sign it."""
    participants: dict[int, str] = {}
    for entry in record.entries:
        participants.setdefault(entry.entered_by_id, "enterer of a value")
        if entry.verified_by_id is not None:
            participants.setdefault(entry.verified_by_id, "verifier of a value")
    return participants


def sign_refusal(session: Session, actor: Actor, record: Record, state: RecordState,
                 meaning: SignatureMeaning) -> FormtrailError | None:
    """Why ``actor`` may not sign the record (in ``state``) with ``meaning`` now (None: they may)."""
    if meaning is SignatureMeaning.REVIEWED:
        if state in (RecordState.OPEN, RecordState.TRANSCRIBED):
            missing = "required fields are empty" if state is RecordState.OPEN else "critical fields are unverified"
            return RuleViolation(f"{record.serial} cannot be reviewed yet: {missing}", code=ErrorCode.RECORD_NOT_READY)
        if state in (RecordState.REVIEWED, RecordState.APPROVED):
            return DomainError(f"{record.serial} is already {state.value}")
    else:
        if state is not RecordState.REVIEWED:
            return RuleViolation(f"{record.serial} is {state.value}: it must be reviewed (with a valid signature) "
                                 "before it is approved", code=ErrorCode.RECORD_NOT_READY)
        if form_of(session, record).issuance.state is not IssuanceState.RECONCILED:
            return RuleViolation(f"the issuance of {record.serial} is not reconciled yet; approve the record after "
                                 "QA has reconciled every sheet of it", code=ErrorCode.ISSUANCE_NOT_RECONCILED)
    refusal = signatures.signer_refusal(session, actor, activity=f"record:{record.serial}", meaning=meaning,
                                        other_roles=_participants(record))
    if refusal is None and meaning is SignatureMeaning.APPROVED:
        # RC-07: what the paper shows is reviewed before the record is released (after who may sign: a person who
        # may never approve it is told that, not to wait for the findings).
        findings = paper_views.open_count(session, record.issued_form_id)
        if findings:
            return RuleViolation(f"{record.serial} has {plural(findings, 'open paper finding')} on its scanned sheets; "
                                 "QA resolves each (with a reason or a deviation reference) before the record is "
                                 "approved", code=ErrorCode.PAPER_FINDINGS_OPEN)
    return refusal


def _check_signable(db: Database, actor: Actor, record: Record, meaning: SignatureMeaning) -> None:
    session = session_of(record)
    _raise(sign_refusal(session, actor, record, refresh_state(session, record, _layout(record)), meaning))


def _view(session: Session, actor: Actor, record: Record, layout: TemplateLayout,
          form: IssuedForm | None = None) -> RecordView:
    """The record as ``actor`` sees it: with what they may do now, asked of the rules the acts check."""
    view = build_view(session, record, layout, form=form)
    form = form or form_of(session, record)
    current = current_entries(record)
    fields = []
    for field_view, definition in zip(view.fields, layout.fields, strict=True):
        refusal = verify_refusal(actor, record.serial, definition, current.get(definition.name)) \
            if field_view.needs_verification else DomainError("nothing to verify")
        void_refusal = invalidate_refusal(actor, form, definition, current.get(definition.name))
        fields.append(dataclasses.replace(
            field_view, may_verify=allowed(actor, Permission.VERIFY_DATA) and refusal is None,
            verify_refused=refusal.code if refusal is not None and field_view.needs_verification else None,
            may_invalidate=void_refusal is None))
    refusals = {meaning: sign_refusal(session, actor, record, record.state, meaning)
                for meaning in (SignatureMeaning.REVIEWED, SignatureMeaning.APPROVED)}
    closed = edit_refusal(form)
    not_approved = _approve_refusal(actor, refusals[SignatureMeaning.APPROVED])
    return dataclasses.replace(
        view, fields=tuple(fields), may_enter=allowed(actor, Permission.ENTER_DATA) and closed is None,
        why_not_enter=str(closed) if closed is not None else None,
        may_review=allowed(actor, Permission.REVIEW_RECORDS) and refusals[SignatureMeaning.REVIEWED] is None,
        may_approve=not_approved is None,
        why_not_approve=str(not_approved) if not_approved is not None else None,
        approve_refused=not_approved.code if not_approved is not None else None)


def _approve_refusal(actor: Actor, refusal: FormtrailError | None) -> FormtrailError | None:
    """What ``sign_record`` would answer ``actor`` approving now: the missing right first (as it checks), then
    the rules of ``sign_refusal``."""
    if not allowed(actor, Permission.APPROVE_RECORDS):
        return PermissionDenied("QA approves records, separately from the work it checks (separation of duties)",
                                code=ErrorCode.SEPARATION_OF_DUTIES)
    return refusal


def record_view(db: Database, actor: Actor, serial: str) -> RecordView:
    require(db, actor, Permission.VIEW_DATA)
    with db.read() as session:
        form = form_by_serial(session, serial)
        record = session.scalar(select(Record).where(Record.issued_form_id == form.id))
        if record is None:  # not created until the first value is saved
            record = Record(issued_form_id=form.id, serial=form.serial,
                            template_version_id=form.issuance.template_version_id, state=RecordState.OPEN,
                            created_at=db.clock.now(), created_by="")
            layout = templates.layout_of(form.issuance.template_version)
            return _view(session, actor, record, layout, form)
        return _view(session, actor, record, _layout(record))


def pending_counts(db: Database, actor: Actor) -> tuple[int, int]:
    """(records waiting for second-person verification, records waiting for review)."""
    require(db, actor, Permission.VIEW_DATA)
    with db.read() as session:
        counts = dict(session.execute(select(Record.state, func.count()).group_by(Record.state)).all())
    return counts.get(RecordState.TRANSCRIBED, 0), counts.get(RecordState.VERIFIED, 0)


def list_records(db: Database, actor: Actor, *, state: RecordState | None = None,
                 limit: int = 2000) -> list[tuple[str, RecordState, dt.datetime, str]]:
    """(serial, state, created at, created by), newest first."""
    require(db, actor, Permission.VIEW_DATA)
    with db.read() as session:
        query = select(Record.serial, Record.state, Record.created_at, Record.created_by).order_by(Record.id.desc())
        if state is not None:
            query = query.where(Record.state == state)
        return [(serial, state_, created_at, created_by)
                for serial, state_, created_at, created_by in session.execute(query.limit(limit)).all()]
