"""From scanned files to page images: formats, how each page is obtained, per-page and per-file errors."""

from __future__ import annotations

import io
import pickle

import numpy as np
import pypdfium2 as pdfium
import pytest
from PIL import Image

from app.forms.scan.scan_decode import decode_page, decode_pages
from app.forms.scan.scan_pages import (
    EMBEDDED_IMAGE,
    EMBEDDED_JPEG,
    PAGE_REASONS,
    RASTER_FILE,
    RASTERISED,
    SOURCE_REASONS,
    PageImage,
    SourceError,
    iter_pages,
    sniff,
)
from app.forms.scan.scan_probe import probe
from tests.helpers import scanlike as sl

DPI = 150  # multi-page tests: big enough to be realistic, small enough to be quick


@pytest.fixture(scope="module")
def forms() -> list[sl.SyntheticPage]:
    """Three pages of one issued form, each with its own payload."""
    return [sl.make_page(sl.payload_text("000777", page=n, pages=3), dpi=DPI) for n in (1, 2, 3)]


@pytest.fixture(scope="module")
def scans(forms) -> list[Image.Image]:
    return [sl.scanned(f.image, seed=i) for i, f in enumerate(forms)]


@pytest.fixture(scope="module")
def page300() -> sl.SyntheticPage:
    return sl.make_page(sl.payload_text("000300"), dpi=300)


def texts(pages) -> list[tuple[str, ...]]:
    return [decode_page(p).ours for p in pages]


# ------------------------------------------------------------------------------------------- the scan helpers


def test_scanner_style_pdf_really_embeds_one_jpeg_per_page(scans):
    doc = pdfium.PdfDocument(sl.scanner_pdf_bytes(scans, dpi=DPI))
    assert len(doc) == 3
    for page in doc:
        objects = list(page.get_objects())
        assert [o.type for o in objects] == [pdfium.raw.FPDF_PAGEOBJ_IMAGE]
        assert objects[0].get_filters() == ["DCTDecode"]
        assert bytes(objects[0].get_data())[:3] == b"\xff\xd8\xff"  # the JPEG file itself


# ---------------------------------------------------------------------------------------------------- PDF


def test_scanner_pdf_pages_are_decoded_from_their_embedded_jpeg(forms, scans):
    pages = list(iter_pages(sl.scanner_pdf_bytes(scans, dpi=DPI), filename="scan.pdf"))
    assert [p.index for p in pages] == [0, 1, 2]
    for page in pages:
        assert page.ok and page.method == EMBEDDED_JPEG
        assert (page.width, page.height) == scans[0].size
        assert page.dpi == pytest.approx(DPI, abs=0.5) and page.dpi_source == "page-size"
        assert page.mode == "L" and page.image.mode == "L"
    assert texts(pages) == [(f.text,) for f in forms]


