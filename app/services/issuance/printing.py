"""Getting controlled PDFs onto paper exactly once, and uncontrolled reference prints.

A controlled PDF is released once, to a printer or to a file; the release is audited (printer, pages,
copies) before the bytes are handed over. Asking again is refused: a lost or spoiled print is voided and
replaced with a new serial, never reprinted (BF-04). Before the release, a numbered preview (``preview_pdf``)
shows the same pages watermarked PREVIEW, with codes intake never links; it is audited and releases nothing.
"""

from __future__ import annotations

import dataclasses
import errno
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from app.forms.render import render
from app.models import ControlledPdf, Issuance, IssuedForm
from app.models.issuance import FormPageAddition
from app.services.core import audit
from app.services.core.db import Actor, Database
from app.services.core.error_codes import ErrorCode
from app.services.core.errors import DomainError, FormtrailError, NotFound, ValidationError
from app.services.core.timefmt import local_text
from app.services.identity import workstations
from app.services.identity.permissions import Permission, require, require_any
from app.services.issuance import labels
from app.services.issuance.issuance import issue_info, site_of
from app.services.templates import templates

LP_TIMEOUT_S = 120  # a print system that does not take a job in two minutes is reported, not waited for


class PrintFailed(FormtrailError):
    """The printer refused the job or the PDF could not be read (the message says which)."""


@dataclasses.dataclass(frozen=True)
class ReleasedPdf:
    pdf_id: int
    path: Path  # the verified stored file (read-only); copy or print it, never edit it
    pages: int
    serials: str  # "000001–000003", the numbers as stored (and audited)
    printed: str  # the same forms as printed beside their codes (``labels.span``): what a person is told


def _printed_spans(session: Session, pdfs: Sequence[ControlledPdf]) -> dict[int, str]:
    """pdf id -> its first and last form as printed (``labels.span``): the edge forms of all ``pdfs`` are
    read and labelled together, never a query per PDF or per form."""
    if not pdfs:
        return {}
    edges = {s for p in pdfs for s in (p.first_serial, p.last_serial)}
    rows = session.execute(select(IssuedForm.id, IssuedForm.pdf_id, IssuedForm.serial)
                           .where(IssuedForm.pdf_id.in_([p.id for p in pdfs]), IssuedForm.serial.in_(edges))).all()
    printed = labels.labels_of(session, (form_id for form_id, _pdf, _serial in rows))
    by_edge = {(pdf_id, serial): printed.get(form_id, serial) for form_id, pdf_id, serial in rows}
    return {p.id: labels.span(by_edge.get((p.id, p.first_serial), p.first_serial),
                              by_edge.get((p.id, p.last_serial), p.last_serial)) for p in pdfs}


def _refuse_second_release(pdf: ControlledPdf) -> None:
    if pdf.released_at is not None:
        raise DomainError(
            f"the controlled copies {pdf.first_serial}–{pdf.last_serial} were already released to "
            f"{pdf.released_to} on {local_text(pdf.released_at)}; controlled copies are never printed twice. "
            "Void a spoiled or lost copy and issue a replacement.", code="already-released"
        )


@dataclasses.dataclass(frozen=True)
class _Source:
    verified: Path  # the stored file, its hash checked
    printed: str


def _source(db: Database, pdf_id: int) -> _Source:
    """The PDF to release, checked before the release's write: not released yet, its file intact (hashing a big
    PDF is slow: never inside the write transaction), and its forms as printed."""
    with db.read() as session:
        pdf = session.get(ControlledPdf, pdf_id)
        if pdf is None:
            raise NotFound(f"no controlled PDF {pdf_id}")
        _refuse_second_release(pdf)
        sha, printed = pdf.sha256, _printed_spans(session, [pdf])[pdf.id]
    return _Source(verified=db.files.verified_path(sha), printed=printed)


def _release(db: Database, actor: Actor, pdf_id: int, *, target: str, details: dict[str, object],
             source: _Source | None = None) -> ReleasedPdf:
    # Document Control releases issuances; QA, who approves a replacement, may release that replacement.
    require_any(db, actor, Permission.ISSUE_FORMS, Permission.REPLACE_FORMS)
    workstations.require_registered(db, actor, "print or save controlled forms")  # AC-08
    if source is None:
        source = _source(db, pdf_id)
    with db.write(actor, reason="controlled copies released") as session:
        pdf = session.get(ControlledPdf, pdf_id, with_for_update=True)
        if pdf is None:
            raise NotFound(f"no controlled PDF {pdf_id}")
        _refuse_second_release(pdf)
        pdf.released_at, pdf.released_by, pdf.released_to = db.clock.now(), actor.username, target
        audit.record_event(session, "PRINT", entity="controlled_pdf", entity_id=str(pdf.id),
                           new={"target": target, "pages": pdf.pages,
                                "serials": f"{pdf.first_serial}-{pdf.last_serial}", "sha256": pdf.sha256, **details})
        return ReleasedPdf(pdf_id=pdf.id, path=source.verified, pages=pdf.pages,
                           serials=f"{pdf.first_serial}–{pdf.last_serial}", printed=source.printed)


