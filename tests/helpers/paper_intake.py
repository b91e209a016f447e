"""Helpers of the paper intake tests (issue 16: BF-02 extra pages, SC-01..03 capture, ES-08 versions)."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path
from typing import Any

import pypdfium2
import zxingcpp
from PIL import Image

from app.services.core.db import Database
from app.services.site import config_changes, settings
from app.services.templates import templates
from tests.helpers import scanlike as sl
from tests.helpers.forms import effective_template, sample_layout
from tests.helpers.scans import write
from tests.helpers.seed import PASSWORD, Seed


def set_setting(seed: Seed, key: str, value: Any) -> None:
    """Change a setting as the administrator; if it needs QA's approval (a GMP setting), QA approves it."""
    change = settings.change(seed.db, seed.admin, key=key, value=value, reason="test: capture specification")
    if change is not None and change.is_pending:
        config_changes.approve(seed.db, seed.qa, change_id=change.id, username="qa", password=PASSWORD)


def five_page_template(seed: Seed, code: str = "QC-WS-014") -> templates.TemplateVersionInfo:
    """The sample worksheet spread over five pages (its fields on page 1, the signature blocks on page 5)."""
    return effective_template(seed, code, layout=dataclasses.replace(sample_layout(code), pages=5))


def pdf_images(path: Path, *, dpi: int = 150) -> list[Image.Image]:
    doc = pypdfium2.PdfDocument(str(path))
    try:
        return [doc[i].render(scale=dpi / 72).to_pil().convert("L") for i in range(len(doc))]
    finally:
        doc.close()


def stored_pdf_images(db: Database, sha256: str, *, dpi: int = 150) -> list[Image.Image]:
    return pdf_images(db.files.path_for(sha256), dpi=dpi)


def codes_on(image: Image.Image) -> list[str]:
    """The QR texts on a page image (each code found, both of a page's two)."""
    return [b.text for b in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormats(
        zxingcpp.BarcodeFormat.QRCode))]


def page_of(text: str) -> str:
    """"6/7" of a payload text."""
    return text.split("|")[3]


def scan_png(folder: Path, name: str, image: Image.Image, *, dpi: int, colour: bool = False, seed: int = 1) -> Path:
    """A PNG as a scanner writes it: the page at ``dpi`` (resampled from its rendering's), grey or RGB."""
    page = sl.scanned(image, seed=seed)
    if colour:
        page = page.convert("RGB")
    return write(folder, name, sl.png_bytes(page, dpi=dpi))


def pdf_with_producer(folder: Path, name: str, image: Image.Image, *, dpi: int, producer: str,
                      creator: str = "") -> Path:
    """A one-page PDF of ``image`` whose Producer (and Creator) name the scanner software."""
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="PDF", resolution=float(dpi), producer=producer, creator=creator)
    return write(folder, name, buffer.getvalue())


def tiff_with_exif(folder: Path, name: str, image: Image.Image, *, dpi: int, make: str, model: str) -> Path:
    exif = Image.Exif()
    exif[271], exif[272] = make, model
    buffer = io.BytesIO()
    image.save(buffer, format="TIFF", dpi=(dpi, dpi), exif=exif, compression="tiff_lzw")
    return write(folder, name, buffer.getvalue())
