"""Finding our codes on degraded scans, ignoring (but reporting) foreign ones, and telling blank pages apart."""

from __future__ import annotations

import numpy as np
import pypdfium2 as pdfium
import pytest
import zxingcpp
from PIL import Image, ImageDraw

from app.forms.scan.scan_decode import CORNERS, DecodeResult, corner_boxes, decode_page, decode_pages, is_blank
from app.forms.scan.scan_pages import PageError, PageImage, Reload, iter_pages
from tests.helpers import scanlike as sl

OTHER_KEY = bytes.fromhex("77" * 32)


@pytest.fixture(scope="module")
def form() -> sl.SyntheticPage:
    """A clean A4 page at 300 dpi with our two codes (ECC Q, 0.75 mm modules)."""
    return sl.make_page(sl.payload_text("004711", page=2, pages=3), dpi=300)


def via_pdf(image: Image.Image, dpi: float) -> PageImage:
    """Through a scanner-style PDF (the page as one embedded JPEG), as most scans arrive."""
    [page] = iter_pages(sl.scanner_pdf_bytes([image], dpi=dpi), filename="scan.pdf")
    return page


def via_png(image: Image.Image, dpi: float) -> PageImage:
    [page] = iter_pages(sl.png_bytes(image, dpi=dpi), filename="scan.png")
    return page


def readable_alone(image: Image.Image, box: tuple[int, int, int, int], pad: int = 120) -> bool:
    """Whether zxing can read the code in ``box`` by itself (to prove a damage really destroyed it)."""
    x0, y0, x1, y1 = box
    region = image.crop((x0 - pad, y0 - pad, x1 + pad, y1 + pad))
    return bool(zxingcpp.read_barcodes(region, formats=zxingcpp.BarcodeFormat.QRCodeModel2))


