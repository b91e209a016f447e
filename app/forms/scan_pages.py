"""From a scanned file (PDF, multi-page TIFF, PNG, JPEG) to one greyscale image per page.

:func:`iter_pages` yields one :class:`PageImage` per page, in page order. The format is recognised from the
content (magic bytes); the file name is only used in messages and to tell "random bytes named .pdf"
(``corrupt``) from a file type we do not read at all (``unsupported-format``).

How a page image is obtained (``PageImage.method``):

``embedded-jpeg``
    A scanner's PDF page is usually one JPEG covering the page. Its bytes are taken out of the PDF and decoded
    by Pillow straight to greyscale, DCT-scaled (``draft()``) by 1/2, 1/4 or 1/8 as long as the effective
    resolution stays at or above ``min_dpi`` (150 by default: a 300-dpi scan is decoded at 150 dpi, where a
    0.75 mm module is still 4.4 pixels). :meth:`PageImage.full_resolution` decodes it again at full size for
    the decoder's fallback.
``embedded-image``
    One image covering the page in another encoding (CCITT G4, Flate, JBIG2, JPEG 2000): decoded by PDFium
    without rendering the page.
``rasterised``
    Anything else (vector pages, several images, visible text over an image): the page is rendered with
    PDFium at ``RASTER_DPI``; :meth:`PageImage.full_resolution` renders it again at ``FULL_RASTER_DPI``.
``raster-file``
    A PNG, JPEG or TIFF page (JPEG files are DCT-scaled like embedded JPEGs).

Errors: a file that cannot be read at all raises :class:`SourceError` *when iter_pages is called* (not
later, while iterating), with a ``reason_code`` from :data:`SOURCE_REASONS`. A page that cannot be decoded
does not stop the others: it is yielded as a :class:`PageImage` whose ``error`` is a :class:`PageError`
(and whose ``image`` is None), so every page index of the file appears exactly once.

Concurrency: PDFium is not thread-safe. Do not call these functions from several threads at once;
parallelise with processes (e.g. ``concurrent.futures.ProcessPoolExecutor``), giving each worker a file path
and a ``pages`` range and returning plain data (see ``app.forms.scan_decode.decode_pages``). Everything here
is a top-level function or a plain frozen dataclass, so it pickles; a :class:`PageImage` pickles too, but
may carry the source bytes for :meth:`~PageImage.full_resolution`, so prefer sending results, not pages.
Memory stays flat in the number of pages: one page is decoded at a time and, given a path, PDFium and
Pillow read the file lazily.
"""

from __future__ import annotations

import dataclasses
import io
import math
import os
import struct
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Union

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image

from app.forms.scan_jpeg import ends_complete, open_draft, top_rows

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
REOPEN_EVERY = 16  # pages: PDFium caches loaded streams per document (see _pdf_pages)
# A page image beyond this many pixels is refused ("too-large") before anything is allocated for it; sites set
# their own (intake.max_megapixels) and pass it as ``max_pixels``. Pillow refuses beyond ~179 Mpx regardless.
MAX_PIXELS = 100_000_000
_A4_LONG_INCHES = 297 / 25.4
_PLAUSIBLE_LONG_INCHES = (3.0, 40.0)  # a page image whose stated size is outside this has no usable dpi
_EOF_WINDOW = 4096  # "%%EOF" must be within this many bytes of the end of a complete PDF
_COVER = 0.90  # one image covering at least this much of the page (and not much more) is "the page"


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
        return dataclasses.replace(self, image=_to_grey(im), deferred=None)

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


# ------------------------------------------------------------------------------------------------- sniffing


