"""BF-04 and invariant 6 (issue 14, item 6): a numbered preview of the controlled PDF before its one release —
the same pages and serials, "PREVIEW — NOT A CONTROLLED COPY" on every page, audited as a preview (not a
release), and a scanned preview is never linked: it lands in the exceptions queue saying it is a preview."""

from __future__ import annotations

import io
from pathlib import Path

import pypdfium2
import pytest
from PIL import Image
from sqlalchemy import select

from app.enums import FormState
from app.forms.layout import payload as qr_payload
from app.models import ControlledPdf, ScanOutcome
from app.services.core.error_codes import ErrorCode
from app.services.core.errors import DomainError, PermissionDenied, RuleViolation
from app.services.issuance import printing, register, replacement
from app.services.reports import audit_log
from app.services.scans import intake, scans
from tests.helpers import scanlike as sl
from tests.helpers.forms import effective_template, issue
from tests.helpers.scans import issued_page_images, write
from tests.helpers.seed import PASSWORD

DPI = 200


def _texts(source: Path | bytes) -> list[str]:
    doc = pypdfium2.PdfDocument(source if isinstance(source, bytes) else str(source))
    try:
        return [doc[i].get_textpage().get_text_range() for i in range(len(doc))]
    finally:
        doc.close()


def _images(path: Path) -> list[Image.Image]:
    doc = pypdfium2.PdfDocument(str(path))
    try:
        return [doc[i].render(scale=DPI / 72).to_pil().convert("L") for i in range(len(doc))]
    finally:
        doc.close()


def _events(seed, action: str) -> list[audit_log.AuditEventView]:  # noqa: ANN001
    return audit_log.fetch_events(seed.db, seed.admin, audit_log.AuditFilter(action=action), limit=100)


