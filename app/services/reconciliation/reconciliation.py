"""Reconciliation (FDA-DI Q6, PIC/S 8.3–8.4): account for every issued sheet, then QA closes by e-signature.

A form is accounted for when it is returned, voided, or missing; a replaced form only once its own paper is
back (scanned) or declared missing. Voided sheets should still come back: their pages are kept and shown,
and a voided sheet without its paper is pointed out, but does not block closing. What closing leaves behind on
the electronic side (true copies, records) and the site's settings on it: see ``closing``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, selectinload

from app.models import (
    FormState,
    Issuance,
    IssuanceState,
    IssuedForm,
    ScanPage,
    SignatureMeaning,
    Template,
    TemplateVersion,
)
from app.services.core import audit
from app.services.core.db import Actor, Database
from app.services.core.errors import DomainError, FormtrailError, NotFound, ValidationError
from app.services.identity import signatures
from app.services.identity.permissions import Permission, allowed, require
from app.services.issuance import labels, replacement
from app.services.issuance.issuance import form_by_serial
from app.services.issuance.register import today
from app.services.reconciliation import closing
from app.textfmt import of_total

F = FormState


@dataclasses.dataclass(frozen=True)
class ScanRef:
    scan_page_id: int
    page_no: int | None
    outcome: str
    sha256: str
    source_name: str
    superseded: bool


@dataclasses.dataclass(frozen=True)
class ReconFormRow:
    serial: str
    copy_no: int
    state: FormState
    pages: int
    pages_back: int  # distinct pages of this sheet seen in scans, linked or kept as exceptions
    scans: tuple[ScanRef, ...]
    reason: str | None
    deviation_ref: str | None
    changed_by: str | None
    changed_at: dt.datetime | None
    replaces: str | None
    replaced_by: str | None
    accounted: bool
    note: str | None  # what is still expected of this sheet, in words
    # What the actor the view was read for may do with this sheet (the rules the acts themselves check).
    may_void: bool = False
    may_declare_missing: bool = False
    may_replace: bool = False
    # The serials as printed on the paper (their issuance's serial format): what people read and type.
    label: str = ""
    replaces_label: str | None = None
    replaced_by_label: str | None = None

    @property
    def printed_as(self) -> str:
        return self.label or self.serial


@dataclasses.dataclass(frozen=True)
class ReconciliationView:
    issuance_id: int
    template: str
    version: int
    title: str
    purpose: str
    reference: str | None
    issued_to: str
    issued_by: str
    issued_by_name: str
    issued_at: dt.datetime
    due_date: dt.date
    state: IssuanceState
    overdue: bool
    forms: tuple[ReconFormRow, ...]
    signatures: tuple[signatures.SignatureInfo, ...]
    may_close: bool = False  # for the actor the view was read for
    why_not_close: str | None = None  # the refusal closing would meet now, in words
    # What closing would leave behind (see ``closing``): serials of returned forms, in issue order.
    unverified_true_copy_serials: tuple[str, ...] = ()  # scans not yet verified as a true copy
    untranscribed_record_serials: tuple[str, ...] = ()  # no record, or one still open (required fields empty)
    close_warnings: tuple[str, ...] = ()  # the two above in words, while the issuance is open (empty: nothing)

    @property
    def total(self) -> int:
        return len(self.forms)

    @property
    def accounted(self) -> int:
        return sum(f.accounted for f in self.forms)

    @property
    def outstanding(self) -> tuple[ReconFormRow, ...]:
        return tuple(f for f in self.forms if not f.accounted)

    @property
    def closed(self) -> bool:
        return self.state is IssuanceState.RECONCILED

    @property
    def unverified_true_copies(self) -> int:
        """Returned forms whose scans are not yet verified as a true copy."""
        return len(self.unverified_true_copy_serials)

    @property
    def untranscribed_records(self) -> int:
        """Returned forms with no record yet, or a record still open (``RecordState.OPEN``)."""
        return len(self.untranscribed_record_serials)


def _account(form: IssuedForm, pages_back: int) -> tuple[bool, str | None]:
    if form.state is F.ISSUED:
        return False, f"still out: {of_total(pages_back, form.pages, 'page')} back"
    if form.state is F.REPLACED:
        if pages_back >= form.pages:
            return True, None
        return False, "replaced: its own paper must still come back or be declared missing"
    if form.state is F.VOIDED and pages_back < form.pages:
        return True, "voided; the spoiled sheet has not been scanned back"
    return True, None


def _rows(session: Session, issuance: Issuance, actor: Actor | None = None) -> tuple[ReconFormRow, ...]:
    forms = issuance.forms
    ids = [f.id for f in forms]
    scans = session.scalars(select(ScanPage).where(ScanPage.issued_form_id.in_(ids))
                            .order_by(ScanPage.page_no, ScanPage.id)).all() if ids else []
    by_form: dict[int, list[ScanPage]] = {}
    for scan in scans:
        if scan.issued_form_id is not None:  # always: the query selects the pages of these forms
            by_form.setdefault(scan.issued_form_id, []).append(scan)
    serial_of = {f.id: f.serial for f in forms}
    label_of = labels.labels_of(session, ids)
    replacement_of = {f.replaces_id: f.id for f in forms if f.replaces_id}  # old form id -> new form id
    rows = []
    for form in forms:
        new_id = replacement_of.get(form.id)
        mine = by_form.get(form.id, [])
        pages_back = len({s.page_no for s in mine if s.page_no})
        accounted, note = _account(form, pages_back)
        rows.append(ReconFormRow(
            serial=form.serial, copy_no=form.copy_no, state=form.state, pages=form.pages, pages_back=pages_back,
            scans=tuple(ScanRef(s.id, s.page_no, s.outcome.value, s.source.sha256, s.source.original_name,
                                s.superseded_by_id is not None) for s in mine),
            reason=form.state_reason, deviation_ref=form.deviation_ref, changed_by=form.state_changed_by,
            changed_at=form.state_changed_at,
            replaces=serial_of.get(form.replaces_id) if form.replaces_id is not None else None,
            replaced_by=serial_of.get(new_id) if new_id is not None else None, accounted=accounted, note=note,
            label=label_of.get(form.id, form.serial),
            replaces_label=label_of.get(form.replaces_id) if form.replaces_id is not None else None,
            replaced_by_label=label_of.get(new_id) if new_id is not None else None,
            may_void=actor is not None and allowed(actor, Permission.RECONCILE) and void_refusal(form) is None,
            may_declare_missing=actor is not None and allowed(actor, Permission.RECONCILE)
            and missing_refusal(form) is None,
            may_replace=actor is not None and allowed(actor, Permission.REPLACE_FORMS)
            and replacement.replace_refusal(form) is None,
        ))
    return tuple(rows)


def _issuance(session: Session, issuance_id: int) -> Issuance:
    issuance = session.scalar(select(Issuance).where(Issuance.id == issuance_id).options(
        selectinload(Issuance.forms)))
    if issuance is None:
        raise NotFound(f"no issuance {issuance_id}")
    return issuance


def _view(db: Database, session: Session, issuance: Issuance, actor: Actor | None = None) -> ReconciliationView:
    version = issuance.template_version
    rows = _rows(session, issuance, actor)
    left = closing.left_behind(session, issuance.forms)
    view = ReconciliationView(
        issuance_id=issuance.id, template=version.template.code, version=version.version, title=version.title,
        purpose=issuance.purpose, reference=issuance.reference, issued_to=issuance.issued_to,
        issued_by=issuance.issued_by, issued_by_name=issuance.issued_by_name, issued_at=issuance.issued_at,
        due_date=issuance.due_date, state=issuance.state,
        overdue=issuance.state is IssuanceState.OPEN and issuance.due_date < today(db)
        and any(not r.accounted for r in rows),
        forms=rows, signatures=tuple(signatures.signatures_of(session, "issuance", str(issuance.id))),
        unverified_true_copy_serials=left.unverified_true_copies,
        untranscribed_record_serials=left.untranscribed_records,
        close_warnings=closing.warnings(left) if issuance.state is IssuanceState.OPEN else (),
    )
    if actor is None:
        return view
    refusal = close_refusal(session, actor, view, issuance)
    return dataclasses.replace(view, may_close=allowed(actor, Permission.CLOSE_RECONCILIATION) and refusal is None,
                               why_not_close=str(refusal) if refusal is not None else None)


def reconciliation(db: Database, actor: Actor, issuance_id: int) -> ReconciliationView:
    require(db, actor, Permission.VIEW_DATA)
    with db.read() as session:
        return view_in(db, session, issuance_id, actor)


def view_in(db: Database, session: Session, issuance_id: int, actor: Actor | None = None) -> ReconciliationView:
    """The reconciliation of one issuance as read in ``session`` (a report reads it with the rest of its data);
    with ``actor``, what they may do about it now."""
    return _view(db, session, _issuance(session, issuance_id), actor)


def _reason(text: str | None, what: str) -> str:
    if text is None or not text.strip():
        raise ValidationError(f"{what} needs a written reason")
    return text.strip()


def void_refusal(form: IssuedForm) -> DomainError | None:
    """Why ``form`` cannot be voided now (None: it can)."""
    if form.issuance.state is not IssuanceState.OPEN:
        return DomainError(f"the issuance of {form.serial} is reconciled and read-only")
    if form.state is not F.ISSUED:
        return DomainError(f"{form.serial} is {form.state.value}; only a sheet still out can be voided")
    return None


def missing_refusal(form: IssuedForm) -> DomainError | None:
    """Why ``form`` cannot be declared missing now (None: it can)."""
    if form.issuance.state is not IssuanceState.OPEN:
        return DomainError(f"the issuance of {form.serial} is reconciled and read-only")
    if form.state not in (F.ISSUED, F.REPLACED):
        return DomainError(f"{form.serial} is {form.state.value}; only a sheet still out, or the paper of a "
                           "replaced one, can be declared missing")
    return None


def void_form(db: Database, actor: Actor, *, serial: str, reason: str) -> ReconFormRow:
    """Void a spoiled or erroneous sheet; it stays part of the record and should still come back."""
    require(db, actor, Permission.RECONCILE)
    reason = _reason(reason, "voiding a form")
    with db.write(actor, reason=f"voided: {reason}") as session:
        form = form_by_serial(session, serial)
        if (refusal := void_refusal(form)) is not None:
            raise refusal
        form.state, form.state_reason = F.VOIDED, reason
        form.state_changed_at, form.state_changed_by = db.clock.now(), actor.username
        return next(r for r in _rows(session, form.issuance, actor) if r.serial == form.serial)


def declare_missing(db: Database, actor: Actor, *, serial: str, reason: str, deviation: str) -> ReconFormRow:
    """A sheet that will not come back (also the paper of a replaced sheet), with its deviation reference."""
    require(db, actor, Permission.RECONCILE)
    reason = _reason(reason, "declaring a form missing")
    if not deviation or not deviation.strip():
        raise ValidationError("a missing form needs the reference of the deviation raised for it")
    with db.write(actor, reason=f"missing: {reason} (deviation {deviation.strip()})") as session:
        form = form_by_serial(session, serial)
        if (refusal := missing_refusal(form)) is not None:
            raise refusal
        if form.state is F.REPLACED:
            reason = f"replaced sheet not returned: {reason}"
        form.state, form.state_reason, form.deviation_ref = F.MISSING, reason, deviation.strip()
        form.state_changed_at, form.state_changed_by = db.clock.now(), actor.username
        return next(r for r in _rows(session, form.issuance, actor) if r.serial == form.serial)


def close_content(view: ReconciliationView) -> dict[str, object]:
    """What the reconciliation signature binds to: the final state of every serial and its scans."""
    return {"issuance": view.issuance_id, "template": f"{view.template}@{view.version}", "forms": [
        {"serial": f.serial, "state": f.state.value, "reason": f.reason, "deviation": f.deviation_ref,
         "scans": sorted({s.sha256 for s in f.scans})} for f in view.forms]}


def check_close(db: Database, actor: Actor, issuance_id: int) -> ReconciliationView:
    """Refuse now what ``close`` would refuse (a rule refusal is written to the audit trail), else return the
    view, with what closing leaves behind in ``close_warnings``: a face calls this before it asks for the
    signing password, so nobody types a password for a closing that cannot happen."""
    require(db, actor, Permission.CLOSE_RECONCILIATION)
    with db.read(actor) as session:
        issuance = _issuance(session, issuance_id)
        view = _view(db, session, issuance, actor)
        _check_closable(session, actor, view, issuance)
        return view


def close(db: Database, actor: Actor, issuance_id: int, *, username: str, password: str) -> ReconciliationView:
    """QA closes a fully accounted issuance with a "reconciled" e-signature; afterwards it is read-only."""
    # Checked before the password is asked for, in a session that writes a refusal to the audit trail.
    check_close(db, actor, issuance_id)
    signatures.reauthenticate(db, actor, username=username, password=password)
    with db.write(actor, reason="reconciled by QA e-signature") as session:
        issuance = _issuance(session, issuance_id)
        view = _view(db, session, issuance)
        _check_closable(session, actor, view, issuance)
        signatures.add_signature(
            db, session, actor, meaning=SignatureMeaning.RECONCILED, entity="issuance", entity_id=str(issuance.id),
            content=close_content(view), activity=_activity(issuance),
            other_roles=_other_roles(issuance),
        )
        issuance.state = IssuanceState.RECONCILED
        session.flush()
        return _view(db, session, issuance, actor)


def _activity(issuance: Issuance) -> str:
    return f"reconciliation:{issuance.id}"


def _other_roles(issuance: Issuance) -> dict[int, str]:
    return {issuance.issued_by_id: "issuer"}


def close_refusal(session: Session, actor: Actor, view: ReconciliationView,
                  issuance: Issuance) -> FormtrailError | None:
    """Why ``actor`` may not close the issuance now (None: they may): the view offers Close from this, and
    ``close`` raises it, so the two never disagree. The site's settings on closing come last (``closing``)."""
    if view.closed:
        return DomainError(f"issuance {view.issuance_id} is already reconciled")
    if view.outstanding:
        listed = "; ".join(f"{f.serial} ({f.note})" for f in view.outstanding)
        return DomainError(f"issuance {view.issuance_id} cannot be closed: {len(view.outstanding)} of {view.total} "
                           f"forms are not accounted for: {listed}")
    refusal = signatures.signer_refusal(session, actor, activity=_activity(issuance),
                                        meaning=SignatureMeaning.RECONCILED, other_roles=_other_roles(issuance))
    if refusal is not None:
        return refusal
    left = closing.LeftBehind(view.unverified_true_copy_serials, view.untranscribed_record_serials)
    return closing.site_refusal(session, actor, issuance_id=view.issuance_id, forms=issuance.forms, left=left)


