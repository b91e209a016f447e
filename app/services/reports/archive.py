"""Archives that outlive the application (BK-04): a folder or ZIP readable with a PDF viewer, a spreadsheet
and `sha256sum`, holding the records and reports as PDF, the data and the complete audit trail as CSV and
JSON, the issued PDFs and the scans as received, a manifest of hashes and a README."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import hashlib
import json
import shutil
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app import buildinfo
from app.forms.render.pdfa import check_pdfa
from app.forms.render.reconciliation_report import ReconciliationReport
from app.forms.render.report import Printed
from app.models import AuditEvent, ControlledPdf, Issuance, Record, ScanPage, ScanSource
from app.services.admin import disposal, transfer
from app.services.core import audit, audit_chain, pdfsign
from app.services.core.db import Actor, Database
from app.services.core.errors import ValidationError
from app.services.core.keys import KeyRing, KeyStore
from app.services.identity.permissions import Permission, require
from app.services.issuance import labels
from app.services.reports import record_export, reports
from app.services.reports.printed import printed_in
from app.services.reports.record_export import RecordCopy
from app.services.site import key_setup

MANIFEST, SUMS = "manifest.json", "SHA256SUMS"
MANIFEST_SIGNATURE, CERTIFICATE = "manifest.json.p7s", "site-certificate.pem"
SIGNED_FOLDERS = ("records", "reports")  # every PDF there is PDF/A-2b and signed by the site (issued/: since 16)
_EXT = {"application/pdf": ".pdf", "image/tiff": ".tif", "image/png": ".png", "image/jpeg": ".jpg"}
README = """FORMTRAIL ARCHIVE
=================

Site {site}. Created {created} by {by} with Formtrail {version}.
Contents: {selection}.

This folder is complete without Formtrail:
  records/    one PDF per electronic record (data with full history, signatures, scans, its audit trail)
              and the same record as JSON
  reports/    the reconciliation report of each issuance (PDF)
  issued/     the controlled PDFs exactly as they were issued and printed
  scans/      every scanned file exactly as it was received, named by its SHA-256
  data/       issuances.csv, forms.csv, scans.csv: the register in spreadsheet form;
              disposed_files.csv: stored files destroyed by an approved disposal (not in this archive)
  audit_trail.csv / audit_trail.json
              the complete audit trail up to the chain head {head}
  manifest.json and SHA256SUMS
              the SHA-256 of every file. Check them with:  sha256sum -c SHA256SUMS
  manifest.json.p7s and site-certificate.pem
              the site's signature over manifest.json, and the site's certificate. Check it with:
              openssl cms -verify -binary -inform DER -in manifest.json.p7s -content manifest.json
                      -CAfile site-certificate.pem -purpose any
              The PDFs are PDF/A-2b and carry the same certificate's signature (PAdES): any PDF reader
              shows whether a file was changed after it was signed.

The audit trail is a hash chain: each row's "hash" is the SHA-256 of the JSON array
[seq, occurred_at, user_id, username, full_name, workstation, action, entity, entity_id, field,
 old_value, new_value, reason, prev_hash] (UTF-8, no spaces, times as ISO 8601 UTC with microseconds),