def degraded(form: sl.SyntheticPage, name: str) -> tuple[Image.Image, int]:
    img, tr = form.image, form.code_boxes[0]
    centre = ((tr[0] + tr[2]) // 2, (tr[1] + tr[3]) // 2)
    make = {
        "clean": lambda: (sl.scanned(img), 300),
        "rotated-90": lambda: (sl.scanned(sl.rotate(img, 90)), 300),
        "rotated-180": lambda: (sl.scanned(sl.rotate(img, 180)), 300),
        "rotated-270": lambda: (sl.scanned(sl.rotate(img, 270)), 300),
        "skewed+3": lambda: (sl.scanned(sl.rotate(img, 3)), 300),
        "skewed-3": lambda: (sl.scanned(sl.rotate(img, -3)), 300),
        "150-dpi": lambda: (sl.scanned(sl.resample(img, 300, 150)), 150),
        "200-dpi": lambda: (sl.scanned(sl.resample(img, 300, 200)), 200),
        "noise": lambda: (sl.add_noise(img, 25, seed=3), 300),
        "blur": lambda: (sl.add_noise(sl.blur(img, 2.5), 4), 300),
        "jpeg-q30": lambda: (sl.jpeg_round_trip(sl.scanned(img), 30), 300),
        "150-dpi-jpeg-q30": lambda: (sl.jpeg_round_trip(sl.scanned(sl.resample(img, 300, 150)), 30), 150),
        "low-contrast": lambda: (sl.add_noise(sl.low_contrast(img, black=120, white=200), 6), 300),
        "pen-stroke": lambda: (sl.scanned(sl.pen_stroke(img, tr, dpi=300, seed=2)), 300),
        "hole-punch": lambda: (sl.scanned(sl.hole_punch(img, centre, dpi=300)), 300),
        "staple": lambda: (sl.scanned(sl.staple(img, centre, dpi=300)), 300),
        "rotated-90-skewed-low-contrast-150-dpi": lambda: (
            sl.add_noise(sl.low_contrast(sl.resample(sl.rotate(img, 92), 300, 150)), 5), 150),
    }
    return make[name]()


DEGRADATIONS = ["clean", "rotated-90", "rotated-180", "rotated-270", "skewed+3", "skewed-3", "150-dpi", "200-dpi",
                "noise", "blur", "jpeg-q30", "150-dpi-jpeg-q30", "low-contrast", "pen-stroke", "hole-punch",
                "staple", "rotated-90-skewed-low-contrast-150-dpi"]


@pytest.mark.parametrize("name", DEGRADATIONS)
def test_each_degradation_decodes_to_the_right_payload(form, name):
    image, dpi = degraded(form, name)
    result = decode_page(via_pdf(image, dpi))
    assert result.ours == (form.text,), name
    assert result.foreign == () and result.blank is None
    assert result.strategy is not None and result.elapsed_ms > 0


@pytest.mark.parametrize("name", ["rotated-270", "150-dpi", "low-contrast"])
def test_degraded_png_scans_decode_too(form, name):
    image, dpi = degraded(form, name)
    assert decode_page(via_png(image, dpi)).ours == (form.text,)


def test_quarter_turns_are_found_in_the_corner_where_the_code_lands(form):
    expected = {0: "corner:top-right", 180: "corner:top-right", 90: "corner:top-left", 270: "corner:top-left"}
    for angle, strategy in expected.items():
        result = decode_page(via_pdf(sl.scanned(sl.rotate(form.image, angle)), 300))
        assert (result.ours, result.strategy) == ((form.text,), strategy), angle


def test_a_marker_stroke_that_destroys_one_code_leaves_the_other(form):
    tr, _bl = form.code_boxes
    damaged = sl.scanned(sl.pen_stroke(form.image, tr, dpi=300, width_mm=2.0, ink=30, seed=1))
    assert not readable_alone(damaged, tr)
    result = decode_page(via_pdf(damaged, 300))
    assert result.ours == (form.text,) and result.strategy == "corner:bottom-left"


def test_a_smudge_that_destroys_one_code_leaves_the_other(form):
    tr, _bl = form.code_boxes
    damaged = sl.scanned(sl.smudge(form.image, tr, darkness=10, coverage=0.6, seed=0))
    assert not readable_alone(damaged, tr)
    result = decode_page(via_pdf(damaged, 300))
    assert result.ours == (form.text,) and result.strategy == "corner:bottom-left"


def test_a_hole_punched_through_a_finder_pattern_leaves_the_other_code(form):
    tr, _bl = form.code_boxes
    damaged = sl.scanned(sl.hole_punch(form.image, (tr[0] + 40, tr[1] + 40), dpi=300))
    assert not readable_alone(damaged, tr)
    assert decode_page(via_pdf(damaged, 300)).ours == (form.text,)


def test_when_both_codes_are_destroyed_nothing_is_invented(form):
    tr, bl = form.code_boxes
    damaged = sl.smudge(sl.smudge(form.image, tr, darkness=10, coverage=0.6, seed=0), bl, darkness=10,
                        coverage=0.6, seed=1)
    damaged = sl.pen_stroke(sl.pen_stroke(damaged, tr, dpi=300, width_mm=2.5, ink=20, seed=1), bl, dpi=300,
                            width_mm=2.5, ink=20, seed=1)
    result = decode_page(via_png(sl.scanned(damaged), 300))
    assert result.ours == () and result.strategy is None and result.blank is False
    assert result.attempts > 5  # the fallbacks ran


# -------------------------------------------------------------------------------------------- foreign codes


def test_a_foreign_code_beside_ours_is_reported_and_ours_still_found(form):
    image = form.image.copy()
    sl.add_code(image, "https://example.com/supplier/lot/4711", (145, 12), dpi=300)  # left of our top-right code
    result = decode_page(via_pdf(sl.scanned(image), 300))
    assert result.ours == (form.text,)
    assert result.foreign == ("https://example.com/supplier/lot/4711",)


def test_a_page_with_only_a_foreign_code(form):
    page = sl.make_page(dpi=300, corners=())
    sl.add_code(page.image, "WIFI:S:lab-guest;T:WPA;P:secret;;", (150, 12), dpi=300)
    result = decode_page(via_pdf(sl.scanned(page.image), 300))
    assert result.ours == () and result.strategy is None
    assert result.foreign == ("WIFI:S:lab-guest;T:WPA;P:secret;;",)
    assert result.blank is False


def test_micro_qr_is_not_read(form):
    page = sl.make_page(dpi=300, corners=())
    sl.add_code(page.image, "FT1|X", (160, 12), dpi=300, module_mm=0.8, micro=True)
    micro_alone = zxingcpp.read_barcodes(page.image)
    assert [b.text for b in micro_alone] == ["FT1|X"]  # zxing's default formats would take it as ours
    result = decode_page(via_png(sl.scanned(page.image), 300))
    assert result.ours == () and result.foreign == ()


def test_the_tag_is_not_checked_here(form):
    forged = sl.payload_text("004711", page=2, pages=3, key=OTHER_KEY)
    page = sl.make_page(forged, dpi=300)
    assert decode_page(via_pdf(sl.scanned(page.image), 300)).ours == (forged,)


def test_exhaustive_mode_sees_two_different_codes_on_one_page(form):
    other = sl.payload_text("009999")
    image = form.image.copy()
    _tr, bl = form.code_boxes
    sl.draw_code(image, other, bl[0] - 40, bl[1] - 40, dpi=300, module_mm=sl.MODULE_MM)  # pasted over BL
    page = via_pdf(sl.scanned(image), 300)
    assert decode_page(page).ours == (form.text,)  # stops at the first corner
    full = decode_page(page, exhaustive=True)
    assert set(full.ours) == {form.text, other} and full.strategy == "corner:top-right"


# --------------------------------------------------------------------------------------------- the fallbacks


def test_exhaustive_mode_runs_every_step(form):
    page = via_pdf(sl.scanned(form.image), 300)  # DCT-scaled to 150 dpi: every fallback applies
    result = decode_page(page, exhaustive=True)
    # 4 corners + page, for: as is, full resolution, median, global histogram; 4 corners enlarged, rotated
    assert result.attempts == 5 * 4 + 4 + 4
    assert result.ours == (form.text,) and result.strategy == "corner:top-right" and result.mirrored == ()


def test_a_code_too_fine_for_the_dct_scaled_image_is_read_at_full_resolution():
    page = sl.make_page(sl.payload_text("000042"), dpi=300, module_mm=0.2)
    scan = via_pdf(sl.scanned(page.image, noise=3, softness=0.4), 300)
    assert scan.scale == 0.5
    result = decode_page(scan)
    assert result.ours == (page.text,) and result.strategy.startswith("full-resolution:")
    assert decode_page(scan, fallbacks=False).ours == ()


def test_the_higher_resolution_comes_from_the_page_source(form):
    """The working image has no readable code, the source behind it has: the fallback goes back to it."""
    full = sl.scanned(form.image)
    working = full.reduce(2)
    draw = ImageDraw.Draw(working)
    for box in corner_boxes(*working.size).values():
        draw.rectangle(box, fill=0)  # nothing readable (and not blank) at the working resolution
    page = PageImage(index=0, method="embedded-jpeg", width=full.width, height=full.height, dpi=300,
                     dpi_source="page-size", mode="L", image=working, scale=0.5,
                     reload=Reload("jpeg", sl.jpeg_bytes(full, quality=90)))
    result = decode_page(page)
    assert result.ours == (form.text,) and result.strategy == "full-resolution:corner:top-right"


def test_a_rasterised_page_is_rendered_again_at_a_higher_resolution():
    text = sl.payload_text("000043")
    [page] = iter_pages(sl.vector_pdf_bytes([text]), filename="printed.pdf")
    assert page.can_go_higher and page.full_resolution().width > page.image.width
    assert decode_page(page).ours == (text,)


def test_plain_images_and_arrays_are_accepted(form):
    image = sl.scanned(sl.resample(form.image, 300, 200))
    assert decode_page(image).ours == (form.text,)
    assert decode_page(np.asarray(image)).ours == (form.text,)
    assert decode_page(image.convert("RGB")).ours == (form.text,)


def test_a_page_that_failed_to_load_cannot_be_decoded():
    with pytest.raises(ValueError, match="no image"):
        decode_page(PageImage(index=3, method="embedded-jpeg", error=PageError("corrupt", "page 4: broken")))


def test_corner_regions_cover_where_our_codes_sit(form):
    boxes = corner_boxes(*form.image.size)
    assert list(boxes) == list(CORNERS)
    tr, bl = form.code_boxes
    inside = lambda inner, outer: (outer[0] <= inner[0] and outer[1] <= inner[1]  # noqa: E731
                                   and inner[2] <= outer[2] and inner[3] <= outer[3])
    assert inside(tr, boxes["top-right"]) and inside(bl, boxes["bottom-left"])


def test_decode_pages_reports_every_page(form):
    blank = Image.new("L", form.image.size, 250)
    data = sl.scanner_pdf_bytes([sl.scanned(form.image), sl.scanned(blank, seed=4)], dpi=300)
    first, second = decode_pages(data, filename="duplex.pdf")
    assert first.result.ours == (form.text,) and first.method == "embedded-jpeg" and first.load_ms > 0
    assert second.result.ours == () and second.result.blank is True
    assert isinstance(second.result, DecodeResult) and second.result.attempts == 5  # no fallbacks on blanks


# --------------------------------------------------------------------------------------------- blank pages

W300, H300 = sl.mm_to_px(210, 300), sl.mm_to_px(297, 300)


def _paper(level: int = 246) -> Image.Image:
    return Image.new("L", (W300, H300), level)


def _show_through(image: Image.Image, form: sl.SyntheticPage) -> Image.Image:
    mirrored = np.asarray(form.image.transpose(Image.Transpose.FLIP_LEFT_RIGHT), dtype=np.float32)
    a = np.asarray(image, dtype=np.float32) - (255 - mirrored) * 0.12
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8), "L")