def _check_closable(session: Session, actor: Actor, view: ReconciliationView, issuance: Issuance) -> None:
    refusal = close_refusal(session, actor, view, issuance)
    if refusal is not None:
        raise refusal


@dataclasses.dataclass(frozen=True)
class IssuanceSummary:
    issuance_id: int
    template: str
    purpose: str
    reference: str | None
    issued_to: str
    issued_by: str
    issued_at: dt.datetime
    due_date: dt.date
    total: int
    accounted: int
    state: IssuanceState
    overdue: bool

    @property
    def ready(self) -> bool:
        return self.state is IssuanceState.OPEN and self.accounted == self.total


def list_issuances(db: Database, actor: Actor, *, only_open: bool = False, limit: int = 5000) -> list[IssuanceSummary]:
    """Every issuance with how many of its forms are accounted for, counted in the database (a site with
    100,000 issued forms does not load them to draw this list)."""
    require(db, actor, Permission.VIEW_DATA)
    on = today(db)
    with db.read() as session:
        query = (select(Issuance, TemplateVersion, Template.code).join(TemplateVersion, Issuance.template_version_id
                                                                     == TemplateVersion.id)
                 .join(Template, TemplateVersion.template_id == Template.id).order_by(Issuance.id.desc()).limit(limit))
        if only_open:
            query = query.where(Issuance.state == IssuanceState.OPEN)
        issuances = session.execute(query).all()
        ids = [i.id for i, _v, _c in issuances]
        counts = {row[0]: (row[1], row[2] or 0) for row in session.execute(
            select(IssuedForm.issuance_id, func.count(IssuedForm.id),
                   func.sum(case((IssuedForm.state == F.ISSUED, 1), else_=0)))
            .where(IssuedForm.issuance_id.in_(ids)).group_by(IssuedForm.issuance_id))} if ids else {}
        # A replaced sheet counts only once its own paper is back; replaced sheets are few, so look at each.
        waiting: dict[int, int] = {}
        replaced = session.scalars(select(IssuedForm).where(IssuedForm.issuance_id.in_(ids),
                                                            IssuedForm.state == F.REPLACED)).all() if ids else []
        for form in replaced:
            back = session.scalar(select(func.count(func.distinct(ScanPage.page_no)))
                                  .where(ScanPage.issued_form_id == form.id)) or 0
            if not _account(form, back)[0]:
                waiting[form.issuance_id] = waiting.get(form.issuance_id, 0) + 1
        out = []
        for issuance, version, code in issuances:
            total, still_out = counts.get(issuance.id, (0, 0))
            accounted = total - still_out - waiting.get(issuance.id, 0)
            out.append(IssuanceSummary(
                issuance_id=issuance.id, template=f"{code}@{version.version}", purpose=issuance.purpose,
                reference=issuance.reference, issued_to=issuance.issued_to, issued_by=issuance.issued_by,
                issued_at=issuance.issued_at, due_date=issuance.due_date, total=total, accounted=accounted,
                state=issuance.state,
                overdue=issuance.state is IssuanceState.OPEN and issuance.due_date < on and accounted < total,
            ))
        return out


def record_report_event(db: Database, actor: Actor, *, kind: str, entity_id: str | None, details: dict) -> None:
    with db.write(actor, reason=f"{kind} report printed") as session:
        audit.record_event(session, "PRINT", entity="report", entity_id=entity_id, new={"report": kind, **details})
