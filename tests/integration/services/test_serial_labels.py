"""The serial label setting (issue 14, item 5): issuance.serial_format decides how the serial is PRINTED
("BSL-01-QC-WS-014-000001"); the serial number, its uniqueness, the stored serial and the QR payload do not
change. Each issuance keeps the format it printed with; a label is accepted wherever a serial is typed."""

from __future__ import annotations

import csv
import datetime as dt
import json

import pypdfium2
import pytest
import zxingcpp
from PIL import ImageDraw
from reportlab.lib.units import mm
from sqlalchemy import select

from app.forms.layout.payload import verify
from app.models import Issuance, IssuedForm
from app.services.core.error_codes import ErrorCode
from app.services.core.errors import ValidationError
from app.services.issuance import issuance, labels, printing, register, replacement
from app.services.reconciliation import reconciliation
from app.services.records import worklist
from app.services.reports import audit_log, record_export, reports
from app.services.scans import intake, scans, true_copy
from app.services.site import serial_format, settings
from tests.helpers import scanlike as sl
from tests.helpers.cli import CliRunner
from tests.helpers.clock import FakeClock
from tests.helpers.forms import effective_template, issue
from tests.helpers.scans import issued_page_images, site_key, write
from tests.helpers.seed import PASSWORD

LONG = "{site}-{template}-{seq:06}"


@pytest.fixture
def clock() -> FakeClock:
    """Today: the CLI in a child process reads the real clock, and a password set long ago would be expired."""
    return FakeClock(dt.datetime.now(dt.UTC))


def _set_format(seed, fmt: str) -> None:
    settings.change(seed.db, seed.admin, key=serial_format.KEY, value=fmt, reason="CC-2026-014 serial labels")


def _stored_format(seed) -> object:
    return next(s.value for s in settings.list_settings(seed.db) if s.key == serial_format.KEY)


def _texts(path) -> list[str]:
    doc = pypdfium2.PdfDocument(str(path))
    try:
        return [doc[i].get_textpage().get_text_range() for i in range(len(doc))]
    finally:
        doc.close()


def _issued_texts(seed, result) -> list[str]:
    return _texts(seed.db.files.verified_path(result.pdf_sha256))


def _label_boxes(path, wanted: list[str]) -> list[tuple[float, float, float, float] | None]:
    """Per page: (left, bottom, right, top) of the first character of ``wanted[page]`` and the page's size."""
    doc = pypdfium2.PdfDocument(str(path))
    try:
        boxes = []
        for index, label in enumerate(wanted):
            text = doc[index].get_textpage()
            found = text.search(label).get_next()
            boxes.append((*text.get_charbox(found[0])[2:], *doc[index].get_size()) if found else None)
        return boxes
    finally:
        doc.close()


@pytest.mark.compliance("BF-02", "BF-03")
@pytest.mark.parametrize("fmt", ["{site}-{template}", "{seq:06}-{site}", "{site}-{lot}-{seq:06}", "{template}{seq}"])
def test_a_serial_format_that_would_not_read_back_is_refused_when_set(seed, fmt):
    with pytest.raises(ValidationError) as refused:
        _set_format(seed, fmt)
    assert refused.value.code == ErrorCode.SERIAL_FORMAT_INVALID
    assert _stored_format(seed) == serial_format.DEFAULT  # nothing stored
    _set_format(seed, f" {LONG} ")
    assert _stored_format(seed) == LONG


@pytest.mark.compliance("BF-02")
def test_default_labels_carry_the_site_code_and_the_number_stays_bare(seed):
    effective_template(seed)
    result = issue(seed, copies=2)
    assert result.serials == ("000001", "000002") and result.labels == ("BSL-01-000001", "BSL-01-000002")
    with seed.db.read() as s:
        assert [f.serial for f in s.scalars(select(IssuedForm).order_by(IssuedForm.serial_no))] == list(result.serials)
    texts = _issued_texts(seed, result)
    assert "BSL-01-000002" in texts[1] and "SERIAL BSL-01-000002" in texts[1]


