"""Issue 13, item 4: each report reads everything it shows in one read transaction, into plain data, and writes
nothing but its own audit event, after the file is made (no rendering inside a write transaction)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import pathlib

import pypdfium2
import pytest

from app.models import SignatureMeaning as M
from app.services.reconciliation import reconciliation
from app.services.records import records
from app.services.reports import archive, record_export, reports
from app.services.scans import intake
from tests.helpers import scanlike as sl
from tests.helpers.forms import effective_template, issue
from tests.helpers.records import fill, verify_critical
from tests.helpers.scans import issued_page_images, write
from tests.helpers.seed import PASSWORD
from tests.helpers.transactions import counted

DPI = 150


PLAIN = (str, int, float, bool, type(None), dt.date, dt.datetime, enum.Enum, pathlib.PurePath)


def assert_plain(value: object, where: str = "report") -> None:
    """Only plain data: dataclasses, tuples, dicts and lists of strings, numbers, times (no ORM objects)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            assert_plain(getattr(value, f.name), f"{where}.{f.name}")
    elif isinstance(value, (tuple, list)):
        for index, item in enumerate(value):
            assert_plain(item, f"{where}[{index}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            assert_plain(item, f"{where}[{key!r}]")
    else:
        assert isinstance(value, PLAIN), f"{where} is a {type(value).__name__}"


@pytest.fixture
def returned(seed, tmp_path):
    """Two copies of QC-WS-014: the first scanned back, filled in, corrected, verified and reviewed."""
    effective_template(seed)
    form = issue(seed, copies=2)
    image = issued_page_images(seed.db, form.pdf_sha256, dpi=DPI)[0]
    back = write(tmp_path / "in", "back.png", sl.png_bytes(sl.scanned(image), dpi=DPI))
    assert intake.import_files(seed.db, seed.op, [back]).linked == 1
    serial = form.serials[0]
    fill(seed, serial)
    records.correct_value(seed.db, seed.op, serial=serial, field="sample_weight_2", value="0.0999",
                          reason="Transcription error")
    verify_critical(seed, serial)
    records.sign_record(seed.db, seed.qa, serial=serial, meaning=M.REVIEWED, username="qa", password=PASSWORD)
    return form


def _text(path) -> str:
    doc = pypdfium2.PdfDocument(str(path))
    return "\n".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))


def test_record_export_reads_once_and_writes_only_its_audit_event(seed, returned, tmp_path):
    serial = returned.serials[0]
    with counted() as gather:
        report = record_export.gather_record(seed.db, seed.qa, serial)
    assert (gather.reads, gather.writes) == (1, 0)
    assert_plain(report)
    assert report.scans and report.trail and report.signatures
    assert report.printed.chain_head.split(":")[0] == str(report.trail[-1].seq)  # the trail is read with the head

    with counted() as export:
        out = record_export.export_pdf(seed.db, seed.qa, serial, out=tmp_path / "record.pdf")
    assert (export.reads, export.writes) == (1, 1)  # the gather, and the EXPORT event after the PDF is made
    assert "Audit trail of this record" in _text(out)

    with counted() as json_export:
        data = record_export.export_json(seed.db, seed.qa, serial, out=tmp_path / "record.json")
    assert (json_export.reads, json_export.writes) == (1, 1)
    assert data["chain_head"] and data["audit_trail"]


def test_record_of_a_form_without_data_is_gathered_as_the_empty_record(seed, returned):
    with counted() as gather:
        report = record_export.gather_record(seed.db, seed.qa, returned.serials[1])
    assert (gather.reads, gather.writes) == (1, 0)
    assert report.created_at is None and not report.signatures and not report.scans
    assert all(not f.entries for f in report.fields)


def test_reconciliation_report_reads_once(seed, returned, tmp_path):
    reconciliation.void_form(seed.db, seed.dc, serial=returned.serials[1], reason="spoiled")
    reconciliation.close(seed.db, seed.qa, returned.issuance_id, username="qa", password=PASSWORD)
    with counted() as gather:
        report = reports.gather_reconciliation(seed.db, seed.qa, returned.issuance_id)
    assert (gather.reads, gather.writes) == (1, 0)
    assert_plain(report)
    assert report.closed and [s.status for s in report.signatures] == ["valid"]
    assert [f.state for f in report.forms] == ["returned", "voided"]

    with counted() as printing:
        out = reports.reconciliation_report(seed.db, seed.qa, returned.issuance_id, out=tmp_path / "recon.pdf")
    assert (printing.reads, printing.writes) == (1, 1)  # the gather, and the PRINT event
    assert "RECONCILED (closed)" in _text(out)


def test_accountability_report_reads_once(seed, returned, tmp_path):
    today = seed.db.clock.now().astimezone().date()
    with counted() as gather:
        report = reports.gather_accountability(seed.db, seed.qa, since=today, until=today)
    assert (gather.reads, gather.writes) == (1, 0)
    assert_plain(report)
    [row] = report.by_template
    assert (row.group, row.issued, row.returned, row.outstanding) == ("QC-WS-014@1", 2, 1, 1)


def test_archive_gathers_every_report_in_one_read_and_they_all_name_its_chain_head(seed, returned, tmp_path):
    with counted() as gather:
        contents = archive.gather_archive(seed.db, seed.qa, issuance_id=returned.issuance_id)
    assert (gather.reads, gather.writes) == (1, 0)
    assert_plain(contents)
    assert [c.view.serial for c in contents.records] == [returned.serials[0]]

    result = archive.export_archive(seed.db, seed.qa, out=tmp_path / "arch", issuance_id=returned.issuance_id)
    for pdf in (f"records/{returned.serials[0]}.pdf", f"reports/reconciliation-{returned.issuance_id}.pdf"):
        assert f"chain head at printing: {result.chain_head}" in _text(result.path / pdf), pdf
    assert result.chain_head in (result.path / "README.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize("fmt", ["pdf", "json"])
def test_audit_trail_export_reads_once(seed, tmp_path, fmt):
    from app.services.reports import audit_log
    flt = audit_log.AuditFilter(action="LOGIN_SUCCESS")
    with counted() as export:
        result = audit_log.export_events(seed.db, seed.qa, flt, fmt=fmt, out=tmp_path / f"trail.{fmt}")
    assert (export.reads, export.writes) == (1, 1)  # the events with the chain head, and the EXPORT event
    assert result.count == audit_log.count_events(seed.db, seed.qa, flt) > 0
    if fmt == "pdf":
        text = _text(result.path)
        # the filter and each event in words (issue 14, item 4): "Logged in", not the stored LOGIN_SUCCESS
        assert "Action Logged in" in text and "LOGIN_SUCCESS" not in text and "chain head at printing" in text
    else:
        data = json.loads(result.path.read_text(encoding="utf-8"))
        assert data["site"] == "BSL-01" and len(data["events"]) == result.count
        assert int(data["chain_head"].split(":")[0]) >= data["events"][-1]["seq"]
