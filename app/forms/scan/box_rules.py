"""The rules that turn a box's ink into a reading (``readings.BoxReading``); see ``field_states``.

The thresholds were set on rendered, filled in and scanned sheets (``tests/helpers/filled_sheets.py``,
``bench/bench_paper_review.py``); the comments say what they were measured against.
"""

from __future__ import annotations

import numpy as np

from app.forms.layout.geometry import SIGNATURE, Box
from app.forms.scan.box_sample import WORK_PX_PER_MM, Sample
from app.forms.scan.readings import BoxReading, BoxState

WINDOW_MM = 1.0
WINDOW_COVER = 0.06  # of a window's examined pixels: a 0.25 mm line across a 1 mm window covers 0.25
INK_SPAN_MM = 2.5  # a group of ink this long is writing (the smallest written "1" is ~2.6 mm) ...
BLANK_SPAN_MM = 1.6  # ... shorter than this, dust; in between, unclear
SPECKS_MM2 = 0.2  # a group shorter than INK_SPAN_MM with less ink than this is specks (a written "1" has ~0.6)
BRIDGED_MM2 = 1.0  # a mark joined across a mask needs this much ink (a 25 mm signature has ~5, specks < 0.1)
PLAINLY_WRITTEN_MM2 = 4.0  # this much ink in a box is writing: no need to look closer
OVERRUN_DEPTH_MM = 3.0  # a stroke from next door reaches no deeper into the box (in whole windows) ...
OVERRUN_LENGTH_MM = 3.5  # ... and is no longer than this inside it
CROSS_MM = 0.9  # a stroke from outside is inked from the examined area to this far beyond the printed edge
CORNER_MM = 1.0  # the neighbours' rules meet the box's edges at its corners: not a stroke
TICK_EMPTY = 0.03  # share of a tick box's inside: below, unchecked
TICK_MARK = 0.05  # from here, checked ...
TICK_MARK_MM = 1.2  # ... when the ink spans this much of the inside (dust does not) ...
TICK_DUST_MM = 0.8  # ... and unchecked when it spans less than this
TICK_HEAVY = 0.65  # a thick cross covers up to ~0.75 of the inside, a loosely inked-over box from ~0.7 (150 dpi)
TICK_FILLED = 0.8  # most inked-over boxes are over 0.9, with no part of the inside left light (_gaps)
TICK_FOREIGN_SHARE = 0.15  # a tick's own arm leaving the box comes with more ink inside than this
NOTE_FILLED = "filled: a correction"
NOTE_OVERRUN = "stroke overruns the box"
NOTE_FOREIGN = "a stroke from outside the box"


def tick_reading(box: Box, sample: Sample, *, ink: np.ndarray) -> BoxReading:
    """A tick box, by the share of its inside that is inked (the rules: ``field_states``)."""
    rows, cols = np.nonzero(sample.inside)
    if not len(rows):
        return BoxReading(box.field, box.part, BoxState.UNCLEAR, 0.0, 0.0, "nothing of the box could be read")
    inner = ink[rows[0]:rows[-1] + 1, cols.min():cols.max() + 1]
    share = float(inner.mean())
    if share >= TICK_HEAVY:
        if share >= TICK_FILLED and _gaps(inner) <= 1:
            return BoxReading(box.field, box.part, BoxState.UNCHECKED, _sure((share - TICK_FILLED) / 0.1), share,
                              NOTE_FILLED)
        return BoxReading(box.field, box.part, BoxState.UNCLEAR, 0.25, share, "heavily inked: a tick or a correction?")
    extent = _extent_mm(inner)
    if TICK_MARK <= share < TICK_FOREIGN_SHARE and _stroke_enters(ink, sample):
        return BoxReading(box.field, box.part, BoxState.UNCLEAR, 0.25, share, NOTE_FOREIGN)
    if share >= TICK_MARK and extent >= TICK_MARK_MM:
        sure = _sure((share - TICK_MARK) / 0.1, (TICK_HEAVY - share) / 0.1, (extent - TICK_MARK_MM) / 0.5)
        return BoxReading(box.field, box.part, BoxState.CHECKED, sure, share)
    if share < TICK_EMPTY or extent < TICK_DUST_MM:
        sure = _sure(max((TICK_EMPTY - share) / TICK_EMPTY, (TICK_DUST_MM - extent) / TICK_DUST_MM))
        return BoxReading(box.field, box.part, BoxState.UNCHECKED, sure, share)
    return BoxReading(box.field, box.part, BoxState.UNCLEAR, 0.25, share, "a faint mark")


def _stroke_enters(ink: np.ndarray, sample: Sample) -> bool:
    """Whether a stroke runs from the box's inside over one of its printed edges to CROSS_MM beyond it (the
    long arm of a tick in the box next to it, when options are stacked): some column (row) of the inside is
    inked all the way across the band over the top or bottom (left or right) edge, give or take a pixel."""
    k = WORK_PX_PER_MM
    left, top, right, bottom = sample.edges
    inset, far = sample.inset, round(CROSS_MM * k)
    lo_c, hi_c, lo_r, hi_r = left + inset, right - inset, top + inset, bottom - inset
    bands = (ink[top - far:top + inset + 1, lo_c:hi_c], ink[bottom - 1 - inset:bottom + far, lo_c:hi_c],
             ink[lo_r:hi_r, left - far:left + inset + 1].T, ink[lo_r:hi_r, right - 1 - inset:right + far].T)
    for band in bands:
        wide = band.copy()
        wide[:, 1:] |= band[:, :-1]
        wide[:, :-1] |= band[:, 1:]
        if wide.size and wide.all(axis=0).any():
            return True
    return False


