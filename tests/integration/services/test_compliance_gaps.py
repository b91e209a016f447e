"""Checklist items no other test file asserts by name, each against its acceptance test in REQUIREMENTS.md:
ES-07 (no image signatures), BF-06 (spoiled sheets stay), PR-02 (changed after entry), SC-04 (a rescan is a new
version), SC-05 (paper disposition only after verification and QA approval)."""

from __future__ import annotations

import hashlib
import inspect
import json
from pathlib import Path

import pypdfium2
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from app.forms.layout.layout import FieldType, LayoutError, layout_from_dict, layout_to_dict
from app.models import Disposition, FormState, ScanOutcome, Signature
from app.models import SignatureMeaning as M
from app.services.core.errors import DomainError, PermissionDenied
from app.services.issuance import issuance, register
from app.services.issuance.issuance import IssuanceResult
from app.services.reconciliation import reconciliation
from app.services.records import records
from app.services.reports import audit_log, record_export, reports
from app.services.scans import intake, scans, true_copy
from tests.helpers import scanlike as sl
from tests.helpers.forms import effective_template, issue, sample_layout
from tests.helpers.records import fill, verify_critical
from tests.helpers.scans import issued_page_images, write
from tests.helpers.seed import PASSWORD, Seed

DPI = 150


def pdf_text(path: Path) -> str:
    doc = pypdfium2.PdfDocument(str(path))
    try:
        return " ".join(" ".join(doc[i].get_textpage().get_text_range().split()) for i in range(len(doc)))
    finally:
        doc.close()


@pytest.fixture
def form(seed: Seed) -> IssuanceResult:
    effective_template(seed)
    return issue(seed, copies=3)


def _import(seed, tmp_path: Path, name: str, image, actor=None):  # noqa: ANN001, ANN202
    path = write(tmp_path, name, sl.png_bytes(sl.scanned(image, seed=len(name)), dpi=DPI))
    return intake.import_files(seed.db, actor or seed.op, [path]).outcomes[0]


@pytest.mark.parametrize("kind", ["signature", "image", "signature-image", "picture"])
def test_es07_a_template_offers_no_signature_image_field(kind: str) -> None:
    """Template offers no signature-image field: no field type takes a picture, and a layout asking for one
    (or for an image attached to a field) is refused."""
    assert {t.value for t in FieldType}.isdisjoint({"signature", "image", "picture", "file", "drawing"})
    data = layout_to_dict(sample_layout())
    data["fields"][0]["type"] = kind
    with pytest.raises(LayoutError):
        layout_from_dict(data)
    data = layout_to_dict(sample_layout())
    data["fields"][0]["image"] = "signature-of-jdoe.png"
    with pytest.raises(LayoutError):
        layout_from_dict(data)


def test_es07_the_pdf_signature_block_exists_only_when_a_signature_row_exists(
        seed: Seed, form: IssuanceResult, tmp_path: Path) -> None:
    serial = form.serials[0]
    fill(seed, serial, who="op")  # the record names Otto Operator and Quinn Müller's meaning nowhere yet
    verify_critical(seed, serial)
    before = pdf_text(record_export.export_pdf(seed.db, seed.qa, serial, out=tmp_path / "before.pdf"))
    assert "No signatures yet." in before and "Reviewed" not in before.split("Signatures", 1)[1].split("Audit")[0]
    assert "Quinn Müller (qa), Reviewed" not in before
    records.sign_record(seed.db, seed.qa, serial=serial, meaning=M.REVIEWED, username="qa", password=PASSWORD)
    with seed.db.read() as s:
        rows = s.scalar(select(func.count()).select_from(Signature).where(Signature.meaning == M.REVIEWED))
    assert rows >= 1
    after = pdf_text(record_export.export_pdf(seed.db, seed.qa, serial, out=tmp_path / "after.pdf"))
    assert "No signatures yet." not in after and after.count("Quinn Müller (qa), Reviewed") >= 1
    [sig] = records.record_view(seed.db, seed.qa, serial).signatures
    assert sig.info.manifestation() in after  # the block is drawn from the signature row's own manifestation


def test_bf06_a_spoiled_sheet_stays_in_the_batch_index_with_its_reason(
        seed: Seed, form: IssuanceResult, tmp_path: Path) -> None:
    spoiled = form.serials[1]
    reconciliation.void_form(seed.db, seed.dc, serial=spoiled, reason="spoiled: coffee stain on page 1")
    listed = {f.serial: f for f in register.fetch_forms(seed.db, seed.qa,
                                                        register.RegisterFilter(issuance_id=form.issuance_id))}
    assert set(listed) == set(form.serials) and listed[spoiled].state is FormState.VOIDED
    view = reconciliation.reconciliation(seed.db, seed.qa, form.issuance_id)
    [row] = [r for r in view.forms if r.serial == spoiled]
    assert "spoiled: coffee stain on page 1" in json.dumps([str(v) for v in vars(row).values()])
    out = reports.reconciliation_report(seed.db, seed.qa, form.issuance_id, out=tmp_path / "index.pdf")
    index = pdf_text(out)
    assert "spoiled: coffee stain on page 1" in index and all(s in index for s in form.serials)
    # No delete action exists: no service offers one, and the database refuses it.
    for module in (reconciliation, issuance, register, records, scans):
        names = [n for n, f in inspect.getmembers(module, inspect.isfunction) if f.__module__ == module.__name__]
        assert not [n for n in names if "delete" in n or "remove" in n or "purge" in n], module.__name__
    with pytest.raises(DBAPIError):
        with seed.db.engine.begin() as conn:
            conn.execute(text("DELETE FROM issued_form WHERE serial_no = 2"))
    assert len(register.fetch_forms(seed.db, seed.qa, register.RegisterFilter(issuance_id=form.issuance_id))) == 3


