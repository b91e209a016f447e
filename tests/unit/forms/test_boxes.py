"""The writing-box geometry (app.forms.render.boxes), checked against the issued PDF itself: every box's edges
are printed lines and its inside is empty paper, apart from what its masks cover; the QR symbols sit where
``qr_symbol_rect`` says."""

from __future__ import annotations

import io
import json

import numpy as np
import pypdfium2 as pdfium
import pytest
import zxingcpp

from app.forms.layout.geometry import Box, FormGeometry, Rect, qr_symbol_rect
from app.forms.layout.layout import FieldType, TemplateLayout, load_layout
from app.forms.render.boxes import form_geometry
from app.forms.render.qr import qr_matrix
from app.forms.render.render import render_issued
from app.forms.resources import resource
from tests.unit.forms.test_render import KEY, copies, issue

DPI = 200
PX_PER_MM = DPI / 25.4
CODES = ["QC-WS-014", "PRD-BR-102", "QC-CAL-021", "PRD-LOG-007"]


def _sample(code: str) -> TemplateLayout:
    return load_layout(resource("templates", f"{code}.yaml"))


def _pages(layout: TemplateLayout) -> list[np.ndarray]:
    out = io.BytesIO()
    render_issued(out, layout, issue(), copies(count=1), key=KEY)
    document = pdfium.PdfDocument(out.getvalue())
    return [np.asarray(page.render(scale=DPI / 72, grayscale=True).to_pil().convert("L")) for page in document]


def _px(value_mm: float) -> int:
    return int(round(value_mm * PX_PER_MM))


def _inside_is_paper(image: np.ndarray, box: Box) -> bool:
    """No printed ink inside the box, 0.6 mm in from its edges, outside its masks."""
    r = box.rect
    area = image[_px(r.y_mm + 0.6):_px(r.bottom_mm - 0.6), _px(r.x_mm + 0.6):_px(r.right_mm - 0.6)].copy()
    for m in box.masks:
        top, left = _px(m.y_mm - r.y_mm - 0.6), _px(m.x_mm - r.x_mm - 0.6)
        area[max(0, top):max(0, top + _px(m.h_mm)), max(0, left):max(0, left + _px(m.w_mm))] = 255
    return bool((area < 160).sum() == 0)


def _edges_are_lines(image: np.ndarray, box: Box) -> bool:
    """Each of the four edges: a printed line within 0.3 mm, along at least 90 % of its length."""
    r = box.rect
    tol = max(1, _px(0.3))

    def line(rows: slice, cols: slice, axis: int) -> bool:
        strip = image[rows, cols] < 200
        return bool(strip.any(axis=axis).mean() >= 0.9)

    top, bottom, left, right = _px(r.y_mm), _px(r.bottom_mm), _px(r.x_mm), _px(r.right_mm)
    inner_cols = slice(left + tol + 1, right - tol - 1)
    inner_rows = slice(top + tol + 1, bottom - tol - 1)
    return (line(slice(top - tol, top + tol + 1), inner_cols, 0)
            and line(slice(bottom - tol, bottom + tol + 1), inner_cols, 0)
            and line(inner_rows, slice(left - tol, left + tol + 1), 1)
            and line(inner_rows, slice(right - tol, right + tol + 1), 1))


@pytest.mark.parametrize("code", CODES)
def test_every_box_is_printed_where_the_geometry_says(code: str) -> None:
    layout = _sample(code)
    geometry = form_geometry(layout)
    images = _pages(layout)
    assert len(images) == len(geometry.pages) == layout.pages
    for page, image in zip(geometry.pages, images, strict=True):
        assert page.boxes
        for box in page.boxes:
            assert _inside_is_paper(image, box), f"page {page.page}: {box.field} {box.part} has print inside"
            if not box.part.startswith("signature:"):  # a signature block's top edge is its header band
                assert _edges_are_lines(image, box), f"page {page.page}: {box.field} {box.part} edges not printed"