def test_a_300_dpi_jpeg_is_dct_scaled_and_can_go_back_to_full_resolution(page300):
    scan = sl.scanned(page300.image)
    [page] = iter_pages(sl.scanner_pdf_bytes([scan], dpi=300), filename="scan.pdf")
    assert page.scale == 0.5 and page.image.size == (scan.width // 2, scan.height // 2)
    assert page.effective_dpi == pytest.approx(150, abs=1)
    assert page.can_go_higher and page.full_resolution().size == scan.size
    [full] = iter_pages(sl.scanner_pdf_bytes([scan], dpi=300), filename="scan.pdf", min_dpi=300)
    assert full.scale == 1.0 and not full.can_go_higher and full.full_resolution() is None


def test_colour_jpeg_pages_keep_their_original_mode(forms):
    rgb = sl.scanned(forms[0].image).convert("RGB")
    [page] = iter_pages(sl.image_pdf_bytes([sl.jpeg_page(rgb, dpi=DPI)]), filename="colour.pdf")
    assert page.method == EMBEDDED_JPEG and page.mode == "RGB" and page.image.mode == "L"
    assert decode_page(page).ours == (forms[0].text,)


def test_ccitt_and_flate_pages_are_decoded_without_rendering(forms, scans):
    data = sl.image_pdf_bytes([sl.ccitt_page(scans[0], dpi=DPI), sl.flate_page(scans[1], dpi=DPI)])
    pages = list(iter_pages(data, filename="bw.pdf"))
    assert [p.method for p in pages] == [EMBEDDED_IMAGE, EMBEDDED_IMAGE]
    assert [p.mode for p in pages] == ["1", "L"]
    assert pages[0].dpi == pytest.approx(DPI, abs=0.5)
    assert texts(pages) == [(forms[0].text,), (forms[1].text,)]


def test_a_rotated_pdf_page_is_turned_as_displayed(forms, scans):
    [page] = iter_pages(sl.image_pdf_bytes([sl.jpeg_page(scans[0], dpi=DPI, rotate=90)]), filename="r.pdf")
    assert page.method == EMBEDDED_JPEG
    assert (page.width, page.height) == (scans[0].height, scans[0].width)
    assert page.image.size == (scans[0].height, scans[0].width)
    # rendering the page shows the same picture as our decoded image
    rendered = pdfium.PdfDocument(sl.image_pdf_bytes([sl.jpeg_page(scans[0], dpi=DPI, rotate=90)]))[0].render(
        scale=DPI / 72, grayscale=True).to_pil().resize(page.image.size)
    diff = np.abs(np.asarray(rendered, dtype=int) - np.asarray(page.image, dtype=int)).mean()
    assert diff < 8
    assert decode_page(page).ours == (forms[0].text,)


def test_vector_pages_are_rasterised(forms):
    data = sl.vector_pdf_bytes([f.text for f in forms[:2]])
    pages = list(iter_pages(data, filename="printed.pdf"))
    assert [p.method for p in pages] == [RASTERISED, RASTERISED]
    assert pages[0].dpi == 200 and pages[0].dpi_source == "rendered" and pages[0].mode == "vector"
    assert pages[0].full_resolution().width == pytest.approx(pages[0].width * 1.5, abs=2)
    assert texts(pages) == [(forms[0].text,), (forms[1].text,)]


def test_an_image_with_visible_text_over_it_is_rasterised_but_an_invisible_ocr_layer_is_not(forms, scans):
    stamped = sl.jpeg_page(scans[0], dpi=DPI)
    stamped.extra_content = b"BT /F1 14 Tf 200 300 Td (RECEIVED) Tj ET\n"
    searchable = sl.jpeg_page(scans[1], dpi=DPI)
    searchable.extra_content = b"BT 3 Tr /F1 14 Tf 200 300 Td (OCR text) Tj ET\n"
    pages = list(iter_pages(sl.image_pdf_bytes([stamped, searchable]), filename="mixed.pdf"))
    assert [p.method for p in pages] == [RASTERISED, EMBEDDED_JPEG]
    assert texts(pages) == [(forms[0].text,), (forms[1].text,)]


def test_one_bad_page_does_not_stop_the_others(forms, scans):
    broken = sl.PdfImagePage(b"\xff\xd8\xff\xe0" + bytes(5000), scans[1].width, scans[1].height, dpi=DPI)
    data = sl.image_pdf_bytes([sl.jpeg_page(scans[0], dpi=DPI), broken, sl.jpeg_page(scans[2], dpi=DPI)])
    pages = list(iter_pages(data, filename="scan.pdf"))
    assert [p.index for p in pages] == [0, 1, 2]
    assert pages[0].ok and pages[2].ok
    assert not pages[1].ok and pages[1].image is None
    assert pages[1].error.reason_code == "corrupt" and pages[1].error.reason_code in PAGE_REASONS
    assert "page 2" in pages[1].error.message
    decoded = decode_pages(data, filename="scan.pdf")
    assert [d.result.ours if d.result else d.error.reason_code for d in decoded] == [
        (forms[0].text,), "corrupt", (forms[2].text,)]


# -------------------------------------------------------------------------------------------- raster files


@pytest.mark.parametrize("compression", ["tiff_lzw", "group4", "jpeg"])
def test_multi_page_tiff(forms, scans, compression):
    pages = list(iter_pages(sl.tiff_bytes(scans, dpi=DPI, compression=compression), filename="scan.tif"))
    assert [p.method for p in pages] == [RASTER_FILE] * 3
    assert [p.index for p in pages] == [0, 1, 2]
    assert pages[0].dpi == DPI and pages[0].dpi_source == "file"
    assert pages[0].mode == ("1" if compression == "group4" else "L")
    assert texts(pages) == [(f.text,) for f in forms]


def test_a_damaged_tiff_frame_does_not_stop_the_others(forms, scans):
    data = sl.corrupt_tiff_frame(sl.tiff_bytes(scans, dpi=DPI, compression="tiff_lzw"), 1)
    pages = list(iter_pages(data, filename="scan.tif"))
    assert [(p.index, p.ok) for p in pages] == [(0, True), (1, False), (2, True)]
    assert pages[1].error.reason_code == "corrupt"
    assert [texts([p]) for p in (pages[0], pages[2])] == [[(forms[0].text,)], [(forms[2].text,)]]


def test_png_and_jpeg_files(forms, scans, page300):
    [png] = iter_pages(sl.png_bytes(scans[0], dpi=DPI), filename="a.png")
    assert (png.method, png.dpi, png.dpi_source, png.scale) == (RASTER_FILE, DPI, "file", 1.0)
    scan300 = sl.scanned(page300.image)
    [jpeg] = iter_pages(sl.jpeg_bytes(scan300, dpi=300), filename="b.jpg")
    assert (jpeg.method, jpeg.dpi, jpeg.scale) == (RASTER_FILE, 300, 0.5)
    assert jpeg.full_resolution().size == scan300.size
    assert decode_page(png).ours == (forms[0].text,)
    assert decode_page(jpeg).ours == (page300.text,)


def test_a_file_without_a_resolution_is_assumed_to_be_a4(scans):
    [page] = iter_pages(sl.png_bytes(scans[0]), filename="no-dpi.png")
    assert page.dpi_source == "assumed-a4" and page.dpi == pytest.approx(DPI, abs=1)
    tiny = Image.new("L", (200, 100), 255)
    [page] = iter_pages(sl.png_bytes(tiny), filename="tiny.png")
    assert page.dpi is None and page.dpi_source == "unknown"


def test_rgba_png_transparency_becomes_paper(forms):
    rgba = forms[0].image.convert("RGBA")
    rgba.putalpha(Image.new("L", rgba.size, 255))
    alpha = np.asarray(rgba).copy()
    alpha[:50, :50, 3] = 0  # a transparent (black) corner
    alpha[:50, :50, :3] = 0
    [page] = iter_pages(sl.png_bytes(Image.fromarray(alpha, "RGBA"), dpi=DPI), filename="alpha.png")
    assert page.mode == "RGBA" and page.image.getpixel((10, 10)) == 255
    assert decode_page(page).ours == (forms[0].text,)


def test_the_format_is_recognised_by_content_not_by_name(forms, scans):
    [page] = iter_pages(sl.scanner_pdf_bytes(scans[:1], dpi=DPI), filename="actually-a-pdf.png")
    assert page.method == EMBEDDED_JPEG
    [page] = iter_pages(sl.jpeg_bytes(scans[0], dpi=DPI), filename="scan.tif")
    assert page.method == RASTER_FILE and decode_page(page).ours == (forms[0].text,)
    assert sniff(b"%PDF-1.7\n") == "pdf" and sniff(b"II*\x00") == "tiff" and sniff(b"GIF89a") is None


def test_paths_work_like_bytes_and_pages_can_be_selected(tmp_path, forms, scans):
    path = tmp_path / "scan.pdf"
    path.write_bytes(sl.scanner_pdf_bytes(scans, dpi=DPI))
    assert probe(path).pages == 3 and probe(path.read_bytes(), filename="scan.pdf").pages == 3
    assert texts(iter_pages(path)) == texts(iter_pages(path.read_bytes(), filename="scan.pdf"))
    selected = list(iter_pages(str(path), pages=[2, 0, 7]))
    assert [p.index for p in selected] == [0, 2]
    tif = tmp_path / "scan.tif"
    tif.write_bytes(sl.tiff_bytes(scans, dpi=DPI))
    assert [p.index for p in iter_pages(tif, pages=range(1, 3))] == [1, 2]
    assert probe(tif).pages == 3


def test_pages_and_results_pickle_for_process_pools(tmp_path, forms, scans):
    path = tmp_path / "scan.pdf"
    path.write_bytes(sl.scanner_pdf_bytes(scans[:1], dpi=DPI))
    [page] = iter_pages(path)
    clone = pickle.loads(pickle.dumps(page))
    assert clone.image.size == page.image.size and clone.method == page.method
    results = pickle.loads(pickle.dumps(decode_pages(str(path), pages=[0])))
    assert results[0].result.ours == (forms[0].text,)
    error = pickle.loads(pickle.dumps(SourceError("truncated", "x.pdf: cut off")))
    assert (error.reason_code, error.message) == ("truncated", "x.pdf: cut off")


def test_decode_pages_in_a_process_pool(tmp_path, forms, scans):
    import concurrent.futures
    import multiprocessing

    path = tmp_path / "scan.pdf"
    path.write_bytes(sl.scanner_pdf_bytes(scans, dpi=DPI))
    with concurrent.futures.ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(decode_pages, str(path), pages=chunk) for chunk in ([0, 1], [2])]
        chunks = [f.result() for f in futures]
    results = [d for chunk in chunks for d in chunk]
    assert [d.index for d in results] == [0, 1, 2]
    assert [d.result.ours for d in results] == [(f.text,) for f in forms]


