"""A scanned page as the QR decoder gets it (:class:`PageImage`), the errors a file or page can have, and the
image helpers the PDF, TIFF and single-image readers share. See ``app.forms.scan.scan_pages`` for how pages are read."""

from __future__ import annotations

import dataclasses
import io
import math
import os
from typing import Union

import pypdfium2 as pdfium
from PIL import Image

from app.forms.scan.scan_jpeg import open_draft, top_rows

Source = Union[bytes, bytearray, memoryview, str, "os.PathLike[str]"]

# how a page image was obtained
EMBEDDED_JPEG = "embedded-jpeg"
EMBEDDED_IMAGE = "embedded-image"
RASTERISED = "rasterised"
RASTER_FILE = "raster-file"

# SourceError reason codes (the whole file is unusable)
SOURCE_REASONS = {
    "empty-file": "the file has no content",
    "unsupported-format": "not a PDF, TIFF, PNG or JPEG file",
    "corrupt": "the content is damaged or is not what the file name says",
    "truncated": "the file ends early (still being written, or cut off)",
    "encrypted": "the PDF needs a password",
    "no-pages": "the file contains no pages",
    "too-large": "the image is too large to decode safely",
    "too-many-pages": "the file has more pages than this site reads from one file",
    "unreadable": "the file could not be read",
}
# PageError reason codes (one page is unusable, the others are fine)
PAGE_REASONS = {
    "corrupt": "the page's image data cannot be decoded",
    "truncated": "the page's image data ends early",
    "too-large": "the page image is too large to decode safely",
    "render-failed": "PDFium could not load or render the page",
    "decoder-crashed": "the decoder process ended while reading the page",
    "timed-out": "reading the page took too long and was stopped",
}

DEFAULT_MIN_DPI = 150.0  # DCT-scaled decoding never goes below this effective resolution
RASTER_DPI = 200.0  # vector pages are rendered at this resolution ...
FULL_RASTER_DPI = 300.0  # ... and again at this one for the decoder's fallback
# A page image beyond this many pixels is refused ("too-large") before anything is allocated for it; sites set
# their own (intake.max_megapixels) and pass it as ``max_pixels``. Pillow refuses beyond ~179 Mpx regardless.
MAX_PIXELS = 100_000_000
_A4_LONG_INCHES = 297 / 25.4
_PLAUSIBLE_LONG_INCHES = (3.0, 40.0)  # a page image whose stated size is outside this has no usable dpi
EOF_WINDOW = 4096  # "%%EOF" must be within this many bytes of the end of a complete PDF


class SourceError(Exception):
    """The file cannot be read at all. ``reason_code`` is one of :data:`SOURCE_REASONS`."""

    def __init__(self, reason_code: str, message: str) -> None:
        super().__init__(reason_code, message)
        self.reason_code = reason_code
        self.message = message

    def __str__(self) -> str:
        return f"{self.message} [{self.reason_code}]"


@dataclasses.dataclass(frozen=True)
class PageError:
    """Why one page could not be turned into an image. ``reason_code`` is one of :data:`PAGE_REASONS`."""

    reason_code: str
    message: str


@dataclasses.dataclass(frozen=True)
class Reload:
    """Plain data to decode a page again at a higher resolution (see :meth:`PageImage.full_resolution`)."""

    kind: str  # "jpeg" (data = the JPEG bytes) or "pdf" (data = PDF bytes or path, render at ``dpi``)
    data: bytes | str
    index: int = 0
    dpi: float = FULL_RASTER_DPI
    rotation: int = 0  # clockwise quarter turns to apply after decoding (the PDF page's /Rotate)


@dataclasses.dataclass(frozen=True)
class Deferred:
    """A scanner page's JPEG not decoded yet (``iter_pages(lazy=True)``): decoded DCT-scaled by 1/``factor``
    to a working image of ``size``, when and as far as the decoder needs it."""

    jpeg: bytes
    factor: int
    size: tuple[int, int]


@dataclasses.dataclass(frozen=True)
class PageImage:
    """One page of a scanned file, ready for the QR decoder.

    ``width``/``height``/``dpi``/``mode`` describe the original page image (what is stored as the record);
    ``image`` is the greyscale ("L") working image, which may be smaller: ``scale`` = image width / width.
    ``dpi`` comes from the file when it states a plausible one (``dpi_source`` "file"), else from the PDF
    page size ("page-size"), the rendering resolution ("rendered"), an A4 assumption ("assumed-a4"), or is None.
    ``mode`` is the Pillow mode of the original ("1", "L", "RGB", "CMYK", "P", ...) or "vector" for a
    rasterised PDF page. A page that failed has ``error`` set and no image.
    """

    index: int
    method: str
    width: int = 0
    height: int = 0
    dpi: float | None = None
    dpi_source: str = "unknown"
    mode: str = ""
    image: Image.Image | None = dataclasses.field(default=None, repr=False, compare=False)
    scale: float = 1.0
    error: PageError | None = None
    reload: Reload | None = dataclasses.field(default=None, repr=False, compare=False)
    deferred: Deferred | None = dataclasses.field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.error is None and self.image is not None

    def loaded(self) -> PageImage:
        """This page with its working image decoded (a lazy page has none yet); raises what Pillow raises."""
        if self.deferred is None:
            return self
        im, _mode, _size = open_draft(self.deferred.jpeg, self.deferred.factor)
        return dataclasses.replace(self, image=to_grey(im), deferred=None)

    def top_rows(self, rows: int) -> Image.Image | None:
        """The top ``rows`` rows of a lazy page's working image, decoding nothing below (None if not lazy,
        or if it cannot be done: then use :meth:`loaded`)."""
        if self.deferred is None:
            return None
        return top_rows(self.deferred.jpeg, self.deferred.factor, rows)

    @property
    def effective_dpi(self) -> float | None:
        """Resolution of ``image`` (the working image)."""
        if self.dpi is None:
            return None
        if self.method == RASTERISED:
            return self.dpi
        return self.dpi * self.scale

    @property
    def can_go_higher(self) -> bool:
        """Whether :meth:`full_resolution` would give more pixels than ``image``."""
        if self.reload is None:
            return False
        if self.reload.kind == "pdf":
            return self.reload.dpi > (self.dpi or 0) + 1
        return self.scale < 0.999

    def full_resolution(self) -> Image.Image | None:
        """The page decoded again at a higher resolution (greyscale), or None if there is nothing more."""
        if not self.can_go_higher or self.reload is None:
            return None
        return load_reload(self.reload)


