"""The scanner that made a file, where the file says (SC-01): a PDF's Creator and Producer, a TIFF's or JPEG's
EXIF Make, Model and Software. Read from the file's metadata only, nothing decoded; a file that says nothing, or
cannot be read, has no device (None) — never an error: intake reports damaged files at its probe stage."""

from __future__ import annotations

from PIL import Image

from app.forms.scan.scan_image import Source
from app.forms.scan.scan_pages import open_input
from app.forms.scan.scan_pdf import open_pdf

MAX_LENGTH = 200  # scan_source.device
_MAKE, _MODEL, _SOFTWARE = 271, 272, 305


def device_of(data: Source, *, filename: str | None = None) -> str | None:
    """"Canon DR-C225 (CaptureOnTouch 4.2)", "PDF: ScanSnap Manager / Adobe PDF Scan Library", or None."""
    try:
        src = open_input(data, filename)
        if src.kind == "pdf":
            doc = open_pdf(src)
            try:
                meta = doc.get_metadata_dict(skip_empty=True)
            finally:
                doc.close()
            return _clip(_joined(meta.get("Creator"), meta.get("Producer")), prefix="PDF: ")
        with Image.open(src.stream()) as image:
            exif = image.getexif()
            make, model, software = (str(exif.get(tag) or "").strip() for tag in (_MAKE, _MODEL, _SOFTWARE))
    except Exception:  # noqa: BLE001 - a file that cannot be read has no device here; the probe says why
        return None
    if model.lower().startswith(make.lower()):  # "Canon" + "Canon DR-C225": the model names its maker already
        make = ""
    name = " ".join(p for p in (make, model) if p)
    if software:
        name = f"{name} ({software})" if name else software
    return _clip(name)


def _joined(*parts: object) -> str:
    seen: list[str] = []
    for part in parts:
        text = str(part or "").strip()
        if text and text not in seen:
            seen.append(text)
    return " / ".join(seen)


def _clip(text: str, *, prefix: str = "") -> str | None:
    text = " ".join(text.replace("\x00", "").split())
    if not text:
        return None
    text = prefix + text
    return text if len(text) <= MAX_LENGTH else text[:MAX_LENGTH - 1] + "…"
