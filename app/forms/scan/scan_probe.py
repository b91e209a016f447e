"""What a scanned file is before any page of it is decoded: its format and page count, checked against the
site's limits from the file's structure alone (an image's header, a PDF's page tree), so that a hostile file
is refused for the price of reading its header — not after minutes of work or gigabytes of memory."""

from __future__ import annotations

import dataclasses

from PIL import Image

from app.forms.scan.scan_image import MAX_PIXELS, Source, SourceError, reason_of
from app.forms.scan.scan_pages import open_input, open_single_image
from app.forms.scan.scan_pdf import open_pdf
from app.forms.scan.scan_tiff import open_tiff

MAX_PAGES = 1000


@dataclasses.dataclass(frozen=True)
class Limits:
    """What this site reads from one file (settings ``intake.max_megapixels`` and ``intake.max_pages_per_file``)."""

    max_pixels: int = MAX_PIXELS
    max_pages: int = MAX_PAGES


@dataclasses.dataclass(frozen=True)
class Probe:
    kind: str  # "pdf", "tiff", "png" or "jpeg"
    pages: int


def probe(data: Source, *, filename: str | None = None, limits: Limits = Limits()) -> Probe:
    """The format and page count of a scanned file; :class:`SourceError` ("too-many-pages", "too-large",
    "truncated", "corrupt", ...) when it cannot or must not be read. Nothing is decoded: a PNG or JPEG is
    checked by its header (a truncated one is found when its page is decoded), a PDF's pages are counted
    and each page's own size is checked when it is read (see ``scan_pages.iter_pages``)."""
    src = open_input(data, filename)
    if src.kind == "pdf":
        doc = open_pdf(src)
        try:
            count = len(doc)
        finally:
            doc.close()
    elif src.kind == "tiff":
        image, count = open_tiff(src)
        image.close()
    else:
        try:
            open_single_image(src, limits.max_pixels).close()
        except SourceError:
            raise
        except Image.DecompressionBombError as exc:
            raise SourceError("too-large", f"{src.name}: {exc}") from exc
        except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError ... for a damaged header
            raise SourceError(reason_of(exc), f"{src.name}: the image cannot be read ({exc})") from exc
        count = 1
    if count > limits.max_pages:
        raise SourceError("too-many-pages", f"{src.name}: {count:,} pages; this site reads at most "
                                            f"{limits.max_pages:,} pages from one file (split the file, or ask "
                                            "an administrator to raise intake.max_pages_per_file)")
    return Probe(kind=src.kind, pages=count)
