"""The numbered preview of controlled copies (render_issued(preview=True)): the same pages and serials as the
copies, PREVIEW on every page, and codes that read as a preview's (never as a copy's), made without the key."""

from __future__ import annotations

import datetime as dt
import io

import pypdfium2 as pdfium
import pytest
import zxingcpp

from app.forms.layout.layout import load_layout
from app.forms.layout.payload import PayloadError, is_preview, parse
from app.forms.render.render import PREVIEW_STATUS, CopyInfo, IssueInfo, render_issued
from app.forms.resources import resource

KEY = bytes.fromhex("a5" * 32)


def sample(code):  # noqa: ANN001, ANN201
    return load_layout(resource("templates", f"{code}.yaml"))


def issue() -> IssueInfo:
    return IssueInfo(site_code="BSL-01", site_name="Basel Solids", version=3, effective_date=dt.date(2025, 1, 15),
                     issued_to="Jörg Øster", issued_by_name="Anna Müller", issued_by_username="amueller",
                     issued_at=dt.datetime(2025, 3, 4, 13, 7, tzinfo=dt.UTC), purpose="Batch 0117",
                     reference=None, due_date=None, issuance_id=42)


def copies(count: int) -> list[CopyInfo]:
    return [CopyInfo(serial=f"{123 + i:06d}", copy_no=i + 1, copy_count=count) for i in range(count)]


def pdf_of(*args, **kwargs) -> tuple[bytes, int]:  # noqa: ANN002, ANN003
    out = io.BytesIO()
    pages = render_issued(out, *args, **kwargs)
    return out.getvalue(), pages


def page_texts(data: bytes) -> list[str]:
    return [page.get_textpage().get_text_range() for page in pdfium.PdfDocument(data)]


def codes_on_pages(data: bytes) -> list[set[str]]:
    pages = [page.render(scale=200 / 72, grayscale=True).to_pil() for page in pdfium.PdfDocument(data)]
    return [{c.text for c in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCodeModel2)}
            for image in pages]


def test_the_preview_has_the_copies_pages_serials_and_preview_codes() -> None:
    layout = sample("PRD-BR-102")  # two pages per copy
    preview, pages = pdf_of(layout, issue(), copies(2), key=None, preview=True)
    controlled, controlled_pages = pdf_of(layout, issue(), copies(2), key=KEY)
    assert pages == controlled_pages == 4
    for index, (seen, real) in enumerate(zip(page_texts(preview), page_texts(controlled), strict=True)):
        serial = f"{123 + index // 2:06d}"
        assert serial in seen and serial in real
        assert PREVIEW_STATUS in seen and "PREVIEW" in seen and "NOT A CONTROLLED COPY" in seen
        assert "PREVIEW" not in real and "CONTROLLED COPY" in real
    for index, texts in enumerate(codes_on_pages(preview)):
        assert len(texts) == 1, f"page {index + 1}: both codes carry the same text"
        [text] = texts
        assert is_preview(text) and f"|{123 + index // 2:06d}|{index % 2 + 1}/2|" in text
        with pytest.raises(PayloadError, match="PREVIEW print"):
            parse(text)


def test_controlled_copies_still_need_the_key() -> None:
    with pytest.raises(PayloadError):
        pdf_of(sample("QC-WS-014"), issue(), copies(1), key=None)
