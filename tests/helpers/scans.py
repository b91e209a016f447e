"""Turning issued PDFs into "scans": render the real controlled pages, then damage them like an office scanner."""

from __future__ import annotations

from pathlib import Path

import pypdfium2
from PIL import Image

from app.services.core.db import Database


def issued_page_images(db: Database, pdf_sha256: str, *, dpi: int = 200) -> list[Image.Image]:
    """Every page of a stored controlled PDF as a greyscale image, as a scanner would capture it."""
    doc = pypdfium2.PdfDocument(str(db.files.path_for(pdf_sha256)))
    try:
        return [doc[i].render(scale=dpi / 72).to_pil().convert("L") for i in range(len(doc))]
    finally:
        doc.close()


def write(folder: Path, name: str, data: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    return path


def site_key(db: Database) -> bytes:
    """The QR key of the site's current key version (from its key file, never the database)."""
    return db.keyring().key("qr")
