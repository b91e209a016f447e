"""BF-02: extra pages of a controlled copy, as printed: "Page 6 of 7", the copy's serial, the note saying why and
by whom they were added, and codes for exactly those page numbers (tagged with the site's key)."""

from __future__ import annotations

import dataclasses
import io

import pypdfium2 as pdfium
import pytest
import zxingcpp

from app.forms.layout.payload import verify
from app.forms.render.render import CopyInfo, render_extra_pages
from tests.unit.forms.test_render import KEY, issue, sample

pytestmark = pytest.mark.compliance


def test_bf02_extra_pages_print_page_x_of_the_new_total_with_codes_for_those_pages():
    layout = dataclasses.replace(sample("QC-WS-014"), pages=5)
    out = io.BytesIO()
    copy = CopyInfo(serial="000123", copy_no=2, copy_count=3, label="BSL-01-000123")
    pages = render_extra_pages(out, layout, issue(), copy, first_page=6, last_page=7, key=KEY,
                               note="Added to BSL-01-000123 on 2026-03-04 14:07 by Dora Doc (dc): step 7 needs room")
    assert pages == 2
    document = pdfium.PdfDocument(out.getvalue())
    texts = [page.get_textpage().get_text_range() for page in document]
    for number, text in zip((6, 7), texts, strict=True):
        assert f"Page {number} of 7" in text and "BSL-01-000123" in text and "Copy 2 of 3" in text
        assert "EXTRA PAGE" in text and "step 7 needs room" in text and "DONE BY" in text
    images = [page.render(scale=200 / 72).to_pil().convert("L") for page in document]
    document.close()
    found = [[verify(b.text, KEY) for b in zxingcpp.read_barcodes(image)] for image in images]
    assert [{(p.serial, p.page, p.pages) for p in codes} for codes in found] == [{("000123", 6, 7)},
                                                                               {("000123", 7, 7)}]
    assert all(len(codes) == 2 for codes in found)  # top right and bottom left, as on every page
    with pytest.raises(ValueError):
        render_extra_pages(io.BytesIO(), layout, issue(), copy, first_page=1, last_page=2, key=KEY, note="")