def _gaps(inner: np.ndarray) -> int:
    """How many of the box's 3 × 3 parts are less than half inked (a tick or a cross leaves several)."""
    h, w = inner.shape
    ys, xs = np.linspace(0, h, 4).astype(int), np.linspace(0, w, 4).astype(int)
    return sum(1 for i in range(3) for j in range(3)
               if inner[ys[i]:ys[i + 1], xs[j]:xs[j + 1]].mean() < 0.5)


def _extent_mm(ink: np.ndarray) -> float:
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if not len(rows):
        return 0.0
    return float(max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1) / WORK_PX_PER_MM


def writing_reading(box: Box, sample: Sample, *, ink: np.ndarray) -> BoxReading:
    """A writing box, by the extent of its groups of inked windows (the rules: ``field_states``)."""
    inside = sample.inside
    examined = int(inside.sum())
    inked = ink & inside
    share = float(inked.sum()) / examined if examined else 0.0
    if share == 0.0:
        return BoxReading(box.field, box.part, BoxState.BLANK, 1.0, 0.0)
    if share * examined >= PLAINLY_WRITTEN_MM2 * WORK_PX_PER_MM ** 2:  # far more than dust or a stroke's end
        return BoxReading(box.field, box.part, BoxState.INK, 1.0, share)
    grid = _Windows(inked, inside)
    count = int(grid.inked.sum())
    span, overrun = 0.0, False
    if count:
        edge = grid.valid & ~_shrink(grid.valid)
        depth = None
        # A signature is written across its printed line (a mask), which cuts it into a row of loops: there the
        # windows the masks take are bridges. Not in entry boxes: there it joined dust to an overrun (measured:
        # 2 blank required entries read written on 240 pages).
        bridges = grid.inked
        if box.part.startswith(SIGNATURE):
            bridges = bridges | (_interior(grid, sample) & ~grid.valid)
        for group in _clusters(bridges):
            cells = group[grid.inked[group[:, 0], group[:, 1]]]
            if not len(cells):
                continue
            rows, cols = cells[:, 0], cells[:, 1]
            bounds = grid.bounds(rows, cols)
            extent = _extent(bounds)
            if edge[rows, cols].any() and extent <= OVERRUN_LENGTH_MM and _crosses_edge(ink, sample, bounds=bounds):
                depth = _depth(grid.valid) if depth is None else depth
                if float(depth[rows, cols].max()) * WINDOW_MM <= OVERRUN_DEPTH_MM:
                    overrun = True
                    continue
            if extent < INK_SPAN_MM and grid.ink_mm2(rows, cols) < SPECKS_MM2:
                continue  # a few specks side by side, not a mark anyone made
            if len(cells) < len(group) and grid.ink_mm2(rows, cols) < BRIDGED_MM2:
                continue  # specks on both sides of a printed line, not a signature across it
            span = max(span, extent)
    note = NOTE_OVERRUN if overrun else ""
    if span >= INK_SPAN_MM:
        return BoxReading(box.field, box.part, BoxState.INK, _confidence(span - INK_SPAN_MM, 2.0), share)
    if span < BLANK_SPAN_MM:
        conf = _confidence(BLANK_SPAN_MM - span, BLANK_SPAN_MM) * (0.8 if overrun else 1.0)
        return BoxReading(box.field, box.part, BoxState.BLANK, round(conf, 3), share, note)
    return BoxReading(box.field, box.part, BoxState.UNCLEAR, 0.25, share, note or "a small mark")


class _Windows:
    """The sample cut into WINDOW_MM windows: which are examined (``valid``), which inked, and where the ink
    lies in each (first and last ink row and column, in sample pixels) for measuring a group's extent."""

    def __init__(self, ink: np.ndarray, inside: np.ndarray) -> None:
        n = self.n = max(1, round(WINDOW_MM * WORK_PX_PER_MM))
        rows, cols = ink.shape[0] // n, ink.shape[1] // n
        blocks = ink[:rows * n, :cols * n].reshape(rows, n, cols, n)
        counts = blocks.view(np.uint8).sum(axis=3, dtype=np.int16).sum(axis=1)
        area = inside[:rows * n, :cols * n].view(np.uint8).reshape(rows, n, cols, n).sum(
            axis=3, dtype=np.int16).sum(axis=1)
        self.valid = area >= n * n * 0.3
        self.inked = self.valid & (counts > WINDOW_COVER * np.maximum(area, 1))
        self._blocks = blocks

    def ink_mm2(self, rows: np.ndarray, cols: np.ndarray) -> float:
        return float(self._blocks[rows, :, cols, :].sum()) / WORK_PX_PER_MM ** 2

    def bounds(self, rows: np.ndarray, cols: np.ndarray) -> tuple[int, int, int, int]:
        """(top, bottom, left, right), inclusive, in sample pixels, of the ink in these windows."""
        n = self.n
        blocks = self._blocks[rows, :, cols, :]  # (k, n, n)
        in_rows: np.ndarray = np.any(blocks, axis=2)
        in_cols: np.ndarray = np.any(blocks, axis=1)
        return (int((rows * n + in_rows.argmax(axis=1)).min()),
                int((rows * n + n - 1 - in_rows[:, ::-1].argmax(axis=1)).max()),
                int((cols * n + in_cols.argmax(axis=1)).min()),
                int((cols * n + n - 1 - in_cols[:, ::-1].argmax(axis=1)).max()))


