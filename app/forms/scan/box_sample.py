"""One box of a registered page, cut out upright for reading (``field_states``): its pixels at
:data:`WORK_PX_PER_MM`, where its printed edges really are, the paper's level and which pixels are ink.

About 150 dpi: a ballpoint line is still 1.5-3 pixels wide there, and a page's boxes come to ~0.5 Mpx whatever
the scan's resolution. A scan at least twice as fine is first reduced by a whole factor around each box (area
averaging), so thin strokes are not skipped over.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from PIL import Image

from app.forms.layout.geometry import Box
from app.forms.scan.registration import Registration

WORK_PX_PER_MM = 6.0
MARGIN_MM = 2.5  # sampled around the box: its printed edges, the paper level, strokes entering from outside
SNAP_MM = 1.5  # the printed edges are looked for this far from where the registration puts them
RULE_COVER = 0.6  # a printed edge is dark along this much of the box's side
MASK_GROW_MM = 0.4  # around a mask (a printed hint, caption or line): registration error and print spread
# How much darker than the paper around a box ink is, as a share of the page's contrast (paper to the black of
# its print: ~225 grey levels on a good scan, ~100 on a copy of a copy), and at least so many grey levels
# (sensor noise): 0.28 × 225 = 63 on a good scan; a light ballpoint line is 100 or more below the paper.
INK_SHARE, INK_LEAST = 0.28, 35.0
RULE_SHARE, RULE_LEAST = 0.18, 25.0  # a printed rule, for finding the box's edges


def page_contrast(grey: Image.Image) -> float:
    """Paper to black on this page: the median and the 0.5th percentile of every fourth pixel (its codes and
    text give the black)."""
    small = grey.resize((max(1, grey.width // 4), max(1, grey.height // 4)), Image.Resampling.NEAREST)
    counts = np.cumsum(small.histogram()[:256])
    paper, black = np.searchsorted(counts, [0.5 * counts[-1], 0.005 * counts[-1]])
    return float(paper - black)


@dataclasses.dataclass(frozen=True)
class Sample:
    """A box's pixels, upright at WORK_PX_PER_MM, with MARGIN_MM around it; ``inside`` marks what is read."""

    pixels: np.ndarray  # uint8
    inside: np.ndarray  # bool, the examined area
    edges: tuple[int, int, int, int]  # the box's printed edges: left, top, right, bottom (exclusive), in pixels
    inset: int  # pixels from the edges to the examined area
    paper: float
    ink_below: float  # a pixel darker than this is ink


def working_factor(registration: Registration) -> int:
    """The whole factor a scan is reduced by before sampling (1 below twice the working resolution)."""
    return max(1, int(round(registration.scale / WORK_PX_PER_MM)))


def affine_for(registration: Registration, corner_mm: tuple[float, float], *, px_per_mm: float,
               origin: tuple[int, int] = (0, 0), factor: int = 1) -> tuple[float, float, float, float, float, float]:
    """PIL's inverse map (``Image.transform(..., AFFINE, ...)``) for an upright grid at ``px_per_mm`` whose top-left
    is page point ``corner_mm``, on the image cropped at pixel ``origin`` and then reduced by ``factor``."""
    a, b, c, d, e, f = registration.matrix
    (x0, y0), k = corner_mm, px_per_mm
    kf = k * factor
    return (a / kf, b / kf, (a * x0 + b * y0 + c - origin[0]) / factor,
            d / kf, e / kf, (d * x0 + e * y0 + f - origin[1]) / factor)


def _pixels(source: Image.Image, registration: Registration, corner_mm: tuple[float, float], *,
            size: tuple[int, int], factor: int) -> np.ndarray:
    """The upright grid of ``size`` working pixels from (x0, y0) mm. A scan at least twice as fine as the
    working resolution is reduced first (area averaging, only around the box), so thin strokes are not
    skipped over."""
    k = WORK_PX_PER_MM
    x0, y0 = corner_mm
    origin = (0, 0)
    if factor > 1:
        corners = [registration.to_px(x0 + dx / k, y0 + dy / k) for dx in (0, size[0]) for dy in (0, size[1])]
        left = max(0, int(min(x for x, _ in corners)) - factor)
        top = max(0, int(min(y for _, y in corners)) - factor)
        right = min(source.width, int(max(x for x, _ in corners)) + 2 * factor)
        bottom = min(source.height, int(max(y for _, y in corners)) + 2 * factor)
        if right - left < factor or bottom - top < factor:
            return np.full((size[1], size[0]), 255, dtype=np.uint8)  # off the image: nothing there
        source, origin = source.crop((left, top, right, bottom)).reduce(factor), (left, top)
    data = affine_for(registration, (x0, y0), px_per_mm=k, origin=origin, factor=factor)
    return np.asarray(source.transform(size, Image.Transform.AFFINE, data, resample=Image.Resampling.BILINEAR,
                                       fillcolor=255))