and "prev_hash" is the previous row's hash (64 zeros for row 1). The chain head printed on every
report (count:hash) must match the last row.
"""


@dataclasses.dataclass(frozen=True)
class ArchiveResult:
    path: Path
    files: int
    manifest_sha256: str
    chain_head: str


Row = tuple[Any, ...]


@dataclasses.dataclass(frozen=True)
class ArchiveContents:
    """Everything an archive holds from the database, read in one transaction: the register, the reports and
    records (as they print), and the audit trail up to the chain head that every one of its PDFs names."""

    printed: Printed
    selection: str  # "issuance 3", "issuances from 2026-01-01 to 2026-03-31"
    issuances: tuple[Row, ...]  # the rows of data/issuances.csv
    forms: tuple[Row, ...]  # ... data/forms.csv
    scans: tuple[Row, ...]  # ... data/scans.csv
    issued_pdfs: tuple[tuple[str, str], ...]  # (sha256, name in issued/)
    scan_files: tuple[tuple[str, str], ...]  # (sha256, name in scans/)
    disposed: tuple[tuple[str, str], ...]  # (sha256, name) destroyed by an approved disposal: listed, not copied
    reconciliations: tuple[ReconciliationReport, ...]
    records: tuple[RecordCopy, ...]
    events: tuple[dict[str, Any], ...]  # the audit trail, every column as plain data

    @property
    def chain_head(self) -> str:
        return self.printed.chain_head


def export_archive(db: Database, actor: Actor, *, out: Path, issuance_id: int | None = None,
                   since: dt.date | None = None, until: dt.date | None = None) -> ArchiveResult:
    require(db, actor, Permission.VIEW_AUDIT)
    if (issuance_id is None) == (since is None or until is None):
        raise ValidationError("archive either one issuance, or a date range (from and to)")
    if out.exists():
        raise ValidationError(f"{out} already exists; archive into a new folder or ZIP file")
    contents = gather_archive(db, actor, issuance_id=issuance_id, since=since, until=until)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "archive"
        _write(db, actor, root, contents)
        identity = key_setup.signing_identity(db)
        (root / CERTIFICATE).write_bytes(identity.cert_pem)
        manifest_sha, count = _seal(root, {"site": contents.printed.site, "selection": contents.selection,
                                           "chain_head": contents.chain_head, "signed": True, "pdf_a": "2b",
                                           "created_at": db.clock.now().isoformat(), "created_by": actor.username})
        (root / MANIFEST_SIGNATURE).write_bytes(pdfsign.sign_detached((root / MANIFEST).read_bytes(), identity))
        _pack(root, out)
    with db.write(actor, reason="archive exported") as session:
        audit.record_event(session, "EXPORT", entity="archive", entity_id=str(out),
                           new={"selection": contents.selection, "files": count, "manifest_sha256": manifest_sha})
    return ArchiveResult(path=out, files=count, manifest_sha256=manifest_sha, chain_head=contents.chain_head)


# -- gathering: one read transaction ---------------------------------------------------------------------------
def gather_archive(db: Database, actor: Actor, *, issuance_id: int | None = None, since: dt.date | None = None,
                   until: dt.date | None = None) -> ArchiveContents:
    """Everything the archive of one issuance (or of the issuances made from ``since`` to ``until``) holds
    from the database, read in one transaction."""
    require(db, actor, Permission.VIEW_AUDIT)
    require(db, actor, Permission.VIEW_DATA)  # it holds the records and the reconciliation reports
    with db.read() as session:
        issuances, selection = _issuances_in(session, issuance_id, since, until)
        forms = {f.id: f for i in issuances for f in i.forms}
        pages = session.execute(select(ScanPage, ScanSource).join(ScanSource, ScanPage.source_id == ScanSource.id)
                                .where(ScanPage.issued_form_id.in_(list(forms)))).all()
        pdfs = session.scalars(select(ControlledPdf).where(
            ControlledPdf.issuance_id.in_([i.id for i in issuances]))).all()
        with_record = sorted(set(session.scalars(select(Record.serial).where(Record.issued_form_id.in_(list(forms))))))
        label_of = labels.labels_of(session, forms)
        printed = printed_in(session, db, actor)
        gone = disposal.disposed_hashes(session)
        issued = {pdf.sha256: f"issuance-{pdf.issuance_id}-{pdf.first_serial}-{pdf.last_serial}.pdf" for pdf in pdfs}
        scanned = {s.sha256: f"{s.sha256}{_EXT.get(s.media_type, '')}" for _p, s in pages}
        return ArchiveContents(
            printed=printed, selection=selection,
            issuances=tuple((i.id, i.template_version.label, i.purpose, i.reference or "", i.issued_to, i.issued_by,
                             i.issued_at.isoformat(), i.due_date.isoformat(), i.state.value, len(i.forms))
                            for i in issuances),
            forms=tuple((f.serial, label_of.get(f.id, f.serial), f.issuance_id, f.copy_no, f.pages, f.state.value,
                         f.state_reason or "", f.deviation_ref or "", f.state_changed_by or "",
                         f.true_copy_verified_by or "", f.paper_disposition or "", f.paper_location or "",
                         f.true_copy_checklist or "")
                        for f in forms.values()),
            scans=tuple((p.id, s.sha256, s.original_name, p.page_index + 1, p.outcome.value,
                         forms[p.issued_form_id].serial if p.issued_form_id else "", p.page_no or "",
                         p.link_method or "", s.imported_by, s.imported_at.isoformat(),
                         "" if p.dpi is None else f"{p.dpi:g}", p.colour_mode or "", s.device or "")
                        for p, s in pages),
            issued_pdfs=tuple((sha, name) for sha, name in issued.items() if sha not in gone),
            scan_files=tuple((sha, name) for sha, name in scanned.items() if sha not in gone),
            disposed=tuple((sha, name) for sha, name in {**issued, **scanned}.items() if sha in gone),
            reconciliations=tuple(reports.reconciliation_in(session, db, i.id, printed) for i in issuances),
            records=tuple(record_export.read_record(session, db, serial) for serial in with_record),
            events=_trail_in(session, printed.chain_head),
        )


def _issuances_in(session: Session, issuance_id: int | None, since: dt.date | None,
                  until: dt.date | None) -> tuple[list[Issuance], str]:
    """The issuances to archive, oldest first, and the selection in words."""
    query = select(Issuance).options(selectinload(Issuance.forms))
    if issuance_id is not None:
        query = query.where(Issuance.id == issuance_id)
        selection = f"issuance {issuance_id}"
    elif since is not None and until is not None:
        start, end = reports.local_days(since, until)
        query = query.where(Issuance.issued_at >= start, Issuance.issued_at < end)
        selection = f"issuances from {since} to {until}"
    else:
        raise ValidationError("archive either one issuance, or a date range (from and to)")
    issuances = list(session.scalars(query.order_by(Issuance.id)))
    if not issuances:
        raise ValidationError(f"nothing to archive: no {selection}")
    return issuances, selection


def _trail_in(session: Session, head: str) -> tuple[dict[str, Any], ...]:
    """The complete audit trail up to ``head`` ("count:hash"), every column as plain data."""
    columns = [c.name for c in AuditEvent.__table__.columns]
    query = select(AuditEvent).where(AuditEvent.seq <= int(head.split(":")[0])).order_by(AuditEvent.seq)
    return tuple({c: transfer.plain(getattr(e, c)) for c in columns} for e in session.scalars(query))


# -- writing: files, then each report's own audited write ------------------------------------------------------
def _write(db: Database, actor: Actor, root: Path, contents: ArchiveContents) -> None:
    for sub in ("records", "reports", "issued", "scans", "data"):
        (root / sub).mkdir(parents=True)
    _csv(root / "data" / "issuances.csv", ["issuance", "template", "purpose", "reference", "issued_to",
                                           "issued_by", "issued_at", "due", "state", "forms"], contents.issuances)
    _csv(root / "data" / "forms.csv", ["serial", "label", "issuance", "copy", "pages", "state", "reason",
                                       "deviation", "changed_by", "true_copy_verified_by", "paper", "paper_location",
                                       "true_copy_checked"],
         contents.forms)
    _csv(root / "data" / "scans.csv", ["scan_page", "source_sha256", "source_name", "source_page", "outcome",
                                       "serial", "page_no", "link", "imported_by", "imported_at", "dpi",
                                       "colour_mode", "scanner"], contents.scans)
    _csv(root / "data" / "disposed_files.csv", ["sha256", "name"], contents.disposed)
    for sha, name in contents.issued_pdfs:
        shutil.copyfile(db.files.verified_path(sha), root / "issued" / name)
    for sha, name in contents.scan_files:
        shutil.copyfile(db.files.verified_path(sha), root / "scans" / name)
    for report in contents.reconciliations:
        reports.save_reconciliation(db, actor, report, root / "reports" / f"reconciliation-{report.issuance_id}.pdf")
    for copy in contents.records:
        serial = copy.view.serial
        record_export.save_pdf(db, actor, record_export.record_report(copy, contents.printed),
                               root / "records" / f"{serial}.pdf")
        record_export.save_json(db, actor, copy, root / "records" / f"{serial}.json")
    trail = list(contents.events)
    _csv(root / "audit_trail.csv", list(trail[0]) if trail else ["seq"], [tuple(e.values()) for e in trail])
    (root / "audit_trail.json").write_text(json.dumps({"chain_head": contents.chain_head, "events": trail},
                                                      ensure_ascii=False, indent=1), encoding="utf-8")
    (root / "README.txt").write_text(README.format(
        site=contents.printed.site, created=db.clock.now().isoformat(), by=f"{actor.full_name} ({actor.username})",
        version=buildinfo.text(), selection=contents.selection, head=contents.chain_head), encoding="utf-8")


def _pack(root: Path, out: Path) -> None:
    """The finished archive folder to ``out``: a ZIP file, or a folder."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".zip":
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            for file in sorted(root.rglob("*")):
                if file.is_file():
                    zf.write(file, file.relative_to(root).as_posix())
    else:
        shutil.copytree(root, out)


