"""Turn a clean page into something that looks like it went through an office scanner.

Everything here works on greyscale PIL images ("L", 0 = black, 255 = paper) and plain bytes, so tests,
benchmarks and the robustness measurement share one set of pages and damages:

* :func:`make_page` draws a synthetic A4 form page with our two QR codes (top-right and bottom-left
  corners, >= 8 mm from the edges, ECC Q, 0.75 mm modules) and some text and a table in the middle, without
  needing the real PDF renderer;
* degradations: :func:`resample`, :func:`rotate`, :func:`add_noise`, :func:`blur`, :func:`jpeg_round_trip`,
  :func:`low_contrast`, :func:`pen_stroke`, :func:`smudge`, :func:`hole_punch`, :func:`staple`;
* writers: :func:`png_bytes`, :func:`jpeg_bytes`, :func:`tiff_bytes`, :func:`scanner_pdf_bytes` (each page is
  exactly one embedded image, DCTDecode by default, like a scanner writes it), :func:`vector_pdf_bytes` (a
  page drawn with vectors, which has to be rasterised) and :func:`encrypted_pdf_bytes`.

Random damage takes a ``seed`` so that every test and measurement is reproducible.
"""

from __future__ import annotations

import dataclasses
import io
import math
import struct
import zlib
from collections.abc import Iterable, Sequence

import numpy as np
import zxingcpp
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from app.forms.layout.payload import Payload

MM_PER_INCH = 25.4
A4_MM = (210.0, 297.0)
TEST_KEY = bytes.fromhex("5a" * 32)

# Where our codes sit on the page (the layout the forms are printed with).
CODE_MARGIN_MM = 8.0  # from the page edge to the outside of the quiet zone
MODULE_MM = 0.75
QUIET_MODULES = 4

Box = tuple[int, int, int, int]  # left, top, right, bottom in pixels (right/bottom exclusive)


def mm_to_px(mm: float, dpi: float) -> int:
    return int(round(mm * dpi / MM_PER_INCH))


def payload_text(serial: str = "000123", page: int = 1, pages: int = 1, *, site: str = "SITE-A",
                 template: str = "QC-WS-014", version: int = 3, key: bytes = TEST_KEY) -> str:
    """The text of one of our codes, tagged with ``key``."""
    return Payload(site=site, serial=serial, page=page, pages=pages, template=template,
                   version=version).encode(key)


def qr_modules(text: str, ec_level: str = "Q", *, micro: bool = False) -> np.ndarray:
    """The module matrix of a QR code (True = dark), without quiet zone, from zxing-cpp's encoder."""
    fmt = zxingcpp.BarcodeFormat.MicroQRCode if micro else zxingcpp.BarcodeFormat.QRCode
    kwargs = {} if micro else {"ec_level": ec_level}
    barcode = zxingcpp.create_barcode(text, fmt, **kwargs)
    return np.asarray(barcode.to_image(scale=1, add_quiet_zones=False)) < 128


def draw_code(image: Image.Image, text: str, left_px: int, top_px: int, *, dpi: float,
              module_mm: float = MODULE_MM, ec_level: str = "Q", micro: bool = False) -> Box:
    """Draw a code whose quiet zone starts at (left_px, top_px); returns the box of the symbol itself."""
    modules = qr_modules(text, ec_level, micro=micro)
    n = modules.shape[0]
    quiet = 2 if micro else QUIET_MODULES
    size = int(round(n * module_mm * dpi / MM_PER_INCH))
    quiet_px = int(round(quiet * module_mm * dpi / MM_PER_INCH))
    symbol = Image.fromarray(np.where(modules, 0, 255).astype(np.uint8), "L").resize((size, size), Image.NEAREST)
    x, y = left_px + quiet_px, top_px + quiet_px
    image.paste(255, (left_px, top_px, x + size + quiet_px, y + size + quiet_px))
    image.paste(symbol, (x, y))
    return (x, y, x + size, y + size)


def code_outer_mm(text: str, ec_level: str = "Q", module_mm: float = MODULE_MM) -> float:
    """Side of a printed code including its quiet zone, in mm."""
    return (qr_modules(text, ec_level).shape[0] + 2 * QUIET_MODULES) * module_mm


