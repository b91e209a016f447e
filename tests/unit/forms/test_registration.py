"""Registration of scanned pages to their template's geometry (app.forms.scan.registration): real issued copies,
rendered, filled in and scanned (tests/helpers/filled_sheets), measured against where each point really is."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from PIL import Image

from app.forms.layout.geometry import qr_symbol_rect
from app.forms.scan.field_states import read_scan_page
from app.forms.scan.registration import Registration, RegistrationError, register
from tests.helpers import scanlike as sl
from tests.helpers.filled_sheets import FilledSheet, ScanOptions, make_sheet

SEED = 1515
MAX_BOX_ERROR_MM = 0.35  # what the reader's 0.7 mm inset from printed rules leaves room for


def box_error_mm(sheet: FilledSheet, registration: Registration) -> float:
    """The worst distance, over every box corner of the page, between where the registration puts it and where
    it really is."""
    worst = 0.0
    for box in sheet.geometry.page(sheet.page).boxes:
        r = box.rect
        for x, y in ((r.x_mm, r.y_mm), (r.right_mm, r.y_mm), (r.x_mm, r.bottom_mm), (r.right_mm, r.bottom_mm)):
            gx, gy = registration.to_px(x, y)
            tx, ty = sheet.true_px(x, y)
            worst = max(worst, float(np.hypot(gx - tx, gy - ty)) / registration.scale)
    return worst


def sheet(options: ScanOptions, *, template: str = "QC-WS-014", page: int = 1, index: int = 0) -> FilledSheet:
    return make_sheet(SEED, index, template=template, page=page, options=options)


def registered(s: FilledSheet) -> Registration:
    return register(s.image, s.geometry.page(s.page), payload_text=s.payload_text)


@pytest.mark.parametrize("turns", [0, 1, 2, 3])
def test_a_page_in_any_quarter_turn_registers_with_its_rotation(turns):
    s = sheet(ScanOptions(dpi=200, skew_deg=1.0, quarter_turns=turns, finish="jpeg"))
    reg = registered(s)
    assert reg.residual_mm < 0.2
    assert box_error_mm(s, reg) < MAX_BOX_ERROR_MM
    expected = (1.0 + 90 * turns + 180) % 360 - 180
    assert abs((reg.rotation_deg - expected + 180) % 360 - 180) < 0.3


@pytest.mark.parametrize(("skew", "scale"), [(3.0, 1.0), (-3.0, 1.0), (0.5, 0.95), (-0.5, 1.05), (-2.5, 0.96)])
def test_skewed_and_scaled_prints_register_within_a_third_of_a_millimetre(skew, scale):
    s = sheet(ScanOptions(dpi=200, skew_deg=skew, scale=scale, offset_mm=(1.5, -1.0)))
    reg = registered(s)
    assert box_error_mm(s, reg) < MAX_BOX_ERROR_MM
    assert reg.dpi == pytest.approx(200 * scale, rel=0.005)
    assert reg.rotation_deg == pytest.approx(skew, abs=0.2)


@pytest.mark.parametrize(("dpi", "finish"), [(150, "grey"), (150, "bitonal"), (300, "colour"), (600, "jpeg"),
                                             (600, "bitonal")])
def test_resolutions_and_finishes_register(dpi, finish):
    s = sheet(ScanOptions(dpi=dpi, skew_deg=-1.7, scale=0.98, finish=finish), index=dpi)
    reg = registered(s)
    assert reg.residual_mm < 0.25
    assert box_error_mm(s, reg) < MAX_BOX_ERROR_MM
    assert reg.dpi == pytest.approx(dpi * 0.98, rel=0.01)


def test_the_second_page_of_a_two_page_form_registers():
    s = sheet(ScanOptions(dpi=200, skew_deg=2.0), template="PRD-BR-102", page=2)
    assert box_error_mm(s, registered(s)) < MAX_BOX_ERROR_MM


def test_a_greyscale_array_registers_like_the_image():
    s = sheet(ScanOptions(dpi=150, skew_deg=0.8))
    from_image = registered(s)
    from_array = register(np.asarray(s.image), s.geometry.page(1), payload_text=s.payload_text)
    assert from_array == from_image


def test_to_mm_undoes_to_px():
    reg = registered(sheet(ScanOptions(dpi=200, skew_deg=2.2, scale=0.97, quarter_turns=1)))
    x, y = reg.to_mm(*reg.to_px(123.4, 56.7))
    assert (x, y) == (pytest.approx(123.4), pytest.approx(56.7))


def test_the_geometry_puts_the_codes_where_the_renderer_prints_them():
    """qr_symbol_rect against the real render: zxing finds the symbol's corners within a pixel at 300 dpi."""
    s = sheet(ScanOptions(dpi=300))
    reg = registered(s)
    for mark in s.geometry.page(1).marks:
        r = qr_symbol_rect(mark, 33)
        for x, y in ((r.x_mm, r.y_mm), (r.right_mm, r.bottom_mm)):
            assert np.hypot(*(np.subtract(reg.to_px(x, y), s.true_px(x, y)))) < 300 / 25.4 * 0.15