def sniff(head: bytes) -> str | None:
    """The format by magic bytes: "pdf", "tiff", "png", "jpeg" or None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff"
    if b"%PDF-" in head[:1024]:  # the header may follow some junk (allowed by readers)
        return "pdf"
    return None


_EXTENSIONS = {".pdf": "pdf", ".tif": "tiff", ".tiff": "tiff", ".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg",
               ".jpe": "jpeg", ".jfif": "jpeg"}


@dataclasses.dataclass(frozen=True)
class _Input:
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


def _open_input(data: Source, filename: str | None) -> _Input:
    path: str | None = None
    if isinstance(data, (str, os.PathLike)):
        path = os.fspath(data)
        name = filename or os.path.basename(path)
        try:
            size = os.path.getsize(path)
            with open(path, "rb") as fh:
                head = fh.read(1024)
                fh.seek(max(0, size - _EOF_WINDOW))
                tail = fh.read()
        except OSError as exc:
            raise SourceError("unreadable", f"{name}: cannot be read ({exc.strerror or exc})") from exc
        raw = None
    else:
        raw = bytes(data)
        name = filename or "<bytes>"
        size, head, tail = len(raw), raw[:1024], raw[-_EOF_WINDOW:]
    if size == 0:
        raise SourceError("empty-file", f"{name}: the file is empty (0 bytes)")
    kind = sniff(head)
    if kind is None:
        claimed = _EXTENSIONS.get(Path(name).suffix.lower())
        if claimed:
            raise SourceError("corrupt", f"{name}: named as {claimed.upper()} but the content is not a "
                                         f"{claimed.upper()} file (nor another format we read)")
        raise SourceError("unsupported-format", f"{name}: not a PDF, TIFF, PNG or JPEG file")
    return _Input(kind=kind, name=name, data=raw, path=path, size=size, tail=tail)


# ------------------------------------------------------------------------------------------------ public API


def iter_pages(data: Source, *, filename: str | None = None, pages: Iterable[int] | None = None,
               min_dpi: float = DEFAULT_MIN_DPI, max_pixels: int = MAX_PIXELS,
               lazy: bool = False) -> Iterator[PageImage]:
    """Yield one :class:`PageImage` per page of a scanned file, in order.

    ``data`` is the file's bytes, or a path (then the file is read lazily, which keeps memory flat for big
    PDFs). ``pages`` restricts to those 0-based page indices (for splitting one file across processes);
    indices beyond the end are ignored. Raises :class:`SourceError` immediately when the file cannot be read
    at all; a bad page is yielded with ``error`` set. No page image of more than ``max_pixels`` pixels is ever
    allocated (rendered, decoded or reloaded at full resolution): such a page is a "too-large" error instead.
    ``lazy``: a JPEG file, or a PDF page that is one upright JPEG, comes back undecoded (``deferred`` set,
    ``image`` None; see :meth:`PageImage.loaded` and :meth:`PageImage.top_rows`) when the JPEG is complete.
    """
    src = _open_input(data, filename)
    wanted = None if pages is None else sorted(set(pages))
    if src.kind == "pdf":
        doc = _open_pdf(src)
        return _pdf_pages(doc, src, wanted, min_dpi, max_pixels, lazy)
    if src.kind == "tiff":
        image, count = _open_tiff(src)
        return _tiff_pages(image, count, src, wanted, max_pixels)
    return _single_image_pages(src, wanted, min_dpi, max_pixels, lazy)


def count_pages(data: Source, *, filename: str | None = None) -> int:
    """Number of pages in a scanned file (raises :class:`SourceError` like :func:`iter_pages`)."""
    src = _open_input(data, filename)
    if src.kind == "pdf":
        doc = _open_pdf(src)
        try:
            return len(doc)
        finally:
            doc.close()
    if src.kind == "tiff":
        image, count = _open_tiff(src)
        image.close()
        return count
    return 1


def load_reload(reload: Reload) -> Image.Image:
    """Decode a page again from its :class:`Reload` data (full resolution / higher rendering dpi)."""
    if reload.kind == "jpeg":
        im = Image.open(io.BytesIO(reload.data) if isinstance(reload.data, bytes) else reload.data)
        im.draft("L", im.size)
        return _rotate(_to_grey(im), reload.rotation)
    doc = pdfium.PdfDocument(reload.data)
    try:
        page = doc[reload.index]
        try:
            return _render(page, reload.dpi)
        finally:
            page.close()
    finally:
        doc.close()


# ----------------------------------------------------------------------------------------------------- PDF


def _open_pdf(src: _Input) -> pdfium.PdfDocument:
    if b"%%EOF" not in src.tail:
        raise SourceError("truncated", f"{src.name}: the PDF ends early (no end-of-file marker); "
                                       "it may still be being written, or was cut off")
    try:
        doc = pdfium.PdfDocument(src.pdf_input())
    except pdfium.PdfiumError as exc:
        # PDFium's last-error code is not reset by every failure (a PDF without pages leaves the previous
        # call's code), so "needs a password" is believed only for a file that has an /Encrypt dictionary.
        code = getattr(exc, "err_code", None)
        if code in (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY) and _has_encrypt_entry(src):
            raise SourceError("encrypted", f"{src.name}: the PDF is encrypted and needs a password") from exc
        if code == pdfium_c.FPDF_ERR_FILE and src.data is None:
            raise SourceError("unreadable", f"{src.name}: the file could not be read") from exc
        raise SourceError("corrupt", f"{src.name}: the PDF is damaged and cannot be opened ({exc})") from exc
    try:
        count = len(doc)
    except Exception as exc:  # pragma: no cover - PDFium reports this as 0 pages
        doc.close()
        raise SourceError("corrupt", f"{src.name}: the PDF's page tree is damaged") from exc
    if count == 0:
        doc.close()
        raise SourceError("no-pages", f"{src.name}: the PDF has no pages")
    return doc


def _has_encrypt_entry(src: _Input) -> bool:
    if src.data is not None:
        return b"/Encrypt" in src.data
    try:
        with open(src.path or "", "rb") as fh:
            head = fh.read(65536)
            fh.seek(max(0, src.size - 65536))
            return b"/Encrypt" in head or b"/Encrypt" in fh.read()
    except OSError:
        return False


def _pdf_pages(doc: pdfium.PdfDocument, src: _Input, wanted: list[int] | None, min_dpi: float,
               max_pixels: int, lazy: bool = False) -> Iterator[PageImage]:
    try:
        count = len(doc)
        for n, index in enumerate(range(count) if wanted is None else [i for i in wanted if 0 <= i < count]):
            if n and n % REOPEN_EVERY == 0:
                # PDFium keeps every stream it has loaded (the page JPEGs) until the document is closed:
                # reopening keeps memory flat however many pages the file has.
                doc.close()
                doc = pdfium.PdfDocument(src.pdf_input())
            yield _pdf_page(doc, index, src, min_dpi, max_pixels, lazy)
    finally:
        doc.close()


def _pdf_page(doc: pdfium.PdfDocument, index: int, src: _Input, min_dpi: float, max_pixels: int,
              lazy: bool = False) -> PageImage:
    try:
        page = doc[index]
    except Exception as exc:  # PdfiumError, or anything a broken page object raises
        return PageImage(index=index, method=RASTERISED,
                         error=PageError("render-failed", f"page {index + 1} cannot be loaded ({exc})"))
    try:
        rotation = page.get_rotation() % 360
        found = _single_page_image(page)
        if found is not None:
            obj, (width_in, height_in) = found
            result = _embedded_image(obj, index, width_in, height_in, rotation, min_dpi, max_pixels, lazy)
            if result is not None:
                return result
        return _rasterise(page, index, src, max_pixels)
    except Exception as exc:
        return PageImage(index=index, method=RASTERISED,
                         error=PageError("render-failed", f"page {index + 1} cannot be rendered ({exc})"))
    finally:
        page.close()


def _single_page_image(page: pdfium.PdfPage) -> tuple[pdfium.PdfImage, tuple[float, float]] | None:
    """The one image that makes up the page (scanner style), or None if the page must be rendered."""
    left, bottom, right, top = page.get_bbox()
    page_w, page_h = right - left, top - bottom
    if page_w <= 0 or page_h <= 0:
        return None
    image = None
    for obj in page.get_objects():
        kind = obj.type
        if kind == pdfium_c.FPDF_PAGEOBJ_FORM:
            continue  # its content is visited too
        if kind == pdfium_c.FPDF_PAGEOBJ_TEXT:
            if pdfium_c.FPDFTextObj_GetTextRenderMode(obj.raw) == pdfium_c.FPDF_TEXTRENDERMODE_INVISIBLE:
                continue  # the OCR layer of a "searchable" scan
            return None
        if kind != pdfium_c.FPDF_PAGEOBJ_IMAGE or image is not None:
            return None  # vector drawing, shading, or a second image
        image = obj
    if image is None:
        return None
    a, b, c, d, _e, _f = image.get_matrix().get()
    if abs(b) > 1e-6 * abs(a) or abs(c) > 1e-6 * abs(d) or a <= 0 or d <= 0:
        return None  # rotated or mirrored inside the page: let PDFium draw it
    x0, y0, x1, y1 = image.get_bounds()
    inter_w = max(0.0, min(x1, right) - max(x0, left))
    inter_h = max(0.0, min(y1, top) - max(y0, bottom))
    page_area, image_area = page_w * page_h, (x1 - x0) * (y1 - y0)
    if inter_w * inter_h < _COVER * page_area or image_area > page_area / _COVER:
        return None
    return image, ((x1 - x0) / 72.0, (y1 - y0) / 72.0)


def _embedded_image(obj: pdfium.PdfImage, index: int, width_in: float, height_in: float, rotation: int,
                    min_dpi: float, max_pixels: int, lazy: bool = False) -> PageImage | None:
    """Decode the page's one image without rendering; None to fall back to rendering the page."""
    px_w, px_h = obj.get_px_size()
    if px_w <= 0 or px_h <= 0:
        return None
    if px_w * px_h > max_pixels:
        return PageImage(index=index, method=EMBEDDED_IMAGE, width=px_w, height=px_h,
                         error=PageError("too-large", f"page {index + 1}: image of {px_w}x{px_h} pixels"))
    dpi = round(px_w / width_in, 1) if width_in > 0 else None
    filters = obj.get_filters(skip_simple=True)
    if filters == ["DCTDecode"]:
        jpeg = bytes(obj.get_data(decode_simple=True))
        if lazy and rotation == 0:
            deferred = _deferred_jpeg(index, jpeg, (px_w, px_h), dpi, min_dpi)
            if deferred is not None:
                return deferred
        try:
            image, mode, scale, full_size = _decode_jpeg(jpeg, dpi, min_dpi)
        except Exception:
            image = None  # Pillow cannot decode it: let PDFium try below
        if image is not None:
            if full_size != (px_w, px_h):
                return None  # the stream disagrees with the PDF's /Width /Height: render instead
            return _page(index, EMBEDDED_JPEG, (px_w, px_h), dpi, "page-size", mode, image, scale, rotation,
                         Reload("jpeg", jpeg, rotation=rotation))
    try:
        bitmap = obj.get_bitmap(render=False)
        image = bitmap.to_pil()
    except Exception as exc:
        return PageImage(index=index, method=EMBEDDED_IMAGE, width=px_w, height=px_h,
                         error=PageError("corrupt", f"page {index + 1}: the embedded image cannot be decoded "
                                                    f"({exc})"))
    mode = _pdf_image_mode(obj, image)
    grey = _to_grey(image)
    return _page(index, EMBEDDED_IMAGE, (px_w, px_h), dpi, "page-size", mode, grey, 1.0, rotation, None)