# ---------------------------------------------------------------------------------------- unreadable files


def test_unreadable_files_raise_at_the_call_with_a_reason(scans, forms):
    pdf = sl.scanner_pdf_bytes(scans, dpi=DPI)
    cases = {
        "empty-file": (b"", "empty.png"),
        "truncated": (sl.truncated(pdf), "scan.pdf"),
        "corrupt": (np.random.default_rng(1).bytes(20000), "random.pdf"),
        "unsupported-format": (b"PK\x03\x04" + bytes(100), "letter.docx"),
        "encrypted": (sl.encrypted_pdf_bytes(forms[0].text), "locked.pdf"),
    }
    for reason, (data, name) in cases.items():
        with pytest.raises(SourceError) as caught:
            iter_pages(data, filename=name)  # not iterated: the error comes at once
        assert caught.value.reason_code == reason, name
        assert reason in SOURCE_REASONS
        assert name in caught.value.message
        with pytest.raises(SourceError):
            probe(data, filename=name)


def test_zero_byte_png_and_other_broken_raster_files(scans):
    with pytest.raises(SourceError, match="empty") as caught:
        iter_pages(b"", filename="scan.png")
    assert caught.value.reason_code == "empty-file"
    for data, name, reason in [
        (sl.truncated(sl.png_bytes(scans[0])), "cut.png", "truncated"),
        (sl.truncated(sl.jpeg_bytes(scans[0])), "cut.jpg", "truncated"),
        (sl.truncated(sl.tiff_bytes(scans)), "cut.tif", "truncated"),
        (sl.truncated(sl.tiff_bytes(scans, compression="raw"), 0.95), "cut-raw.tif", "truncated"),
        (b"\x89PNG\r\n\x1a\n" + bytes(200), "zeros.png", "corrupt"),
        (b"GIF89a" + bytes(100), "anim.gif", "unsupported-format"),
    ]:
        with pytest.raises(SourceError) as caught:
            list(iter_pages(data, filename=name))
        assert caught.value.reason_code == reason, name