# ------------------------------------------------------------------------------------------------- refusals


def _paint_out(s: FilledSheet, corner: str) -> Image.Image:
    """The sheet with the code in ``corner`` (of the page) painted over."""
    mark = next(m for m in s.geometry.page(s.page).marks if m.corner == corner)
    r = mark.rect
    points = [s.true_px(x, y) for x in (r.x_mm, r.right_mm) for y in (r.y_mm, r.bottom_mm)]
    image = s.image.copy()
    image.paste(255, (int(min(p[0] for p in points)), int(min(p[1] for p in points)),
                      int(max(p[0] for p in points)) + 1, int(max(p[1] for p in points)) + 1))
    return image


@pytest.mark.parametrize("corner", ["top-right", "bottom-left"])
def test_a_page_with_one_code_left_is_refused_with_a_clear_error(corner):
    s = sheet(ScanOptions(dpi=200, skew_deg=1.0, quarter_turns=2))
    image = _paint_out(s, corner)
    with pytest.raises(RegistrationError) as caught:
        register(image, s.geometry.page(1), payload_text=s.payload_text)
    assert caught.value.reason == "codes-missing"
    reading = read_scan_page(image, s.geometry, 1, s.payload_text)
    assert reading.boxes == () and reading.residual_mm is None
    assert reading.error is not None and "only one of the page's two codes" in reading.error


def test_a_page_of_another_template_is_not_read_as_this_one():
    other = sheet(ScanOptions(dpi=200), template="PRD-LOG-007")
    mine = sheet(ScanOptions(dpi=200))
    reading = read_scan_page(other.image, mine.geometry, 1, None)
    assert reading.boxes == () and reading.error == "the page is of template PRD-LOG-007, not QC-WS-014"
    # told which page to expect, the other page's codes are not this page's codes
    reading = read_scan_page(other.image, mine.geometry, 1, mine.payload_text)
    assert reading.boxes == () and "none of the page's codes" in (reading.error or "")


def test_a_page_is_not_read_as_another_page_of_its_form():
    second = sheet(ScanOptions(dpi=200), template="PRD-BR-102", page=2)
    reading = read_scan_page(second.image, second.geometry, 1, None)
    assert reading.error == "the code says page 2, not page 1"


def test_two_different_codes_of_ours_on_one_page_are_refused():
    s = sheet(ScanOptions(dpi=300))
    image = s.image.copy()
    mark = next(m for m in s.geometry.page(1).marks if m.corner == "bottom-left")
    sl.draw_code(image, sl.payload_text(serial="999999", template="QC-WS-014"), sl.mm_to_px(mark.rect.x_mm, 300),
                 sl.mm_to_px(mark.rect.y_mm, 300), dpi=300)
    with pytest.raises(RegistrationError) as caught:
        register(image, s.geometry.page(1))
    assert caught.value.reason == "codes-differ"


@pytest.mark.parametrize("image", [
    Image.new("L", (10, 10), 255),
    Image.new("L", (1, 1), 0),
    Image.new("L", (1240, 1754), 0),
    Image.new("L", (1240, 1754), 255),
    Image.new("RGB", (1240, 1754), (40, 200, 90)),
    Image.fromarray(np.random.default_rng(3).integers(0, 256, (1754, 1240), dtype=np.uint8), "L"),
    np.zeros((3, 3, 3), dtype=np.uint8),
    np.full((2000, 300), 255, dtype=np.uint8),
], ids=["tiny", "one-pixel", "all-black", "all-white", "colour-fill", "noise", "3-d-array", "strip"])
def test_hostile_images_give_errors_not_crashes(image):
    s = sheet(ScanOptions(dpi=150))
    reading = read_scan_page(image, s.geometry, 1, s.payload_text)
    assert reading.error and reading.boxes == ()


def test_an_unknown_page_number_is_an_error():
    s = sheet(ScanOptions(dpi=150))
    assert read_scan_page(s.image, s.geometry, 7, s.payload_text).error == "template QC-WS-014 has no page 7"


def test_registration_is_plain_data():
    reg = registered(sheet(ScanOptions(dpi=150)))
    assert dataclasses.replace(reg) == reg and isinstance(hash(reg), int)
