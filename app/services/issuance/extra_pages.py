"""Extra pages issued to a form in use (BF-02; PIC/S PI 041 8.3–8.4): Document Control adds N pages, with a
reason, to a copy that is still out. They are further pages of the same serial — a 5-page copy gets pages 6 and
7, printed "Page 6 of 7" with codes for those page numbers — in a controlled PDF of their own, released once like
any other. The form's page count grows, so intake, true copies and reconciliation wait for them too.

What the earlier pages say: they were printed before, "Page 1 of 5" with codes "1/5", and paper is not printed
again. Each page is therefore checked against the count it was printed with (:func:`printed_total`): pages 1–5
must say "of 5", pages 6–7 "of 7"; any other combination (a forged "9/9" on a form that never had a page 9,
"1/7" that was never printed) does not fit the form and is an exception.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.forms.render import render
from app.models import FormState, IssuanceState, IssuedForm
from app.models.issuance import FormPageAddition
from app.services.core import limits
from app.services.core.db import Actor, Database
from app.services.core.error_codes import ErrorCode
from app.services.core.errors import DomainError, RuleViolation, ValidationError
from app.services.core.filestore import PutResult
from app.services.core.timefmt import local_text
from app.services.identity import workstations
from app.services.identity.permissions import Permission, allowed, require
from app.services.issuance import labels, qr_tags
from app.services.issuance.issuance import (
    SerialsMoved,
    form_by_serial,
    issue_info,
    record_pdf,
    site_of,
    under_issuing_lock,
)
from app.services.site import key_setup
from app.services.templates import templates
from app.textfmt import plural

MAX_FORM_PAGES = 99  # pages one form may have in all, its extra pages included
MAX_AT_ONCE = 20


@dataclasses.dataclass(frozen=True)
class PageAddition:
    """One addition of extra pages, as the register and the form's history show it."""

    serial: str
    first_page: int
    last_page: int
    reason: str
    added_at: dt.datetime
    added_by: str
    added_by_name: str
    pdf_id: int

    @property
    def count(self) -> int:
        return self.last_page - self.first_page + 1

    @property
    def pages_text(self) -> str:
        return f"page {self.first_page}" if self.count == 1 else f"pages {self.first_page}–{self.last_page}"

    @property
    def text(self) -> str:
        """"2 extra pages (6–7) added by Dora Doc (dc) on …: reason"."""
        return (f"{plural(self.count, 'extra page')} ({self.pages_text.removeprefix('pages ').removeprefix('page ')})"
                f" added by {self.added_by_name} ({self.added_by}) on {local_text(self.added_at, seconds=False)}: "
                f"{self.reason}")


@dataclasses.dataclass(frozen=True)
class ExtraPagesResult:
    serial: str
    label: str  # as printed on the form
    first_page: int
    last_page: int  # the form's page count now
    issuance_id: int
    pdf_id: int
    pdf_sha256: str
    pages: int  # pages in the PDF


def _view(row: FormPageAddition) -> PageAddition:
    return PageAddition(serial=row.serial, first_page=row.first_page, last_page=row.last_page, reason=row.reason,
                        added_at=row.added_at, added_by=row.added_by, added_by_name=row.added_by_name,
                        pdf_id=row.pdf_id)


def additions_of(session: Session, form_ids: Iterable[int]) -> dict[int, list[PageAddition]]:
    """form id -> its additions, oldest first (one query for all the forms)."""
    ids = list(set(form_ids))
    if not ids:
        return {}
    out: dict[int, list[PageAddition]] = {}
    for row in session.scalars(select(FormPageAddition).where(FormPageAddition.issued_form_id.in_(ids))
                               .order_by(FormPageAddition.first_page)):
        out.setdefault(row.issued_form_id, []).append(_view(row))
    return out


def printed_total(pages_now: int, additions: Sequence[PageAddition], page: int) -> int | None:
    """The page count printed on page ``page`` of a form that has ``pages_now`` pages ("of 5" on an original
    page, "of 7" on the extra pages that made it 7); None for a page the form does not have."""
    if not 1 <= page <= pages_now:
        return None
    for addition in additions:
        if addition.first_page <= page <= addition.last_page:
            return addition.last_page
    original = min((a.first_page for a in additions), default=pages_now + 1) - 1
    return original if page <= original else None


def add_pages_refusal(form: IssuedForm, count: int = 1) -> DomainError | None:
    """Why ``count`` pages cannot be added to ``form`` now (None: they can); the register offers it from this."""
    return add_pages_refusal_of(serial=form.serial, state=form.state, issuance_state=form.issuance.state,
                                pages=form.pages, count=count)


def add_pages_refusal_of(*, serial: str, state: FormState, issuance_state: IssuanceState, pages: int,
                         count: int = 1) -> DomainError | None:
    """The same, from the columns a list already read (the register's rows)."""
    if issuance_state is not IssuanceState.OPEN:
        return RuleViolation(f"the issuance of {serial} is reconciled and read-only", code=ErrorCode.FORM_NOT_IN_USE)
    if state is not FormState.ISSUED:
        return RuleViolation(f"{serial} is {state.value}; extra pages are added only to a form still in use (issued, "
                           "not yet returned)", code=ErrorCode.FORM_NOT_IN_USE)
    if pages + count > MAX_FORM_PAGES:
        return RuleViolation(f"{serial} has {plural(pages, 'page')}; a form has at most {MAX_FORM_PAGES}",
                           code=ErrorCode.TOO_MANY_PAGES)
    return None


