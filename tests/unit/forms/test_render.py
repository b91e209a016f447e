"""Rendered PDFs read back as a scanner and an inspector would: pdfium text and pixels, zxing-cpp decoding."""

import dataclasses
import datetime as dt
import io
import re

import pypdfium2 as pdfium
import pytest
import zxingcpp

from app.forms.layout.layout import FieldDef, LayoutError, Paper, TemplateLayout, load_layout
from app.forms.layout.payload import Payload, looks_like_ours, verify
from app.forms.render.qr import qr_matrix
from app.forms.render.render import (
    CopyInfo,
    IssueInfo,
    RenderCancelled,
    render_issued,
    render_preview,
    render_reference,
)
from app.forms.render.render_layout import check_fits, measure_pages
from app.forms.resources import resource

KEY = bytes.fromhex("a5" * 32)
UTC = dt.UTC
CET = dt.timezone(dt.timedelta(hours=1), "CET")
DPI = 200
MM = DPI / 25.4  # pixels per mm


def sample(code):
    return load_layout(resource("templates", f"{code}.yaml"))


def issue(**changes):
    info = IssueInfo(
        site_code="BSL-01", site_name="Basel Solids", version=3, effective_date=dt.date(2025, 1, 15),
        issued_to="Jörg Øster", issued_by_name="Anna Müller", issued_by_username="amueller",
        issued_at=dt.datetime(2025, 3, 4, 13, 7, tzinfo=UTC), purpose="Batch PAR500-25-0117 dispensing",
        reference="PAR500-25-0117", due_date=dt.date(2025, 3, 11), issuance_id=42, tz=CET,
    )
    return dataclasses.replace(info, **changes)


def copies(first=123, count=3):
    return [CopyInfo(serial=f"{first + i:06d}", copy_no=i + 1, copy_count=count) for i in range(count)]


def pdf_of(render, *args, **kwargs):
    out = io.BytesIO()
    pages = render(out, *args, **kwargs)
    return out.getvalue(), pages


def page_texts(data):
    document = pdfium.PdfDocument(data)
    return [page.get_textpage().get_text_range() for page in document]


def page_images(data, dpi=DPI):
    document = pdfium.PdfDocument(data)
    return [page.render(scale=dpi / 72, grayscale=True).to_pil() for page in document]


def decode(image):
    return zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCodeModel2)


@pytest.fixture(scope="module")
def issued_two_pager():
    layout = sample("PRD-BR-102")
    data, pages = pdf_of(render_issued, layout, issue(), copies(), key=KEY)
    return layout, data, pages


def test_bf02_issued_pages_carry_serial_copy_page_and_issuance(issued_two_pager):
    layout, data, pages = issued_two_pager
    assert pages == 6 == len(pdfium.PdfDocument(data))
    texts = page_texts(data)
    for index, text in enumerate(texts):
        copy, page = divmod(index, 2)
        serial = f"{123 + copy:06d}"
        assert text.count(serial) >= 2, "serial beside both codes"
        assert f"Page {page + 1} of 2" in text
        assert f"Copy {copy + 1} of 3" in text
        assert "CONTROLLED COPY" in text
        for expected in ("Basel Solids (BSL-01)", "PRD-BR-102", layout.title.split(":")[0], "Version 3",
                         "Effective 2025-01-15", "Jörg Øster", "Anna Müller (amueller)",
                         "2025-03-04 14:07 CET (UTC+01:00)", "Batch PAR500-25-0117 dispensing",
                         "PAR500-25-0117", "2025-03-11", "GOOD DOCUMENTATION PRACTICE", "indelible",
                         "single line", "NA"):
            assert expected in text, expected
        other = f"{123 + (copy + 1) % 3:06d}"
        assert other not in text
    assert "Batch number" in texts[0] and "Loss on drying" in texts[1]
    assert "SIGNATURES" not in texts[0] and "SIGNATURES" in texts[1]
    assert "Performed by (operator)" in texts[1] and "Reviewed by (QA)" in texts[1]