@pytest.mark.compliance("SC-01")
@pytest.mark.sqlite_only  # image decoding; the labels' database side runs on both engines below
def test_a_long_label_is_printed_beside_the_code_and_the_scanned_sheet_still_links(seed, tmp_path):
    """BF-02 / invariant 6 with a serial format: the label is printed beside the QR code on every page, the code
    itself still carries the bare serial, and a scan of the sheet links to the form."""
    effective_template(seed, "PRD-BR-102")  # two pages per copy
    _set_format(seed, LONG)
    result = issue(seed, "PRD-BR-102", copies=2)
    assert result.labels == ("BSL-01-PRD-BR-102-000001", "BSL-01-PRD-BR-102-000002")
    wanted = [result.labels[index // 2] for index in range(4)]
    boxes = _label_boxes(seed.db.files.verified_path(result.pdf_sha256), wanted)
    for index, (box, text) in enumerate(zip(boxes, _issued_texts(seed, result), strict=True)):
        assert box is not None, (index, text)
        right, top, width, height = box
        assert top > height - 40 * mm and right < width - 40 * mm  # in the identification box, left of the code
        assert f"SERIAL {wanted[index]}" in text  # and in the footer beside the bottom code
    images = issued_page_images(seed.db, result.pdf_sha256, dpi=200)
    payloads = {verify(b.text, site_key(seed.db)).serial for b in zxingcpp.read_barcodes(images[0])}
    assert payloads == {"000001"}  # the QR payload is unchanged: issued paper keeps linking
    files = [write(tmp_path / "in", f"{i}.png", sl.png_bytes(sl.scanned(image, seed=i), dpi=200))
             for i, image in enumerate(images)]
    report = intake.import_files(seed.db, seed.op, files)
    assert [(o.outcome, o.serial, o.page_no) for o in report.outcomes if o.page is not None] == [
        ("linked", "000001", 1), ("linked", "000001", 2), ("linked", "000002", 1), ("linked", "000002", 2)]


@pytest.mark.compliance
def test_changing_the_setting_later_does_not_rename_forms_already_issued(seed, tmp_path):
    effective_template(seed)
    first = issue(seed, copies=2)  # the default format
    _set_format(seed, LONG)
    second = issue(seed, copies=1)
    assert first.labels == ("BSL-01-000001", "BSL-01-000002") and second.labels == ("BSL-01-QC-WS-014-000003",)
    _set_format(seed, "{seq:06}")
    rows = {r.serial: r.label for r in register.fetch_forms(seed.db, seed.viewer, register.RegisterFilter())}
    assert rows == {"000001": "BSL-01-000001", "000002": "BSL-01-000002", "000003": "BSL-01-QC-WS-014-000003"}
    with seed.db.read() as s:
        kept = dict(s.execute(select(Issuance.id, Issuance.serial_format)).all())
    assert kept == {first.issuance_id: serial_format.DEFAULT, second.issuance_id: LONG}

    # The numbered preview of the first issuance prints its own labels, not the current format's.
    out = tmp_path / "preview.pdf"
    printing.preview_pdf(seed.db, seed.dc, first.pdf_id, out=out)
    assert "BSL-01-000002" in _texts(out)[1]
    # A replacement in the first issuance prints with that issuance's format, and names the old label.
    done = replacement.replace_form(seed.db, seed.qa, serial="BSL-01-000002", reason="coffee spilled on page 1",
                                    username="qa", password=PASSWORD)
    assert (done.old_label, done.new_label) == ("BSL-01-000002", "BSL-01-000004")
    [page] = _texts(seed.db.files.verified_path(done.pdf_sha256))
    assert "REPLACES BSL-01-000002" in page and "SERIAL BSL-01-000004" in page
    # New issuances take the current setting.
    assert issue(seed, copies=1).labels == ("000005",)


@pytest.mark.compliance("BF-02")
def test_inv1_serial_numbers_stay_one_gap_free_sequence_whatever_the_format(seed):
    effective_template(seed)
    effective_template(seed, "PRD-BR-102")
    made = []
    for fmt, code in ((serial_format.DEFAULT, "QC-WS-014"), (LONG, "PRD-BR-102"), ("{year}/{seq}", "QC-WS-014"),
                      (LONG, "QC-WS-014")):
        _set_format(seed, fmt)
        made.append(issue(seed, code, copies=2))
    with seed.db.read() as s:
        numbers = list(s.scalars(select(IssuedForm.serial_no).order_by(IssuedForm.id)))
    assert numbers == list(range(1, 9))  # consecutive across formats, none reused
    year = seed.db.clock.now().astimezone().year
    assert [r.labels for r in made] == [
        ("BSL-01-000001", "BSL-01-000002"), ("BSL-01-PRD-BR-102-000003", "BSL-01-PRD-BR-102-000004"),
        (f"{year}/5", f"{year}/6"), ("BSL-01-QC-WS-014-000007", "BSL-01-QC-WS-014-000008")]
    assert [issuance.parse_serial(label) for r in made for label in r.labels] == numbers


@pytest.mark.compliance
def test_a_label_is_accepted_wherever_a_serial_is_typed(seed, tmp_path):
    effective_template(seed)
    _set_format(seed, LONG)
    result = issue(seed, copies=3, purpose="Lot 2024-000002 cleaning")  # a purpose that looks like a label
    label = result.labels[1]
    assert label == "BSL-01-QC-WS-014-000002"
    for typed in (label, label.lower(), f" {label} ", "BSL-01-QC-WS-014-2", "BSL-01-000002", "000002", "2"):
        row = register.find_form(seed.db, seed.qa, typed)
        assert row is not None and (row.serial, row.label) == ("000002", label), typed
    # The register's text search: the label finds its form only; a text that merely ends with digits is a text.
    by_label = register.fetch_forms(seed.db, seed.qa, register.RegisterFilter(text=label))
    assert [r.serial for r in by_label] == ["000002"]
    assert register.count_forms(seed.db, seed.qa, register.RegisterFilter(text=label)) == 1
    by_text = register.fetch_forms(seed.db, seed.qa, register.RegisterFilter(text="Lot 2024-000002"))
    assert len(by_text) == 3  # the purpose of all three, not serial 000002 in particular
    # The records list's search box filters by the printed label too.
    items = worklist.load_work(seed.db, seed.op)
    assert [i.serial for i in items if i.matches("bsl-01-qc-ws-014-000003")] == ["000003"]
    # Acting on a form by its label: void, record, scans of the form.
    row = reconciliation.void_form(seed.db, seed.dc, serial=result.labels[2], reason="spoiled by a coffee stain")
    assert row.serial == "000003"
    assert scans.pages_of_form(seed.db, seed.qa, label) == []


@pytest.mark.compliance("BF-02")
def test_a_label_with_the_prefix_of_another_form_is_refused_not_taken_for_its_number(seed):
    """A mistyped number inside a label: the template part no longer fits the form the number names."""
    effective_template(seed)
    effective_template(seed, "PRD-BR-102")
    _set_format(seed, LONG)
    issue(seed, copies=1)  # 000001 is QC-WS-014
    issue(seed, "PRD-BR-102", copies=1)  # 000002 is PRD-BR-102
    wrong = "BSL-01-QC-WS-014-000002"
    assert register.find_form(seed.db, seed.qa, wrong) is None
    with pytest.raises(ValidationError) as refused:
        reconciliation.void_form(seed.db, seed.dc, serial=wrong, reason="spoiled")
    assert refused.value.code == ErrorCode.SERIAL_LABEL_MISMATCH and "BSL-01-PRD-BR-102-000002" in str(refused.value)
    assert register.fetch_forms(seed.db, seed.qa, register.RegisterFilter(text=wrong)) == []
    assert register.find_form(seed.db, seed.qa, "BSL-01-PRD-BR-102-000002") is not None


@pytest.mark.compliance
def test_forms_issued_before_the_setting_keep_their_bare_label(seed, monkeypatch):
    """An issuance made before migration 0008 has no format: its label is the bare number, as printed."""
    effective_template(seed)
    with monkeypatch.context() as patch:
        patch.setattr(labels, "current_format", lambda _session: None)
        old = issue(seed, copies=1)
    assert old.labels == ("000001",) and "SERIAL 000001" in _issued_texts(seed, old)[0]
    [row] = register.fetch_forms(seed.db, seed.qa, register.RegisterFilter(issuance_id=old.issuance_id))
    assert row.label == "000001"
    for typed in ("000001", "BSL-01-000001"):  # the site prefix, as typed before labels existed
        assert register.find_form(seed.db, seed.qa, typed) is not None, typed
    assert register.find_form(seed.db, seed.qa, "BSL-01-QC-WS-014-000001") is None


@pytest.mark.compliance("SC-01")
@pytest.mark.sqlite_only  # the scan's decoding; linking by hand is the same service on both engines
def test_a_scan_is_linked_by_hand_to_the_label_read_by_eye(seed, tmp_path):
    effective_template(seed)
    _set_format(seed, LONG)
    result = issue(seed, copies=1)
    [image] = issued_page_images(seed.db, result.pdf_sha256, dpi=150)
    draw, side = ImageDraw.Draw(image), sl.mm_to_px(55, 150)  # ink spilled over both codes
    draw.rectangle((image.width - side, 0, image.width, side), fill=0)
    draw.rectangle((0, image.height - side, side, image.height), fill=0)
    path = write(tmp_path, "inked.png", sl.png_bytes(sl.scanned(image), dpi=150))
    [line] = intake.import_files(seed.db, seed.op, [path]).outcomes
    assert line.outcome == "no-code"
    info = scans.link_manually(seed.db, seed.dc, scan_page_id=line.scan_page_id, serial=result.labels[0], page_no=1,
                               reason=f"label {result.labels[0]} readable by eye")
    assert info.serial == "000001"


@pytest.mark.compliance
def test_the_command_line_takes_a_label_where_it_takes_a_serial(seed, db_url, tmp_path):
    effective_template(seed)
    _set_format(seed, LONG)
    result = issue(seed, copies=2)
    cli = CliRunner(tmp_path / "home", db_url=db_url)
    cli.env["FORMTRAIL_WORKSTATION"] = seed.db.workstation  # the seeded site's registered station (AC-08)
    shown = cli.run("record", "show", result.labels[0], user="op", password=PASSWORD)
    assert shown.stdout.startswith("000001")
    cli.run("form", "void", result.labels[1], "--reason", "spoiled by a coffee stain", user="dc", password=PASSWORD)
    [row] = register.fetch_forms(seed.db, seed.qa, register.RegisterFilter(text="000002"))
    assert row.state.value == "voided"
    wrong = cli.run("form", "void", "BSL-01-PRD-BR-102-000001", "--reason", "x", user="dc", password=PASSWORD,
                    check=False)
    assert wrong.returncode == 1 and "BSL-01-QC-WS-014-000001" in wrong.stderr and "Traceback" not in wrong.stderr


# -- the label wherever a person reads which form is meant: reports, the register export, the command line -----
def _one_line(texts: list[str]) -> str:
    """The text of a PDF's pages with every run of white space as one space (table cells wrap)."""
    return " ".join(" ".join(texts).split())


@pytest.mark.compliance
def test_the_reports_name_each_form_by_its_label_and_keep_the_bare_serial(seed, tmp_path):
    """BF-05 / PR-01 with a serial format: the reconciliation report, the record PDF and the register export
    name the forms as printed on the paper; the record's JSON and the register keep the bare serial beside it."""
    effective_template(seed)
    _set_format(seed, LONG)
    result = issue(seed, copies=2)
    first, second = result.labels
    assert (first, second) == ("BSL-01-QC-WS-014-000001", "BSL-01-QC-WS-014-000002")
    done = replacement.replace_form(seed.db, seed.qa, serial=second, reason="coffee spilled on page 1",
                                    username="qa", password=PASSWORD)
    third = done.new_label
    assert third == "BSL-01-QC-WS-014-000003"
    _set_format(seed, serial_format.DEFAULT)  # changed later: the reports still print the labels issued

    recon = reports.reconciliation_report(seed.db, seed.qa, result.issuance_id, out=tmp_path / "recon.pdf")
    text = _one_line(_texts(recon))
    for needle in (first, f"{second} 2 REPLACED", f"replaced by {third}", f"replaces {second}"):
        assert needle in text, needle
    assert [f.serial for f in reports.gather_reconciliation(seed.db, seed.qa, result.issuance_id).forms] == [
        first, second, third]

    out = record_export.export_pdf(seed.db, seed.qa, "000001", out=tmp_path / "record.pdf")
    text = _one_line(_texts(out))
    assert f"Record {first} – QC-WS-014 v1" in text  # the heading (and the file's title)
    assert f"Form {first} (serial 000001) – QC-WS-014 version 1" in text
    data = record_export.export_json(seed.db, seed.qa, first, out=tmp_path / "record.json")
    assert (data["serial"], data["label"]) == ("000001", first)
    assert json.loads((tmp_path / "record.json").read_text(encoding="utf-8"))["label"] == first

    register.export_register(seed.db, seed.qa, register.RegisterFilter(), fmt="csv", out=tmp_path / "reg.csv")
    with (tmp_path / "reg.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["serial"], r["label"], r["replaces"]) for r in rows] == [
        ("000001", first, ""), ("000002", second, ""), ("000003", third, second)]
    register.export_register(seed.db, seed.qa, register.RegisterFilter(), fmt="pdf", out=tmp_path / "reg.pdf")
    text = _one_line(_texts(tmp_path / "reg.pdf"))
    assert "Serial Label Template" in text and f"000003 {third}" in text


def test_forms_issued_before_the_setting_are_named_by_their_bare_serial_in_reports(seed, tmp_path, monkeypatch):
    effective_template(seed)
    with monkeypatch.context() as patch:
        patch.setattr(labels, "current_format", lambda _session: None)
        old = issue(seed, copies=1)
    data = record_export.export_json(seed.db, seed.qa, "000001")
    assert (data["serial"], data["label"]) == ("000001", "000001")
    text = _one_line(_texts(record_export.export_pdf(seed.db, seed.qa, "000001", out=tmp_path / "record.pdf")))
    assert "Record 000001 – QC-WS-014 v1" in text and "Form 000001 – QC-WS-014 version 1" in text
    [line] = reports.gather_reconciliation(seed.db, seed.qa, old.issuance_id).forms
    assert line.serial == "000001"


@pytest.mark.compliance("SC-02")
@pytest.mark.sqlite_only  # image decoding; the statements' data is read on both engines above
def test_the_true_copy_statement_names_the_form_as_printed(seed, tmp_path):
    effective_template(seed)
    _set_format(seed, LONG)
    result = issue(seed, copies=1)
    [image] = issued_page_images(seed.db, result.pdf_sha256, dpi=150)
    back = write(tmp_path / "in", "back.png", sl.png_bytes(sl.scanned(image), dpi=150))
    assert intake.import_files(seed.db, seed.op, [back]).linked == 1
    label = result.labels[0]
    out = record_export.export_pdf(seed.db, seed.qa, label, out=tmp_path / "before.pdf")
    assert f"Scan of {label} page 1 (not yet verified as a true copy)" in _one_line(_texts(out))
    true_copy.verify_true_copy(seed.db, seed.dc, serial=label, username="dc", password=PASSWORD,
        checklist=true_copy.Checklist.confirmed())
    out = record_export.export_pdf(seed.db, seed.qa, label, out=tmp_path / "after.pdf")
    assert f"TRUE COPY of {label} page 1, verified by Dora Control (dc)" in _one_line(_texts(out))
    [returned] = true_copy.returned_forms(seed.db, seed.dc)
    assert (returned.serial, returned.label) == ("000001", label)
    [page] = scans.pages_of_form(seed.db, seed.dc, label)
    assert (page.serial, page.label) == ("000001", label)


@pytest.mark.compliance
def test_the_command_line_prints_the_labels_it_issued_and_lists(seed, db_url, tmp_path):
    effective_template(seed)
    _set_format(seed, LONG)
    cli = CliRunner(tmp_path / "home", db_url=db_url)
    cli.env["FORMTRAIL_WORKSTATION"] = seed.db.workstation  # the seeded site's registered station (AC-08)
    issued = cli.run("issue", "QC-WS-014", "--copies", "2", "--purpose", "LOT 7", "--to", "Line 3", "--due",
                     "2099-01-01", "--out", str(tmp_path / "issued.pdf"), user="dc", password=PASSWORD)
    assert "serials BSL-01-QC-WS-014-000001 – BSL-01-QC-WS-014-000002" in issued.stdout
    replaced = cli.run("replace", "000002", "--reason", "torn", "--out", str(tmp_path / "new.pdf"), user="qa",
                       password=PASSWORD, sign=PASSWORD)
    assert "BSL-01-QC-WS-014-000002 replaced by BSL-01-QC-WS-014-000003" in replaced.stdout
    listed = cli.run("register", user="dc", password=PASSWORD).stdout
    header, *lines = [line.split() for line in listed.splitlines() if line.strip() and not set(line) <= {"-", " "}]
    assert header[:3] == ["serial", "label", "template"]
    assert [line[:2] for line in lines] == [[f"00000{n}", f"BSL-01-QC-WS-014-00000{n}"] for n in (1, 2, 3)]
    as_json = json.loads(cli.run("register", "--json", user="dc", password=PASSWORD).stdout)
    assert [(r["serial"], r["label"]) for r in as_json][2] == ("000003", "BSL-01-QC-WS-014-000003")


# -- the issued PDFs, their release and the scan import name the sheets as printed ------------------------------
def _released_serials(seed) -> list[str]:  # noqa: ANN001
    """The serial runs the audit trail recorded for each release: stored values, the bare numbers."""
    events = audit_log.fetch_events(seed.db, seed.admin, audit_log.AuditFilter(action="PRINT"))
    return [json.loads(e.new_value or "{}").get("serials") for e in events if e.entity == "controlled_pdf"]


@pytest.mark.compliance
def test_bf04_the_issued_pdfs_are_named_by_the_labels_printed_on_them(seed, tmp_path):
    """The PDFs of an issuance (the register's list, the preview, the release) name their copies as printed,
    with the issuance's own format after the setting changed; the audit trail keeps the bare numbers."""
    effective_template(seed)
    _set_format(seed, LONG)
    result = issue(seed, copies=3)
    assert result.labels == tuple(f"BSL-01-QC-WS-014-00000{n}" for n in (1, 2, 3))
    done = replacement.replace_form(seed.db, seed.qa, serial=result.labels[1], reason="torn while filling in",
                                    username="qa", password=PASSWORD)
    _set_format(seed, serial_format.DEFAULT)  # later: the PDFs keep the labels they were printed with
    assert [(p.pdf_id, p.serials, p.printed, p.released, p.copies)
            for p in printing.pdfs_of(seed.db, seed.viewer, result.issuance_id)] == [
        (result.pdf_id, "000001–000003", "BSL-01-QC-WS-014-000001 – BSL-01-QC-WS-014-000003", False, 3),
        (done.pdf_id, "000004–000004", "BSL-01-QC-WS-014-000004", False, 1)]
    preview = printing.preview_pdf(seed.db, seed.dc, result.pdf_id, out=tmp_path / "preview.pdf")
    assert (preview.serials, preview.printed) == ("000001–000003",
                                                 "BSL-01-QC-WS-014-000001 – BSL-01-QC-WS-014-000003")
    saved = printing.save_to_file(seed.db, seed.dc, result.pdf_id, out=tmp_path / "copies.pdf")
    assert (saved.serials, saved.printed) == ("000001–000003", "BSL-01-QC-WS-014-000001 – BSL-01-QC-WS-014-000003")
    assert saved.path == tmp_path / "copies.pdf"
    again = printing.save_to_file(seed.db, seed.qa, done.pdf_id, out=tmp_path / "replacement.pdf")
    assert (again.serials, again.printed) == ("000004–000004", "BSL-01-QC-WS-014-000004")
    assert _released_serials(seed) == ["000001-000003", "000004-000004"]


def test_pdfs_issued_before_the_setting_keep_their_bare_numbers(seed, monkeypatch):
    effective_template(seed)
    with monkeypatch.context() as patch:
        patch.setattr(labels, "current_format", lambda _session: None)
        old = issue(seed, copies=2)
    [pdf] = printing.pdfs_of(seed.db, seed.viewer, old.issuance_id)
    assert (pdf.serials, pdf.printed) == ("000001–000002", "000001–000002")


@pytest.mark.compliance
def test_the_release_command_names_the_copies_as_printed(seed, db_url, tmp_path):
    """`formtrail release` says which sheets it released as they read on the paper: the original's run, then a
    replacement's single form; with two PDFs waiting it lists them so; the audit trail keeps the numbers."""
    effective_template(seed)
    _set_format(seed, LONG)
    result = issue(seed, copies=3)
    done = replacement.replace_form(seed.db, seed.qa, serial=result.labels[2], reason="coffee spilled on it",
                                    username="qa", password=PASSWORD)
    _set_format(seed, "{seq:06}")  # changed later: the command still prints the labels issued
    cli = CliRunner(tmp_path / "home", db_url=db_url)
    cli.env["FORMTRAIL_WORKSTATION"] = seed.db.workstation  # the seeded site's registered station (AC-08)
    which = cli.run("release", str(result.issuance_id), "--out", str(tmp_path / "x.pdf"), user="dc",
                    password=PASSWORD, check=False)
    assert which.returncode == 1 and "Traceback" not in which.stderr
    assert (f"{result.pdf_id} (BSL-01-QC-WS-014-000001 – BSL-01-QC-WS-014-000003), "
            f"{done.pdf_id} (BSL-01-QC-WS-014-000004); choose one with --pdf") in which.stderr
    first = cli.run("release", str(result.issuance_id), "--pdf", str(result.pdf_id), "--out",
                    str(tmp_path / "copies.pdf"), user="dc", password=PASSWORD)
    assert "Released serials BSL-01-QC-WS-014-000001 – BSL-01-QC-WS-014-000003 (3 pages) to " in first.stdout
    second = cli.run("release", str(result.issuance_id), "--out", str(tmp_path / "replacement.pdf"), user="qa",
                     password=PASSWORD)
    assert "Released serial BSL-01-QC-WS-014-000004 (1 page) to " in second.stdout
    assert _released_serials(seed) == ["000001-000003", "000004-000004"]


@pytest.mark.compliance
@pytest.mark.sqlite_only  # image decoding; the labels' database side runs on both engines above
def test_the_import_report_names_each_linked_sheet_as_printed(seed, db_url, tmp_path):
    """The scan import report (the Scans page's results table, `formtrail scan import`) names the form of each
    page by its label; the bare serial stays beside it in the report's data."""
    effective_template(seed)
    _set_format(seed, LONG)
    result = issue(seed, copies=2)
    first, second = issued_page_images(seed.db, result.pdf_sha256, dpi=150)
    report = intake.import_files(seed.db, seed.op, [
        write(tmp_path / "in", "a.png", sl.png_bytes(sl.scanned(first), dpi=150)),
        write(tmp_path / "in", "b.png", sl.png_bytes(sl.scanned(first, seed=7), dpi=150))])  # a second image
    assert [(o.outcome, o.serial, o.label, o.form_page) for o in report.outcomes] == [
        ("linked", "000001", "BSL-01-QC-WS-014-000001", "BSL-01-QC-WS-014-000001 page 1"),
        ("possible-copy", "000001", "BSL-01-QC-WS-014-000001", "BSL-01-QC-WS-014-000001 page 1")]
    cli = CliRunner(tmp_path / "home", db_url=db_url)
    cli.env["FORMTRAIL_WORKSTATION"] = seed.db.workstation  # the seeded site's registered station (AC-08)
    path = write(tmp_path / "cli", "c.png", sl.png_bytes(sl.scanned(second), dpi=150))
    shown = cli.run("scan", "import", str(path), user="op", password=PASSWORD).stdout
    assert f"{path} p.1: BSL-01-QC-WS-014-000002 page 1" in shown
    path = write(tmp_path / "cli", "d.png", sl.png_bytes(sl.scanned(second, seed=3), dpi=150))
    [line] = [json.loads(text) for text in cli.run("scan", "import", str(path), "--json", user="op",
                                                   password=PASSWORD).stdout.splitlines()]
    assert (line["outcome"], line["serial"], line["label"]) == ("possible-copy", "000002", "BSL-01-QC-WS-014-000002")
