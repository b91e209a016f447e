"""PDF pages to page images: a scanner's one-image page is taken out of the PDF and decoded (DCT-scaled when it
is a JPEG) without rendering; anything else is rendered by PDFium (see ``app.forms.scan.scan_pages``)."""

from __future__ import annotations

from collections.abc import Iterator

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image

from app.forms.scan.scan_image import (
    EMBEDDED_IMAGE,
    EMBEDDED_JPEG,
    FULL_RASTER_DPI,
    RASTER_DPI,
    RASTERISED,
    Deferred,
    PageError,
    PageImage,
    Reload,
    SourceError,
    SourceInput,
    decode_jpeg,
    draft_factor,
    fitting_dpi,
    megapixels,
    page_image,
    render,
    to_grey,
)
from app.forms.scan.scan_jpeg import ends_complete, open_draft

REOPEN_EVERY = 16  # pages: PDFium caches loaded streams per document (see pdf_pages)
_COVER = 0.90  # one image covering at least this much of the page (and not much more) is "the page"


def open_pdf(src: SourceInput) -> pdfium.PdfDocument:
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


def _has_encrypt_entry(src: SourceInput) -> bool:
    if src.data is not None:
        return b"/Encrypt" in src.data
    try:
        with open(src.path or "", "rb") as fh:
            head = fh.read(65536)
            fh.seek(max(0, src.size - 65536))
            return b"/Encrypt" in head or b"/Encrypt" in fh.read()
    except OSError:
        return False


def pdf_pages(doc: pdfium.PdfDocument, src: SourceInput, wanted: list[int] | None, min_dpi: float,
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


def _pdf_page(doc: pdfium.PdfDocument, index: int, src: SourceInput, min_dpi: float, max_pixels: int,
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
            image, mode, scale, full_size = decode_jpeg(jpeg, dpi, min_dpi)
        except Exception:
            image = None  # Pillow cannot decode it: let PDFium try below
        if image is not None:
            if full_size != (px_w, px_h):
                return None  # the stream disagrees with the PDF's /Width /Height: render instead
            return page_image(index, EMBEDDED_JPEG, (px_w, px_h), dpi, "page-size", mode, image, scale, rotation,
                         Reload("jpeg", jpeg, rotation=rotation))
    try:
        bitmap = obj.get_bitmap(render=False)
        image = bitmap.to_pil()
    except Exception as exc:
        return PageImage(index=index, method=EMBEDDED_IMAGE, width=px_w, height=px_h,
                         error=PageError("corrupt", f"page {index + 1}: the embedded image cannot be decoded "
                                                    f"({exc})"))
    mode = _pdf_image_mode(obj, image)
    grey = to_grey(image)
    return page_image(index, EMBEDDED_IMAGE, (px_w, px_h), dpi, "page-size", mode, grey, 1.0, rotation, None)


def _deferred_jpeg(index: int, jpeg: bytes, size: tuple[int, int], dpi: float | None,
                   min_dpi: float) -> PageImage | None:
    """The page as a lazy PageImage: only the JPEG's header is read. None when the header cannot be read or
    disagrees with the PDF, or the stream is cut short (the eager path decides what to do then)."""
    if not ends_complete(jpeg):
        return None
    try:
        im, mode, full_size = open_draft(jpeg, draft_factor(dpi, min_dpi))
    except Exception:  # noqa: BLE001 - the eager path knows what to do with a stream Pillow cannot read
        return None
    if full_size != size:
        return None
    return PageImage(index=index, method=EMBEDDED_JPEG, width=size[0], height=size[1], dpi=dpi,
                     dpi_source="page-size" if dpi else "unknown", mode=mode, image=None, scale=im.size[0] / size[0],
                     reload=Reload("jpeg", jpeg), deferred=Deferred(jpeg, draft_factor(dpi, min_dpi), im.size))


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


def _rasterise(page: pdfium.PdfPage, index: int, src: SourceInput, max_pixels: int) -> PageImage:
    # The page box, not its content, decides the bitmap's size: a 20000 pt page at 200 dpi would be 3 GB.
    width_pt, height_pt = page.get_size()
    dpi = fitting_dpi(width_pt, height_pt, RASTER_DPI, max_pixels)
    if dpi < RASTER_DPI:
        return PageImage(index=index, method=RASTERISED, error=PageError(
            "too-large", f"page {index + 1}: {width_pt / 72:.0f} x {height_pt / 72:.0f} inches would be "
                         f"{megapixels(width_pt, height_pt, RASTER_DPI):,.0f} megapixels at {RASTER_DPI:.0f} dpi "
                         f"(at most {max_pixels / 1e6:,.0f} allowed)"))
    image = render(page, RASTER_DPI)
    full = fitting_dpi(width_pt, height_pt, FULL_RASTER_DPI, max_pixels)
    return PageImage(index=index, method=RASTERISED, width=image.width, height=image.height, dpi=RASTER_DPI,
                     dpi_source="rendered", mode="vector", image=image, scale=1.0,
                     reload=Reload("pdf", src.pdf_input(), index=index, dpi=full))
