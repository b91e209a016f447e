"""Where a scanned page's millimetres are in its pixels: fitted to the page's own two QR codes.

Every page of an issued copy carries two identical codes, top-right and bottom-left (``geometry.Mark``). zxing
reports each code's four corners in the code's own orientation, which is the page's orientation, so a page
scanned sideways or upside down needs nothing special: the code whose centre lies up and to the right (along
the codes' own axes) of the other is the top-right one. The eight corners are matched to where the template
prints them (``geometry.qr_symbol_rect``, for the module count zxing read) and a similarity (scale, rotation,
shift) from page millimetres to image pixels is fitted by least squares. The codes sit at opposite corners of
the page, so the map is well determined everywhere in between: on rendered and re-scanned sheets (±3° skew,
95-105 % scale, 150-600 dpi) boxes land within about 0.2 mm of where they are (tests/unit/forms/
test_registration.py). What a similarity cannot follow (a scanner feed stretching the page by a fraction of a
per cent: 0.6 mm at the page's ends for 0.5 %) the reader takes up box by box from the printed edges
(``field_states._snap``).

Only the page's own codes count: ``payload_text`` (what intake decoded for this page), or, without it, any
Formtrail code, provided both codes agree. A page with fewer than two readable codes is not read at all
(:class:`RegistrationError`): one code alone cannot tell a tilted sheet from a scaled one.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import zxingcpp
from PIL import Image

from app.forms.layout.geometry import Mark, PageBoxes, qr_symbol_rect
from app.forms.layout.payload import PayloadError, is_preview, looks_like_ours, parse
from app.forms.render.qr import qr_matrix
from app.forms.scan.scan_decode import QR_FORMAT, corner_boxes
from app.forms.scan.scan_image import PageImage, to_grey

_FORMATS = zxingcpp.BarcodeFormats(QR_FORMAT)
MIN_SIDE_PX = 200  # a page image smaller than this has no readable codes (a thumbnail, a stray strip)
MAX_RESIDUAL_MM = 1.5  # the codes do not sit where the template prints them: another layout, a cut page
DPI_RANGE = (50.0, 2000.0)
MAX_ANGLE_DISAGREEMENT_DEG = 10.0  # both codes of one page face the same way

Points = np.ndarray  # (n, 2) float64
PageLike = Image.Image | np.ndarray | PageImage


class RegistrationError(ValueError):
    """The page cannot be registered; ``reason`` is a stable code, the message says why in words."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclasses.dataclass(frozen=True)
class Registration:
    """The fitted map from page millimetres to image pixels: ``px = A @ (x_mm, y_mm, 1)``.

    ``matrix`` is A row by row (a, b, c, d, e, f): px_x = a·x + b·y + c, px_y = d·x + e·y + f.
    ``scale`` is pixels per millimetre, ``dpi`` the same per inch (what the page was scanned at, times the
    printer's scaling), ``rotation_deg`` how far the page is turned in the image, counter-clockwise as seen
    (0 upright, 90 for a page turned a quarter counter-clockwise, ±180 upside down), ``residual_mm`` the mean
    distance between the fitted and the found code corners. ``text`` is the code's text."""

    matrix: tuple[float, float, float, float, float, float]
    residual_mm: float
    scale: float
    rotation_deg: float
    dpi: float
    text: str

    def to_px(self, x_mm: float, y_mm: float) -> tuple[float, float]:
        a, b, c, d, e, f = self.matrix
        return a * x_mm + b * y_mm + c, d * x_mm + e * y_mm + f

    def to_mm(self, x_px: float, y_px: float) -> tuple[float, float]:
        a, b, c, d, e, f = self.matrix
        det = a * e - b * d
        x, y = x_px - c, y_px - f
        return (e * x - b * y) / det, (a * y - d * x) / det