def _deferred_jpeg(index: int, jpeg: bytes, size: tuple[int, int], dpi: float | None,
                   min_dpi: float) -> PageImage | None:
    """The page as a lazy PageImage: only the JPEG's header is read. None when the header cannot be read or
    disagrees with the PDF, or the stream is cut short (the eager path decides what to do then)."""
    if not ends_complete(jpeg):
        return None
    try:
        im, mode, full_size = open_draft(jpeg, _draft_factor(dpi, min_dpi))
    except Exception:  # noqa: BLE001 - the eager path knows what to do with a stream Pillow cannot read
        return None
    if full_size != size:
        return None
    return PageImage(index=index, method=EMBEDDED_JPEG, width=size[0], height=size[1], dpi=dpi,
                     dpi_source="page-size" if dpi else "unknown", mode=mode, image=None, scale=im.size[0] / size[0],
                     reload=Reload("jpeg", jpeg), deferred=Deferred(jpeg, _draft_factor(dpi, min_dpi), im.size))


def _pdf_image_mode(obj: pdfium.PdfImage, image: Image.Image) -> str:
    try:
        meta = obj.get_metadata()
        if meta.bits_per_pixel == 1:
            return "1"
        return {pdfium_c.FPDF_COLORSPACE_DEVICEGRAY: "L", pdfium_c.FPDF_COLORSPACE_DEVICERGB: "RGB",
                pdfium_c.FPDF_COLORSPACE_DEVICECMYK: "CMYK", pdfium_c.FPDF_COLORSPACE_INDEXED: "P"}.get(
            meta.colorspace, image.mode)
    except Exception:  # pragma: no cover - metadata is informative only
        return image.mode