def _holes_and_staple(image: Image.Image) -> Image.Image:
    for y in (H300 // 2 - sl.mm_to_px(40, 300), H300 // 2 + sl.mm_to_px(40, 300)):
        image = sl.hole_punch(image, (sl.mm_to_px(12, 300), y), dpi=300)
    return sl.staple(image, (sl.mm_to_px(10, 300), sl.mm_to_px(10, 300)), dpi=300, angle_deg=-45)


def _scanner_edges_and_streak(image: Image.Image) -> Image.Image:
    image = image.copy()
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, image.width, 20), fill=30)  # the lid's shadow along the top
    draw.rectangle((image.width - 30, 0, image.width, image.height), fill=60)  # the bed's edge
    draw.line([(900, 0), (900, image.height)], fill=110, width=3)  # dirt on the ADF glass
    return image


def _dust(image: Image.Image, n: int = 40, seed: int = 5) -> Image.Image:
    rng = np.random.default_rng(seed)
    image = image.copy()
    draw = ImageDraw.Draw(image)
    for _ in range(n):
        x, y, r = rng.integers(0, image.width), rng.integers(0, image.height), rng.uniform(1, 4)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=int(rng.integers(30, 120)))
    return image


def _pen(image: Image.Image, strokes: list[list[tuple[float, float]]], width_mm: float = 0.5,
         ink: int = 50) -> Image.Image:
    image = image.copy()
    draw = ImageDraw.Draw(image)
    for stroke in strokes:
        draw.line([(sl.mm_to_px(x, 300), sl.mm_to_px(y, 300)) for x, y in stroke], fill=ink,
                  width=sl.mm_to_px(width_mm, 300))
    return image


