"""Replacing an issued copy (BF-04): never a reprint, always a new serial linked to the old one, with a reason
and a QA e-signature. The old copy becomes `replaced`; its paper must still come back or be declared missing."""

from __future__ import annotations

import dataclasses

from app.forms.render import render
from app.models import FormState, IssuanceState, IssuedForm, SignatureMeaning
from app.services.core import audit, limits
from app.services.core.db import Actor, Database
from app.services.core.errors import DomainError
from app.services.core.filestore import PutResult
from app.services.identity import signatures
from app.services.identity.permissions import Permission, require
from app.services.issuance import labels, serial_guard
from app.services.issuance.issuance import (
    Cancelled,
    Progress,
    form_by_serial,
    format_serial,
    lock_counter,
    next_serial,
    record_pdf,
    render_to_store,
    site_of,
    under_issuing_lock,
)


@dataclasses.dataclass(frozen=True)
class ReplacementResult:
    old_serial: str
    new_serial: str
    issuance_id: int
    pdf_id: int
    pdf_sha256: str
    pages: int
    old_label: str = ""  # both as printed (the issuance's serial format)
    new_label: str = ""


def replace_refusal(form: IssuedForm) -> DomainError | None:
    """Why ``form`` cannot be replaced now (None: it can); the reconcile view offers Replace from this."""
    return replace_refusal_of(serial=form.serial, state=form.state, issuance_state=form.issuance.state)


def replace_refusal_of(*, serial: str, state: FormState, issuance_state: IssuanceState) -> DomainError | None:
    """The same, from the columns a list already read (the register's rows)."""
    if issuance_state is not IssuanceState.OPEN:
        return DomainError(f"the issuance of {serial} is reconciled and read-only")
    if state is not FormState.ISSUED:
        return DomainError(f"{serial} is {state.value}; only a copy still out (issued) can be replaced")
    return None


def _check_replaceable(form: IssuedForm) -> None:
    refusal = replace_refusal(form)
    if refusal is not None:
        raise refusal


def replace_form(
    db: Database, actor: Actor, *, serial: str, reason: str, username: str, password: str,
    progress: Progress | None = None, cancelled: Cancelled | None = None,
) -> ReplacementResult:
    require(db, actor, Permission.REPLACE_FORMS)
    reason = limits.checked("reason", reason, required="a replacement needs a written justification (why the "
                                                       "copy cannot be used)")
    with db.read() as session:
        _check_replaceable(form_by_serial(session, serial))
    signatures.reauthenticate(db, actor, username=username, password=password)

    def attempt() -> ReplacementResult:
        with db.read() as session:
            old = form_by_serial(session, serial)
            _check_replaceable(old)
            issuance, version, site = old.issuance, old.issuance.template_version, site_of(session)
            number, copy_no, copy_count = next_serial(session, site), old.copy_no, issuance.copies
            _ = version.template  # loaded for rendering after the session
            # The new copy belongs to the old one's issuance: it prints with that issuance's format and year.
            old_label = labels.label_of(old, site.code)
            new_label = labels.serial_label(issuance.serial_format, site_code=site.code, template=version.template.code,
                                            version=version.version, issued_at=issuance.issued_at, serial_no=number)
        # Rendered under the issuing lock but outside any write transaction (see app/services/issuance/serial_guard).
        put, pages = render_to_store(
            db, site=site, version=version, issuance=issuance,
            copies=[render.CopyInfo(serial=format_serial(number), copy_no=copy_no, copy_count=copy_count,
                                    replaces=old.serial, label=new_label, replaces_label=old_label)],
            progress=progress, cancelled=cancelled,
        )
        done = _record(db, actor, serial=serial, reason=reason, expected=number, put=put, pages=pages)
        return dataclasses.replace(done, old_label=old_label, new_label=new_label)
    return under_issuing_lock(db, attempt)


def _record(db: Database, actor: Actor, *, serial: str, reason: str, expected: int, put: PutResult,
            pages: int) -> ReplacementResult:
    with db.write(actor, reason=f"replacement: {reason}") as session:
        old = form_by_serial(session, serial)
        _check_replaceable(old)
        issuance = old.issuance
        site = site_of(session)
        signatures.add_signature(
            db, session, actor, meaning=SignatureMeaning.APPROVED, entity="issued_form", entity_id=old.serial,
            content={"replace": old.serial, "reason": reason}, activity=f"replace:{old.serial}",
        )
        number = lock_counter(session, site, 1, expected=expected)
        serial_guard.raise_high_water(db.files.root, site.code, number, workstation=db.workstation)
        new_serial = format_serial(number)
        now = db.clock.now()
        pdf = record_pdf(session, actor, put=put, issuance=issuance, pages=pages, first=new_serial,
                         last=new_serial, now=now)
        session.add(IssuedForm(issuance_id=issuance.id, site_id=site.id, serial_no=number, serial=new_serial,
                               copy_no=old.copy_no, pages=old.pages, state=FormState.ISSUED, pdf_id=pdf.id,
                               replaces_id=old.id))
        old.state, old.state_reason = FormState.REPLACED, reason
        old.state_changed_at, old.state_changed_by = now, actor.username
        audit.record_event(session, "REPLACE", entity="issued_form", entity_id=old.serial, new=new_serial)
        return ReplacementResult(old_serial=old.serial, new_serial=new_serial, issuance_id=issuance.id,
                                 pdf_id=pdf.id, pdf_sha256=put.sha256, pages=pages)
