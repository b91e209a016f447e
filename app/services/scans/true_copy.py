"""True copies (PIC/S 7.7, SC-02/SC-05): a second person verifies the scans of a returned form against the
paper and signs "true-copy-verified"; only then may the paper's disposition be recorded."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Disposition, FormState, IssuedForm, ScanOutcome, ScanPage, SignatureMeaning
from app.services.core.db import Actor, Database
from app.services.core.error_codes import ErrorCode
from app.services.core.errors import DomainError, FormtrailError, RuleViolation, ValidationError
from app.services.identity import batch, signatures
from app.services.identity.permissions import Permission, allowed, require
from app.services.issuance import labels
from app.services.issuance.issuance import form_by_serial
from app.textfmt import of_total


@dataclasses.dataclass(frozen=True)
class Checklist:
    """What the verifier confirms, page by page against the paper, before signing a true copy (SC-02): each item
    must be confirmed, or nothing is signed (code true-copy-checklist-incomplete). The confirmed list is bound
    into the signature's content and kept with the form (``IssuedForm.true_copy_checklist``)."""

    all_pages_present: bool = False
    legible: bool = False
    colour_where_it_matters: bool = False
    corrections_visible: bool = False

    @classmethod
    def confirmed(cls) -> Checklist:
        return cls(True, True, True, True)

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(text for name, text in ITEMS if not getattr(self, name))

    @property
    def text(self) -> str:
        """"all pages present; legible; colour where it matters; corrections visible" (what was confirmed)."""
        return "; ".join(text for name, text in ITEMS if getattr(self, name))


# (field, what the verifier confirms): in the order the dialog and the statement show them.
ITEMS = (("all_pages_present", "all pages present"), ("legible", "legible"),
         ("colour_where_it_matters", "colour where it matters"), ("corrections_visible", "corrections visible"))


def checklist_refusal(checklist: Checklist | None) -> FormtrailError | None:
    """Why a true copy cannot be signed with ``checklist`` (None: every item is confirmed)."""
    missing = Checklist().missing if checklist is None else checklist.missing
    if not missing:
        return None
    return RuleViolation("a true copy is signed only when every check is confirmed against the paper; not "
                           f"confirmed: {', '.join(missing)}", code=ErrorCode.CHECKLIST_INCOMPLETE)


@dataclasses.dataclass(frozen=True)
class TrueCopyStatus:
    serial: str
    verified_by: str | None
    verified_at: dt.datetime | None
    disposition: str | None
    location: str | None
    # What the actor the status was read for may do now (the rules the acts check), and why not.
    may_verify: bool = False
    why_not_verify: str | None = None
    may_record_disposition: bool = False
    checklist: str | None = None  # what the verifier confirmed (SC-02)


def _current_pages(session: Session, form: IssuedForm) -> list[ScanPage]:
    return list(session.scalars(select(ScanPage).where(
        ScanPage.issued_form_id == form.id, ScanPage.outcome == ScanOutcome.LINKED,
        ScanPage.superseded_by_id.is_(None)).order_by(ScanPage.page_no)))


def true_copy_content(session, form) -> dict[str, object]:  # noqa: ANN001
    """What the signature binds to: each page of the form and the exact stored image it was verified on."""
    content: dict[str, object] = {"serial": form.serial, "pages": [
        {"page": p.page_no, "sha256": p.source.sha256, "index": p.page_index} for p in _current_pages(session, form)]}
    if form.true_copy_checklist:  # what the verifier confirmed (SC-02) is signed too
        content["checked"] = form.true_copy_checklist.split("; ")
    return content


def _importers(session: Session, form: IssuedForm) -> dict[int, str]:
    return {p.source.imported_by_id: "importer of these scans" for p in _current_pages(session, form)
            if p.source.imported_by_id is not None}


def verify_refusal(session: Session, actor: Actor, form: IssuedForm) -> FormtrailError | None:
    """Why ``actor`` may not sign the true copy of ``form`` now (None: they may). A second person verifies:
    never one who imported its scans."""
    pages = _current_pages(session, form)
    if {p.page_no for p in pages} != set(range(1, form.pages + 1)):
        return DomainError(f"{form.serial} has {of_total(len(pages), form.pages, 'page')} scanned; every page must be "
                           "linked before the copy can be verified")
    if form.true_copy_verified_at is not None:
        return DomainError(f"the scans of {form.serial} were already verified by {form.true_copy_verified_by}")
    return signatures.signer_refusal(session, actor, activity=f"true-copy:{form.serial}",
                                     meaning=SignatureMeaning.TRUE_COPY_VERIFIED, other_roles=_importers(session, form))