TICK = [[(100, 150), (103, 154), (110, 144)]]  # one tick, ~ 15 mm of line
INITIALS = [[(60, 200), (64, 190), (68, 200)], [(72, 190), (72, 200), (78, 200)]]


def blank_backs(form) -> dict[str, tuple[Image.Image, int]]:
    paper = _paper()
    return {
        "noisy": (sl.add_noise(paper, 10), 300),
        "jpeg-q30": (sl.jpeg_round_trip(sl.add_noise(paper, 8), 30), 300),
        "photocopy-grey": (sl.add_noise(sl.low_contrast(paper), 8), 300),
        "show-through": (sl.add_noise(_show_through(paper, form), 6), 300),
        "holes-and-staple": (sl.add_noise(_holes_and_staple(paper), 6), 300),
        "skewed-with-holes": (sl.add_noise(sl.rotate(_holes_and_staple(paper), -2.5), 6), 300),
        "edges-and-streak": (sl.add_noise(_scanner_edges_and_streak(paper), 6), 300),
        "dust": (sl.add_noise(_dust(paper), 6), 300),
        "150-dpi": (sl.add_noise(sl.resample(paper, 300, 150), 8), 150),
        "everything": (sl.jpeg_round_trip(sl.add_noise(_scanner_edges_and_streak(_dust(sl.rotate(
            _holes_and_staple(_show_through(paper, form)), 2))), 7), 40), 300),
    }


def inked_pages(form) -> dict[str, tuple[Image.Image, int]]:
    paper = _paper()
    return {
        "one-tick": (sl.add_noise(_pen(paper, TICK), 8), 300),
        "thin-tick": (sl.add_noise(_pen(paper, TICK, width_mm=0.3), 8), 300),
        "initials": (sl.add_noise(_pen(paper, INITIALS), 8), 300),
        "pencil-initials": (sl.add_noise(_pen(paper, INITIALS, width_mm=0.4, ink=165), 5), 300),
        "z-line": (sl.add_noise(_pen(paper, [[(25, 25), (185, 25), (25, 270), (185, 270)]]), 8), 300),
        "tick-photocopied-150-dpi": (sl.add_noise(sl.low_contrast(sl.resample(_pen(paper, TICK), 300, 150)), 6),
                                     150),
        "tick-jpeg-q30": (sl.jpeg_round_trip(sl.add_noise(_pen(paper, TICK, width_mm=0.3), 8), 30), 300),
        "our-form": (sl.scanned(form.image), 300),
        "form-without-codes": (sl.scanned(sl.make_page(dpi=300, corners=()).image), 300),
    }


@pytest.fixture(scope="module")
def blank_pages(form):
    return {name: via_pdf(image, dpi) for name, (image, dpi) in blank_backs(form).items()}