@pytest.mark.compliance
def test_bf04_the_preview_shows_the_numbered_pages_and_does_not_use_up_the_release(seed, tmp_path: Path) -> None:
    effective_template(seed, "PRD-BR-102")  # two pages per copy
    result = issue(seed, "PRD-BR-102", copies=3)
    out = tmp_path / "preview.pdf"
    done = printing.preview_pdf(seed.db, seed.dc, result.pdf_id, out=out)
    assert (done.pdf_id, done.pages, done.serials) == (result.pdf_id, 6, "000001–000003")
    assert done.printed == "BSL-01-000001 – BSL-01-000003"  # as printed on the copies (the default format)

    preview, real = _texts(out), _texts(seed.db.files.verified_path(result.pdf_sha256))
    assert len(preview) == len(real) == 6
    for index, (seen, controlled) in enumerate(zip(preview, real, strict=True)):
        serial = result.serials[index // 2]
        assert serial in seen and serial in controlled  # the same serial on the same page
        assert "PREVIEW" in seen and "NOT A CONTROLLED COPY" in seen, f"page {index + 1}"
        assert "PREVIEW" not in controlled

    [event] = _events(seed, "PREVIEW")
    assert (event.entity, event.entity_id, event.username) == ("controlled_pdf", str(result.pdf_id), "dc")
    assert _events(seed, "PRINT") == []
    with seed.db.read() as s:
        assert s.get(ControlledPdf, result.pdf_id).released_at is None

    saved = printing.save_to_file(seed.db, seed.dc, result.pdf_id, out=tmp_path / "copies.pdf")  # the one release
    assert saved.pages == 6 and len(_events(seed, "PRINT")) == 1
    with pytest.raises(DomainError) as refused:
        printing.preview_pdf(seed.db, seed.dc, result.pdf_id, out=io.BytesIO())
    assert refused.value.code == ErrorCode.ALREADY_RELEASED
    assert len(_events(seed, "PREVIEW")) == 1


def test_the_preview_of_a_replacement_shows_the_serial_it_replaces(seed) -> None:  # noqa: ANN001
    effective_template(seed)
    result = issue(seed, copies=2)
    printing.save_to_file(seed.db, seed.dc, result.pdf_id, out=seed.db.files.root.parent / "out.pdf")
    new = replacement.replace_form(seed.db, seed.qa, serial="000002", reason="coffee spilled", username="qa",
                                   password=PASSWORD)
    out = io.BytesIO()
    printing.preview_pdf(seed.db, seed.qa, new.pdf_id, out=out)  # QA, who replaced it, may release it
    [text] = _texts(out.getvalue())
    assert new.new_label in text and "REPLACES BSL-01-000002" in text and "Copy 2 of 2" in text and "PREVIEW" in text


def test_only_who_may_release_may_preview_and_the_refusal_is_logged(seed) -> None:  # noqa: ANN001
    effective_template(seed)
    result = issue(seed, copies=1)
    with pytest.raises(PermissionDenied):
        printing.preview_pdf(seed.db, seed.op, result.pdf_id, out=io.BytesIO())
    assert [e.username for e in _events(seed, "ACCESS_DENIED")] == ["op"]
    assert _events(seed, "PREVIEW") == []


def test_a_preview_code_never_parses_as_a_controlled_copy() -> None:
    code = qr_payload.Payload(site="BSL-01", serial="000007", page=2, pages=3, template="QC-WS-014", version=4)
    text = code.preview_text()
    assert text == "FT1|PREVIEW ONLY|BSL-01|000007|2/3|QC-WS-014@4"
    assert qr_payload.looks_like_ours(text) and qr_payload.is_preview(text)
    assert not qr_payload.is_preview(code.encode(b"k" * 32))
    for read in (qr_payload.parse, lambda t: qr_payload.verify(t, b"k" * 32)):
        with pytest.raises(qr_payload.PayloadError, match="PREVIEW print of serial 000007 page 2/3"):
            read(text)
    with pytest.raises(qr_payload.PayloadError):
        code.code_text(None)  # a controlled copy's code never goes out without its tag


@pytest.mark.sqlite_only  # decoding; the linking transactions run on both backends in test_scan_workflow
@pytest.mark.compliance("BF-07")
def test_inv6_a_scanned_preview_lands_in_the_exceptions_and_the_real_copy_still_links(seed, tmp_path: Path) -> None:
    effective_template(seed, "PRD-BR-102")
    result = issue(seed, "PRD-BR-102", copies=1)
    out = tmp_path / "preview.pdf"
    printing.preview_pdf(seed.db, seed.dc, result.pdf_id, out=out)
    files = [write(tmp_path / "in", f"preview-p{i + 1}.png", sl.png_bytes(sl.scanned(image, seed=i), dpi=DPI))
             for i, image in enumerate(_images(out))]
    report = intake.import_files(seed.db, seed.op, files)
    pages = [o for o in report.outcomes if o.page is not None]
    assert len(pages) == 2 and report.linked == 0
    for outcome in pages:
        assert outcome.outcome != ScanOutcome.LINKED.value and outcome.scan_page_id is not None
        assert "PREVIEW print of serial 000001" in (outcome.reason or ""), outcome.reason
    [form] = register.fetch_forms(seed.db, seed.op, register.RegisterFilter())
    assert form.state is FormState.ISSUED
    with pytest.raises(RuleViolation) as refused:  # nor by hand, whatever the reason given
        scans.link_manually(seed.db, seed.qa, scan_page_id=pages[0].scan_page_id, serial=form.serial, page_no=1,
                            reason="looks like our form")
    assert refused.value.code == ErrorCode.PREVIEW_NOT_CONTROLLED

    printing.save_to_file(seed.db, seed.dc, result.pdf_id, out=tmp_path / "copies.pdf")
    real = [write(tmp_path / "in2", f"copy-p{i + 1}.png", sl.png_bytes(sl.scanned(image, seed=i), dpi=DPI))
            for i, image in enumerate(issued_page_images(seed.db, result.pdf_sha256, dpi=DPI))]
    assert intake.import_files(seed.db, seed.op, real).linked == 2  # the preview took no page of the real copy
    with seed.db.read() as s:
        assert s.scalar(select(ControlledPdf.released_at).where(ControlledPdf.id == result.pdf_id)) is not None