@dataclasses.dataclass(frozen=True)
class SyntheticPage:
    image: Image.Image
    text: str
    dpi: int
    code_boxes: tuple[Box, ...]  # the symbols (no quiet zone), in the order of ``corners``


def _font(size_px: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=max(8, size_px))
    except TypeError:  # Pillow without FreeType
        return ImageFont.load_default()


def make_page(text: str | None = None, *, dpi: int = 300, ec_level: str = "Q", module_mm: float = MODULE_MM,
              corners: Sequence[str] = ("top-right", "bottom-left"), body: bool = True,
              size_mm: tuple[float, float] = A4_MM, margin_mm: float = CODE_MARGIN_MM,
              left_margin_mm: float | None = None) -> SyntheticPage:
    """A clean synthetic form page: our code in each of ``corners``, header, table and text in the middle.

    The codes' quiet zones start ``margin_mm`` from the page edges (``left_margin_mm`` from the left edge,
    if given: a left-hand code can be moved clear of punched holes)."""
    text = text if text is not None else payload_text()
    width, height = mm_to_px(size_mm[0], dpi), mm_to_px(size_mm[1], dpi)
    image = Image.new("L", (width, height), 255)
    outer = int(round(code_outer_mm(text, ec_level, module_mm) * dpi / MM_PER_INCH))
    margin = mm_to_px(margin_mm, dpi)
    left_margin = mm_to_px(margin_mm if left_margin_mm is None else left_margin_mm, dpi)
    draw = ImageDraw.Draw(image)
    boxes = []
    for corner in corners:
        left = width - margin - outer if "right" in corner else left_margin
        top = margin if corner.startswith("top") else height - margin - outer
        boxes.append(draw_code(image, text, left, top, dpi=dpi, module_mm=module_mm, ec_level=ec_level))
        # the serial in human-readable form beside the code
        serial = text.split("|")[2] if text.count("|") >= 2 else "?"
        label_x = left - mm_to_px(30, dpi) if "right" in corner else left + outer + mm_to_px(2, dpi)
        draw.text((label_x, top + outer // 2), f"No. {serial}", fill=0, font=_font(mm_to_px(3.5, dpi)))
    if body:
        _draw_body(draw, width, height, dpi)
    return SyntheticPage(image=image, text=text, dpi=dpi, code_boxes=tuple(boxes))


def _draw_body(draw: ImageDraw.ImageDraw, width: int, height: int, dpi: int) -> None:
    px = lambda mm: mm_to_px(mm, dpi)  # noqa: E731
    big, small = _font(px(5)), _font(px(3))
    draw.text((px(20), px(50)), "QC-WS-014  Balance weighing worksheet  (version 3)", fill=0, font=big)
    draw.text((px(20), px(60)), "Product / batch: ____________________   Balance ID: __________", fill=0, font=small)
    top, row_h, cols = px(75), px(9), [20, 45, 95, 130, 160, 190]
    rows = 16
    for r in range(rows + 1):
        y = top + r * row_h
        draw.line([(px(cols[0]), y), (px(cols[-1]), y)], fill=0, width=max(1, px(0.3)))
    for c in cols:
        draw.line([(px(c), top), (px(c), top + rows * row_h)], fill=0, width=max(1, px(0.3)))
    for c, title in zip(cols, ("No.", "Sample", "Tare (g)", "Gross (g)", "Net (g)")):
        draw.text((px(c + 2), top + px(2)), title, fill=0, font=small)
    for r in range(1, rows):
        draw.text((px(cols[0] + 2), top + r * row_h + px(2)), str(r), fill=0, font=small)
    y = top + rows * row_h + px(10)
    for line in ("Performed by: ______________  Date: __________",
                 "Checked by:   ______________  Date: __________",
                 "Comments: ___________________________________________________________"):
        draw.text((px(20), y), line, fill=0, font=small)
        y += px(8)


def add_code(image: Image.Image, text: str, at_mm: tuple[float, float], *, dpi: int, module_mm: float = 0.6,
             ec_level: str = "M", micro: bool = False) -> Box:
    """Add another (e.g. a foreign) code with its quiet zone's top-left corner at ``at_mm``."""
    return draw_code(image, text, mm_to_px(at_mm[0], dpi), mm_to_px(at_mm[1], dpi), dpi=dpi,
                     module_mm=module_mm, ec_level=ec_level, micro=micro)


# --------------------------------------------------------------------------------------------- degradations


def resample(image: Image.Image, from_dpi: float, to_dpi: float) -> Image.Image:
    """Scan at another resolution (area-averaging, like a scanner's sensor)."""
    if from_dpi == to_dpi:
        return image.copy()
    size = (max(1, round(image.width * to_dpi / from_dpi)), max(1, round(image.height * to_dpi / from_dpi)))
    return image.resize(size, Image.BOX if to_dpi < from_dpi else Image.BICUBIC)


def rotate(image: Image.Image, degrees: float) -> Image.Image:
    """Rotate counter-clockwise; quarter turns are exact, other angles fill the corners with white."""
    quarter = {90: Image.Transpose.ROTATE_90, 180: Image.Transpose.ROTATE_180, 270: Image.Transpose.ROTATE_270}
    if degrees % 360 == 0:
        return image.copy()
    if degrees % 360 in quarter:
        return image.transpose(quarter[int(degrees % 360)])
    return image.rotate(degrees, resample=Image.BICUBIC, expand=True, fillcolor=255)


def add_noise(image: Image.Image, sigma: float = 8.0, *, seed: int = 0) -> Image.Image:
    """Gaussian sensor noise."""
    rng = np.random.default_rng(seed)
    a = np.asarray(image, dtype=np.float32)
    a = a + rng.normal(0.0, sigma, a.shape).astype(np.float32)
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8), "L")