def release_to_printer(db: Database, actor: Actor, pdf_id: int, *, printer: str, copies: int = 1) -> ReleasedPdf:
    """Record the print first, then the caller prints the returned file once."""
    if copies != 1:
        raise ValidationError("controlled copies are printed once each: set the printer to 1 copy")
    return _release(db, actor, pdf_id, target=f"printer {printer}", details={"printer": printer, "copies": copies})


def save_to_file(db: Database, actor: Actor, pdf_id: int, *, out: Path) -> ReleasedPdf:
    """Save the controlled PDF (to print it elsewhere); this is its one release.

    The file is written first (under a temporary name, flushed, then given its name) and the release is
    committed only once it exists: a disk that is full or a folder that cannot be written leaves the release
    available. Should the release then be refused (someone released it meanwhile), the file is removed."""
    require_any(db, actor, Permission.ISSUE_FORMS, Permission.REPLACE_FORMS)
    workstations.require_registered(db, actor, "print or save controlled forms")  # AC-08
    if out.exists():
        raise ValidationError(f"{out} already exists; choose a new file name", code="file-exists")
    source = _source(db, pdf_id)
    write_new_file(source.verified, out)
    try:
        released = _release(db, actor, pdf_id, target=f"file {out}", details={"file": str(out)}, source=source)
    except BaseException:
        out.unlink(missing_ok=True)
        raise
    return dataclasses.replace(released, path=out)


def write_new_file(source: Path, out: Path) -> None:
    """Copy ``source`` to ``out``, which must not exist: temporary name, fsync, then a link that fails if
    ``out`` appeared meanwhile. ValidationError (code ``cannot-write-file``) says why it could not be written."""
    temporary: Path | None = None
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".part")
        temporary = Path(name)
        with os.fdopen(fd, "wb") as fh, source.open("rb") as src:
            shutil.copyfileobj(src, fh, 1024 * 1024)
            fh.flush()
            os.fsync(fh.fileno())
        temporary.chmod(0o644)
        try:
            _place(temporary, out)
        except FileExistsError:
            raise ValidationError(f"{out} already exists; choose a new file name", code="file-exists") from None
    except OSError as exc:
        raise ValidationError(f"cannot write {out}: {exc.strerror or exc}. Nothing was released; choose another "
                              "folder and save again.", code="cannot-write-file") from exc
    finally:
        if temporary is not None:
            temporary.unlink(missing_ok=True)


def _place(temporary: Path, out: Path) -> None:
    """Give the written file its name without ever replacing a file that appeared meanwhile: a hard link where
    the file system has them, else a rename after a last check (FAT and some network shares have no links)."""
    try:
        os.link(temporary, out)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.ENOSYS):
            raise
        if out.exists():
            raise FileExistsError(str(out)) from exc
        os.rename(temporary, out)


@dataclasses.dataclass(frozen=True)
class PreviewedPdf:
    pdf_id: int
    pages: int
    serials: str
    printed: str  # as printed on the copies (``labels.span``)


def preview_refusal(pdf: ControlledPdf) -> DomainError | None:
    """A preview is for checking the copies before their one release; afterwards the paper is out."""
    if pdf.released_at is not None:
        return DomainError(
            f"the controlled copies {pdf.first_serial}–{pdf.last_serial} were already released to {pdf.released_to} "
            f"on {local_text(pdf.released_at)}; a numbered preview is made only before the release",
            code=ErrorCode.ALREADY_RELEASED)
    return None


def preview_pdf(db: Database, actor: Actor, pdf_id: int, *, out: render.Output,
                progress: Callable[[int, int], None] | None = None,
                cancelled: Callable[[], bool] | None = None) -> PreviewedPdf:
    """A numbered preview of the controlled PDF ``pdf_id`` before its one release, written to ``out``: the
    same layout, issuance head and serials, "PREVIEW – NOT A CONTROLLED COPY" across every page and codes that
    intake refuses by name (never linked). Audited as PREVIEW; the release stays available."""
    require_any(db, actor, Permission.ISSUE_FORMS, Permission.REPLACE_FORMS)  # who may release may look first
    with db.read() as session:
        pdf = session.get(ControlledPdf, pdf_id)
        if pdf is None:
            raise NotFound(f"no controlled PDF {pdf_id}")
        refusal = preview_refusal(pdf)
        if refusal is not None:
            raise refusal
        issuance = session.get(Issuance, pdf.issuance_id)
        if issuance is None:
            raise NotFound(f"no issuance {pdf.issuance_id}")
        version, site = issuance.template_version, site_of(session)
        layout, head = templates.layout_of(version), issue_info(site, version, issuance)
        forms = session.scalars(select(IssuedForm).where(IssuedForm.pdf_id == pdf.id)
                                .options(joinedload(IssuedForm.replaces)).order_by(IssuedForm.serial_no)).all()
        copies = [render.CopyInfo(serial=f.serial, copy_no=f.copy_no, copy_count=issuance.copies,
                                  replaces=f.replaces.serial if f.replaces is not None else None,
                                  label=labels.label_of(f, site.code),
                                  replaces_label=labels.label_of(f.replaces, site.code) if f.replaces else None)
                  for f in forms]
        serials = f"{pdf.first_serial}–{pdf.last_serial}"
        printed = labels.span(copies[0].label or copies[0].serial, copies[-1].label or copies[-1].serial) \
            if copies else serials
    # Rendered outside any write transaction; only the short audit write follows.
    try:
        pages = render.render_issued(out, layout, head, copies, key=None, preview=True, progress=progress,
                                     cancelled=cancelled)
    except render.RenderCancelled:
        raise DomainError("the preview was cancelled; nothing was recorded", code=ErrorCode.PREVIEW_CANCELLED) from None
    with db.write(actor, reason="numbered preview before the release (not a release)") as session:
        audit.record_event(session, "PREVIEW", entity="controlled_pdf", entity_id=str(pdf_id),
                           new={"kind": "numbered preview (not a controlled copy)", "pages": pages,
                                "serials": serials.replace("–", "-")})
    return PreviewedPdf(pdf_id=pdf_id, pages=pages, serials=serials, printed=printed)