def test_a_mask_is_needed_where_a_hint_is_printed() -> None:
    """The masks are not decoration: without them, the date field's format hint is ink inside its box."""
    layout = _sample("QC-WS-014")
    dated = next(f for f in layout.fields if f.type is FieldType.DATE)
    box = next(b for b in form_geometry(layout).boxes_of(dated.name) if b.part == "entry")
    assert box.masks
    image = _pages(layout)[dated.page - 1]
    assert not _inside_is_paper(image, Box(box.field, box.part, box.rect))


@pytest.mark.parametrize("code", CODES)
def test_the_boxes_follow_the_layout(code: str) -> None:
    layout = _sample(code)
    geometry = form_geometry(layout)
    for field in layout.fields:
        parts = [b.part for b in geometry.boxes_of(field.name)]
        if field.type is FieldType.CHECKBOX:
            expected = ["option:Yes", "option:No"]
        elif field.type is FieldType.CHOICE:
            expected = [f"option:{c}" for c in field.choices]
        else:
            expected = ["entry"]
        expected += ["done_by"] if field.done_by else []
        expected += ["checked_by"] if field.checked_by else []
        assert parts == expected, field.name
        assert {p.page for p in geometry.pages if any(b.field == field.name for b in p.boxes)} == {field.page}
    signatures = [b.part for b in geometry.page(layout.pages).boxes if b.field is None]
    assert len(signatures) == len(layout.signature_blocks)
    assert all(p.startswith("signature:") for p in signatures)
    assert len(set(signatures)) == len(signatures)  # a role used twice is told apart ("signature:performed:2")


@pytest.mark.parametrize("code", CODES)
def test_no_two_boxes_of_a_page_overlap_and_all_lie_on_the_paper(code: str) -> None:
    geometry = form_geometry(_sample(code))
    for page in geometry.pages:
        rects = [b.rect for b in page.boxes]
        for i, a in enumerate(rects):
            assert 0 <= a.x_mm and a.right_mm <= geometry.width_mm and 0 <= a.y_mm
            assert a.bottom_mm <= geometry.height_mm
            for b in rects[i + 1:]:
                overlap_w = min(a.right_mm, b.right_mm) - max(a.x_mm, b.x_mm)
                overlap_h = min(a.bottom_mm, b.bottom_mm) - max(a.y_mm, b.y_mm)
                assert overlap_w <= 0.01 or overlap_h <= 0.01, (a, b)


def _corners_mm(barcode: zxingcpp.Barcode) -> list[tuple[float, float]]:
    p = barcode.position
    return [(pt.x / PX_PER_MM, pt.y / PX_PER_MM) for pt in (p.top_left, p.top_right, p.bottom_right, p.bottom_left)]


def test_the_codes_are_where_the_marks_say() -> None:
    """The reference points the reader registers a scan with: each decoded symbol's corners lie within half a
    module of ``qr_symbol_rect`` of its slot."""
    layout = _sample("QC-WS-014")
    geometry = form_geometry(layout)
    image = _pages(layout)[0]
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(found) == 2
    modules = qr_matrix(found[0].text).size
    for barcode in found:
        corners = _corners_mm(barcode)
        mark = min(geometry.page(1).marks, key=lambda m: abs(m.rect.x_mm - corners[0][0]))
        symbol: Rect = qr_symbol_rect(mark, modules)
        expected = [(symbol.x_mm, symbol.y_mm), (symbol.right_mm, symbol.y_mm),
                    (symbol.right_mm, symbol.bottom_mm), (symbol.x_mm, symbol.bottom_mm)]
        module = symbol.w_mm / modules
        for (x, y), (ex, ey) in zip(corners, expected, strict=True):
            assert abs(x - ex) < module and abs(y - ey) < module, (mark.corner, (x, y), (ex, ey))


def test_the_json_has_the_documented_shape() -> None:
    geometry: FormGeometry = form_geometry(_sample("PRD-BR-102"))
    data = json.loads(geometry.to_json())
    assert set(data["paper"]) == {"width_mm", "height_mm"}
    assert [p["page"] for p in data["pages"]] == [1, 2]
    for page in data["pages"]:
        for box in page["boxes"]:
            assert {"field", "part", "x_mm", "y_mm", "w_mm", "h_mm"} <= set(box)
        assert [m["corner"] for m in page["marks"]] == ["top-right", "bottom-left"]