def _rasterise(page: pdfium.PdfPage, index: int, src: _Input, max_pixels: int) -> PageImage:
    # The page box, not its content, decides the bitmap's size: a 20000 pt page at 200 dpi would be 3 GB.
    width_pt, height_pt = page.get_size()
    dpi = fitting_dpi(width_pt, height_pt, RASTER_DPI, max_pixels)
    if dpi < RASTER_DPI:
        return PageImage(index=index, method=RASTERISED, error=PageError(
            "too-large", f"page {index + 1}: {width_pt / 72:.0f} x {height_pt / 72:.0f} inches would be "
                         f"{_megapixels(width_pt, height_pt, RASTER_DPI):,.0f} megapixels at {RASTER_DPI:.0f} dpi "
                         f"(at most {max_pixels / 1e6:,.0f} allowed)"))
    image = _render(page, RASTER_DPI)
    full = fitting_dpi(width_pt, height_pt, FULL_RASTER_DPI, max_pixels)
    return PageImage(index=index, method=RASTERISED, width=image.width, height=image.height, dpi=RASTER_DPI,
                     dpi_source="rendered", mode="vector", image=image, scale=1.0,
                     reload=Reload("pdf", src.pdf_input(), index=index, dpi=full))


def fitting_dpi(width_pt: float, height_pt: float, dpi: float, max_pixels: int) -> float:
    """``dpi``, or the highest resolution below it at which a page of this size stays within ``max_pixels``."""
    pixels = _megapixels(width_pt, height_pt, dpi) * 1e6
    if pixels <= max_pixels:
        return dpi
    return dpi * math.sqrt(max_pixels / pixels) * 0.999


