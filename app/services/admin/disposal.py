"""Disposal of records past their retention (BK-05): requested, approved by QA with an e-signature, logged.

What is destroyed: the stored files of the issuances named — their controlled PDF and every scanned file whose
pages all belong to disposed issuances (a scanned file that also holds a page of a kept issuance, or a page
nobody identified, is kept and the certificate says so). What stays: every database row — issuances, forms,
records and their entries' values, signatures — and the whole audit trail. The values stay because the audit
trail, which is kept (it is the log of the disposal too), holds every value as entered anyway, so blanking the
rows would destroy nothing; and the record signatures and ``verify``'s replay of the data against the trail
must keep verifying. Each destroyed file is listed (``DisposedFile``) in the approving transaction, before it is
removed, so ``verify`` expects exactly those files absent; a file removed any other way is still reported.

The certificate PDF (what was destroyed: serials, records, files with their SHA-256, the retention basis, the
requester, the approver's signature manifestation, the time with its zone) is stored in the file store and
named on the request.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import ControlledPdf, FileKind, IssuedForm, Record, ScanPage, ScanSource, SignatureMeaning, StoredFile
from app.models.lifecycle import DisposalItem, DisposalRequest, DisposalStatus, DisposedFile
from app.services.admin import disposal_certificate, retention
from app.services.core.db import Actor, Database
from app.services.core.error_codes import ErrorCode
from app.services.core.errors import DomainError, FormtrailError, NotFound, RuleViolation, ValidationError
from app.services.identity import signatures
from app.services.identity.permissions import Permission, allowed, require


@dataclasses.dataclass(frozen=True)
class ItemView:
    issuance_id: int
    template_code: str
    serials: tuple[str, ...]
    records: tuple[str, ...]  # the serials that have an electronic record
    retention_years: int
    retention_basis: str
    retention_start: dt.datetime
    expires_at: dt.datetime


@dataclasses.dataclass(frozen=True)
class FileView:
    sha256: str
    kind: str
    name: str
    size: int


@dataclasses.dataclass(frozen=True)
class DisposalView:
    id: int
    status: DisposalStatus
    reason: str
    requested_at: dt.datetime
    requested_by: str
    approved_at: dt.datetime | None
    approved_by: str | None
    approval: str | None  # the approver's signature manifestation
    completed_at: dt.datetime | None
    certificate_sha256: str | None
    items: tuple[ItemView, ...]
    files: tuple[FileView, ...]  # destroyed (or, while approved, being destroyed)
    kept: tuple[str, ...] = ()  # scanned files of these issuances kept, and why
    may_approve: bool = False
    why_not_approve: str | None = None
    approve_refused: str | None = None  # the ErrorCode approving would meet


def due(db: Database, actor: Actor, *, include_held: bool = False) -> list[retention.IssuanceRetention]:
    """The issuances past their retention and not on hold (with ``include_held`` the held ones too)."""
    require(db, actor, Permission.VIEW_DATA)
    wanted = {retention.Status.DUE, retention.Status.HELD} if include_held else {retention.Status.DUE}
    with db.read() as session:
        return [i for i in retention.overview(session, actor, now=db.clock.now()) if i.status in wanted]


def overview(db: Database, actor: Actor) -> list[retention.IssuanceRetention]:
    """Every issuance and where it stands in its retention (the Retention page)."""
    require(db, actor, Permission.VIEW_DATA)
    with db.read() as session:
        return retention.overview(session, actor, now=db.clock.now())


def request(db: Database, actor: Actor, *, issuance_ids: list[int], reason: str) -> DisposalView:
    """Ask for the disposal of issuances past their retention and on no legal hold; QA approves it."""
    require(db, actor, Permission.REQUEST_DISPOSAL)
    why = retention.reason_text(reason, "a disposal request needs a reason")
    wanted = sorted(set(issuance_ids))
    if not wanted:
        raise ValidationError("name at least one issuance to dispose of", code=ErrorCode.NOTHING_SELECTED)
    with db.write(actor, reason=f"disposal requested: {why}") as session:
        items = retention.overview(session, actor, now=db.clock.now(), issuance_ids=wanted)
        missing = set(wanted) - {i.issuance_id for i in items}
        if missing:
            raise NotFound(f"no issuance {', '.join(str(i) for i in sorted(missing))}")
        for item in items:
            refused = retention.refusal(item)
            if refused is not None:
                raise refused
        assert actor.user_id is not None
        req = DisposalRequest(status=DisposalStatus.REQUESTED, reason=why, requested_at=db.clock.now(),
                              requested_by=actor.username, requested_by_id=actor.user_id)
        session.add(req)
        session.flush()
        for item in sorted(items, key=lambda i: i.issuance_id):
            assert item.start is not None and item.expires_at is not None
            session.add(DisposalItem(request_id=req.id, issuance_id=item.issuance_id,
                                     template_code=item.template_code, retention_years=item.years,
                                     retention_basis=item.basis, retention_start=item.start,
                                     expires_at=item.expires_at))
        session.flush()
        return _view(session, actor, req, now=db.clock.now())


def check_approve(db: Database, actor: Actor, request_id: int) -> None:
    """Refuse (and log) an approval that cannot happen, before the password is asked for."""
    require(db, actor, Permission.APPROVE_DISPOSAL)
    with db.read(actor) as session:
        _raise(approve_refusal(session, actor, _request(session, request_id), now=db.clock.now()))


def approve(db: Database, actor: Actor, request_id: int, *, username: str, password: str) -> DisposalView:
    """QA approves with an e-signature; then the files are destroyed and the certificate is stored."""
    check_approve(db, actor, request_id)
    signatures.reauthenticate(db, actor, username=username, password=password)
    with db.write(actor, reason="disposal approved by QA e-signature") as session:
        req = _request(session, request_id)
        _raise(approve_refusal(session, actor, req, now=db.clock.now()))
        files, _kept = _files_of(session, [i.issuance_id for i in _items(session, req.id)])
        content = {"request": req.id, "reason": req.reason, "requested_by": req.requested_by,
                   "issuances": [i.issuance_id for i in _items(session, req.id)],
                   "files": sorted(f.sha256 for f in files)}
        sig = signatures.add_signature(
            db, session, actor, meaning=SignatureMeaning.APPROVED, entity="disposal_request", entity_id=str(req.id),
            content=content, activity=f"disposal:{req.id}", other_roles={req.requested_by_id: "requester"},
            comment="disposal of records past their retention approved")
        for stored in files:
            session.add(DisposedFile(request_id=req.id, sha256=stored.sha256, kind=stored.kind,
                                     original_name=stored.original_name, size=stored.size))
        req.status, req.approved_at, req.approved_by, req.signature_id = (
            DisposalStatus.APPROVED, sig.signed_at, actor.username, sig.id)
        session.flush()
    return complete(db, actor, request_id)


def complete(db: Database, actor: Actor, request_id: int) -> DisposalView:
    """Destroy the files of an approved request and store its certificate (again after an interruption)."""
    require(db, actor, Permission.APPROVE_DISPOSAL)
    with db.read() as session:
        req = _request(session, request_id)
        if req.status is not DisposalStatus.APPROVED:
            return _view(session, actor, req, now=db.clock.now())
        hashes = list(session.scalars(select(DisposedFile.sha256).where(DisposedFile.request_id == req.id)))
    for sha in hashes:
        _destroy(db.files.path_for(sha))
    destroyed_at = db.clock.now()
    with db.read() as session:
        view = _view(session, actor, _request(session, request_id), now=destroyed_at)
        pdf = disposal_certificate.render(session, db, actor, view, destroyed_at=destroyed_at)
    put = db.files.put_bytes(pdf, suffix=".pdf")
    with db.write(actor, reason="disposal completed: files destroyed, certificate stored") as session:
        req = _request(session, request_id)
        if session.get(StoredFile, put.sha256) is None:
            session.add(StoredFile(sha256=put.sha256, size=put.size, kind=FileKind.REPORT.value,
                                   media_type="application/pdf", original_name=f"disposal-certificate-{req.id}.pdf",
                                   stored_at=destroyed_at, stored_by=actor.username))
            session.flush()
        req.status, req.completed_at, req.certificate_sha256 = DisposalStatus.COMPLETED, destroyed_at, put.sha256
        session.flush()
        return _view(session, actor, req, now=destroyed_at)


def _destroy(path: Path) -> None:
    """Remove one stored file (read-only on disk: made writable first, for file systems that ask)."""
    with contextlib.suppress(FileNotFoundError):
        path.chmod(0o600)
        path.unlink()


def requests(db: Database, actor: Actor) -> list[DisposalView]:
    require(db, actor, Permission.VIEW_DATA)
    with db.read() as session:
        now = db.clock.now()
        return [_view(session, actor, r, now=now)
                for r in session.scalars(select(DisposalRequest).order_by(DisposalRequest.id.desc()))]


def show(db: Database, actor: Actor, request_id: int) -> DisposalView:
    require(db, actor, Permission.VIEW_DATA)
    with db.read() as session:
        return _view(session, actor, _request(session, request_id), now=db.clock.now())


def certificate_path(db: Database, actor: Actor, request_id: int) -> Path:
    """The stored certificate of a completed disposal, checked against its SHA-256."""
    view = show(db, actor, request_id)
    if view.certificate_sha256 is None:
        raise DomainError(f"disposal request {request_id} is {view.status.value}: it has no certificate yet")
    return db.files.verified_path(view.certificate_sha256)


def disposed_hashes(session: Session) -> set[str]:
    """The stored files an approved disposal destroyed (``verify`` expects them absent)."""
    return set(session.scalars(select(DisposedFile.sha256).join(DisposalRequest).where(
        DisposalRequest.status != DisposalStatus.REQUESTED)))


def approve_refusal(session: Session, actor: Actor, req: DisposalRequest, *,
                    now: dt.datetime) -> FormtrailError | None:
    """Why ``actor`` may not approve ``req`` now (None: they may): pending, another person, every item still
    past its retention and on no legal hold (a hold placed or a period lengthened since the request counts)."""
    if req.status is not DisposalStatus.REQUESTED:
        return DomainError(f"disposal request {req.id} is already {req.status.value}",
                           code=ErrorCode.DISPOSAL_NOT_PENDING)
    if req.requested_by_id == actor.user_id:
        return RuleViolation(f"{actor.full_name} requested disposal {req.id} and may not also approve it; another "
                             "QA person approves", code=ErrorCode.SEPARATION_OF_DUTIES)
    ids = [i.issuance_id for i in _items(session, req.id)]
    for item in retention.overview(session, actor, now=now, issuance_ids=ids):
        if not item.expired:
            assert item.expires_at is not None
            return RuleViolation(f"issuance {item.issuance_id} ({item.template_code}) is now kept until "
                                 f"{item.expires_at:%Y-%m-%d} ({item.years} years, {item.basis}): its retention has "
                                 "not expired", code=ErrorCode.RETENTION_NOT_EXPIRED)
        if item.holds:
            return RuleViolation(f"issuance {item.issuance_id} is on legal hold "
                                 f"({', '.join(f'#{h}' for h in item.holds)}) since the request; it is not disposed "
                                 "of", code=ErrorCode.LEGAL_HOLD_ACTIVE)
    return signatures.signer_refusal(session, actor, activity=f"disposal:{req.id}",
                                     meaning=SignatureMeaning.APPROVED, other_roles={req.requested_by_id: "requester"})


def _raise(refusal: FormtrailError | None) -> None:
    if refusal is not None:
        raise refusal


def _request(session: Session, request_id: int) -> DisposalRequest:
    req = session.get(DisposalRequest, request_id)
    if req is None:
        raise NotFound(f"no disposal request {request_id}")
    return req


def _items(session: Session, request_id: int) -> list[DisposalItem]:
    return list(session.scalars(select(DisposalItem).where(DisposalItem.request_id == request_id)
                                .order_by(DisposalItem.issuance_id)))


def _files_of(session: Session, issuance_ids: list[int]) -> tuple[list[StoredFile], list[str]]:
    """(the stored files disposing of ``issuance_ids`` destroys, the scanned files kept and why)."""
    gone = set(session.scalars(select(DisposalItem.issuance_id).join(DisposalRequest).where(
        DisposalRequest.status != DisposalStatus.REQUESTED)))
    covered = set(issuance_ids) | gone
    form_issuance = {f: i for f, i in session.execute(select(IssuedForm.id, IssuedForm.issuance_id))}
    hashes = list(session.scalars(select(ControlledPdf.sha256).where(ControlledPdf.issuance_id.in_(issuance_ids))))
    kept: list[str] = []
    mine = {f for f, i in form_issuance.items() if i in issuance_ids}
    sources = session.scalars(select(ScanSource).where(ScanSource.id.in_(
        select(ScanPage.source_id).where(ScanPage.issued_form_id.in_(mine)))).order_by(ScanSource.id))
    for source in sources:
        others = {form_issuance.get(p.issued_form_id) if p.issued_form_id is not None else None
                  for p in source.pages} - covered
        if others:
            what = ", ".join(f"issuance {i}" if i is not None else "unidentified pages" for i in
                             sorted(others, key=lambda i: (i is None, i or 0)))
            kept.append(f"{source.original_name} ({source.sha256}): kept, it also holds {what}")
        else:
            hashes.append(source.sha256)
    done = set(session.scalars(select(DisposedFile.sha256)))
    files = [f for f in (session.get(StoredFile, h) for h in dict.fromkeys(hashes)) if f is not None]
    return [f for f in files if f.sha256 not in done], kept


def _view(session: Session, actor: Actor, req: DisposalRequest, *, now: dt.datetime) -> DisposalView:
    items = []
    for item in _items(session, req.id):
        serials = tuple(session.scalars(select(IssuedForm.serial).where(IssuedForm.issuance_id == item.issuance_id)
                                        .order_by(IssuedForm.serial_no)))
        with_record = tuple(session.scalars(select(Record.serial).join(IssuedForm, Record.issued_form_id ==
                                                                        IssuedForm.id)
                                            .where(IssuedForm.issuance_id == item.issuance_id)
                                            .order_by(Record.serial)))
        items.append(ItemView(item.issuance_id, item.template_code, serials, with_record, item.retention_years,
                              item.retention_basis, item.retention_start, item.expires_at))
    if req.status is DisposalStatus.REQUESTED:
        planned, kept = _files_of(session, [i.issuance_id for i in items])
        files = tuple(FileView(f.sha256, f.kind, f.original_name, f.size) for f in planned)
    else:
        kept = _files_of(session, [i.issuance_id for i in items])[1]
        files = tuple(FileView(f.sha256, f.kind, f.original_name, f.size) for f in session.scalars(
            select(DisposedFile).where(DisposedFile.request_id == req.id).order_by(DisposedFile.id)))
    approval = None
    if req.signature_id is not None:
        sig = next((s for s in signatures.signatures_of(session, "disposal_request", str(req.id))
                    if s.id == req.signature_id), None)
        approval = sig.manifestation() if sig is not None else None
    refusal: FormtrailError | None
    if not allowed(actor, Permission.APPROVE_DISPOSAL):
        refusal = DomainError("QA approves disposals, separately from the request", code=ErrorCode.SEPARATION_OF_DUTIES)
    else:
        refusal = approve_refusal(session, actor, req, now=now)
    return DisposalView(
        req.id, req.status, req.reason, req.requested_at, req.requested_by, req.approved_at, req.approved_by,
        approval, req.completed_at, req.certificate_sha256, tuple(items), files, tuple(kept),
        may_approve=refusal is None, why_not_approve=str(refusal) if refusal is not None else None,
        approve_refused=refusal.code if refusal is not None else None)