@dataclasses.dataclass(frozen=True)
class _Found:
    text: str
    corners: Points  # top-left, top-right, bottom-right, bottom-left, in image pixels, the code's own orientation
    modules: int

    @property
    def centre(self) -> np.ndarray:
        return np.asarray(self.corners.mean(axis=0))


def as_grey(image: PageLike) -> Image.Image:
    """An "L" image of ``image``: a PIL image of any mode, a 2-D uint8 array, or a page from
    ``scan_pages.iter_pages`` (a lazy one is decoded). RegistrationError("bad-image") when there is none."""
    if isinstance(image, PageImage):
        try:
            loaded = image.loaded() if image.error is None else image
        except (OSError, ValueError, SyntaxError) as exc:  # what Pillow raises for damaged data
            raise RegistrationError("bad-image", f"the page image cannot be decoded: {exc}") from exc
        if loaded.image is None:
            raise RegistrationError("bad-image", f"the page has no image: {loaded.error}")
        return loaded.image
    if isinstance(image, np.ndarray):
        if image.ndim != 2:
            raise RegistrationError("bad-image", "a greyscale (2-D) array is expected")
        return Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8), "L")
    try:
        return to_grey(image)
    except (OSError, ValueError, SyntaxError) as exc:
        raise RegistrationError("bad-image", f"the page image cannot be decoded: {exc}") from exc


def register(image: PageLike, page: PageBoxes, *, payload_text: str | None = None) -> Registration:
    """Fit page ``page``'s millimetres to ``image``'s pixels from its two codes; raises RegistrationError."""
    grey = as_grey(image)
    if min(grey.size) < MIN_SIDE_PX:
        raise RegistrationError("too-small", f"the page image is too small ({grey.width} × {grey.height} pixels)")
    marks = {m.corner: m for m in page.marks}
    if set(marks) != {"top-right", "bottom-left"}:
        raise RegistrationError("no-marks", f"page {page.page} of the template has no code slots")
    found = _find_codes(grey, payload_text)
    if len(found) < 2:
        what = "only one of the page's two codes was readable" if found else "none of the page's codes was readable"
        raise RegistrationError("codes-missing", f"{what}: the page cannot be lined up with its template")
    first, second = found[0], found[1]
    if first.text != second.text:
        raise RegistrationError("codes-differ", "the page's two codes differ (a page pasted together?)")
    _check_page(first.text, page)
    top_right, bottom_left = _assign(first, second)
    src = np.vstack([_symbol_corners(marks["top-right"], top_right.modules),
                     _symbol_corners(marks["bottom-left"], bottom_left.modules)])
    dst = np.vstack([top_right.corners, bottom_left.corners])
    return _fit(src, dst, first.text)


def _find_codes(grey: Image.Image, payload_text: str | None) -> list[_Found]:
    """The page's codes: the corner regions first (top-right, bottom-left, top-left, bottom-right), then, if
    two are not found there, the whole page."""
    found: list[_Found] = []
    for box in corner_boxes(*grey.size).values():
        _read(grey.crop(box), box[:2], payload_text=payload_text, found=found)
        if len(found) >= 2:
            return found
    _read(grey, (0, 0), payload_text=payload_text, found=found)
    return found


def _read(region: Image.Image, origin: tuple[int, int], *, payload_text: str | None, found: list[_Found]) -> None:
    for barcode in zxingcpp.read_barcodes(region, formats=_FORMATS, try_rotate=True, try_downscale=True,
                                          try_invert=False):
        text = barcode.text
        if payload_text is not None and text != payload_text:
            continue
        if payload_text is None and (not looks_like_ours(text) or is_preview(text)):
            continue
        pos = barcode.position
        corners = np.array([[p.x + origin[0], p.y + origin[1]] for p in
                            (pos.top_left, pos.top_right, pos.bottom_right, pos.bottom_left)], dtype=np.float64)
        code = _Found(text=text, corners=corners, modules=_modules(barcode))
        side = float(np.linalg.norm(corners[1] - corners[0]))
        if all(np.linalg.norm(code.centre - other.centre) > side for other in found):
            found.append(code)


