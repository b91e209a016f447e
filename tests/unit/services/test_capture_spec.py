"""SC-03 / SC-01 rules on plain data: the capture specification's shortfall in words, and the scanner a file names."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from app.forms.scan.scan_device import device_of
from app.services.scans.capture_spec import CaptureSpec, colour_class

pytestmark = pytest.mark.compliance


def test_sc03_shortfall_names_resolution_and_colour():
    spec = CaptureSpec(300, "colour")
    assert spec.shortfall(dpi=150, mode="L") == ("below the capture specification: 150 dpi < 300 dpi, greyscale "
                                                 "where colour is required")
    assert spec.shortfall(dpi=299.6, mode="RGB") is None  # a scanner's rounding is not a shortfall
    assert spec.shortfall(dpi=600, mode="1") == ("below the capture specification: black-and-white where colour is "
                                                 "required")
    assert spec.shortfall(dpi=None, mode="RGB").endswith("resolution unknown (the file states none) where 300 dpi "
                                                         "are required")
    assert spec.shortfall(dpi=72, mode="vector") is None  # drawn by software: nothing was captured
    assert CaptureSpec(150, "greyscale").shortfall(dpi=150, mode="L") is None
    assert "black-and-white where greyscale" in CaptureSpec(0, "greyscale").shortfall(dpi=90, mode="1")
    assert CaptureSpec().shortfall(dpi=None, mode=None) is None
    assert [colour_class(m) for m in ("1", "L", "I;16", "RGB", "CMYK", "P", "vector", None)] == [
        "black-and-white", "greyscale", "greyscale", "colour", "colour", "colour", None, None]
    assert CaptureSpec(300, "colour").text == "at least 300 dpi, in colour"


def test_sc01_device_from_tiff_exif_pdf_metadata_or_none():
    image = Image.new("L", (1240, 1754), 255)
    exif = Image.Exif()
    exif[271], exif[272], exif[305] = "Canon", "Canon DR-C225", "CaptureOnTouch 4.2"
    tiff = io.BytesIO()
    image.save(tiff, format="TIFF", dpi=(150, 150), exif=exif)
    assert device_of(tiff.getvalue(), filename="a.tif") == "Canon DR-C225 (CaptureOnTouch 4.2)"
    pdf = io.BytesIO()
    image.save(pdf, format="PDF", resolution=150.0, producer="Adobe PDF Scan Library", creator="ScanSnap Home")
    assert device_of(pdf.getvalue(), filename="b.pdf") == "PDF: ScanSnap Home / Adobe PDF Scan Library"
    png = io.BytesIO()
    image.save(png, format="PNG")
    assert device_of(png.getvalue(), filename="c.png") is None
    assert device_of(b"%PDF-1.4 garbage", filename="d.pdf") is None  # damaged: no device, never an error
    long = io.BytesIO()
    exif[272] = "X" * 400
    image.save(long, format="TIFF", exif=exif)
    assert len(device_of(long.getvalue(), filename="e.tif") or "") == 200