def _megapixels(width_pt: float, height_pt: float, dpi: float) -> float:
    return (max(width_pt, 0.0) * dpi / 72.0) * (max(height_pt, 0.0) * dpi / 72.0) / 1e6


def _render(page: pdfium.PdfPage, dpi: float) -> Image.Image:
    bitmap = page.render(scale=dpi / 72.0, grayscale=True, may_draw_forms=False)
    image = bitmap.to_pil()
    return image if image.mode == "L" else image.convert("L")


# ------------------------------------------------------------------------------------------- raster files


def _open_tiff(src: _Input) -> tuple[Image.Image, int]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "Corrupt EXIF data" and the like: we decide below
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(src.stream())
            count = getattr(image, "n_frames", 1)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise SourceError("too-large", f"{src.name}: {exc}") from exc
    except Exception as exc:  # Pillow raises OSError, EOFError, TypeError, ... for a broken IFD chain
        reason = "truncated" if _reason(exc) == "truncated" or _tiff_cut_off(src) else "corrupt"
        raise SourceError(reason, f"{src.name}: the TIFF cannot be read ({exc})") from exc
    if count < 1:
        image.close()
        raise SourceError("no-pages", f"{src.name}: the TIFF has no pages")
    if _tiff_cut_off(src):
        image.close()
        raise SourceError("truncated", f"{src.name}: the TIFF ends early (its directories point beyond the end "
                                       "of the file); it may still be being written, or was cut off")
    return image, count


def _tiff_cut_off(src: _Input) -> bool:
    """Whether a (classic) TIFF's directories or image data point beyond the end of the file."""
    try:
        if src.data is not None:
            return _tiff_walk(io.BytesIO(src.data), src.size)
        with open(src.path or "", "rb") as fh:
            return _tiff_walk(fh, src.size)
    except (OSError, struct.error):
        return False


