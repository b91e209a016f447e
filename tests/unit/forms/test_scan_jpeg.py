"""The DCT-scaled JPEG decode really scales: an A4 page at 300 dpi is 2481 px wide (odd), and asking Pillow for
ceil(2481 / 2) made it decode the page whole."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from app.forms.scan.scan_jpeg import open_draft


@pytest.mark.parametrize(("size", "factor"), [((2481, 3508), 2), ((2481, 3509), 4), ((2480, 3508), 2), ((3, 5), 2)])
def test_an_odd_sized_page_is_decoded_scaled(size: tuple[int, int], factor: int) -> None:
    buffer = io.BytesIO()
    Image.new("L", size, 200).save(buffer, "JPEG")
    image, mode, original = open_draft(buffer.getvalue(), factor)
    assert original == size and mode == "L"
    assert image.size == (-(-size[0] // factor), -(-size[1] // factor))