def blur(image: Image.Image, radius: float = 1.2) -> Image.Image:
    """Out of focus / soft optics."""
    return image.filter(ImageFilter.GaussianBlur(radius))


def jpeg_round_trip(image: Image.Image, quality: int = 40) -> Image.Image:
    """JPEG artefacts as a cheap scanner writes them."""
    out = Image.open(io.BytesIO(jpeg_bytes(image, quality=quality)))
    out.load()
    return out


def low_contrast(image: Image.Image, black: int = 105, white: int = 210) -> Image.Image:
    """A photocopy of a photocopy: black becomes grey, paper becomes grey."""
    a = np.asarray(image, dtype=np.float32)
    a = black + a * ((white - black) / 255.0)
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8), "L")


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def pen_stroke(image: Image.Image, box: Box, *, dpi: float, width_mm: float = 0.7, ink: int = 40,
               seed: int = 0, through: float = 0.5) -> Image.Image:
    """A ballpoint line across ``box`` (a gently curved stroke through it, edge to edge and beyond)."""
    rng = _rng(seed)
    out = image.copy()
    draw = ImageDraw.Draw(out)
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    angle = rng.uniform(-0.6, 0.6)
    cy = y0 + h * (through + rng.uniform(-0.15, 0.15))
    points = []
    for i in range(41):
        t = -0.25 + 1.5 * i / 40
        x = x0 + t * w
        y = cy + math.tan(angle) * (x - (x0 + w / 2)) + 0.06 * h * math.sin(6.0 * t + rng.uniform(0, 6))
        points.append((x, y))
    draw.line(points, fill=ink, width=max(1, mm_to_px(width_mm, dpi)), joint="curve")
    return out