@pytest.fixture(scope="module")
def inked(form):
    return {name: via_pdf(image, dpi) for name, (image, dpi) in inked_pages(form).items()}


def test_blank_backs_are_blank(blank_pages):
    assert {name: is_blank(page) for name, page in blank_pages.items()} == {name: True for name in blank_pages}


def test_a_few_pen_marks_are_not_blank(inked):
    assert {name: is_blank(page) for name, page in inked.items()} == {name: False for name in inked}


def test_our_code_showing_through_from_the_front_is_not_ours(form):
    """The back of a thin sheet shows the front's code mirror-imaged, and zxing reads mirrored codes."""
    back = sl.add_noise(sl.blur(_show_through(_paper(), form), 1.0), 4)
    result = decode_page(via_pdf(back, 300))
    assert result.ours == () and result.mirrored == (form.text,)
    assert result.blank is True and result.strategy is None


def test_a_mirror_printed_form_is_not_ours_either(form):
    mirrored = sl.scanned(form.image.transpose(Image.Transpose.FLIP_LEFT_RIGHT))
    result = decode_page(via_pdf(mirrored, 300), fallbacks=False)
    assert result.ours == () and result.mirrored == (form.text,) and result.blank is False


def test_decode_page_says_blank_only_when_nothing_of_ours_is_there(blank_pages, inked):
    assert decode_page(blank_pages["everything"]).blank is True
    assert decode_page(inked["initials"]).blank is False
    assert decode_page(inked["our-form"]).blank is None  # ours found: not evaluated


def test_is_blank_on_plain_images_assumes_a4():
    paper = sl.add_noise(Image.new("L", (1240, 1754), 240), 8)
    assert is_blank(paper) and is_blank(np.asarray(paper))
    marked = _pen(Image.new("L", (W300, H300), 240), TICK).resize((1240, 1754), Image.BOX)
    assert not is_blank(marked)


# ------------------------------------------------------------------------------- pages from the real renderer


@pytest.fixture(scope="module")
def rendered_form():
    """Two pages of an issued copy, drawn by app.forms.render.render (vector PDF), and their expected payloads."""
    import datetime as dt
    import io

    from app.forms.layout.layout import load_layout
    from app.forms.layout.payload import verify
    from app.forms.render.render import CopyInfo, IssueInfo, render_issued
    from app.forms.resources import resource

    layout = load_layout(resource("templates", "PRD-BR-102.yaml"))
    info = IssueInfo(site_code="BSL-01", site_name="Basel Solids", version=3, effective_date=dt.date(2025, 1, 15),
                     issued_to="Operator", issued_by_name="Anna Müller", issued_by_username="amueller",
                     issued_at=dt.datetime(2025, 3, 4, 13, 7, tzinfo=dt.UTC), purpose="Batch 0117",
                     reference=None, due_date=None, issuance_id=42)
    out = io.BytesIO()
    pages = render_issued(out, layout, info, [CopyInfo(serial="000321", copy_no=1, copy_count=1)],
                          key=sl.TEST_KEY)
    expected = [f"FT1|BSL-01|000321|{n}/{pages}|{layout.code}@3|" for n in range(1, pages + 1)]
    return out.getvalue(), expected, verify


def test_rendered_issued_pages_decode_from_the_vector_pdf(rendered_form):
    data, expected, verify = rendered_form
    pages = list(iter_pages(data, filename="issued.pdf"))
    results = [decode_page(p) for p in pages]
    assert [p.method for p in pages] == ["rasterised"] * len(expected)
    assert [len(r.ours) for r in results] == [1] * len(expected)
    for result, prefix in zip(results, expected):
        assert result.ours[0].startswith(prefix)
        verify(result.ours[0], sl.TEST_KEY)


def test_rendered_pages_printed_and_scanned_badly_still_decode(rendered_form):
    data, expected, _verify = rendered_form
    document = pdfium.PdfDocument(data)
    printed = [page.render(scale=300 / 72, grayscale=True).to_pil() for page in document]
    first = sl.add_noise(sl.low_contrast(sl.rotate(printed[0], 180)), 8)
    second = sl.jpeg_round_trip(sl.scanned(sl.rotate(sl.resample(printed[1], 300, 200), 90 + 2)), 40)
    scans = list(iter_pages(sl.image_pdf_bytes([sl.jpeg_page(first, dpi=300), sl.jpeg_page(second, dpi=200)]),
                            filename="returned.pdf"))
    results = [decode_page(p) for p in scans]
    assert [r.ours[0].startswith(prefix) for r, prefix in zip(results, expected)] == [True, True]