def test_bf03_both_codes_on_every_page_decode_and_verify(issued_two_pager):
    layout, data, _ = issued_two_pager
    for index, image in enumerate(page_images(data)):
        copy, page = divmod(index, 2)
        expected = Payload(site="BSL-01", serial=f"{123 + copy:06d}", page=page + 1, pages=2,
                           template="PRD-BR-102", version=3)
        found = decode(image)
        assert len(found) == 2, f"page {index + 1}: {len(found)} codes"
        width, height = image.size
        corners = set()
        for barcode in found:
            assert barcode.text == expected.encode(KEY)
            assert verify(barcode.text, KEY) == expected
            assert barcode.ec_level == "Q"
            pos = barcode.position
            xs = [pos.top_left.x, pos.top_right.x, pos.bottom_left.x, pos.bottom_right.x]
            ys = [pos.top_left.y, pos.top_right.y, pos.bottom_left.y, pos.bottom_right.y]
            side = "right" if min(xs) > width / 2 else "left"
            corners.add((side, "top" if max(ys) < height / 2 else "bottom"))
            # Module size 0.7-0.8 mm, quiet zone (4 modules) kept at least 8 mm from the paper edges.
            modules = qr_matrix(barcode.text).size
            module_mm = (max(xs) - min(xs)) / MM / modules
            assert 0.68 <= module_mm <= 0.82, module_mm
            margin = min(min(xs), min(ys), width - max(xs), height - max(ys)) / MM
            assert margin >= 8 + 4 * module_mm - 0.6, margin
            side_mm = (modules + 8) * module_mm
            assert 20 <= side_mm <= 33, side_mm
        assert corners == {("right", "top"), ("left", "bottom")}


def test_replacement_copy_names_the_serial_it_replaces():
    layout = sample("QC-WS-014")
    replacement = [CopyInfo(serial="000130", copy_no=2, copy_count=3, replaces="000124")]
    data, pages = pdf_of(render_issued, layout, issue(), replacement, key=KEY)
    text = page_texts(data)[0]
    assert pages == 1 and "REPLACES 000124" in text and "replaces 000124" in text and "Copy 2 of 3" in text
    found = decode(page_images(data)[0])
    assert {verify(b.text, KEY).serial for b in found} == {"000130"}


def test_fonts_are_embedded_and_static_layout_is_one_form_per_page(issued_two_pager):
    _, data, _ = issued_two_pager
    assert b"/FontFile2" in data  # embedded TrueType (subset) fonts
    assert b"DejaVuSans" in data
    forms = re.findall(rb"/Subtype\s*/Form", data)
    assert len(forms) == 2, "one reusable XObject per layout page, not per copy"


def test_streamed_pdf_has_a_valid_cross_reference_table(issued_two_pager):
    _, data, _ = issued_two_pager
    start = int(data[data.rindex(b"startxref") + 9:].split()[0])
    assert data[start:start + 4] == b"xref"
    rows = data[start:].split(b"\n")
    count = int(rows[1].split()[1])
    for number in range(1, count):
        offset = int(rows[2 + number][:10])
        assert data[offset:].startswith(b"%d 0 obj" % number), number


def test_pages_grow_by_little_per_copy():
    layout = sample("QC-WS-014")
    small, _ = pdf_of(render_issued, layout, issue(), copies(count=5), key=KEY)
    large, _ = pdf_of(render_issued, layout, issue(), copies(count=25), key=KEY)
    per_page = (len(large) - len(small)) / 20
    assert per_page < 4000, per_page


def test_letter_paper_has_letter_dimensions_and_codes_decode():
    layout = dataclasses.replace(sample("QC-WS-014"), paper=Paper.LETTER)
    data, pages = pdf_of(render_issued, layout, issue(), copies(count=1), key=KEY)
    document = pdfium.PdfDocument(data)
    assert pages == 1
    assert document[0].get_size() == pytest.approx((612, 792))
    found = decode(page_images(data)[0])
    assert len(found) == 2 and all(verify(b.text, KEY).serial == "000123" for b in found)
    a4, _ = pdf_of(render_issued, sample("QC-WS-014"), issue(), copies(count=1), key=KEY)
    assert pdfium.PdfDocument(a4)[0].get_size() == pytest.approx((595.28, 841.89), abs=0.01)


def test_preview_is_watermarked_draft_without_a_code():
    layout = sample("PRD-BR-102")
    data, pages = pdf_of(render_preview, layout, site_code="BSL-01", version_label="Version 4 (draft)")
    assert pages == 2
    for text, image in zip(page_texts(data), page_images(data), strict=True):
        assert "DRAFT – NOT FOR GMP USE" in text
        assert "Version 4 (draft)" in text
        assert "CONTROLLED COPY" not in text.replace("UNCONTROLLED", "")
        assert not [b for b in decode(image) if looks_like_ours(b.text)]


