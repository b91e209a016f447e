"""Issue 14, item 4 (readable outputs): every printed report names people "Full Name (username)", scans by the
form's page, each audit change as "Label: old → new", never raw JSON, database numbers, internal names or
requirement ids, and never cut short. Each report of a seeded scenario is rendered, every page drawn to a PNG
(it must draw and not be blank) and its text read back with pdfium."""

from __future__ import annotations

import re
from pathlib import Path

import pypdfium2
import pytest
from PIL import ImageOps

from app.enums import Role
from app.models import SignatureMeaning as M
from app.services.identity import users
from app.services.reconciliation import reconciliation
from app.services.records import records
from app.services.reports import audit_log, record_export, reports
from app.services.scans import intake, true_copy
from tests.helpers import scanlike as sl
from tests.helpers.forms import effective_template, issue
from tests.helpers.records import fill, verify_critical
from tests.helpers.scans import issued_page_images, write
from tests.helpers.seed import PASSWORD

DPI = 150
PEOPLE = ("Otto Operator (op)", "Olga Operator (op2)", "Quinn Müller (qa)", "Dora Control (dc)", "Ada Admin (admin)")
# What a reader must never meet: JSON, text cut short, column names, requirement ids such as "(PR-02)".
RAW = {
    # (a brace alone may be a value people typed: a serial format such as "{site}-{seq:06}")
    "JSON object": re.compile(r'[{\[]\s*"|"\s*[}\]]'), "JSON key": re.compile(r'":'), "cut short": re.compile("…"),
    "a column name": re.compile(r"_id\b|\b[a-z]+_[a-z0-9_]+"), "a requirement id": re.compile(r"\([A-Z]{2,3}-\d+\)"),
}


@pytest.fixture
def scenario(seed, tmp_path):
    """Four copies of QC-WS-014: copies 2 and 3 scanned back first (so the scan of copy 1 is not the database's
    first), copy 1 filled in from its scan, corrected twice (once on the paper), verified, reviewed, verified as a
    true copy; copy 4 voided; the reconciliation closed; an operator moved to QA."""
    effective_template(seed)
    form = issue(seed, copies=4)
    images = issued_page_images(seed.db, form.pdf_sha256, dpi=DPI)
    for copy in (1, 2, 0):
        back = write(tmp_path / "in", f"back-{copy + 1}.png", sl.png_bytes(sl.scanned(images[copy]), dpi=DPI))
        assert intake.import_files(seed.db, seed.op, [back]).linked == 1
    serial = form.serials[0]
    fill(seed, serial)
    records.correct_value(seed.db, seed.op, serial=serial, field="sample_weight_2", value="0.0999",
                          reason="Transcription error")
    records.correct_value(seed.db, seed.op, serial=serial, field="sample_id", value="LOT 24-0118",
                          reason="corrected on paper by JD: wrong lot", paper=True, source_page=1)
    verify_critical(seed, serial)
    records.sign_record(seed.db, seed.qa, serial=serial, meaning=M.REVIEWED, username="qa", password=PASSWORD)
    for s in form.serials[:3]:
        true_copy.verify_true_copy(seed.db, seed.dc, serial=s, username="dc", password=PASSWORD,
            checklist=true_copy.Checklist.confirmed())
    reconciliation.void_form(seed.db, seed.dc, serial=form.serials[3], reason="spoiled: coffee")
    reconciliation.close(seed.db, seed.qa, form.issuance_id, username="qa", password=PASSWORD)
    users.set_roles(seed.db, seed.admin, username="op2", roles=[Role.QA], reason="moved to QA")
    return form


def _read(path: Path, pictures: Path) -> str:
    """Every page drawn to a PNG (checked: drawn, not blank), and the text of all pages."""
    doc = pypdfium2.PdfDocument(str(path))
    texts = []
    for index in range(len(doc)):
        page = doc[index]
        image = page.render(scale=1).to_pil().convert("L")
        image.save(pictures / f"{path.stem}-{index + 1}.png")
        assert image.width > 500 and image.height > 500, f"{path.name} page {index + 1} did not draw"
        inked = ImageOps.invert(image).point(lambda v: 255 if v > 64 else 0)
        assert inked.getbbox() is not None and sum(inked.histogram()[255:]) > 2000, \
            f"{path.name} page {index + 1} is blank"
        texts.append(page.get_textpage().get_text_range())
    return " ".join(" ".join(texts).replace("\r", " ").split())  # cells wrap: compare with single spaces


def _assert_readable(text: str, name: str) -> None:
    words = " ".join(w for w in text.split() if "/" not in w)  # a file's path is what it is
    for what, pattern in RAW.items():
        found = pattern.findall(words)
        assert not found, f"{name} shows {what}: {found[:5]}"
    for internal in ("role_grant", "supersedes", "record_entry", "scan_page", "sample_weight", "LOGIN_SUCCESS",
                     "STATE_CHANGE"):
        assert internal not in text, f"{name} shows {internal}"


@pytest.fixture
def pictures(tmp_path) -> Path:
    folder = tmp_path / "png"
    folder.mkdir()
    return folder