def smudge(image: Image.Image, box: Box, *, coverage: float = 0.35, darkness: int = 110, seed: int = 0,
           softness: float = 0.15) -> Image.Image:
    """A stain (coffee, wet thumb) over part of ``box``: a soft dark blotch covering about ``coverage`` of it."""
    rng = _rng(seed)
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    r = math.sqrt(coverage * w * h / math.pi)
    cx = x0 + w * rng.uniform(0.3, 0.7)
    cy = y0 + h * rng.uniform(0.3, 0.7)
    pad = int(r * 1.6)
    left, top = int(cx) - pad, int(cy) - pad
    mask = Image.new("L", (2 * pad, 2 * pad), 0)
    draw = ImageDraw.Draw(mask)
    # an irregular blob: a polygon with a wobbly radius
    points = []
    phase = rng.uniform(0, 2 * math.pi, 3)
    for i in range(48):
        a = 2 * math.pi * i / 48
        rr = r * (1 + 0.18 * math.sin(3 * a + phase[0]) + 0.1 * math.sin(5 * a + phase[1]))
        points.append((pad + rr * math.cos(a), pad + rr * math.sin(a) * (0.8 + 0.2 * math.sin(phase[2]))))
    draw.polygon(points, fill=255)
    mask = mask.filter(ImageFilter.GaussianBlur(max(1.0, r * softness)))
    region = (left, top, left + 2 * pad, top + 2 * pad)
    out = image.copy()
    patch = out.crop(region)
    a = np.asarray(patch, dtype=np.float32)
    m = np.asarray(mask, dtype=np.float32) / 255.0
    # a stain darkens the paper and the ink under it, multiplicatively
    stained = a * (1.0 - m * (255 - darkness) / 255.0)
    out.paste(Image.fromarray(np.clip(stained, 0, 255).astype(np.uint8), "L"), region[:2])
    return out


def hole_punch(image: Image.Image, center: tuple[int, int], *, dpi: float, diameter_mm: float = 6.0,
               fill: int = 20) -> Image.Image:
    """A punched hole: the scanner sees its lid (dark on most ADFs) through it."""
    out = image.copy()
    r = mm_to_px(diameter_mm, dpi) / 2
    cx, cy = center
    ImageDraw.Draw(out).ellipse((cx - r, cy - r, cx + r, cy + r), fill=fill)
    return out


def staple(image: Image.Image, center: tuple[int, int], *, dpi: float, length_mm: float = 12.0,
           angle_deg: float = 30.0, ink: int = 60) -> Image.Image:
    """A staple: a thin dark bar with a shadow."""
    out = image.copy()
    draw = ImageDraw.Draw(out)
    half = mm_to_px(length_mm, dpi) / 2
    dx, dy = half * math.cos(math.radians(angle_deg)), -half * math.sin(math.radians(angle_deg))
    cx, cy = center
    draw.line([(cx - dx, cy - dy + 3), (cx + dx, cy + dy + 3)], fill=170, width=max(2, mm_to_px(1.4, dpi)))
    draw.line([(cx - dx, cy - dy), (cx + dx, cy + dy)], fill=ink, width=max(1, mm_to_px(0.8, dpi)))
    return out


def scanned(image: Image.Image, *, seed: int = 0, noise: float = 5.0, softness: float = 0.6) -> Image.Image:
    """The ordinary office-scanner look: slightly soft optics and some sensor noise."""
    out = blur(image, softness) if softness else image
    return add_noise(out, noise, seed=seed) if noise else out


# ------------------------------------------------------------------------------------------------- writers


def _dpi_info(dpi: float | None) -> dict:
    return {"dpi": (dpi, dpi)} if dpi else {}


def png_bytes(image: Image.Image, *, dpi: float | None = None) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG", compress_level=1, **_dpi_info(dpi))
    return buf.getvalue()


def jpeg_bytes(image: Image.Image, *, quality: int = 75, dpi: float | None = None) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=quality, **_dpi_info(dpi))
    return buf.getvalue()


def tiff_bytes(images: Iterable[Image.Image], *, dpi: float | None = None, compression: str = "tiff_lzw") -> bytes:
    """A multi-page TIFF (``compression``: "raw", "tiff_lzw", "group4" (bilevel), "jpeg", ...)."""
    images = [im.copy() for im in images]  # Pillow reuses a previous save's encoder settings on appended frames
    if compression == "group4":
        images = [im.convert("1", dither=Image.Dither.NONE) if im.mode != "1" else im for im in images]
    buf = io.BytesIO()
    images[0].save(buf, "TIFF", save_all=True, append_images=images[1:], compression=compression,
                   **_dpi_info(dpi))
    return buf.getvalue()


@dataclasses.dataclass
class PdfImagePage:
    """One page of a scanner-style PDF: a single image XObject drawn over the whole page."""

    data: bytes  # the encoded stream (JPEG file, zlib data or CCITT G4 data)
    width: int
    height: int
    filter: str = "DCTDecode"  # or "FlateDecode", "CCITTFaxDecode"
    colorspace: str = "DeviceGray"
    bits: int = 8
    dpi: float = 300.0
    black_is_1: bool = False  # CCITT only
    rotate: int = 0  # the page's /Rotate
    extra_content: bytes = b""  # drawn after the image (e.g. a visible stamp), in page units