def _tiff_walk(fh: io.BufferedIOBase | io.BytesIO, size: int) -> bool:
    def read(offset: int, n: int) -> bytes | None:
        if offset + n > size:
            return None
        fh.seek(offset)
        return fh.read(n)

    header = read(0, 8) or b""
    endian = "<" if header[:2] == b"II" else ">"
    if header[2:4] not in (b"*\x00", b"\x00*"):
        return False  # BigTIFF: not checked
    (offset,) = struct.unpack(endian + "I", header[4:8])
    seen: set[int] = set()
    while offset and offset not in seen and len(seen) < 100000:
        seen.add(offset)
        raw_count = read(offset, 2)
        if raw_count is None:
            return True
        (count,) = struct.unpack(endian + "H", raw_count)
        body = read(offset + 2, 12 * count + 4)
        if body is None:
            return True
        entries = {}
        for i in range(count):
            tag, typ, n, value = struct.unpack(endian + "HHII", body[12 * i:12 * i + 12])
            entries[tag] = (typ, n, value)
        for offsets_tag, counts_tag in ((273, 279), (324, 325)):
            if offsets_tag in entries and counts_tag in entries:
                starts = _tiff_values(read, endian, *entries[offsets_tag])
                lengths = _tiff_values(read, endian, *entries[counts_tag])
                if starts is None or lengths is None:
                    return True
                if any(a + b > size for a, b in zip(starts, lengths)):
                    return True
        (offset,) = struct.unpack(endian + "I", body[-4:])
    return False


def _tiff_values(read, endian: str, typ: int, n: int, value: int) -> list[int] | None:  # noqa: ANN001
    width = {3: 2, 4: 4}.get(typ)
    if width is None or n > 1_000_000:
        return []
    if n * width <= 4:
        raw = struct.pack(endian + "I", value)[: n * width]
    else:
        raw = read(value, n * width)
        if raw is None:
            return None
    return list(struct.unpack(endian + ("H" if width == 2 else "I") * n, raw))


def _tiff_pages(image: Image.Image, count: int, src: _Input, wanted: list[int] | None,
                max_pixels: int) -> Iterator[PageImage]:
    try:
        for index in (range(count) if wanted is None else [i for i in wanted if 0 <= i < count]):
            try:
                image.seek(index)
                mode, (w, h) = image.mode, image.size
                if w * h > max_pixels:
                    yield PageImage(index=index, method=RASTER_FILE, width=w, height=h, mode=mode,
                                    error=PageError("too-large", f"page {index + 1}: {w}x{h} pixels"))
                    continue
                dpi, dpi_source = _file_dpi(image.info, w, h)
                grey = _to_grey(image)
                if grey is image:
                    grey = image.copy()  # the next seek() reuses the frame's memory
            except Exception as exc:
                yield PageImage(index=index, method=RASTER_FILE,
                                error=PageError(_reason(exc), f"page {index + 1} cannot be decoded ({exc})"))
                continue
            yield PageImage(index=index, method=RASTER_FILE, width=w, height=h, dpi=dpi, dpi_source=dpi_source,
                            mode=mode, image=grey, scale=1.0)
    finally:
        image.close()


def _single_image_pages(src: _Input, wanted: list[int] | None, min_dpi: float, max_pixels: int,
                        lazy: bool = False) -> Iterator[PageImage]:
    """A PNG or JPEG file: decoded eagerly, so that a broken file raises SourceError at the call (lazily only
    a complete JPEG, whose header has been read)."""
    page = (_lazy_single(src, min_dpi, max_pixels) if lazy and src.kind == "jpeg" else None) \
        or _decode_single(src, min_dpi, max_pixels)
    return iter([page] if wanted is None or 0 in wanted else [])