@dataclasses.dataclass(frozen=True)
class SourceInput:
    kind: str
    name: str
    data: bytes | None  # the bytes, or None when reading from ``path``
    path: str | None
    size: int
    tail: bytes

    def stream(self) -> io.BytesIO | str:
        return io.BytesIO(self.data) if self.data is not None else self.path  # type: ignore[return-value]

    def pdf_input(self) -> bytes | str:
        return self.data if self.data is not None else self.path  # type: ignore[return-value]


def load_reload(reload: Reload) -> Image.Image:
    """Decode a page again from its :class:`Reload` data (full resolution / higher rendering dpi)."""
    if reload.kind == "jpeg":
        im = Image.open(io.BytesIO(reload.data) if isinstance(reload.data, bytes) else reload.data)
        im.draft("L", im.size)
        return rotate(to_grey(im), reload.rotation)
    doc = pdfium.PdfDocument(reload.data)
    try:
        page = doc[reload.index]
        try:
            return render(page, reload.dpi)
        finally:
            page.close()
    finally:
        doc.close()


def fitting_dpi(width_pt: float, height_pt: float, dpi: float, max_pixels: int) -> float:
    """``dpi``, or the highest resolution below it at which a page of this size stays within ``max_pixels``."""
    pixels = megapixels(width_pt, height_pt, dpi) * 1e6
    if pixels <= max_pixels:
        return dpi
    return dpi * math.sqrt(max_pixels / pixels) * 0.999


def megapixels(width_pt: float, height_pt: float, dpi: float) -> float:
    return (max(width_pt, 0.0) * dpi / 72.0) * (max(height_pt, 0.0) * dpi / 72.0) / 1e6


def render(page: pdfium.PdfPage, dpi: float) -> Image.Image:
    bitmap = page.render(scale=dpi / 72.0, grayscale=True, may_draw_forms=False)
    image = bitmap.to_pil()
    return image if image.mode == "L" else image.convert("L")


def reason_of(exc: BaseException) -> str:
    text = str(exc).lower()
    if isinstance(exc, EOFError) or "truncated" in text or "premature end" in text or "not enough data" in text:
        return "truncated"
    return "corrupt"


def file_dpi(info: dict, width: int, height: int) -> tuple[float | None, str]:
    dpi = info.get("dpi")
    value = None
    if isinstance(dpi, tuple) and dpi and dpi[0]:
        try:
            value = float(dpi[0])
        except (TypeError, ValueError):
            value = None
    if value and value >= 50:
        long_in = max(width, height) / value
        if _PLAUSIBLE_LONG_INCHES[0] <= long_in <= _PLAUSIBLE_LONG_INCHES[1]:
            return round(value, 1), "file"
    if max(width, height) >= 600:
        return round(max(width, height) / _A4_LONG_INCHES, 1), "assumed-a4"
    return None, "unknown"


def draft_factor(dpi: float | None, min_dpi: float) -> int:
    """The largest DCT scale-down (1, 2, 4, 8) that keeps the resolution at or above ``min_dpi``."""
    if not dpi:
        return 1
    factor = 1
    while factor < 8 and dpi / (factor * 2) >= min_dpi - 0.5:
        factor *= 2
    return factor


def decode_jpeg(jpeg: bytes, dpi: float | None,
                 min_dpi: float) -> tuple[Image.Image, str, float, tuple[int, int]]:
    """Greyscale, DCT-scaled decoding: (image, original mode, scale, original size)."""
    im, mode, (w, h) = open_draft(jpeg, draft_factor(dpi, min_dpi))
    grey = to_grey(im)
    return grey, mode, grey.width / w, (w, h)


def to_grey(im: Image.Image) -> Image.Image:
    """Decode and convert to 8-bit greyscale (transparent areas become paper white)."""
    im.load()
    if im.mode == "L":
        return im
    if im.mode in ("LA", "RGBA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("L")
    if im.mode.startswith("I;16") or im.mode == "I":
        return im.point(lambda v: v / 256 if im.mode.startswith("I;16") else v).convert("L")
    return im.convert("L")


def rotate(image: Image.Image, rotation: int) -> Image.Image:
    """Apply a PDF page's /Rotate (clockwise degrees)."""
    turn = {90: Image.Transpose.ROTATE_270, 180: Image.Transpose.ROTATE_180, 270: Image.Transpose.ROTATE_90}
    return image.transpose(turn[rotation]) if rotation in turn else image


def page_image(index: int, method: str, size: tuple[int, int], dpi: float | None, dpi_source: str, mode: str,
          image: Image.Image, scale: float, rotation: int, reload: Reload | None) -> PageImage:
    width, height = size
    if rotation in (90, 270):
        width, height = height, width
    return PageImage(index=index, method=method, width=width, height=height, dpi=dpi,
                     dpi_source=dpi_source if dpi else "unknown", mode=mode, image=rotate(image, rotation),
                     scale=scale, reload=reload)