def jpeg_page(image: Image.Image, *, dpi: float = 300, quality: int = 75, rotate: int = 0) -> PdfImagePage:
    colorspace = {"L": "DeviceGray", "RGB": "DeviceRGB"}[image.mode]
    return PdfImagePage(jpeg_bytes(image, quality=quality), image.width, image.height, dpi=dpi,
                        colorspace=colorspace, rotate=rotate)


def flate_page(image: Image.Image, *, dpi: float = 300) -> PdfImagePage:
    return PdfImagePage(zlib.compress(image.convert("L").tobytes(), 1), image.width, image.height,
                        filter="FlateDecode", dpi=dpi)


def ccitt_page(image: Image.Image, *, dpi: float = 300) -> PdfImagePage:
    """A bilevel page compressed with CCITT G4, as black-and-white scanners write it."""
    bilevel = image.convert("1", dither=Image.Dither.NONE)
    buf = io.BytesIO()
    # one strip holding the whole image, so its data is exactly the CCITT stream
    bilevel.save(buf, "TIFF", compression="group4", tiffinfo={278: bilevel.height})
    data, black_is_zero = _single_strip(buf.getvalue())
    return PdfImagePage(data, image.width, image.height, filter="CCITTFaxDecode", colorspace="DeviceGray",
                        bits=1, dpi=dpi, black_is_1=black_is_zero)


def _single_strip(tiff: bytes) -> tuple[bytes, bool]:
    """The data of a one-strip TIFF, and whether its photometric interpretation is BlackIsZero (then the
    codec's "white" runs are black pixels, which a PDF CCITT filter reads with /BlackIs1 true)."""
    endian = "<" if tiff[:2] == b"II" else ">"
    (ifd,) = struct.unpack(endian + "I", tiff[4:8])
    (count,) = struct.unpack(endian + "H", tiff[ifd:ifd + 2])
    tags: dict[int, int] = {}
    for i in range(count):
        tag, typ, n, value = struct.unpack(endian + "HHII", tiff[ifd + 2 + 12 * i: ifd + 14 + 12 * i])
        if typ == 3 and n == 1:
            value = value & 0xFFFF if endian == "<" else value >> 16
        tags[tag] = value
    if tags.get(278, 0) < tags[257]:
        raise ValueError("the TIFF was written with several strips")
    offset, length = tags[273], tags[279]
    return tiff[offset:offset + length], tags.get(262, 0) == 1


def image_pdf_bytes(pages: Sequence[PdfImagePage]) -> bytes:
    """A minimal, valid PDF where each page is exactly one image (what a scanner writes)."""
    objects: list[bytes] = []  # object n is objects[n - 1]

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # placeholders, filled in below
    pages_obj = add(b"")
    kids = []
    for i, page in enumerate(pages):
        w_pt, h_pt = page.width * 72.0 / page.dpi, page.height * 72.0 / page.dpi
        params = b""
        if page.filter == "CCITTFaxDecode":
            params = b"/DecodeParms << /K -1 /Columns %d /Rows %d /BlackIs1 %s >> " % (
                page.width, page.height, b"true" if page.black_is_1 else b"false")
        image = add(b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /%s "
                    b"/BitsPerComponent %d /Filter /%s %s/Length %d >>\nstream\n" % (
                        page.width, page.height, page.colorspace.encode(), page.bits, page.filter.encode(),
                        params, len(page.data)) + page.data + b"\nendstream")
        content = b"q %.4f 0 0 %.4f 0 0 cm /Im%d Do Q\n" % (w_pt, h_pt, i) + page.extra_content
        contents = add(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
        rotate = b" /Rotate %d" % page.rotate if page.rotate else b""
        kids.append(add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %.4f %.4f] /Resources << /XObject "
                        b"<< /Im%d %d 0 R >> /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> "
                        b">> /Contents %d 0 R%s >>" % (pages_obj, w_pt, h_pt, i, image, contents, rotate)))
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % pages_obj
    objects[pages_obj - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids), len(kids))
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % n + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, catalog, xref))
    return out.getvalue()