def _modules(barcode: zxingcpp.Barcode) -> int:
    """Modules per side, from the version zxing read (or by encoding the text again, as the renderer did)."""
    extra = getattr(barcode, "extra", None)
    if isinstance(extra, dict):
        try:
            return 17 + 4 * int(extra["Version"])
        except (KeyError, TypeError, ValueError):
            pass
    return qr_matrix(barcode.text).size


def _check_page(text: str, page: PageBoxes) -> None:
    try:
        payload, _tag = parse(text)
    except PayloadError as exc:
        raise RegistrationError("not-ours", f"the page's code is not a form code: {exc}") from exc
    if payload.page != page.page:
        raise RegistrationError("wrong-page", f"the code says page {payload.page}, not page {page.page}")


def _assign(first: _Found, second: _Found) -> tuple[_Found, _Found]:
    """(top-right, bottom-left): along the codes' own axes, the top-right code lies right of and above the other."""
    angles = [_angle(code) for code in (first, second)]
    diff = abs((angles[0] - angles[1] + 180.0) % 360.0 - 180.0)
    if diff > MAX_ANGLE_DISAGREEMENT_DEG:
        raise RegistrationError("codes-disagree", f"the page's two codes face different ways ({diff:.0f}°)")
    right = first.corners[1] - first.corners[0]
    down = first.corners[3] - first.corners[0]
    step = second.centre - first.centre
    score = float(step @ down / np.linalg.norm(down) - step @ right / np.linalg.norm(right))
    return (first, second) if score > 0 else (second, first)


def _angle(code: _Found) -> float:
    dx, dy = code.corners[1] - code.corners[0]
    return math.degrees(math.atan2(dy, dx))


def _symbol_corners(mark: Mark, modules: int) -> Points:
    r = qr_symbol_rect(mark, modules)
    return np.array([[r.x_mm, r.y_mm], [r.right_mm, r.y_mm], [r.right_mm, r.bottom_mm], [r.x_mm, r.bottom_mm]])


def _fit(src: Points, dst: Points, text: str) -> Registration:
    """Least-squares similarity (scale, rotation, shift) from page mm to pixels.

    Not a general affine map: the eight corners come in two tight clusters at opposite corners of the page,
    so an affine fit's shear and unequal scales would rest on the 26 mm within one code and magnify corner
    noise ~10× across the page (measured: worst box corner 0.65 mm off with an affine fit, 0.17 mm with this
    one, on sheets rendered, skewed, scaled and scanned at 150-300 dpi)."""
    n = len(src)
    design = np.zeros((2 * n, 4))
    design[0::2, 0], design[0::2, 1], design[0::2, 2] = src[:, 0], -src[:, 1], 1.0
    design[1::2, 0], design[1::2, 1], design[1::2, 3] = src[:, 1], src[:, 0], 1.0
    target = dst.reshape(-1)
    (p, q, tx, ty), *_ = np.linalg.lstsq(design, target, rcond=None)
    scale = math.hypot(p, q)
    dpi = scale * 25.4
    if not DPI_RANGE[0] <= dpi <= DPI_RANGE[1]:
        raise RegistrationError("implausible", f"the codes give an implausible scale ({dpi:.0f} dpi)")
    residual = float(np.linalg.norm((design @ (p, q, tx, ty) - target).reshape(-1, 2), axis=1).mean()) / scale
    if residual > MAX_RESIDUAL_MM:
        raise RegistrationError("misfit", f"the codes are not where this template prints them ({residual:.1f} mm off)")
    rotation = math.degrees(math.atan2(-q, p))  # counter-clockwise as seen (y is down)
    return Registration(matrix=(float(p), float(-q), float(tx), float(q), float(p), float(ty)), residual_mm=residual,
                        scale=scale, rotation_deg=rotation, dpi=dpi, text=text)