def test_pr02_the_record_report_counts_values_changed_after_entry_with_details(
        seed: Seed, form: IssuanceResult, tmp_path: Path) -> None:
    serial = form.serials[0]
    fill(seed, serial)
    out = record_export.export_pdf(seed.db, seed.qa, serial, out=tmp_path / "unchanged.pdf")
    assert "Changed after entry none" in pdf_text(out) or "Changed after entry 0 values" in pdf_text(out)
    records.correct_value(seed.db, seed.op, serial=serial, field="sample_weight_1", value="0.1003",
                          reason="Transcription error: 2 misread for 3")
    printed = pdf_text(record_export.export_pdf(seed.db, seed.qa, serial, out=tmp_path / "changed.pdf"))
    assert "Changed after entry 1 value" in printed and "Changed after entry 1 values" not in printed
    assert "0.1002" in printed and "0.1003" in printed and "Transcription error: 2 misread for 3" in printed
    exported = record_export.export_json(seed.db, seed.qa, serial)
    assert exported["changed_after_entry"] == 1
    assert records.record_view(seed.db, seed.qa, serial).changed_after_entry == 1


@pytest.mark.sqlite_only  # image decoding; linking by hand is covered on both engines in test_scan_workflow
def test_sc04_a_rescan_is_a_new_version_with_its_reason_and_the_first_stays(
        seed: Seed, form: IssuanceResult, tmp_path: Path) -> None:
    serial = form.serials[2]
    image = issued_page_images(seed.db, form.pdf_sha256, dpi=DPI)[2]
    first = _import(seed, tmp_path, "first.png", image)
    second = _import(seed, tmp_path, "second-too-dark.png", sl.add_noise(image, 20, seed=4))
    assert (first.outcome, second.outcome) == ("linked", "possible-copy")
    reason = "rescan: first scan too dark to read the corrections"
    scans.link_manually(seed.db, seed.qa, scan_page_id=second.scan_page_id, serial=serial, page_no=1, reason=reason)
    pages = {p.id: p for p in scans.pages_of_form(seed.db, seed.qa, serial)}
    assert pages[first.scan_page_id].superseded and not pages[second.scan_page_id].superseded
    assert pages[second.scan_page_id].outcome is ScanOutcome.LINKED
    old = pages[first.scan_page_id]  # v1 retrievable, unchanged
    stored = seed.db.files.read(old.source_sha256)
    assert hashlib.sha256(stored).hexdigest() == old.source_sha256
    assert scans.page_png(seed.db, seed.qa, first.scan_page_id)[:8] == b"\x89PNG\r\n\x1a\n"
    events = audit_log.fetch_events(seed.db, seed.qa, audit_log.AuditFilter(entity="scan_page"), limit=200)
    assert any(reason in (e.reason or "") and e.entity_id == str(second.scan_page_id) for e in events)


@pytest.mark.sqlite_only  # image decoding; the disposition's rules are database-independent services
def test_sc05_paper_is_destroyed_only_after_verification_and_qa_approval(
        seed: Seed, form: IssuanceResult, tmp_path: Path) -> None:
    serial = form.serials[0]
    _import(seed, tmp_path, "p.png", issued_page_images(seed.db, form.pdf_sha256, dpi=DPI)[0])
    with pytest.raises(DomainError, match="not verified"):  # destroyed before verification: blocked
        true_copy.record_disposition(seed.db, seed.qa, serial=serial, disposition=Disposition.DESTROYED,
                                     location=None, reason="retention ended", username="qa", password=PASSWORD)
    true_copy.verify_true_copy(seed.db, seed.dc, serial=serial, username="dc", password=PASSWORD,
        checklist=true_copy.Checklist.confirmed())
    with pytest.raises(PermissionDenied):  # verified, but destruction is QA's to approve
        true_copy.record_disposition(seed.db, seed.dc, serial=serial, disposition=Disposition.DESTROYED,
                                     location=None, reason="retention ended", username="dc", password=PASSWORD)
    refused = audit_log.fetch_events(seed.db, seed.qa, audit_log.AuditFilter(username="dc"), limit=200)
    assert any(e.action in ("ACCESS_DENIED", "RULE_REFUSED") for e in refused)  # the refusal is logged
    done = true_copy.record_disposition(seed.db, seed.qa, serial=serial, disposition=Disposition.DESTROYED,
                                        location=None, reason="retention ended", username="qa", password=PASSWORD)
    assert done.disposition == "destroyed"