def _interior(grid: _Windows, sample: Sample) -> np.ndarray:
    """The windows whose centre lies in the examined rectangle (the box less its inset), masks included."""
    left, top, right, bottom = sample.edges
    n = grid.n
    centres_r = np.arange(grid.valid.shape[0]) * n + n / 2
    centres_c = np.arange(grid.valid.shape[1]) * n + n / 2
    in_r = (centres_r >= top + sample.inset) & (centres_r < bottom - sample.inset)
    in_c = (centres_c >= left + sample.inset) & (centres_c < right - sample.inset)
    return np.outer(in_r, in_c)


def _extent(bounds: tuple[int, int, int, int]) -> float:
    """The larger side of a group's ink, in mm."""
    top, bottom, left, right = bounds
    return float(max(bottom - top, right - left) + 1) / WORK_PX_PER_MM


def _crosses_edge(ink: np.ndarray, sample: Sample, *, bounds: tuple[int, int, int, int]) -> bool:
    """Whether ink runs unbroken from the examined area over one of the box's printed edges to CROSS_MM beyond
    it, beside a group of ink (``bounds``) that reaches that edge: a stroke entering the box from outside.
    Away from the box's corners, where the neighbours' printed rules meet its edge."""
    k = WORK_PX_PER_MM
    left, top, right, bottom = sample.edges
    far, corner, reach = round(CROSS_MM * k), round(CORNER_MM * k), sample.inset + round(WINDOW_MM * k)
    g_top, g_bottom, g_left, g_right = bounds
    r0, r1 = max(g_top - round(k), top + corner), min(g_bottom + round(k) + 1, bottom - corner)
    c0, c1 = max(g_left - round(k), left + corner), min(g_right + round(k) + 1, right - corner)
    bands = []
    if r0 < r1:
        if g_left <= left + reach:
            bands.append(ink[r0:r1, left - far:left + sample.inset + 1].any(axis=0))
        if g_right >= right - 1 - reach:
            bands.append(ink[r0:r1, right - 1 - sample.inset:right + far].any(axis=0))
    if c0 < c1:
        if g_top <= top + reach:
            bands.append(ink[top - far:top + sample.inset + 1, c0:c1].any(axis=1))
        if g_bottom >= bottom - 1 - reach:
            bands.append(ink[bottom - 1 - sample.inset:bottom + far, c0:c1].any(axis=1))
    return any(band.size and band.all() for band in bands)


def _clusters(inked: np.ndarray) -> list[np.ndarray]:
    """The 8-connected groups of inked windows, each as an array of (row, col); few windows, so plain Python."""
    todo = set(map(tuple, np.argwhere(inked).tolist()))
    out = []
    while todo:
        stack = [todo.pop()]
        group = []
        while stack:
            r, c = stack.pop()
            group.append((r, c))
            for neighbour in ((r + dr, c + dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1)):
                if neighbour in todo:
                    todo.remove(neighbour)
                    stack.append(neighbour)
        out.append(np.array(group))
    return out


def _grow(mask: np.ndarray) -> np.ndarray:
    out = mask.copy()
    out[1:, :] |= mask[:-1, :]
    out[:-1, :] |= mask[1:, :]
    wide = out.copy()
    wide[:, 1:] |= out[:, :-1]
    wide[:, :-1] |= out[:, 1:]
    return wide


def _shrink(mask: np.ndarray) -> np.ndarray:
    return ~_grow(~np.pad(mask, 1))[1:-1, 1:-1]


def _depth(valid: np.ndarray) -> np.ndarray:
    """How many windows deep each window lies inside the examined area (1 on its edge)."""
    depth = np.zeros(valid.shape, dtype=np.int32)
    current = valid.copy()
    level = 0
    while current.any():
        level += 1
        depth[current] = level
        current = _shrink(current)
    return depth


def _sure(*fractions: float) -> float:
    """0.5 at a threshold, 1.0 once the least of ``fractions`` (margins in units of their own scale) is 1."""
    return round(0.5 + 0.5 * min(1.0, max(0.0, min(fractions))), 3)


def _confidence(margin: float, scale: float) -> float:
    """0.5 at a threshold, towards 1.0 as the measure moves ``scale`` beyond it."""
    return round(0.5 + 0.5 * min(1.0, max(0.0, margin) / scale), 3)