@pytest.mark.compliance
def test_pr01_es01_record_pdf_reads_as_people_write(seed, scenario, tmp_path, pictures):
    """PR-01 (a human-readable copy) and ES-01 (printed name with user ID), in words people use."""
    serial = scenario.serials[0]
    view = records.record_view(seed.db, seed.qa, serial)
    [scan] = view.scans
    assert scan.scan_page_id != scan.page_no  # the database's number would show as the wrong page
    out = record_export.export_pdf(seed.db, seed.qa, serial, out=tmp_path / "record.pdf")
    text = _read(out, pictures)
    _assert_readable(text, "record PDF")
    assert "{" not in text and "}" not in text
    for needle in (
        "Created by Otto Operator (op), ", "Otto Operator (op) 2026-03-04",  # entered by, then when
        "Olga Operator (op2) 2026-03-04",  # verified by
        "scan: page 1 (back-1.png, file page 1, imported 2026-03-04",  # the paper correction's source
        "verified by Dora Control (dc)", "Quinn Müller (qa), Reviewed",
        # the record's audit trail, in words
        "Otto Operator (op) TEST-WS-01 Created Record value " + serial + ", Sample weight, replicate 2",
        "Replaces entry: (empty) → entry 1 (0.0998)", "Replaced by entry: (empty) → entry 2 (0.0999)",
        "Kind of entry: paper correction", "Read from scan page: form " + serial + ", page 1 (back-1.png",
        "Record state: verified → reviewed", "Verified by: (empty) → Olga Operator (op2)",
        "Form state: issued → returned", "True copy verified by: (empty) → Dora Control (dc)",
    ):
        assert needle in text, needle
    assert f"scan page {scan.scan_page_id}" not in text and f"scan: page {scan.scan_page_id}" not in text
    assert "Changed after entry 2 values" in text


@pytest.mark.compliance
def test_bf05_reconciliation_pdf_names_people_and_prints_hashes_whole(seed, scenario, tmp_path, pictures):
    """BF-05: every serial accounted for, with who changed it, as people read it."""
    out = reports.reconciliation_report(seed.db, seed.qa, scenario.issuance_id, out=tmp_path / "recon.pdf")
    text = _read(out, pictures)
    _assert_readable(text, "reconciliation PDF")
    assert "{" not in text and "}" not in text
    for needle in ("Issued by / on Dora Control (dc), ", "RECONCILED (closed)", "Otto Operator (op) 2026-03-04",
                   "Dora Control (dc) 2026-03-04", "spoiled: coffee", "page 1: linked, back-1.png, SHA-256",
                   "Quinn Müller (qa), Reconciled"):
        assert needle in text, needle
    report = reports.gather_reconciliation(seed.db, seed.qa, scenario.issuance_id)
    assert report.signatures[0].content_sha256 in text.replace(" ", "")


@pytest.mark.compliance
def test_at07_audit_trail_pdf_words_every_event(seed, scenario, tmp_path, pictures):
    """AT-07: the PDF is chronological with old and new values, each labelled; AT-01: user ID and name."""
    result = audit_log.export_events(seed.db, seed.qa, audit_log.AuditFilter(), fmt="pdf",
                                     out=tmp_path / "trail.pdf")
    text = _read(result.path, pictures)
    _assert_readable(text, "audit trail PDF")
    for needle in (
        *PEOPLE, "formtrail set-up (SYSTEM)", "Filter none (the complete trail)",
        "Ada Admin (admin) TEST-WS-01 Created Role QA for Olga Operator (op2) Role: QA User: Olga Operator (op2)",
        "Changed Role Operator for Olga Operator (op2) Revoked by: (empty) → Ada Admin (admin) moved to QA",
        "Created User account Olga Operator (op2) User name: op2 Full name: Olga Operator",
        "Password: (secret: not recorded)", "Logged in", "Must change the password: yes → no",
        "Created Template version QC-WS-014 v1", "Layout: 12 fields on 1 page: Balance ID;",
        "Status: draft → in review", "Signed Signature of template version QC-WS-014 v1",
        "Signed Signature of issuance " + str(scenario.issuance_id),
        "Scan page form " + scenario.serials[0] + ", page 1 (back-1.png, file page 1)",
        "Issued form: " + scenario.serials[0], "Form state: issued → voided",
    ):
        assert needle in text, needle
    # every event is there (its "who" cell names the workstation; scan files also record it as a value, and the
    # set-up's registration of the workstation (AC-08) names it three times more: subject, name and id)
    registration = text.count("Name: TEST-WS-01") + text.count("Workstation id: TEST-WS-01") + 1
    assert registration == 3
    assert text.count("TEST-WS-01") - text.count("Workstation: TEST-WS-01") - registration == result.count


def test_the_audit_trail_pdf_says_what_its_filter_was(seed, scenario, tmp_path, pictures):
    flt = audit_log.AuditFilter(username="op", entity="record_entry", action="CREATE")
    result = audit_log.export_events(seed.db, seed.qa, flt, fmt="pdf", out=tmp_path / "entries.pdf")
    text = _read(result.path, pictures)
    _assert_readable(text, "filtered audit trail PDF")
    assert f"User Otto Operator (op) Entity Record value Action Created Events {result.count}" in text
    assert result.count == 13  # the 11 values, the correction and the paper correction