def disposition_refusal(form: IssuedForm) -> DomainError | None:
    """Why the paper original's disposition cannot be recorded now (None: it can)."""
    if form.true_copy_verified_at is None:
        return DomainError(f"the scans of {form.serial} are not verified as true copies yet; the paper original "
                           "must be kept until they are")
    if form.paper_disposition == Disposition.DESTROYED.value:
        return DomainError(f"the paper original of {form.serial} was destroyed; nothing more can be recorded")
    return None


def verify_true_copy(db: Database, actor: Actor, *, serial: str, username: str, password: str,
                     checklist: Checklist | None) -> TrueCopyStatus:
    """Sign the scans of ``serial`` as verified true copies, every item of ``checklist`` confirmed."""
    require(db, actor, Permission.VERIFY_TRUE_COPY)
    # Checked before the password is asked for, in a session that writes a refusal to the audit trail.
    with db.read(actor) as session:
        if (refusal := checklist_refusal(checklist)) is not None:
            raise refusal
        if (refusal := verify_refusal(session, actor, form_by_serial(session, serial))) is not None:
            raise refusal
    signatures.reauthenticate(db, actor, username=username, password=password)
    return _sign_true_copy(db, actor, serial, checklist or Checklist())


def verify_many(
    db: Database, actor: Actor, *, serials: Iterable[str], username: str, password: str,
    checklist: Checklist | None, progress: batch.Progress | None = None,
) -> batch.BatchResult[str]:
    """Verify the true copies of many forms with one password entry: each form gets its own signature (its own
    manifestation and content hash), in its own transaction, as :func:`verify_true_copy` signs one. A wrong
    password signs nothing; a form refused (its importer, already verified, pages missing) is reported with its
    code and the others are signed."""
    require(db, actor, Permission.VERIFY_TRUE_COPY)
    with db.read(actor) as _session:  # the checklist confirms every form of the batch, or none is signed
        if (refusal := checklist_refusal(checklist)) is not None:
            raise refusal
    confirmed = checklist or Checklist()
    return batch.each(db, actor, serials, lambda serial: _sign_true_copy(db, actor, serial, confirmed),
                      username=username, password=password, progress=progress)


def _sign_true_copy(db: Database, actor: Actor, serial: str, checklist: Checklist) -> TrueCopyStatus:
    """The signature itself, after re-authentication: one form, one signature, one transaction."""
    with db.write(actor, reason="verified true copy") as session:
        if (refusal := checklist_refusal(checklist)) is not None:
            raise refusal
        form = form_by_serial(session, serial)
        if (refusal := verify_refusal(session, actor, form)) is not None:  # another verifier may have been quicker
            raise refusal
        # The checklist is part of what is signed (``true_copy_content``): changing it breaks the signature.
        form.true_copy_checklist = checklist.text
        signatures.add_signature(
            db, session, actor, meaning=SignatureMeaning.TRUE_COPY_VERIFIED, entity="issued_form",
            entity_id=form.serial, content=true_copy_content(session, form), activity=f"true-copy:{form.serial}",
            other_roles=_importers(session, form),
        )
        form.true_copy_verified_at, form.true_copy_verified_by = db.clock.now(), actor.username
        return _status(form)


def record_disposition(
    db: Database, actor: Actor, *, serial: str, disposition: Disposition, location: str | None, reason: str,
    username: str | None = None, password: str | None = None,
) -> TrueCopyStatus:
    """Archived (with its location) or destroyed (QA approval by e-signature), after true-copy verification."""
    require(db, actor, Permission.RECORD_DISPOSITION)
    if not reason or not reason.strip():
        raise ValidationError("recording what happened to the paper original needs a reason")
    if disposition is Disposition.ARCHIVED and not (location or "").strip():
        raise ValidationError("say where the paper original is archived (room, cabinet, box)")
    with db.read() as session:
        if (refusal := disposition_refusal(form_by_serial(session, serial))) is not None:
            raise refusal
    if disposition is Disposition.DESTROYED:
        require(db, actor, Permission.APPROVE_DESTRUCTION)
        signatures.reauthenticate(db, actor, username=username or "", password=password or "")
    with db.write(actor, reason=reason.strip()) as session:
        form = form_by_serial(session, serial)
        if disposition is Disposition.DESTROYED:
            signatures.add_signature(
                db, session, actor, meaning=SignatureMeaning.APPROVED, entity="issued_form", entity_id=form.serial,
                content={"serial": form.serial, "disposition": "destroyed", "reason": reason.strip()},
                activity=f"paper-destruction:{form.serial}",
            )
        form.paper_disposition, form.paper_location = disposition.value, (location or "").strip() or None
        form.disposition_at, form.disposition_by = db.clock.now(), actor.username
        return _status(form)


