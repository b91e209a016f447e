"""A signature is written across its printed line, which the reader masks: the loops above and below it are one
mark (signed), and specks on both sides of the line are not one (unsigned)."""

from __future__ import annotations

import io

import numpy as np
import pypdfium2 as pdfium
import pytest
import zxingcpp
from PIL import Image

from app.forms.render.boxes import form_geometry
from app.forms.render.render import render_issued
from app.forms.scan.field_states import read_scan_page
from app.forms.scan.readings import BoxState
from tests.helpers import scanlike as sl
from tests.helpers.forms import sample_layout
from tests.helpers.handwriting import Pen
from tests.helpers.paper_sheets import fill_worksheet
from tests.unit.forms.test_render import KEY, copies, issue

DPI = 300


@pytest.fixture(scope="module")
def blank() -> tuple[Image.Image, str]:
    out = io.BytesIO()
    render_issued(out, sample_layout("QC-WS-014"), issue(), copies(count=1), key=KEY)
    image = pdfium.PdfDocument(out.getvalue())[0].render(scale=DPI / 72, grayscale=True).to_pil().convert("L")
    return image, zxingcpp.read_barcodes(image)[0].text


def _signatures(image: Image.Image, text: str) -> dict[str, BoxState]:
    reading = read_scan_page(image, form_geometry(sample_layout("QC-WS-014")), 1, text)
    return {b.part: b.state for b in reading.boxes if b.field is None}


@pytest.mark.parametrize("seed", range(8))
def test_a_signature_across_its_line_reads_signed(blank, seed: int) -> None:  # noqa: ANN001
    image, text = blank
    filled = sl.scanned(fill_worksheet(image.copy(), form_geometry(sample_layout("QC-WS-014")), dpi=DPI, seed=seed),
                        seed=seed)
    assert set(_signatures(filled, text).values()) == {BoxState.INK}


def test_specks_on_both_sides_of_the_line_are_not_a_signature(blank) -> None:  # noqa: ANN001
    image, text = blank
    pen = Pen(image.copy(), DPI, np.random.default_rng(1))
    for box in form_geometry(sample_layout("QC-WS-014")).page(1).boxes:
        if box.part.startswith("signature:"):
            line = box.masks[-1]  # the signature's writing line
            x = line.x_mm + line.w_mm / 2  # dust just above and just below the line, joined across its mask
            pen.speck(x, line.y_mm - 0.3, radius_mm=0.35, grey=60)
            pen.speck(x, line.bottom_mm + 0.3, radius_mm=0.35, grey=60)
    assert set(_signatures(sl.scanned(pen.done()), text).values()) == {BoxState.BLANK}