@dataclasses.dataclass(frozen=True)
class IssuancePdf:
    """One controlled PDF of an issuance (the original, or a replacement's)."""

    pdf_id: int
    first_serial: str
    last_serial: str
    released: bool
    printed: str  # its forms as printed beside their codes: "BSL-01-000001 – BSL-01-000003" (``labels.span``)
    pages: int = 0  # pages in the PDF
    extra_pages: str | None = None  # "pages 6–7 of BSL-01-000003": the PDF holds extra pages of one form (BF-02)

    @property
    def serials(self) -> str:
        """The numbers as stored: "000001–000003"."""
        return f"{self.first_serial}–{self.last_serial}"

    @property
    def copies(self) -> int:
        return int(self.last_serial) - int(self.first_serial) + 1

    def holds(self, serial: str) -> bool:
        """Whether the form numbered ``serial`` (as stored) is in this PDF's run."""
        return int(self.first_serial) <= int(serial) <= int(self.last_serial)


def pdfs_of(db: Database, actor: Actor, issuance_id: int) -> list[IssuancePdf]:
    """The issuance's PDFs, original first, each with its serial range as stored and as printed."""
    require(db, actor, Permission.VIEW_DATA)
    with db.read() as session:
        if session.get(Issuance, issuance_id) is None:
            raise NotFound(f"no issuance {issuance_id}")
        pdfs = list(session.scalars(select(ControlledPdf).where(ControlledPdf.issuance_id == issuance_id)
                                    .order_by(ControlledPdf.id)))
        printed = _printed_spans(session, pdfs)
        extra = {a.pdf_id: a for a in session.scalars(select(FormPageAddition).where(
            FormPageAddition.pdf_id.in_([p.id for p in pdfs])))} if pdfs else {}
        return [IssuancePdf(pdf_id=p.id, first_serial=p.first_serial, last_serial=p.last_serial,
                            released=p.released_at is not None, printed=printed[p.id], pages=p.pages,
                            extra_pages=(f"pages {extra[p.id].first_page}–{extra[p.id].last_page} of {printed[p.id]}"
                                         if p.id in extra else None)) for p in pdfs]


def print_reference(db: Database, actor: Actor, code: str, *, out: Path) -> Path:
    """An UNCONTROLLED reference print of the effective version: watermarked, no serial, no valid code."""
    require(db, actor, Permission.VIEW_DATA)
    with db.read() as session:
        version = templates.effective_version(session, code)
        layout = templates.layout_of(version)
        site_code, number, label = site_of(session).code, version.version, version.label
    now = db.clock.now()
    out.parent.mkdir(parents=True, exist_ok=True)
    render.render_reference(out, layout, site_code=site_code, version=number,
                            printed_by=f"{actor.full_name} ({actor.username})", printed_at=now)
    with db.write(actor, reason="uncontrolled reference print") as session:
        audit.record_event(session, "PRINT", entity="template_version", entity_id=label,
                           new={"kind": "reference (uncontrolled)", "file": out.name})
    return out


def send_to_cups(path: Path, *, printer_name: str, title: str, paper: str | None = None) -> None:
    """Hand the PDF itself to CUPS (``lp``): one copy, true size, on ``paper`` ("A4", "Letter"; None: the
    printer's default). Used by the desktop app and the CLI alike."""
    media = ["-o", f"media={paper}"] if paper else []
    command = ["lp", "-d", printer_name, "-n", "1", "-o", "print-scaling=none", *media, "-t", title, str(path)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=LP_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PrintFailed(f"the print system did not take the job for {printer_name}: {exc}") from exc
    if done.returncode != 0:
        raise PrintFailed(f"the printer {printer_name} refused the job: {(done.stderr or done.stdout).strip()}")
