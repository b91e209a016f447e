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
and a ``pages`` range and returning plain data (see ``app.forms.scan.scan_decode.decode_pages``). Everything here
is a top-level function or a plain frozen dataclass, so it pickles; a :class:`PageImage` pickles too, but
may carry the source bytes for :meth:`~PageImage.full_resolution`, so prefer sending results, not pages.
Memory stays flat in the number of pages: one page is decoded at a time and, given a path, PDFium and
Pillow read the file lazily.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path

from PIL import Image

from app.forms.scan.scan_image import (  # noqa: F401 - the page types are part of this module's interface
    DEFAULT_MIN_DPI,
    EMBEDDED_IMAGE,
    EMBEDDED_JPEG,
    EOF_WINDOW,
    FULL_RASTER_DPI,
    MAX_PIXELS,
    PAGE_REASONS,
    RASTER_DPI,
    RASTER_FILE,
    RASTERISED,
    SOURCE_REASONS,
    Deferred,
    PageError,
    PageImage,
    Reload,
    Source,
    SourceError,
    SourceInput,
    draft_factor,
    file_dpi,
    load_reload,
    reason_of,
    to_grey,
)
from app.forms.scan.scan_jpeg import ends_complete, open_draft
from app.forms.scan.scan_pdf import open_pdf, pdf_pages
from app.forms.scan.scan_tiff import open_tiff, tiff_pages

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


def open_input(data: Source, filename: str | None) -> SourceInput:
    path: str | None = None
    if isinstance(data, (str, os.PathLike)):
        path = os.fspath(data)
        name = filename or os.path.basename(path)
        try:
            size = os.path.getsize(path)
            with open(path, "rb") as fh:
                head = fh.read(1024)
                fh.seek(max(0, size - EOF_WINDOW))
                tail = fh.read()
        except OSError as exc:
            raise SourceError("unreadable", f"{name}: cannot be read ({exc.strerror or exc})") from exc
        raw = None
    else:
        raw = bytes(data)
        name = filename or "<bytes>"
        size, head, tail = len(raw), raw[:1024], raw[-EOF_WINDOW:]
    if size == 0:
        raise SourceError("empty-file", f"{name}: the file is empty (0 bytes)")
    kind = sniff(head)
    if kind is None:
        claimed = _EXTENSIONS.get(Path(name).suffix.lower())
        if claimed:
            raise SourceError("corrupt", f"{name}: named as {claimed.upper()} but the content is not a "
                                         f"{claimed.upper()} file (nor another format we read)")
        raise SourceError("unsupported-format", f"{name}: not a PDF, TIFF, PNG or JPEG file")
    return SourceInput(kind=kind, name=name, data=raw, path=path, size=size, tail=tail)


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
    src = open_input(data, filename)
    wanted = None if pages is None else sorted(set(pages))
    if src.kind == "pdf":
        doc = open_pdf(src)
        return pdf_pages(doc, src, wanted, min_dpi, max_pixels, lazy)
    if src.kind == "tiff":
        image, count = open_tiff(src)
        return tiff_pages(image, count, src, wanted, max_pixels)
    return _single_image_pages(src, wanted, min_dpi, max_pixels, lazy)


def _single_image_pages(src: SourceInput, wanted: list[int] | None, min_dpi: float, max_pixels: int,
                        lazy: bool = False) -> Iterator[PageImage]:
    """A PNG or JPEG file: decoded eagerly, so that a broken file raises SourceError at the call (lazily only
    a complete JPEG, whose header has been read)."""
    page = (_lazy_single(src, min_dpi, max_pixels) if lazy and src.kind == "jpeg" else None) \
        or _decode_single(src, min_dpi, max_pixels)
    return iter([page] if wanted is None or 0 in wanted else [])


def open_single_image(src: SourceInput, max_pixels: int) -> Image.Image:
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


def _lazy_single(src: SourceInput, min_dpi: float, max_pixels: int) -> PageImage | None:
    """A JPEG file as a lazy PageImage (see iter_pages); None to decode it the eager way."""
    try:
        data = src.data if src.data is not None else Path(src.path or "").read_bytes()
        if not ends_complete(data):
            return None
        im = open_single_image(src, max_pixels)
        if im.format != "JPEG":
            return None
        w, h = im.size
        dpi, dpi_source = file_dpi(im.info, w, h)
        factor = draft_factor(dpi, min_dpi)
        draft, mode, _size = open_draft(data, factor)
    except Exception:  # noqa: BLE001 - the eager path gives the precise reason
        return None
    return PageImage(index=0, method=RASTER_FILE, width=w, height=h, dpi=dpi, dpi_source=dpi_source, mode=mode,
                     image=None, scale=draft.size[0] / w, reload=Reload("jpeg", data) if draft.size[0] < w else None,
                     deferred=Deferred(data, factor, draft.size))


def _decode_single(src: SourceInput, min_dpi: float, max_pixels: int) -> PageImage:
    try:
        im = open_single_image(src, max_pixels)
        w, h = im.size
        dpi, dpi_source = file_dpi(im.info, w, h)
        mode = im.mode
        scale, reload = 1.0, None
        if im.format in ("JPEG", "MPO"):
            factor = draft_factor(dpi, min_dpi)
            im.draft("L", (math.ceil(w / factor), math.ceil(h / factor)))
            scale = im.size[0] / w
            if scale < 1.0:
                reload = Reload("jpeg", src.data if src.data is not None else src.path)  # type: ignore[arg-type]
        grey = to_grey(im)
    except SourceError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise SourceError("too-large", f"{src.name}: {exc}") from exc
    except Exception as exc:  # OSError, SyntaxError, ValueError ... from a damaged file
        raise SourceError(reason_of(exc), f"{src.name}: the image cannot be decoded ({exc})") from exc
    return PageImage(index=0, method=RASTER_FILE, width=w, height=h, dpi=dpi, dpi_source=dpi_source, mode=mode,
                     image=grey, scale=scale, reload=reload)
