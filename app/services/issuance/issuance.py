"""Controlled issuance: numbered copies of an effective template, serials gap-free per site, one PDF each time.

Under the site's issuing lock (``serial_guard``: one issuer at a time, never the database's write lock) the
next serials are read, the PDF is rendered into the file store, and then the issuance, its forms, the stored
PDF and the advanced counter are committed in ONE short transaction that first checks the counter did not
move. A process killed at any point leaves either the whole issuance or none of it, and never a gap; a
cancelled or failed rendering uses no serial. The serial high-water mark in the file store is raised before
that commit, so no restore can make a serial repeat.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.forms.render import render
from app.models import (
    ControlledPdf,
    FileKind,
    FormState,
    Issuance,
    IssuanceState,
    IssuedForm,
    SerialCounter,
    Site,
    StoredFile,
    TemplateVersion,
)
from app.services.core import limits
from app.services.core.db import Actor, Database
from app.services.core.error_codes import ErrorCode
from app.services.core.errors import DomainError, NotFound, ValidationError
from app.services.core.filestore import PutResult
from app.services.identity import workstations
from app.services.identity.permissions import Permission, require
from app.services.issuance import labels, qr_tags, serial_guard
from app.services.issuance.issued_to import checked_issued_to
from app.services.site import key_setup, serial_format
from app.services.templates import templates

MAX_COPIES = 10_000
Progress = Callable[[int, int], None]
Cancelled = Callable[[], bool]


class IssueCancelled(DomainError):
    """The user cancelled while the PDF was being made; nothing was issued and no serial was used."""

    default_code = ErrorCode.ISSUE_CANCELLED


@dataclasses.dataclass(frozen=True)
class IssuanceResult:
    issuance_id: int
    template: str
    version: int
    serials: tuple[str, ...]
    pdf_id: int
    pdf_sha256: str
    pages: int
    labels: tuple[str, ...] = ()  # the serials as printed beside the QR code (setting issuance.serial_format)


def format_serial(number: int) -> str:
    return f"{number:06d}"


def parse_serial(text: str) -> int:
    """Accept "000123", "123" or a label as printed beside the code ("BSL-01-QC-WS-014-000123": the digits after
    the last of ``serial_format.SEPARATORS``), whatever format it was printed with."""
    return serial_format.split(text)[1]


def form_by_serial(session: Session, serial: str) -> IssuedForm:
    """The form of a serial as typed: digits, or its label (whose prefix must be the form's own, see
    ``labels.prefix_fits``: a label with another form's prefix is refused, code serial-label-mismatch)."""
    prefix, number = serial_format.split(serial)
    form = session.scalar(select(IssuedForm).where(IssuedForm.serial_no == number))
    if form is None:
        raise NotFound(f"no issued form with serial {format_serial(number)}")
    if prefix:
        site_code = site_of(session).code
        label = labels.label_of(form, site_code)
        if not labels.prefix_fits(prefix, label=label, site_code=site_code):
            raise ValidationError(f"{serial.strip()!r} names no issued form: serial {form.serial} is labelled "
                                  f"{label}. Check the number typed.", code=ErrorCode.SERIAL_LABEL_MISMATCH)
    return form


def lock_counter(session: Session, site: Site, count: int, *, expected: int | None = None) -> int:
    """Reserve ``count`` serials in the committing transaction; returns the first. ``expected`` is the first
    serial the caller rendered (read under the issuing lock): if the counter moved meanwhile, SerialsMoved."""
    counter = session.scalar(select(SerialCounter).where(SerialCounter.site_id == site.id).with_for_update())
    if counter is None:
        counter = SerialCounter(site_id=site.id, next_serial=1)
        session.add(counter)
    first = counter.next_serial
    if expected is not None and first != expected:
        raise SerialsMoved(f"the serial counter moved from {expected} to {first} while the PDF was made")
    counter.next_serial = first + count
    return first


T = TypeVar("T")

class SerialsMoved(DomainError):
    """Another program issued without the issuing lock (an older version during an upgrade): render again."""

    default_code = ErrorCode.SERIALS_MOVED


def next_serial(session: Session, site: Site) -> int:
    counter = session.scalar(select(SerialCounter).where(SerialCounter.site_id == site.id))
    return counter.next_serial if counter is not None else 1


def next_issuance_id(session: Session) -> int:
    """The id the next issuance will get, read under the issuing lock (it is printed on every copy)."""
    if session.get_bind().dialect.name == "postgresql":
        return int(session.scalar(text("SELECT nextval(pg_get_serial_sequence('issuance', 'id'))")))
    return int(session.execute(select(func.coalesce(func.max(Issuance.id), 0))).scalar_one()) + 1  # one row, always


def site_of(session: Session) -> Site:
    site = session.scalar(select(Site))
    if site is None:
        raise DomainError("this database has no site; run the set-up first")
    return site


def issue_info(site: Site, version: TemplateVersion, issuance: Issuance) -> render.IssueInfo:
    return render.IssueInfo(
        site_code=site.code, site_name=site.name, version=version.version,
        effective_date=version.effective_date or issuance.issued_at.date(),
        issued_to=issuance.issued_to, issued_by_name=issuance.issued_by_name, issued_by_username=issuance.issued_by,
        issued_at=issuance.issued_at, purpose=issuance.purpose, reference=issuance.reference,
        due_date=issuance.due_date, issuance_id=issuance.id,
    )


def render_to_store(
    db: Database, *, site: Site, version: TemplateVersion, issuance: Issuance,
    copies: list[render.CopyInfo], progress: Progress | None, cancelled: Cancelled | None,
) -> tuple[PutResult, int]:
    layout = templates.layout_of(version)
    with db.files.staging(".pdf") as staged:
        try:
            pages = render.render_issued(
                staged, layout, issue_info(site, version, issuance), copies,
                key=qr_tags.key_for(db.keyring(), issuance), progress=progress, cancelled=cancelled,
            )
        except render.RenderCancelled:
            raise IssueCancelled("issuing was cancelled; nothing was issued and no serial was used") from None
        # Issue 16 / signed outputs: the released controlled PDF carries the site's seal (PAdES), signed before it
        # is stored, so its stored SHA-256 is that of the signed file every release hands over.
        key_setup.seal_pdf(db, staged, reason=f"controlled copies, issuance {issuance.id}")
        return db.files.adopt(staged), pages


def record_pdf(session: Session, actor: Actor, *, put: PutResult, issuance: Issuance, pages: int,
               first: str, last: str, now: dt.datetime) -> ControlledPdf:
    if session.get(StoredFile, put.sha256) is None:
        session.add(StoredFile(sha256=put.sha256, size=put.size, kind=FileKind.ISSUED_PDF.value,
                               media_type="application/pdf", original_name=f"issuance-{issuance.id}.pdf",
                               stored_at=now, stored_by=actor.username))
        session.flush()  # the PDF row refers to it; no ORM relationship orders the two inserts
    pdf = ControlledPdf(issuance_id=issuance.id, sha256=put.sha256, pages=pages, first_serial=first,
                        last_serial=last, created_at=now)
    session.add(pdf)
    session.flush()
    return pdf


@dataclasses.dataclass(frozen=True)
class _Plan:
    """What an issuance will be, read under the issuing lock before rendering."""

    site: Site
    version: TemplateVersion
    issuance: Issuance  # not added to any session: its fields are printed, then it is inserted
    first: int
    serials: tuple[str, ...]
    labels: tuple[str, ...]  # as printed, with the format stored on the issuance
    pages_per_form: int


def issue_forms(
    db: Database, actor: Actor, *, code: str, copies: int, purpose: str, reference: str | None, issued_to: str,
    due: dt.date, progress: Progress | None = None, cancelled: Cancelled | None = None,
) -> IssuanceResult:
    """Issue ``copies`` numbered controlled copies of the effective version of template ``code``."""
    require(db, actor, Permission.ISSUE_FORMS)
    workstations.require_registered(db, actor, "issue controlled forms")  # AC-08
    if not 1 <= copies <= MAX_COPIES:
        raise ValidationError(f"the number of copies must be between 1 and {MAX_COPIES}")
    purpose = limits.checked("purpose", purpose, required="give the purpose (batch or lot, study, equipment...) "
                                                          "the forms are issued for")
    issued_to = limits.checked("issued_to", issued_to, required="say to whom (a person or an area) the forms are "
                                                                "issued")
    issued_to = checked_issued_to(db, issued_to)  # one of the site's choices unless it allows free text
    reference = limits.checked("reference", reference) or None

    def attempt() -> IssuanceResult:
        plan = _plan(db, actor, code=code, copies=copies, purpose=purpose, reference=reference,
                     issued_to=issued_to, due=due)
        put, pages = render_to_store(
            db, site=plan.site, version=plan.version, issuance=plan.issuance,
            copies=[render.CopyInfo(serial=s, copy_no=i + 1, copy_count=copies, label=label)
                    for i, (s, label) in enumerate(zip(plan.serials, plan.labels, strict=True))],
            progress=progress, cancelled=cancelled,
        )
        return _record(db, actor, plan, put=put, pages=pages)
    return under_issuing_lock(db, attempt)


def under_issuing_lock(db: Database, attempt: Callable[[], T], *, tries: int = 3) -> T:
    """Run ``attempt`` (plan the serials, render outside any write transaction, record) under the issuing
    lock; when the serials moved between planning and recording (SerialsMoved), plan again."""
    with serial_guard.issuing(db):
        for _ in range(tries - 1):
            try:
                return attempt()
            except SerialsMoved:
                continue
        return attempt()


def _plan(db: Database, actor: Actor, *, code: str, copies: int, purpose: str, reference: str | None,
          issued_to: str, due: dt.date) -> _Plan:
    with db.read() as session:
        now = db.clock.now()
        if due < now.astimezone().date():
            raise ValidationError(f"the return due date {due.isoformat()} is in the past")
        version = templates.effective_version(session, code)
        site = site_of(session)
        first = next_serial(session, site)
        fmt = labels.current_format(session)  # kept on the issuance: its labels never change afterwards
        issuance = Issuance(
            id=next_issuance_id(session), site_id=site.id, template_version_id=version.id, copies=copies,
            purpose=purpose, reference=reference, issued_to=issued_to, issued_by_id=actor.user_id,
            issued_by=actor.username, issued_by_name=actor.full_name, issued_at=now, due_date=due,
            state=IssuanceState.OPEN, key_version=db.keyring().current, serial_format=fmt,
        )
        pages_per_form = templates.layout_of(version).pages
        _ = version.template  # loaded now: the plan outlives the session
    serials = tuple(format_serial(first + i) for i in range(copies))
    printed = tuple(labels.serial_label(fmt, site_code=site.code, template=version.template.code,
                                        version=version.version, issued_at=now, serial_no=first + i)
                    for i in range(copies))
    return _Plan(site=site, version=version, issuance=issuance, first=first, serials=serials, labels=printed,
                 pages_per_form=pages_per_form)


def _record(db: Database, actor: Actor, plan: _Plan, *, put: PutResult, pages: int) -> IssuanceResult:
    """The short transaction: counter, issuance, forms and PDF, after the high-water mark was raised."""
    issuance, serials = plan.issuance, plan.serials
    with db.write(actor, reason=f"issued for: {issuance.purpose}") as session:
        site = site_of(session)
        first = lock_counter(session, site, len(serials), expected=plan.first)
        serial_guard.raise_high_water(db.files.root, site.code, first + len(serials) - 1,
                                      workstation=db.workstation)
        session.add(issuance)
        session.flush()
        pdf = record_pdf(session, actor, put=put, issuance=issuance, pages=pages, first=serials[0],
                         last=serials[-1], now=issuance.issued_at)
        session.add_all(
            IssuedForm(issuance_id=issuance.id, site_id=site.id, serial_no=first + i, serial=serial,
                       copy_no=i + 1, pages=plan.pages_per_form, state=FormState.ISSUED, pdf_id=pdf.id)
            for i, serial in enumerate(serials)
        )
        session.flush()
        return IssuanceResult(issuance_id=issuance.id, template=plan.version.template.code,
                              version=plan.version.version, serials=serials, pdf_id=pdf.id, pdf_sha256=put.sha256,
                              pages=pages, labels=plan.labels)