def test_a_missing_file_is_unreadable(tmp_path):
    with pytest.raises(SourceError) as caught:
        iter_pages(tmp_path / "gone.pdf")
    assert caught.value.reason_code == "unreadable"


def test_a_pdf_with_no_pages_is_refused():
    with pytest.raises(SourceError) as caught:
        iter_pages(sl.image_pdf_bytes([]), filename="nothing.pdf")
    assert caught.value.reason_code in ("no-pages", "corrupt")


def test_a_pdf_with_only_an_owner_password_opens(forms):
    from reportlab.lib import pdfencrypt
    from reportlab.pdfgen.canvas import Canvas

    buf = io.BytesIO()
    canvas = Canvas(buf, encrypt=pdfencrypt.StandardEncryption("", ownerPassword="owner", canModify=0))
    canvas.drawString(100, 100, "printing restricted")
    canvas.showPage()
    canvas.save()
    [page] = iter_pages(buf.getvalue(), filename="restricted.pdf")
    assert page.ok and page.method == RASTERISED


def test_source_error_reads_well():
    error = SourceError("encrypted", "locked.pdf: the PDF is encrypted and needs a password")
    assert str(error) == "locked.pdf: the PDF is encrypted and needs a password [encrypted]"
    assert isinstance(PageImage(index=0, method=RASTER_FILE).ok, bool)
