"""Issue 16, signed outputs: PDF/A-2b reports, PAdES signatures by the site certificate (checked by pyHanko and by
poppler's pdfsig), PR-03 page furniture and PRINT events, BK-04 archives whose signatures `archive verify`
checks, SE-02 build identity on every report."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from pathlib import Path

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy import select

from app import buildinfo
from app.forms.render.pdfa import check_pdfa, make_pdfa
from app.models import AuditEvent
from app.services.core import pdfsign
from app.services.core.error_codes import ErrorCode
from app.services.core.errors import FormtrailError
from app.services.reconciliation import reconciliation
from app.services.records import records
from app.services.reports import archive, audit_log, record_export, reports
from app.services.site import key_setup
from tests.helpers.forms import effective_template, issue
from tests.helpers.seed import PASSWORD
from tests.helpers.signing import page_texts, pdfsig, pdfsig_available, pkcs12_file, signed_record

TZ_TIME = r"\d{4}-\d\d-\d\d \d\d:\d\d(:\d\d)?( [A-Z]{2,5})? \(UTC[+-]\d\d:\d\d\)"  # local time with the zone


def _site_cert(seed) -> bytes:  # noqa: ANN001
    return key_setup.signing_identity(seed.db).cert_pem


def _events(seed, action: str, entity: str) -> list[AuditEvent]:  # noqa: ANN001
    with seed.db.read() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action, AuditEvent.entity == entity)
                                    .order_by(AuditEvent.seq)))


def _tampered(data: bytes, needle: bytes = b"/Type /Page") -> bytes:
    """``data`` with one byte changed inside the signed part (a page object's dictionary)."""
    index = data.index(needle) + len(needle) - 1
    changed = bytearray(data)
    changed[index] = ord("X") if changed[index] != ord("X") else ord("Y")
    return bytes(changed)


@pytest.mark.compliance
def test_pr03_every_page_of_a_printed_signed_record_shows_all_elements_and_the_print_is_logged(seed, tmp_path):
    """PR-03: record ID/version, page x of y, printed by, print time with zone, signature manifestations and
    ORIGINAL / COPY n on every page; each print is a PRINT audit event."""
    form = signed_record(seed, tmp_path)
    serial, label = form.serials[0], form.labels[0] or form.serials[0]
    view = record_export.gather_record(seed.db, seed.qa, serial)
    first = record_export.export_pdf(seed.db, seed.qa, serial, out=tmp_path / "first.pdf")
    second = record_export.export_pdf(seed.db, seed.dc, serial, out=tmp_path / "second.pdf")
    document = view.printed.document
    assert document.startswith(f"Record {label} version ")  # the record as named on its paper
    for path, status, printer in ((first, "ORIGINAL", "Quinn Müller (qa)"), (second, "COPY 1", "Dora Control (dc)")):
        pages = page_texts(path)
        assert len(pages) >= 2, "the record, its scan and its trail take more than one page"
        for number, text in enumerate(pages, start=1):
            flat = " ".join(text.split())
            where = f"{path.name} page {number}"
            assert f"{document} · {status}" in flat, where
            assert f"Page {number} of {len(pages)}" in flat, where
            assert re.search(rf"Printed by {re.escape(printer)} on {TZ_TIME}", flat), where
            assert "Signed: Quinn Müller (qa), Reviewed, " in flat, where  # the manifestation, on every page
            assert f"Formtrail {buildinfo.text()}" in flat, where  # SE-02: the build on every page
    prints = [json.loads(e.new_value or "{}") for e in _events(seed, "PRINT", "record") if e.entity_id == serial]
    assert [(p["copy"], p["format"]) for p in prints] == [("ORIGINAL", "pdf"), ("COPY 1", "pdf")]
    assert prints[0]["version"] == prints[1]["version"] == int(document.rsplit(" ", 1)[1])
    assert prints[1]["sha256"] != prints[0]["sha256"]


def test_pr03_a_new_version_of_the_record_prints_as_its_original(seed, tmp_path):
    """A correction makes a new version of the record: its first print is the ORIGINAL of that version."""
    serial = signed_record(seed, tmp_path).serials[0]
    record_export.export_pdf(seed.db, seed.qa, serial, out=tmp_path / "a.pdf")
    before = record_export.gather_record(seed.db, seed.qa, serial).printed
    assert before.status == "COPY 1"
    records.correct_value(seed.db, seed.op, serial=serial, field="sample_weight_2", value="0.0999",
                          reason="Transcription error")
    after = record_export.gather_record(seed.db, seed.qa, serial).printed
    assert after.status == "ORIGINAL" and after.document != before.document


@pytest.mark.compliance
def test_bk04_record_pdf_is_pdfa_2b_and_signed_by_the_site_certificate(seed, tmp_path):
    """BK-04: the record's PDF is PDF/A-2b and carries the site's PAdES signature, which pyHanko (with the site
    certificate as the trust root) and poppler's pdfsig find intact and valid; a changed byte is caught."""
    serial = signed_record(seed, tmp_path).serials[0]
    out = record_export.export_pdf(seed.db, seed.qa, serial, out=tmp_path / "record.pdf")
    data = out.read_bytes()
    assert check_pdfa(data) == []
    cert = _site_cert(seed)

    reader = PdfFileReader(io.BytesIO(data))
    [signature] = reader.embedded_signatures
    status = validate_pdf_signature(signature, ValidationContext(trust_roots=[pdfsign.asn1_cert(cert)]))
    assert status.intact and status.valid and status.trusted and status.bottom_line
    assert status.coverage.name == "ENTIRE_FILE"
    assert signature.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"  # PAdES
    assert pdfsign.verify_pdf(data, [cert]).ok

    bad = tmp_path / "changed.pdf"
    bad.write_bytes(_tampered(data))
    status = validate_pdf_signature(PdfFileReader(io.BytesIO(bad.read_bytes()), strict=False).embedded_signatures[0],
                                    ValidationContext(trust_roots=[pdfsign.asn1_cert(cert)]))
    assert not status.intact
    check = pdfsign.verify_pdf(bad.read_bytes(), [cert])
    assert not check.ok and any("BROKEN" in p for p in check.problems)

    other = pdfsign.create("OTHER")
    assert any("not signed by the site certificate" in p for p in pdfsign.verify_pdf(data, [other.cert_pem]).problems)

    if pdfsig_available():  # what a standard reader shows
        shown = pdfsig(out, cert, tmp_path / "reader")
        assert "Signature is Valid." in shown and "Certificate is Trusted." in shown
        assert "Total document signed" in shown
        shown = pdfsig(bad, cert, tmp_path / "reader")
        assert "Signature is Valid." not in shown and ("Digest Mismatch" in shown or "Invalid" in shown)


@pytest.mark.compliance
def test_bk04_every_report_is_pdfa_and_signed(seed, tmp_path):
    """The reconciliation and accountability reports and the audit-trail PDF: PDF/A-2b, signed, their fonts
    embedded (a report in which a non-embedded font appeared fails here)."""
    form = signed_record(seed, tmp_path)
    reconciliation.void_form(seed.db, seed.dc, serial=form.serials[1], reason="spoiled")
    outs = [
        reports.reconciliation_report(seed.db, seed.qa, form.issuance_id, out=tmp_path / "recon.pdf"),
        reports.accountability_report(seed.db, seed.qa, since=dt.date(2020, 1, 1), until=dt.date(2099, 1, 1),
                                      out=tmp_path / "acc.pdf"),
        audit_log.export_events(seed.db, seed.qa, audit_log.AuditFilter(), fmt="pdf", out=tmp_path / "trail.pdf").path,
    ]
    cert = _site_cert(seed)
    for out in outs:
        data = out.read_bytes()
        assert check_pdfa(data) == [], out.name
        assert pdfsign.verify_pdf(data, [cert]).ok, out.name
        assert all(f"Formtrail {buildinfo.text()}" in " ".join(t.split()) for t in page_texts(out)), out.name


def test_pr03_the_reconciliation_report_counts_its_prints_and_shows_its_signatures(seed, tmp_path):
    form = signed_record(seed, tmp_path)
    reconciliation.void_form(seed.db, seed.dc, serial=form.serials[1], reason="spoiled")
    reconciliation.close(seed.db, seed.qa, form.issuance_id, username="qa", password=PASSWORD)
    for number, status in ((1, "ORIGINAL"), (2, "COPY 1")):
        out = reports.reconciliation_report(seed.db, seed.dc, form.issuance_id, out=tmp_path / f"r{number}.pdf")
        for text in page_texts(out):
            flat = " ".join(text.split())
            assert f"Reconciliation of issuance {form.issuance_id} · {status}" in flat
            assert "Signed: Quinn Müller (qa), Reconciled, " in flat and "Printed by Dora Control (dc) on " in flat
    prints = [json.loads(e.new_value or "{}") for e in _events(seed, "PRINT", "report")]
    assert [p.get("copy") for p in prints if p.get("report") == "reconciliation"] == ["ORIGINAL", "COPY 1"]


def test_the_pdfa_check_catches_a_font_that_is_not_embedded(tmp_path):
    """The check behind the tests above: reportlab's standard Helvetica is never embedded, and is named."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer)
    canvas.setFont("Helvetica", 12)
    canvas.drawString(72, 720, "not embedded")
    canvas.save()
    problems = check_pdfa(make_pdfa(buffer.getvalue()))
    assert problems == ["font /Helvetica is not embedded"]
    assert "no output intent" in check_pdfa(buffer.getvalue())  # and plain reportlab output is no PDF/A
    assert any("XMP" in p for p in check_pdfa(buffer.getvalue()))


def test_a_released_controlled_pdf_is_signed_by_the_site(seed, tmp_path):
    effective_template(seed)
    result = issue(seed, copies=2)
    data = seed.db.files.verified_path(result.pdf_sha256).read_bytes()
    check = pdfsign.verify_pdf(data, [_site_cert(seed)])
    assert check.ok and check.signatures == 1


@pytest.mark.compliance
def test_bk04_archive_verify_checks_signatures_and_names_a_changed_byte(seed, tmp_path):
    form = signed_record(seed, tmp_path)
    out = archive.export_archive(seed.db, seed.qa, out=tmp_path / "arch", issuance_id=form.issuance_id)
    root = out.path
    assert (root / archive.MANIFEST_SIGNATURE).exists()
    assert (root / archive.CERTIFICATE).read_bytes() == _site_cert(seed)
    check = archive.verify_archive(root, keys=seed.db.keys)
    assert check.ok, check.problems
    # the manifest, the record's PDF, the reconciliation report and the issued PDF
    assert check.signatures >= 4 and "key folder" in check.trust

    record_pdf = root / "records" / f"{form.serials[0]}.pdf"
    record_pdf.write_bytes(_tampered(record_pdf.read_bytes()))
    check = archive.verify_archive(root, keys=seed.db.keys)
    name = f"records/{form.serials[0]}.pdf"
    assert not check.ok
    assert f"{name}: altered" in check.problems
    assert any(p.startswith(f"{name}: signature 1") and "BROKEN" in p for p in check.problems), check.problems

    manifest = json.loads((root / archive.MANIFEST).read_text())
    manifest["files"][name] = "0" * 64  # a forger re-hashes the changed file: the manifest's signature breaks
    (root / archive.MANIFEST).write_text(json.dumps(manifest))
    check = archive.verify_archive(root, keys=seed.db.keys)
    assert f"{archive.MANIFEST}: signature BROKEN, the signed file was changed after signing" in check.problems

    other = archive.export_archive(seed.db, seed.qa, out=tmp_path / "arch2", issuance_id=form.issuance_id).path
    (other / archive.CERTIFICATE).write_bytes(pdfsign.create("EVIL").cert_pem)  # a swapped certificate
    check = archive.verify_archive(other, keys=seed.db.keys)  # the key folder's certificate decides
    assert f"{archive.CERTIFICATE}: altered" in check.problems


def test_the_site_certificate_is_made_at_set_up_and_kept_beside_the_keys(seed):
    folder, site = seed.db.keys.folder, seed.db.keyring().site
    assert pdfsign.key_path(folder, site).exists() and pdfsign.cert_path(folder, site).exists()
    assert pdfsign.key_path(folder, site).stat().st_mode & 0o077 == 0  # the key: its owner only
    view = key_setup.certificate(seed.db, seed.qa)
    assert f"Formtrail site {site} signing" in view.info.subject and view.info.self_signed
    assert view.info.not_after - view.info.not_before > dt.timedelta(days=365 * 25)


def test_a_site_set_up_before_signed_outputs_gets_its_certificate_once_audited(seed, tmp_path):
    folder, site = seed.db.keys.folder, seed.db.keyring().site
    for path in (pdfsign.key_path(folder, site), pdfsign.cert_path(folder, site)):
        path.unlink()
    with pytest.raises(FormtrailError) as missing:
        pdfsign.load(folder, site)
    assert missing.value.code == ErrorCode.SIGNING_CERTIFICATE_MISSING
    effective_template(seed)
    result = issue(seed, copies=1)  # the first output to sign makes it
    made = key_setup.signing_identity(seed.db)
    assert pdfsign.verify_pdf(seed.db.files.verified_path(result.pdf_sha256).read_bytes(), [made.cert_pem]).ok
    [event] = _events(seed, "CERTIFICATE_CREATED", "site")
    assert json.loads(event.new_value or "{}")["sha256"] == pdfsign.describe(made.cert_pem).sha256


def test_importing_the_sites_own_certificate_replaces_it_audited_and_old_files_keep_verifying(seed, tmp_path):
    effective_template(seed)
    serial = issue(seed, copies=1).serials[0]
    before = record_export.export_pdf(seed.db, seed.qa, serial, out=tmp_path / "before.pdf")
    p12 = tmp_path / "site.p12"
    new_cert = pkcs12_file(p12, common_name="BSL-01 document seal", password="p12-Secret")
    with pytest.raises(FormtrailError) as refused:
        key_setup.import_certificate(seed.db, seed.admin, p12, password="wrong", reason="own CA")
    assert refused.value.code == ErrorCode.CERTIFICATE_IMPORT_INVALID
    with pytest.raises(FormtrailError) as refused:
        key_setup.import_certificate(seed.db, seed.qa, p12, password="p12-Secret", reason="own CA")
    assert refused.value.code == ErrorCode.ACCESS_DENIED

    view = key_setup.import_certificate(seed.db, seed.admin, p12, password="p12-Secret", reason="own CA (SOP-IT-12)")
    assert "BSL-01 document seal" in view.info.subject and len(view.retired) == 1
    [event] = _events(seed, "CERTIFICATE_IMPORTED", "site")
    assert event.reason == "own CA (SOP-IT-12)" and json.loads(event.new_value or "{}")["sha256"] == view.info.sha256
    assert json.loads(event.old_value or "{}")["sha256"] == view.retired[0].sha256

    after = record_export.export_pdf(seed.db, seed.qa, serial, out=tmp_path / "after.pdf")
    trusted = key_setup.trusted_certificates(seed.db.keys.folder, seed.db.keyring().site)
    assert pdfsign.verify_pdf(after.read_bytes(), [new_cert]).ok
    assert pdfsign.verify_pdf(before.read_bytes(), trusted).ok  # signed with the replaced one: still trusted
    assert pdfsign.verify_pdf(after.read_bytes(), trusted).ok


@pytest.mark.compliance
def test_se02_build_identity_names_the_commit_and_the_source(tmp_path):
    """SE-02: the build shown is the checkout's commit (or the build file's), with a hash of the sources."""
    buildinfo.current.cache_clear()  # computed now (in this checkout other work may have changed files since)
    info = buildinfo.current()
    assert info.version and len(info.source_hash) == 64
    assert info.source_hash == buildinfo.source_hash()
    head = (Path(buildinfo.PACKAGE).parent / ".git").exists()
    if head:
        assert info.origin in ("build file", "git checkout") and len(info.commit) == 40
    assert info.text.startswith(f"{info.version} build ") and info.source_hash[:12] in info.text
    written = tmp_path / "_build.json"
    written.write_text(json.dumps({"commit": "a" * 40, "modified": False}))
    assert buildinfo._from_build_file(written) == ("a" * 40, False)  # noqa: SLF001 - the installed path


def test_the_signing_key_is_exported_as_pkcs12_audited_and_imports_again(seed, tmp_path):
    before = key_setup.certificate(seed.db, seed.admin).info.sha256
    with pytest.raises(FormtrailError) as refused:
        key_setup.export_certificate(seed.db, seed.admin, tmp_path / "short.p12", password="short", reason="backup")
    assert refused.value.code == ErrorCode.INVALID_INPUT and not (tmp_path / "short.p12").exists()
    out = key_setup.export_certificate(seed.db, seed.admin, tmp_path / "seal.p12", password="Backup-Pw-1",
                                       reason="to the safe (SOP-IT-009)")
    assert out.stat().st_mode & 0o077 == 0
    [event] = _events(seed, "CERTIFICATE_EXPORTED", "site")
    assert event.reason == "to the safe (SOP-IT-009)" and json.loads(event.new_value or "{}")["sha256"] == before
    view = key_setup.import_certificate(seed.db, seed.admin, out, password="Backup-Pw-1", reason="restored")
    assert view.info.sha256 == before and view.retired == ()