def status(db: Database, actor: Actor, serial: str) -> TrueCopyStatus:
    """The true-copy status of a form, with what ``actor`` may do about it now."""
    require(db, actor, Permission.VIEW_DATA)
    with db.read() as session:
        return _status_for(session, actor, form_by_serial(session, serial))


def _status_for(session: Session, actor: Actor, form: IssuedForm) -> TrueCopyStatus:
    refusal = verify_refusal(session, actor, form)
    return dataclasses.replace(
        _status(form), may_verify=allowed(actor, Permission.VERIFY_TRUE_COPY) and refusal is None,
        why_not_verify=str(refusal) if refusal is not None and form.true_copy_verified_at is None else None,
        may_record_disposition=allowed(actor, Permission.RECORD_DISPOSITION) and disposition_refusal(form) is None)


@dataclasses.dataclass(frozen=True)
class ReturnedForm:
    """A returned form as the true-copy list shows it: what was issued, and its true-copy status for the actor."""

    serial: str
    template: str
    purpose: str
    reference: str | None
    copy: str  # "2 of 5"
    issued_to: str
    issued_at: dt.datetime
    status: TrueCopyStatus
    label: str = ""  # the serial as printed on the form (its issuance's serial format)

    @property
    def printed_as(self) -> str:
        return self.label or self.serial

    @property
    def verified_by(self) -> str | None:
        return self.status.verified_by

    @property
    def verified_at(self) -> dt.datetime | None:
        return self.status.verified_at

    @property
    def disposition(self) -> str | None:
        return self.status.disposition

    @property
    def location(self) -> str | None:
        return self.status.location


def returned_forms(db: Database, actor: Actor, *, limit: int = 500) -> list[ReturnedForm]:
    """Returned forms, newest serial first, each with its true-copy status and what ``actor`` may do about it:
    one read, however many forms."""
    require(db, actor, Permission.VIEW_DATA)
    with db.read() as session:
        forms = session.scalars(select(IssuedForm).where(IssuedForm.state == FormState.RETURNED)
                                .order_by(IssuedForm.serial_no.desc()).limit(limit)).all()
        label_of = labels.labels_of(session, [form.id for form in forms])
        return [ReturnedForm(serial=form.serial, template=form.issuance.template_version.label,
                             purpose=form.issuance.purpose, reference=form.issuance.reference,
                             copy=f"{form.copy_no} of {form.issuance.copies}", issued_to=form.issuance.issued_to,
                             issued_at=form.issuance.issued_at, status=_status_for(session, actor, form),
                             label=label_of.get(form.id, form.serial))
                for form in forms]


def _status(form: IssuedForm) -> TrueCopyStatus:
    return TrueCopyStatus(serial=form.serial, verified_by=form.true_copy_verified_by,
                          verified_at=form.true_copy_verified_at, disposition=form.paper_disposition,
                          location=form.paper_location, checklist=form.true_copy_checklist)


@dataclasses.dataclass(frozen=True)
class PendingCopy:
    serial: str
    template: str
    pages: int
    imported_by: tuple[str, ...]  # who imported its scans (they may not verify them)
    last_import: dt.datetime


def pending(db: Database, actor: Actor, *, limit: int = 1000) -> list[PendingCopy]:
    """Returned forms whose scans still wait for true-copy verification, most recently scanned first."""
    from sqlalchemy import func

    from app.models import ScanSource
    require(db, actor, Permission.VIEW_DATA)
    with db.read() as session:
        rows = session.execute(
            select(IssuedForm, func.max(ScanSource.imported_at))
            .join(ScanPage, ScanPage.issued_form_id == IssuedForm.id)
            .join(ScanSource, ScanPage.source_id == ScanSource.id)
            .where(IssuedForm.state == FormState.RETURNED, IssuedForm.true_copy_verified_at.is_(None),
                   ScanPage.outcome == ScanOutcome.LINKED, ScanPage.superseded_by_id.is_(None))
            .group_by(IssuedForm.id).order_by(func.max(ScanSource.imported_at).desc()).limit(limit)).all()
        out = []
        for form, last in rows:
            importers = tuple(sorted({p.source.imported_by for p in _current_pages(session, form)}))
            out.append(PendingCopy(serial=form.serial, template=form.issuance.template_version.label,
                                   pages=form.pages, imported_by=importers, last_import=last))
        return out