def sample_box(source: Image.Image, registration: Registration, box: Box, *, inset_mm: float, factor: int,
               contrast: float) -> Sample:
    """Box ``box`` cut out upright at WORK_PX_PER_MM with MARGIN_MM around it, its examined area ``inset`` mm
    inside its printed edges (found near where the registration puts them) and clear of its masks."""
    k = WORK_PX_PER_MM
    r = box.rect
    x0, y0 = r.x_mm - MARGIN_MM, r.y_mm - MARGIN_MM
    w, h = round((r.w_mm + 2 * MARGIN_MM) * k), round((r.h_mm + 2 * MARGIN_MM) * k)
    pixels = _pixels(source, registration, (x0, y0), size=(w, h), factor=factor)
    # the paper: the light end of the box and its surroundings (most of it is paper, even in a filled box)
    counts = np.cumsum(np.bincount(pixels[::2, ::2].ravel(), minlength=256))
    paper = float(np.searchsorted(counts, 0.9 * counts[-1]))
    e = round(MARGIN_MM * k)
    rule_below = paper - max(RULE_LEAST, RULE_SHARE * contrast)
    dx, dy = _snap(pixels < rule_below, (e, e, w - e, h - e), reach=round(min(SNAP_MM, r.h_mm / 3) * k))
    inside = np.zeros((h, w), dtype=bool)
    m = round(inset_mm * k)
    inside[e + dy + m:h - e + dy - m, e + dx + m:w - e + dx - m] = True
    for mask in box.masks:
        left = max(0, int((mask.x_mm - MASK_GROW_MM - x0) * k) + dx)
        top = max(0, int((mask.y_mm - MASK_GROW_MM - y0) * k) + dy)
        right = int(np.ceil((mask.right_mm + MASK_GROW_MM - x0) * k)) + dx
        bottom = int(np.ceil((mask.bottom_mm + MASK_GROW_MM - y0) * k)) + dy
        inside[top:bottom, left:right] = False
    edges = (e + dx, e + dy, w - e + dx, h - e + dy)
    return Sample(pixels=pixels, inside=inside, edges=edges, inset=m, paper=paper,
                  ink_below=paper - max(INK_LEAST, INK_SHARE * contrast))


def _snap(dark: np.ndarray, edges: tuple[int, int, int, int], *, reach: int) -> tuple[int, int]:
    """How far (dx, dy), in pixels, the box's printed edges lie from where the registration put them: each edge
    is the row (column) nearest to it, within ``reach``, that is dark along most of the box's side. No shift
    on an axis where no edge is found. The codes fix scale and rotation over the page; this takes up what they
    cannot see, e.g. a scanner's feed stretching the page by a fraction of a per cent."""
    left, top, right, bottom = edges
    trim = round(WORK_PX_PER_MM)
    rows = dark[:, left + trim:right - trim].mean(axis=1) if right - left > 3 * trim else None
    cols = dark[top + trim:bottom - trim, :].mean(axis=0) if bottom - top > 3 * trim else None
    shifts = []
    for profile, near, far in ((cols, left, right), (rows, top, bottom)):
        found = [] if profile is None else [_nearest_line(profile, at, reach=reach) for at in (near, far - 1)]
        offsets = [f for f in found if f is not None]
        shifts.append(round(sum(offsets) / len(offsets)) if offsets else 0)
    return shifts[0], shifts[1]


def _nearest_line(profile: np.ndarray, at: int, *, reach: int) -> int | None:
    """The offset from ``at`` of the nearest index within ``reach`` whose profile is a printed line."""
    lo, hi = max(0, at - reach), min(len(profile), at + reach + 1)
    hits = np.flatnonzero(profile[lo:hi] >= RULE_COVER) + lo - at
    if not len(hits):
        return None
    return int(hits[np.argmin(np.abs(hits))])


def ink_of(sample: Sample) -> np.ndarray:
    """Ink pixels of the whole sample (inside and around), without lone pixels."""
    ink = sample.pixels < sample.ink_below
    padded = np.pad(ink.view(np.uint8), 1)
    h, w = ink.shape
    neighbours = padded[0:h, 0:w].copy()
    for dy in range(3):
        for dx in range(3):
            if dy or dx:
                neighbours += padded[dy:dy + h, dx:dx + w]
    return ink & (neighbours >= 3)