def scanner_pdf_bytes(images: Iterable[Image.Image], *, dpi: float = 300, quality: int = 75) -> bytes:
    """A scanner-style multi-page PDF: every page is one embedded JPEG (DCTDecode) covering the page."""
    return image_pdf_bytes([jpeg_page(im, dpi=dpi, quality=quality) for im in images])


def _draw_vector_page(canvas, text: str, width_pt: float, height_pt: float, *, ec_level: str = "Q",
                      module_mm: float = MODULE_MM) -> None:
    from reportlab.lib.units import mm

    modules = qr_modules(text, ec_level)
    n = modules.shape[0]
    outer = (n + 2 * QUIET_MODULES) * module_mm * mm
    margin = CODE_MARGIN_MM * mm
    for left, bottom in ((width_pt - margin - outer, height_pt - margin - outer), (margin, margin)):
        x0, y_top = left + QUIET_MODULES * module_mm * mm, bottom + outer - QUIET_MODULES * module_mm * mm
        for r in range(n):
            for c in range(n):
                if modules[r, c]:
                    canvas.rect(x0 + c * module_mm * mm, y_top - (r + 1) * module_mm * mm, module_mm * mm,
                                module_mm * mm, stroke=0, fill=1)
    canvas.setFont("Helvetica", 12)
    canvas.drawString(20 * mm, height_pt - 50 * mm, "QC-WS-014  Balance weighing worksheet (vector)")
    for r in range(12):
        y = height_pt - (80 + 9 * r) * mm
        canvas.line(20 * mm, y, 190 * mm, y)


def vector_pdf_bytes(texts: Sequence[str], *, ec_level: str = "Q", encrypt_user_password: str | None = None) -> bytes:
    """A PDF whose pages are drawn with vectors (codes as rectangles, text, lines): it must be rasterised."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    encrypt = None
    if encrypt_user_password is not None:
        from reportlab.lib import pdfencrypt

        encrypt = pdfencrypt.StandardEncryption(encrypt_user_password, ownerPassword="owner-secret", strength=128)
    buf = io.BytesIO()
    canvas = Canvas(buf, pagesize=A4, encrypt=encrypt)
    for text in texts:
        _draw_vector_page(canvas, text, *A4, ec_level=ec_level)
        canvas.showPage()
    canvas.save()
    return buf.getvalue()


def encrypted_pdf_bytes(text: str | None = None, *, user_password: str = "secret") -> bytes:
    """A PDF that cannot be opened without its user password (RC4-128 standard security handler)."""
    return vector_pdf_bytes([text or payload_text()], encrypt_user_password=user_password)


def truncated(data: bytes, fraction: float = 0.6) -> bytes:
    """The first part of a file, as when a scanner is still writing it."""
    return data[: int(len(data) * fraction)]


def corrupt_tiff_frame(tiff: bytes, index: int) -> bytes:
    """Overwrite the image data of one frame of a (little-endian, classic) TIFF with garbage."""
    data = bytearray(tiff)
    if data[:4] != b"II*\x00":
        raise ValueError("a little-endian classic TIFF is expected")
    offset = struct.unpack("<I", data[4:8])[0]
    for _ in range(index):
        count = struct.unpack("<H", data[offset:offset + 2])[0]
        offset = struct.unpack("<I", data[offset + 2 + 12 * count:offset + 6 + 12 * count])[0]
    count = struct.unpack("<H", data[offset:offset + 2])[0]
    entries = {}
    for i in range(count):
        tag, typ, n, value = struct.unpack("<HHII", data[offset + 2 + 12 * i:offset + 14 + 12 * i])
        entries[tag] = (typ, n, value)

    def values(tag: int) -> list[int]:
        typ, n, value = entries[tag]
        fmt = "H" if typ == 3 else "I"
        if n * struct.calcsize(fmt) <= 4:
            return list(struct.unpack("<" + fmt * n, struct.pack("<I", value)[: n * struct.calcsize(fmt)]))
        return list(struct.unpack("<" + fmt * n, data[value:value + n * struct.calcsize(fmt)]))

    for start, length in zip(values(273), values(279)):
        data[start:start + length] = b"\xff" * length
    return bytes(data)
