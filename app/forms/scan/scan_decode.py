"""Find the codes on one page image: ours (Formtrail payloads) and foreign ones.

Our forms print two identical QR codes per page, in the top-right and the bottom-left corner. Whatever quarter
turn the page arrives in, one of them is in a corner, so :func:`decode_page` looks in the four corner regions
first (squares of :data:`CORNER_FRACTION` of the page's short side, in the order top-right, bottom-left,
top-left, bottom-right) and stops at the first region holding a code of ours; then the whole page. Every code
found is considered: codes that are not ours are reported in ``foreign`` and otherwise ignored. Only when
nothing of ours was found does it try harder, stopping at the first success:

1. the page at a higher resolution, when the source has more pixels than the working image
   (DCT-scaled JPEG, or a rasterised PDF page rendered again at 300 dpi);
2. a 3x3 median filter (specks, halftone, JPEG noise);
3. zxing's global-histogram binariser instead of the local-average one (uneven, low contrast);
4. the corners enlarged 2x (small modules at a low resolution);
5. the corners rotated by 45 degrees (a detector that lost the finder patterns).

Before the fallbacks, a page with nothing of ours is checked with :func:`is_blank`; a blank page (the back
of a duplex scan) skips them (``DecodeResult.blank``).

zxing-cpp is restricted to regular QR codes (``QRCodeModel2``): the default also matches Micro QR and gave a
false read on a smudged page. Decoding is pure computation on plain data: run it in processes, not threads
(the PDF side is not thread-safe, see ``app.forms.scan.scan_pages``).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable

import numpy as np
import zxingcpp
from PIL import Image, ImageFilter

from app.forms.layout.payload import looks_like_ours
from app.forms.scan.scan_pages import MAX_PIXELS, PageError, PageImage, Source, iter_pages

QR_FORMAT = zxingcpp.BarcodeFormat.QRCodeModel2
_QR_FORMATS = zxingcpp.BarcodeFormats(QR_FORMAT)  # the set form, the type read_barcodes declares
CORNERS = ("top-right", "bottom-left", "top-left", "bottom-right")
CORNER_FRACTION = 0.35  # side of a corner region, as a fraction of the page's short side (~74 mm on A4)
UPSCALE_BELOW_DPI = 250.0  # the "enlarge" fallback only runs when the working image is coarser than this

# is_blank: ink must be this much darker than the paper (grey levels), and cover this much area to count
BLANK_MARGIN_MM = 18.0  # scanner edges, punched holes (centred 12 mm from the edge) and staples live here
BLANK_MIN_CONTRAST = 45.0
BLANK_MAX_INK_MM2 = 1.5
BLANK_ATTACHED_MM = 8.0
BLANK_MIN_MARK_MM = 1.2  # a blot smaller than this across is dust, not a mark
BLANK_WORK_DPI = 100.0

ImageLike = PageImage | Image.Image | np.ndarray


@dataclasses.dataclass(frozen=True)
class DecodeResult:
    """What :func:`decode_page` found on one page.

    ``ours``: distinct texts of Formtrail codes (``payload.looks_like_ours``; the tag is NOT verified here), in
    the order found; normally exactly one. ``foreign``: distinct texts of other QR codes seen in the regions
    examined. ``strategy``: the step that found ours, e.g. "corner:top-right", "page",
    "full-resolution:corner:top-left", "median:page", "rotate-45:corner:top-left"; None when nothing of ours
    was found.
    ``blank``: only evaluated when nothing of ours was found (else None). ``attempts``: zxing calls made.
    ``mirrored``: codes of ours seen mirror-imaged, i.e. the front's code showing through the paper on the
    back of a duplex scan; they are not in ``ours`` (a thin sheet's back would otherwise look like a second,
    different image of the same page).
    """

    ours: tuple[str, ...]
    foreign: tuple[str, ...]
    strategy: str | None
    elapsed_ms: float
    blank: bool | None = None
    attempts: int = 0
    mirrored: tuple[str, ...] = ()

    @property
    def found(self) -> bool:
        return bool(self.ours)


class _Collector:
    def __init__(self) -> None:
        self.ours: list[str] = []
        self.foreign: list[str] = []
        self.mirrored: list[str] = []
        self.attempts = 0

    def read(self, image: Image.Image,
             binarizer: zxingcpp.Binarizer = zxingcpp.Binarizer.LocalAverage) -> bool:
        """Decode every QR code in ``image``; True if one of ours was among them."""
        self.attempts += 1
        found = False
        for barcode in zxingcpp.read_barcodes(image, formats=_QR_FORMATS, try_rotate=True, try_downscale=True,
                                              try_invert=False, binarizer=binarizer):
            text = barcode.text
            if looks_like_ours(text):
                if is_mirrored(image, barcode):
                    if text not in self.mirrored:
                        self.mirrored.append(text)
                    continue
                found = True
                if text not in self.ours:
                    self.ours.append(text)
            elif text not in self.foreign:
                self.foreign.append(text)
        return found


# A QR code seen from the back of the sheet (show-through on a duplex scan) is mirror-imaged, and zxing reads
# mirrored codes without saying so. The 15-bit format information tells: sampled in zxing's reading frame it
# is valid for a normal code, and valid only after transposing the module grid for a mirrored one.
def _format_codewords() -> tuple[int, ...]:
    words = []
    for data in range(32):
        value = data << 10
        for bit in range(14, 9, -1):
            if value & (1 << bit):
                value ^= 0x537 << (bit - 10)
        words.append(((data << 10) | value) ^ 0x5412)
    return tuple(words)


_FORMAT_CODEWORDS = _format_codewords()


def _format_distance(modules: np.ndarray) -> int:
    """Hamming distance of the two format-information copies (together) to the nearest valid format word."""
    n = modules.shape[0]
    first = [(8, c) for c in (0, 1, 2, 3, 4, 5, 7, 8)] + [(7, 8)] + [(r, 8) for r in range(5, -1, -1)]
    second = [(r, 8) for r in range(n - 1, n - 8, -1)] + [(8, c) for c in range(n - 8, n)]
    copies = []
    for cells in (first, second):
        bits = 0
        for r, c in cells:
            bits = (bits << 1) | int(modules[r, c])
        copies.append(bits)
    return min(bin(copies[0] ^ word).count("1") + bin(copies[1] ^ word).count("1") for word in _FORMAT_CODEWORDS)


def is_mirrored(image: Image.Image, barcode: zxingcpp.Barcode) -> bool:
    """Whether a QR code zxing decoded in ``image`` is mirror-imaged (seen through the paper from behind).

    Samples the module grid (each module averaged over its centre) inside zxing's reported corners;
    "mirrored" only when both copies of the format information are (nearly) valid transposed and clearly
    worse as read, so a damaged normal code (one copy wrong) is not called mirrored: a chance match needs
    at most 3 errors in 30 random bits.
    """
    try:
        extra = barcode.extra  # a dict at runtime; zxingcpp's stub types it as object
        if not isinstance(extra, dict):
            return False
        n = 17 + 4 * int(extra.get("Version", 0))
        pos = barcode.position
        tl, tr, br, bl = (np.array([p.x, p.y], dtype=np.float64) for p in
                          (pos.top_left, pos.top_right, pos.bottom_right, pos.bottom_left))
    except (TypeError, ValueError, AttributeError):
        return False
    if not 21 <= n <= 177:
        return False
    module = float(np.linalg.norm(tr - tl)) / n
    radius = max(1, int(module / 4))
    left, top = np.floor(np.minimum.reduce([tl, tr, br, bl])).astype(int) - 2 * radius
    right, bottom = np.ceil(np.maximum.reduce([tl, tr, br, bl])).astype(int) + 2 * radius
    left, top = max(0, left), max(0, top)
    region = image.crop((left, top, min(image.width, right), min(image.height, bottom)))
    pixels = np.asarray(region.filter(ImageFilter.BoxBlur(radius)), dtype=np.float32)
    steps = (np.arange(n) + 0.5) / n
    u, v = np.meshgrid(steps, steps)
    points = (((1 - u) * (1 - v))[..., None] * tl + (u * (1 - v))[..., None] * tr
              + (u * v)[..., None] * br + ((1 - u) * v)[..., None] * bl)
    xs = np.clip(np.rint(points[..., 0] - left).astype(np.intp), 0, pixels.shape[1] - 1)
    ys = np.clip(np.rint(points[..., 1] - top).astype(np.intp), 0, pixels.shape[0] - 1)
    values = pixels[ys, xs]
    low, high = np.percentile(values, (10, 90))
    dark = values < (low + high) / 2
    transposed = _format_distance(dark.T)
    return transposed <= 3 and _format_distance(dark) >= transposed + 4


def corner_boxes(width: int, height: int, fraction: float = CORNER_FRACTION) -> dict[str, tuple[int, int, int, int]]:
    """The four corner regions (left, top, right, bottom) of a page of this size."""
    side = max(1, min(width, height, int(round(fraction * min(width, height)))))
    return {
        "top-right": (width - side, 0, width, side),
        "bottom-left": (0, height - side, side, height),
        "top-left": (0, 0, side, side),
        "bottom-right": (width - side, height - side, width, height),
    }


def _scan(collector: _Collector, image: Image.Image, prefix: str, *, exhaustive: bool,
          region_filter: Callable[[Image.Image], Image.Image] | None = None,
          binarizer: zxingcpp.Binarizer = zxingcpp.Binarizer.LocalAverage,
          corners_only: bool = False) -> str | None:
    """Corners first, then the whole page; the name of the first region with ours (all regions if exhaustive)."""
    first = None
    for name, box in corner_boxes(*image.size).items():
        region = image.crop(box)
        if region_filter is not None:
            region = region_filter(region)
        if collector.read(region, binarizer) and first is None:
            first = f"{prefix}corner:{name}"
            if not exhaustive:
                return first
    if corners_only:
        return first
    page = region_filter(image) if region_filter is not None else image
    if collector.read(page, binarizer) and first is None:
        first = f"{prefix}page"
    return first


def _as_page(image: ImageLike) -> tuple[Image.Image, PageImage | None, float | None]:
    if isinstance(image, PageImage):
        if image.error is not None or image.image is None:
            raise ValueError(f"page {image.index + 1} has no image: {image.error}")
        return image.image, image, image.effective_dpi
    if isinstance(image, np.ndarray):
        if image.ndim != 2:
            raise ValueError("a greyscale (2-D) array is expected")
        return Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8), "L"), None, None
    if image.mode != "L":
        image = image.convert("L")
    return image, None, None


def decode_page(image: ImageLike, *, exhaustive: bool = False, fallbacks: bool = True) -> DecodeResult:
    """Find the QR codes on one page (see the module docstring for the order of the steps).

    ``image``: a :class:`PageImage` (preferred: it knows its dpi and can go back to a higher resolution), a
    PIL image or a 2-D uint8 array. ``exhaustive``: look everywhere and run every fallback, collecting every
    code (for "retry decoding" on an exception, or to check that both codes of a page agree).
    ``fallbacks=False``: only the fast steps.
    """
    start = time.perf_counter()
    work, page, dpi = _as_page(image)
    collector = _Collector()
    strategy = _scan(collector, work, "", exhaustive=exhaustive)
    blank = is_blank(work, dpi=dpi) if strategy is None else None
    if fallbacks and (exhaustive or (strategy is None and not blank)):
        found = _fallbacks(collector, work, page, dpi, exhaustive=exhaustive)
        strategy = strategy or found
    if strategy is not None:
        blank = None
    return DecodeResult(ours=tuple(collector.ours), foreign=tuple(collector.foreign), strategy=strategy,
                        elapsed_ms=(time.perf_counter() - start) * 1000.0, blank=blank,
                        attempts=collector.attempts, mirrored=tuple(collector.mirrored))


def decode_top_right(page: PageImage) -> DecodeResult | None:
    """The usual page, cheaply: a lazy page (``iter_pages(lazy=True)``) whose top-right corner holds a code of
    ours gets exactly the result :func:`decode_page` would give, from the top rows of its image alone. None
    when the corner holds none of ours (or the page is not lazy): then decode the loaded page as usual."""
    if page.deferred is None or page.error is not None:
        return None
    start = time.perf_counter()
    width, height = page.deferred.size
    box = corner_boxes(width, height)[CORNERS[0]]
    strip = page.top_rows(box[3])
    if strip is None or strip.size != (width, box[3]):
        return None
    collector = _Collector()
    if not collector.read(strip.crop(box)):
        return None
    return DecodeResult(ours=tuple(collector.ours), foreign=tuple(collector.foreign), strategy=f"corner:{CORNERS[0]}",
                        elapsed_ms=(time.perf_counter() - start) * 1000.0, blank=None, attempts=collector.attempts,
                        mirrored=tuple(collector.mirrored))


def _median(region: Image.Image) -> Image.Image:
    """3x3 median filter (a sorting network over numpy arrays: ~10x faster than Pillow's rank filter)."""
    a = np.asarray(region)
    h, w = a.shape
    padded = np.pad(a, 1, mode="edge")
    v = [padded[dy:dy + h, dx:dx + w] for dy in range(3) for dx in range(3)]
    for i, j in ((1, 2), (4, 5), (7, 8), (0, 1), (3, 4), (6, 7), (1, 2), (4, 5), (7, 8), (0, 3), (5, 8), (4, 7),
                 (3, 6), (1, 4), (2, 5), (4, 7), (4, 2), (6, 4), (4, 2)):
        v[i], v[j] = np.minimum(v[i], v[j]), np.maximum(v[i], v[j])
    return Image.fromarray(np.ascontiguousarray(v[4]), "L")


def _upscale(region: Image.Image) -> Image.Image:
    return region.resize((region.width * 2, region.height * 2), Image.Resampling.BICUBIC)


def _rotate45(region: Image.Image) -> Image.Image:
    return region.rotate(45, resample=Image.Resampling.BILINEAR, expand=True, fillcolor=255)


def _fallbacks(collector: _Collector, work: Image.Image, page: PageImage | None, dpi: float | None, *,
               exhaustive: bool) -> str | None:
    """The slower steps, in order, until one finds ours. Only the full-resolution, median and global-histogram
    steps look at the whole page as well; the others only where our codes are printed (the corners)."""
    first = None

    def attempt(result: str | None) -> bool:
        nonlocal first
        if result is not None and first is None:
            first = result
        return first is not None and not exhaustive

    if page is not None and page.can_go_higher:
        full = page.full_resolution()
        if full is not None and attempt(_scan(collector, full, "full-resolution:", exhaustive=exhaustive)):
            return first
    if attempt(_scan(collector, work, "median:", exhaustive=exhaustive, region_filter=_median)):
        return first
    if attempt(_scan(collector, work, "global-histogram:", exhaustive=exhaustive,
                     binarizer=zxingcpp.Binarizer.GlobalHistogram)):
        return first
    if (dpi is None or dpi < UPSCALE_BELOW_DPI) and attempt(
            _scan(collector, work, "enlarge:", exhaustive=exhaustive, region_filter=_upscale, corners_only=True)):
        return first
    attempt(_scan(collector, work, "rotate-45:", exhaustive=exhaustive, region_filter=_rotate45,
                  corners_only=True))
    return first


# ------------------------------------------------------------------------------------------------ blank pages


def is_blank(image: ImageLike, *, dpi: float | None = None) -> bool:
    """Whether a page carries no ink (e.g. the back of a duplex scan).

    Works at ~100 dpi. The paper level is the median grey of the page's interior; ink is anything at least
    ``BLANK_MIN_CONTRAST`` grey levels (or 5 noise sigmas) darker than that. Ignored: an outer band of
    ``BLANK_MARGIN_MM`` (scanner edges and shadows, punched holes, staples) and ink attached to that band
    for up to ``BLANK_ATTACHED_MM`` into the page (a hole or staple a little further in on a skewed or
    offset sheet); isolated specks (dust, noise, JPEG ringing); rows and columns inked along more than half
    their length (dirt on an ADF's glass draws a full-length streak), and blots smaller than
    ``BLANK_MIN_MARK_MM`` across (dust). The page is blank when less than ``BLANK_MAX_INK_MM2`` of ink
    remains: a single tick or a short pen stroke is more than that, so a page with a few pen marks, or a
    Z-line across unused space, is not blank. A lone full stop is not a mark, by this definition.
    """
    work, _page, page_dpi = _as_page(image)
    dpi = dpi or page_dpi or max(work.size) / (297 / 25.4)  # assume A4 when nothing better is known
    factor = max(1, int(round(dpi / BLANK_WORK_DPI)))
    small = work.reduce(factor) if factor > 1 else work
    px_mm = 25.4 * factor / dpi
    a = np.asarray(small, dtype=np.uint8)
    h, w = a.shape
    margin = int(round(BLANK_MARGIN_MM / px_mm))
    if h <= 3 * margin or w <= 3 * margin:
        margin = min(h, w) // 6
    inner = a[margin:h - margin, margin:w - margin]
    if inner.size == 0:
        return True
    hist = np.bincount(inner.ravel(), minlength=256)
    paper = _hist_median(hist)
    deviation = np.bincount(np.abs(np.arange(256) - paper), weights=hist, minlength=256)
    sigma = 1.4826 * _hist_median(deviation)
    threshold = max(BLANK_MIN_CONTRAST, 5.0 * sigma)
    ink = a < paper - threshold
    if not ink[margin:h - margin, margin:w - margin].any():
        return True
    ink = _without_streaks(ink, a < paper - max(12.0, 3.0 * sigma))
    ink = _without_specks(ink, window=3, min_count=3)  # lone noise pixels
    band = np.ones_like(ink)
    band[margin:h - margin, margin:w - margin] = False
    attached = _grow(ink & band, ink, steps=int(round(BLANK_ATTACHED_MM / px_mm)))
    remaining = ink & ~band & ~attached
    limit = BLANK_MAX_INK_MM2 / (px_mm * px_mm)
    count = int(remaining.sum())
    if count < limit:
        return True
    if count > 50 * limit:
        return False  # plainly written on
    min_extent = BLANK_MIN_MARK_MM / px_mm
    marks = sum(size for size, extent in _components(remaining) if extent >= min_extent)
    return marks < limit


def _hist_median(hist: np.ndarray) -> int:
    cumulative = np.cumsum(hist)
    return int(np.searchsorted(cumulative, cumulative[-1] / 2.0))


def _without_streaks(ink: np.ndarray, faint: np.ndarray) -> np.ndarray:
    """Drop rows and columns (and their neighbours) that are at least faintly inked over most of their length:
    dirt on an ADF's glass draws a full-length streak, which averaging may split over two columns."""
    ink = ink.copy()
    for axis in (0, 1):
        lines = faint.mean(axis=axis) > 0.6
        if lines.any():
            lines = lines | np.roll(lines, 1) | np.roll(lines, -1)
            if axis == 0:
                ink[:, lines] = False
            else:
                ink[lines, :] = False
    return ink


def _without_specks(ink: np.ndarray, *, window: int, min_count: int) -> np.ndarray:
    """Keep ink pixels with at least ``min_count`` ink pixels in the ``window`` x ``window`` around them."""
    pad = window // 2
    integral = np.pad(np.pad(ink.astype(np.int32), pad).cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    h, w = ink.shape
    counts = (integral[window:window + h, window:window + w] - integral[:h, window:window + w]
              - integral[window:window + h, :w] + integral[:h, :w])
    return ink & (counts >= min_count)


def _components(mask: np.ndarray) -> list[tuple[int, float]]:
    """(pixel count, largest bounding-box side) of each 8-connected component (for sparse masks)."""
    ys, xs = np.nonzero(mask)
    todo = set(zip(ys.tolist(), xs.tolist(), strict=True))
    out = []
    while todo:
        stack = [todo.pop()]
        size, y0, y1, x0, x1 = 0, stack[0][0], stack[0][0], stack[0][1], stack[0][1]
        while stack:
            y, x = stack.pop()
            size += 1
            y0, y1, x0, x1 = min(y0, y), max(y1, y), min(x0, x), max(x1, x)
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    neighbour = (y + dy, x + dx)
                    if neighbour in todo:
                        todo.remove(neighbour)
                        stack.append(neighbour)
        out.append((size, float(max(y1 - y0, x1 - x0) + 1)))
    return out


def _grow(seed: np.ndarray, within: np.ndarray, *, steps: int) -> np.ndarray:
    """Pixels of ``within`` reachable from ``seed`` in at most ``steps`` 8-connected steps."""
    grown = seed.copy()
    for _ in range(steps):
        if not grown.any():
            break
        step = grown.copy()
        step[1:, :] |= grown[:-1, :]
        step[:-1, :] |= grown[1:, :]
        wide = step.copy()
        wide[:, 1:] |= step[:, :-1]
        wide[:, :-1] |= step[:, 1:]
        wide &= within
        if np.array_equal(wide, grown):
            break
        grown = wide
    return grown


# ----------------------------------------------------------------------------------- whole files, in a worker


@dataclasses.dataclass(frozen=True)
class PageDecode:
    """One page of a file, decoded: plain data, cheap to send back from a worker process."""

    index: int
    method: str
    width: int
    height: int
    dpi: float | None
    dpi_source: str
    mode: str
    error: PageError | None
    result: DecodeResult | None
    load_ms: float  # getting the page image (opening the file for the first page, decoding, rendering)


def decode_pages(data: Source, *, filename: str | None = None, pages: Iterable[int] | None = None,
                 exhaustive: bool = False, max_pixels: int = MAX_PIXELS) -> list[PageDecode]:
    """:func:`~app.forms.scan.scan_pages.iter_pages` + :func:`decode_page` over a file (or some of its pages).

    A top-level function taking and returning plain data, made to be the unit of work of a process pool
    (give it a path and a ``pages`` range). Raises ``SourceError`` when the file cannot be read at all.
    """
    out: list[PageDecode] = []
    t0 = time.perf_counter()
    # opening (and a PNG/JPEG file's decoding)
    iterator = iter_pages(data, filename=filename, pages=pages, max_pixels=max_pixels)
    while True:
        try:
            page = next(iterator)
        except StopIteration:
            break
        load_ms = (time.perf_counter() - t0) * 1000.0
        result = decode_page(page, exhaustive=exhaustive) if page.ok else None
        out.append(PageDecode(index=page.index, method=page.method, width=page.width, height=page.height,
                              dpi=page.dpi, dpi_source=page.dpi_source, mode=page.mode, error=page.error,
                              result=result, load_ms=load_ms))
        t0 = time.perf_counter()
    return out