def may_add_pages_of(actor: Actor, *, serial: str, state: FormState, issuance_state: IssuanceState,
                     pages: int) -> tuple[bool, str | None]:
    """(may, why not) for a view: the permission and the rule, as :func:`add_pages` checks them."""
    if not allowed(actor, Permission.ISSUE_FORMS):
        return False, "Document Control adds extra pages"
    refusal = add_pages_refusal_of(serial=serial, state=state, issuance_state=issuance_state, pages=pages)
    return refusal is None, str(refusal) if refusal is not None else None


@dataclasses.dataclass(frozen=True)
class _Plan:
    serial: str
    label: str
    before: int  # the form's page count when planned: recording refuses if it moved meanwhile
    issuance_id: int
    put: PutResult
    pages: int


def add_pages(db: Database, actor: Actor, *, serial: str, count: int, reason: str) -> ExtraPagesResult:
    """Add ``count`` extra pages to the form ``serial`` (in use), with ``reason``: their PDF is rendered and
    stored (to be released once, like any controlled PDF), the addition recorded and the form's page count
    raised, in one audited transaction."""
    require(db, actor, Permission.ISSUE_FORMS)
    workstations.require_registered(db, actor, "issue extra pages of controlled forms")  # AC-08, as issuing
    if not 1 <= count <= MAX_AT_ONCE:
        raise ValidationError(f"add between 1 and {MAX_AT_ONCE} pages at a time", code=ErrorCode.TOO_MANY_PAGES)
    reason = limits.checked("reason", reason, required="extra pages need a reason (what they are for, e.g. the "
                                                       "step that needs more room)")
    with db.read(actor) as session:  # refused before anything is rendered, and the refusal is on the trail
        form = form_by_serial(session, serial)
        if (refusal := add_pages_refusal(form, count)) is not None:
            raise refusal

    def attempt() -> ExtraPagesResult:
        plan = _render(db, actor, serial=serial, count=count, reason=reason)
        return _record(db, actor, plan, count=count, reason=reason)
    # The issuing lock: two people adding pages to one form at once would otherwise print the same page numbers.
    return under_issuing_lock(db, attempt)


def _render(db: Database, actor: Actor, *, serial: str, count: int, reason: str) -> _Plan:
    with db.read() as session:
        form = form_by_serial(session, serial)
        if (refusal := add_pages_refusal(form, count)) is not None:
            raise refusal
        issuance, site = form.issuance, site_of(session)
        version = issuance.template_version
        layout, head = templates.layout_of(version), issue_info(site, version, issuance)
        label = labels.label_of(form, site.code)
        first, last = form.pages + 1, form.pages + count
        copy = render.CopyInfo(serial=form.serial, copy_no=form.copy_no, copy_count=issuance.copies,
                               label=label if label != form.serial else None)
        key = qr_tags.key_for(db.keyring(), issuance)
        plan_head = (form.serial, label, form.pages, issuance.id)
    note = (f"Added to {label} on {local_text(db.clock.now(), seconds=False)} by {actor.full_name} "
            f"({actor.username}): {reason}")
    with db.files.staging(".pdf") as staged:  # rendered outside any write transaction
        pages = render.render_extra_pages(staged, layout, head, copy, first_page=first, last_page=last, note=note,
                                          key=key)
        # Like every released controlled PDF, sealed with the site certificate before it is stored.
        key_setup.seal_pdf(db, staged, reason=f"extra pages {first}-{last} of {label}")
        put = db.files.adopt(staged)
    return _Plan(serial=plan_head[0], label=plan_head[1], before=plan_head[2], issuance_id=plan_head[3], put=put,
                 pages=pages)


def _record(db: Database, actor: Actor, plan: _Plan, *, count: int, reason: str) -> ExtraPagesResult:
    with db.write(actor, reason=f"extra pages: {reason}") as session:
        form = form_by_serial(session, plan.serial)
        if (refusal := add_pages_refusal(form, count)) is not None:
            raise refusal
        if form.pages != plan.before:  # pages were added meanwhile (without the lock): render again
            raise SerialsMoved(f"{form.serial} has {form.pages} pages now, not {plan.before}")
        now = db.clock.now()
        pdf = record_pdf(session, actor, put=plan.put, issuance=form.issuance, pages=plan.pages, first=form.serial,
                         last=form.serial, now=now)
        first, last = form.pages + 1, form.pages + count
        session.add(FormPageAddition(issued_form_id=form.id, serial=form.serial, first_page=first, last_page=last,
                                     reason=reason, added_at=now, added_by=actor.username,
                                     added_by_name=actor.full_name, pdf_id=pdf.id))
        form.pages = last
        session.flush()
        return ExtraPagesResult(serial=form.serial, label=plan.label, first_page=first, last_page=last,
                                issuance_id=form.issuance_id, pdf_id=pdf.id, pdf_sha256=plan.put.sha256,
                                pages=plan.pages)


def history(db: Database, actor: Actor, serial: str) -> list[PageAddition]:
    """The extra pages added to one form, oldest first."""
    require(db, actor, Permission.VIEW_DATA)
    with db.read() as session:
        form = form_by_serial(session, serial)
        return additions_of(session, [form.id]).get(form.id, [])