def _csv(path: Path, header: list[str], rows: Sequence[Sequence[Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows([["" if v is None else v for v in row] for row in rows])


def _seal(root: Path, meta: dict[str, Any]) -> tuple[str, int]:
    files = {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
             for p in sorted(root.rglob("*")) if p.is_file()}
    (root / SUMS).write_text("".join(f"{digest}  {name}\n" for name, digest in files.items()), encoding="utf-8")
    text = json.dumps({**meta, "files": files}, indent=1, sort_keys=True)
    (root / MANIFEST).write_text(text, encoding="utf-8")
    return hashlib.sha256(text.encode()).hexdigest(), len(files)


@dataclasses.dataclass(frozen=True)
class ArchiveCheck:
    ok: bool
    files: int
    problems: tuple[str, ...]
    chain_head: str | None
    signatures: int = 0  # signed files whose signatures were checked (the PDFs and the manifest)
    trust: str = ""  # what the signatures were checked against, in words


def verify_archive(path: Path, *, ring: KeyRing | None = None, keys: KeyStore | None = None) -> ArchiveCheck:
    """Re-hash every file of a folder or ZIP archive and re-check the audit chain it carries (its keyed hashes
    only with the site's ``ring``; without it, the sequence and the links)."""
    if path.is_file() and path.suffix.lower() == ".zip":
        with tempfile.TemporaryDirectory() as tmp:
            try:
                with zipfile.ZipFile(path) as zf:
                    zf.extractall(tmp)
            except zipfile.BadZipFile as exc:
                return ArchiveCheck(False, 0, (f"{path.name} is not a readable ZIP file: {exc}",), None)
            return verify_archive(Path(tmp), ring=ring, keys=keys)
    problems: list[str] = []
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return ArchiveCheck(False, 0, (f"{MANIFEST} is missing or damaged",), None)
    listed: dict[str, str] = manifest.get("files", {})
    site = manifest.get("site")
    if ring is None and keys is not None and site and keys.exists(site):
        ring = keys.ring(site)
    for name, digest in sorted(listed.items()):
        file = path / name
        if not file.exists():
            problems.append(f"{name}: missing")
        elif hashlib.sha256(file.read_bytes()).hexdigest() != digest:
            problems.append(f"{name}: altered")
    for file in sorted(p for p in path.rglob("*") if p.is_file() and p.name not in (MANIFEST, SUMS,
                                                                                     MANIFEST_SIGNATURE)):
        if file.relative_to(path).as_posix() not in listed:
            problems.append(f"{file.relative_to(path).as_posix()}: not listed in the manifest")
    head = None
    if "audit_trail.json" in listed and (path / "audit_trail.json").exists():
        trail = json.loads((path / "audit_trail.json").read_text(encoding="utf-8"))
        rows = [dict(e, occurred_at=dt.datetime.fromisoformat(e["occurred_at"])) for e in trail["events"]]
        report = audit_chain.verify_rows(rows, ring=ring)
        head = report.head
        if not report.ok:
            problems.append(f"audit trail: {report.problem}")
        elif report.head != manifest.get("chain_head"):
            problems.append(f"audit trail ends at {report.head}, the manifest says {manifest.get('chain_head')}")
    signed, trust = _check_signatures(path, manifest, keys, problems)
    return ArchiveCheck(not problems, len(listed), tuple(problems), head, signed, trust)


def _check_signatures(path: Path, manifest: dict[str, Any], keys: KeyStore | None,
                      problems: list[str]) -> tuple[int, str]:
    """Check the manifest's signature and every PDF's (intact, by the site certificate) and that the records
    and reports are PDF/A-2b; append what fails to ``problems``. The trust anchor is the site's certificate from
    the key folder when this workstation has it, else the certificate the archive carries (then a signature
    shows the files are as the holder of that certificate made them, not that it is this site's)."""
    site, required = str(manifest.get("site", "")), bool(manifest.get("signed"))
    trusted = key_setup.trusted_certificates(keys.folder, site) if keys is not None and site else []
    trust = f"the certificate of site {site} in the key folder"
    if not trusted and (path / CERTIFICATE).exists():
        trusted, trust = [(path / CERTIFICATE).read_bytes()], f"the certificate inside the archive ({CERTIFICATE})"
    elif not trusted:
        trust = "nothing: no site certificate was found, only the signatures' integrity was checked"
    checked = 0
    signature = path / MANIFEST_SIGNATURE
    if signature.exists():
        checked += 1
        for problem in pdfsign.verify_detached((path / MANIFEST).read_bytes(), signature.read_bytes(), trusted):
            problems.append(f"{MANIFEST}: signature {problem}")
    elif required:
        problems.append(f"{MANIFEST}: its signature ({MANIFEST_SIGNATURE}) is missing")
    for pdf in sorted(path.rglob("*.pdf")):
        name = pdf.relative_to(path).as_posix()
        must = required and name.split("/")[0] in SIGNED_FOLDERS
        data = pdf.read_bytes()
        check = pdfsign.verify_pdf(data, trusted)
        if check.signatures:
            checked += 1
            problems += [f"{name}: {problem}" for problem in check.problems]
        elif must:
            problems.append(f"{name}: not signed")
        if must:
            problems += [f"{name}: not PDF/A-2b: {problem}" for problem in check_pdfa(data)]
    return checked, trust