def test_bf07_reference_print_is_uncontrolled_without_serial_or_code():
    layout = sample("QC-WS-014")
    printed_at = dt.datetime(2025, 3, 4, 13, 7, tzinfo=UTC)
    data, pages = pdf_of(render_reference, layout, site_code="BSL-01", version=3,
                         printed_by="Anna Müller (amueller)", printed_at=printed_at, tz=CET,
                         valid_until=dt.date(2025, 3, 4))
    assert pages == 1
    text = page_texts(data)[0]
    flat = " ".join(text.split())
    assert "UNCONTROLLED COPY" in flat
    assert "printed 2025-03-04 14:07 CET (UTC+01:00) by Anna Müller (amueller)" in flat
    assert "for reference only" in flat and "valid to 2025-03-04" in flat
    assert "CONTROLLED COPY" not in text.replace("UNCONTROLLED COPY", "")
    assert re.search(r"(?<![\d-])\d{6}(?![\d-])", text) is None, "no serial number on a reference print"
    assert not [b for b in decode(page_images(data)[0]) if looks_like_ours(b.text)]


def test_progress_and_generator_copies(tmp_path):
    layout = sample("PRD-BR-102")
    seen = []
    out = tmp_path / "issued.pdf"
    pages = render_issued(out, layout, issue(), iter(copies(count=3)), key=KEY,
                          progress=lambda done, total: seen.append((done, total)))
    assert pages == 6 and out.stat().st_size > 0
    assert seen == [(n, 6) for n in range(1, 7)]
    seen.clear()
    render_issued(io.BytesIO(), layout, issue(), (c for c in copies(count=2)), key=KEY,
                  progress=lambda done, total: seen.append((done, total)))
    assert seen == [(n, 4) for n in range(1, 5)]  # a generator too: the copies are read whole first


def test_cancelling_stops_between_copies_and_removes_the_file(tmp_path):
    layout = sample("QC-WS-014")
    rendered = []
    out = tmp_path / "cancelled.pdf"
    with pytest.raises(RenderCancelled):
        render_issued(out, layout, issue(), copies(count=5), key=KEY,
                      progress=lambda done, total: rendered.append(done),
                      cancelled=lambda: len(rendered) >= 2)
    assert rendered == [1, 2]
    assert not out.exists()


def test_layout_that_does_not_fit_is_refused_with_the_page():
    fields = [FieldDef(name=f"f{i}", label=f"Field {i}", type="text") for i in range(30)]
    layout = TemplateLayout(code="T-1", title="Too long", department="QA", fields=fields)
    space = measure_pages(layout)[0]
    assert not space.fits and space.needed_mm > space.available_mm
    with pytest.raises(LayoutError, match="page 1 of T-1 does not fit on A4 paper"):
        check_fits(layout)
    with pytest.raises(LayoutError, match="move fields to another page"):
        render_issued(io.BytesIO(), layout, issue(), copies(count=1), key=KEY)
    # The draft preview still shows it, so the author sees what overflows.
    data, pages = pdf_of(render_preview, layout, site_code="BSL-01", version_label="Version 1 (draft)")
    assert pages == 1 and "Field 29" in page_texts(data)[0]


@pytest.mark.parametrize("code", ["QC-WS-014", "PRD-LOG-007", "PRD-BR-102", "QC-CAL-021"])
def test_samples_fit_their_paper(code):
    check_fits(sample(code))


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        issue(issued_at=dt.datetime(2025, 3, 4, 13, 7))
    with pytest.raises(ValueError, match="digits"):
        CopyInfo(serial="A1", copy_no=1, copy_count=1)
    with pytest.raises(ValueError, match="out of range"):
        CopyInfo(serial="000001", copy_no=2, copy_count=1)
    with pytest.raises(ValueError, match="replaced serial"):
        CopyInfo(serial="000001", copy_no=1, copy_count=1, replaces="000001")
    with pytest.raises(ValueError, match="no copies"):
        render_issued(io.BytesIO(), sample("QC-WS-014"), issue(), [], key=KEY)


def test_fit_keeps_the_longest_prefix_that_fits_even_for_very_long_text():
    from reportlab.pdfgen.canvas import Canvas

    from app.forms.render.fonts import SANS, register_fonts
    from app.forms.render.render_base import fit
    register_fonts()
    canvas = Canvas(io.BytesIO())
    text = "Batch 24-0117 dispensing, " * 5000  # 130,000 characters: bisected, never trimmed one by one
    shortened = fit(canvas, text, SANS, 8, 120)
    assert shortened.endswith("…") and text.startswith(shortened[:-1])
    assert canvas.stringWidth(shortened, SANS, 8) <= 120
    assert canvas.stringWidth(text[:len(shortened)] + "…", SANS, 8) > 120  # one more character would not fit
    assert fit(canvas, "short", SANS, 8, 120) == "short"