def open_single_image(src: _Input, max_pixels: int) -> Image.Image:
    """Open a PNG or JPEG file and check its header (format, pixel count) without decoding the pixels."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our own limit is checked below
        im = Image.open(src.stream())
    if im.format not in ("PNG", "JPEG", "MPO"):
        raise SourceError("unsupported-format", f"{src.name}: {im.format} images are not supported")
    w, h = im.size
    if w * h > max_pixels:
        raise SourceError("too-large", f"{src.name}: {w} x {h} pixels ({w * h / 1e6:,.0f} megapixels; at most "
                                       f"{max_pixels / 1e6:,.0f} allowed)")
    return im


def _lazy_single(src: _Input, min_dpi: float, max_pixels: int) -> PageImage | None:
    """A JPEG file as a lazy PageImage (see iter_pages); None to decode it the eager way."""
    try:
        data = src.data if src.data is not None else Path(src.path or "").read_bytes()
        if not ends_complete(data):
            return None
        im = open_single_image(src, max_pixels)
        if im.format != "JPEG":
            return None
        w, h = im.size
        dpi, dpi_source = _file_dpi(im.info, w, h)
        factor = _draft_factor(dpi, min_dpi)
        draft, mode, _size = open_draft(data, factor)
    except Exception:  # noqa: BLE001 - the eager path gives the precise reason
        return None
    return PageImage(index=0, method=RASTER_FILE, width=w, height=h, dpi=dpi, dpi_source=dpi_source, mode=mode,
                     image=None, scale=draft.size[0] / w, reload=Reload("jpeg", data) if draft.size[0] < w else None,
                     deferred=Deferred(data, factor, draft.size))


def _decode_single(src: _Input, min_dpi: float, max_pixels: int) -> PageImage:
    try:
        im = open_single_image(src, max_pixels)
        w, h = im.size
        dpi, dpi_source = _file_dpi(im.info, w, h)
        mode = im.mode
        scale, reload = 1.0, None
        if im.format in ("JPEG", "MPO"):
            factor = _draft_factor(dpi, min_dpi)
            im.draft("L", (math.ceil(w / factor), math.ceil(h / factor)))
            scale = im.size[0] / w
            if scale < 1.0:
                reload = Reload("jpeg", src.data if src.data is not None else src.path)  # type: ignore[arg-type]
        grey = _to_grey(im)
    except SourceError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise SourceError("too-large", f"{src.name}: {exc}") from exc
    except Exception as exc:  # OSError, SyntaxError, ValueError ... from a damaged file
        raise SourceError(_reason(exc), f"{src.name}: the image cannot be decoded ({exc})") from exc
    return PageImage(index=0, method=RASTER_FILE, width=w, height=h, dpi=dpi, dpi_source=dpi_source, mode=mode,
                     image=grey, scale=scale, reload=reload)


# ------------------------------------------------------------------------------------------------- helpers


def _reason(exc: BaseException) -> str:
    text = str(exc).lower()
    if isinstance(exc, EOFError) or "truncated" in text or "premature end" in text or "not enough data" in text:
        return "truncated"
    return "corrupt"


def _file_dpi(info: dict, width: int, height: int) -> tuple[float | None, str]:
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


def _draft_factor(dpi: float | None, min_dpi: float) -> int:
    """The largest DCT scale-down (1, 2, 4, 8) that keeps the resolution at or above ``min_dpi``."""
    if not dpi:
        return 1
    factor = 1
    while factor < 8 and dpi / (factor * 2) >= min_dpi - 0.5:
        factor *= 2
    return factor


def _decode_jpeg(jpeg: bytes, dpi: float | None,
                 min_dpi: float) -> tuple[Image.Image, str, float, tuple[int, int]]:
    """Greyscale, DCT-scaled decoding: (image, original mode, scale, original size)."""
    im, mode, (w, h) = open_draft(jpeg, _draft_factor(dpi, min_dpi))
    grey = _to_grey(im)
    return grey, mode, grey.width / w, (w, h)


def _to_grey(im: Image.Image) -> Image.Image:
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


def _rotate(image: Image.Image, rotation: int) -> Image.Image:
    """Apply a PDF page's /Rotate (clockwise degrees)."""
    turn = {90: Image.Transpose.ROTATE_270, 180: Image.Transpose.ROTATE_180, 270: Image.Transpose.ROTATE_90}
    return image.transpose(turn[rotation]) if rotation in turn else image


def _page(index: int, method: str, size: tuple[int, int], dpi: float | None, dpi_source: str, mode: str,
          image: Image.Image, scale: float, rotation: int, reload: Reload | None) -> PageImage:
    width, height = size
    if rotation in (90, 270):
        width, height = height, width
    return PageImage(index=index, method=method, width=width, height=height, dpi=dpi,
                     dpi_source=dpi_source if dpi else "unknown", mode=mode, image=_rotate(image, rotation),
                     scale=scale, reload=reload)
