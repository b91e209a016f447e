"""Handwriting-like ink for test sheets: digits and capitals drawn stroke by stroke (no font), ticks, crosses,
filled-over boxes, Z-lines and signature scribbles, each with jitter, slant, pen width and pressure drawn from
a seeded random generator.

Everything is placed in millimetres on a :class:`Pen` that draws onto a greyscale page of known dpi (0 = black
ink, 255 = paper). Ink only ever darkens the page (the darker of ink and what is printed), as a pen does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageChops, ImageDraw

Point = tuple[float, float]
Stroke = list[Point]


def _arc(cx: float, cy: float, rx: float, ry: float, a0: float, a1: float, n: int = 14) -> Stroke:
    """Points on an elliptic arc (degrees; y grows downwards, so growing angles turn clockwise on the page)."""
    return [(cx + rx * math.cos(math.radians(a)), cy + ry * math.sin(math.radians(a)))
            for a in np.linspace(a0, a1, n)]


# Glyphs in a unit cell: height 1 (y downwards from the top), width about 0.6. Each is a list of strokes.
GLYPHS: dict[str, list[Stroke]] = {
    "0": [_arc(0.28, 0.5, 0.26, 0.5, -80, 290, 24)],
    "1": [[(0.12, 0.22), (0.3, 0.0), (0.3, 1.0)]],
    "2": [_arc(0.28, 0.28, 0.25, 0.27, 190, 385) + [(0.0, 1.0), (0.56, 1.0)]],
    "3": [_arc(0.27, 0.25, 0.24, 0.25, 200, 450) + _arc(0.27, 0.74, 0.27, 0.26, 270, 500)],
    "4": [[(0.42, 1.0), (0.42, 0.0), (0.0, 0.68), (0.58, 0.68)]],
    "5": [[(0.52, 0.0), (0.09, 0.0), (0.06, 0.47)] + _arc(0.27, 0.69, 0.27, 0.3, 225, 500)],
    "6": [[(0.45, 0.02), (0.2, 0.25), (0.05, 0.6)] + _arc(0.3, 0.7, 0.25, 0.3, 180, 540, 20)],
    "7": [[(0.0, 0.0), (0.56, 0.0), (0.2, 1.0)]],
    "8": [_arc(0.28, 0.25, 0.21, 0.25, 90, 450) + _arc(0.28, 0.74, 0.27, 0.26, 270, 630, 20)],
    "9": [_arc(0.27, 0.3, 0.25, 0.3, 0, 360, 20) + [(0.52, 0.3), (0.45, 1.0)]],
    ".": [[(0.05, 0.93), (0.09, 0.99)]],
    ",": [[(0.08, 0.9), (0.03, 1.12)]],
    "-": [[(0.05, 0.55), (0.4, 0.53)]],
    ":": [[(0.05, 0.32), (0.09, 0.37)], [(0.05, 0.9), (0.09, 0.95)]],
    "/": [[(0.45, 0.0), (0.02, 1.0)]],
    "A": [[(0.0, 1.0), (0.3, 0.0), (0.6, 1.0)], [(0.13, 0.62), (0.47, 0.62)]],
    "B": [[(0.0, 1.0), (0.0, 0.0), (0.35, 0.0), (0.5, 0.12), (0.5, 0.34), (0.34, 0.48), (0.0, 0.48)],
          [(0.34, 0.48), (0.55, 0.6), (0.55, 0.86), (0.38, 1.0), (0.0, 1.0)]],
    "C": [_arc(0.35, 0.5, 0.33, 0.5, 320, 40, 18)],
    "D": [[(0.0, 0.0), (0.0, 1.0)], [(0.0, 0.0), (0.3, 0.02), (0.52, 0.25), (0.56, 0.6), (0.4, 0.9), (0.0, 1.0)]],
    "E": [[(0.5, 0.0), (0.0, 0.0), (0.0, 1.0), (0.5, 1.0)], [(0.0, 0.5), (0.4, 0.5)]],
    "F": [[(0.5, 0.0), (0.0, 0.0), (0.0, 1.0)], [(0.0, 0.5), (0.4, 0.5)]],
    "G": [_arc(0.35, 0.5, 0.33, 0.5, 320, 20, 18) + [(0.66, 0.55), (0.38, 0.55)]],
    "H": [[(0.0, 0.0), (0.0, 1.0)], [(0.5, 0.0), (0.5, 1.0)], [(0.0, 0.5), (0.5, 0.5)]],
    "J": [[(0.5, 0.0), (0.5, 0.75)] + _arc(0.27, 0.75, 0.23, 0.25, 0, 160)],
    "K": [[(0.0, 0.0), (0.0, 1.0)], [(0.5, 0.0), (0.02, 0.55), (0.55, 1.0)]],
    "L": [[(0.0, 0.0), (0.0, 1.0), (0.45, 1.0)]],
    "M": [[(0.0, 1.0), (0.05, 0.0), (0.35, 0.6), (0.65, 0.0), (0.7, 1.0)]],
    "N": [[(0.0, 1.0), (0.0, 0.0), (0.5, 1.0), (0.5, 0.0)]],
    "O": [_arc(0.33, 0.5, 0.32, 0.5, -80, 290, 24)],
    "P": [[(0.0, 1.0), (0.0, 0.0), (0.35, 0.0), (0.5, 0.15), (0.5, 0.35), (0.35, 0.5), (0.0, 0.5)]],
    "R": [[(0.0, 1.0), (0.0, 0.0), (0.35, 0.0), (0.5, 0.15), (0.5, 0.35), (0.35, 0.5), (0.0, 0.5)],
          [(0.2, 0.5), (0.55, 1.0)]],
    "S": [_arc(0.27, 0.25, 0.25, 0.25, 330, 90) + _arc(0.27, 0.75, 0.27, 0.25, 270, 520)],
    "T": [[(0.0, 0.0), (0.6, 0.0)], [(0.3, 0.0), (0.3, 1.0)]],
    "U": [[(0.0, 0.0), (0.0, 0.7)] + _arc(0.27, 0.7, 0.27, 0.3, 180, 0) + [(0.54, 0.0)]],
    "V": [[(0.0, 0.0), (0.3, 1.0), (0.6, 0.0)]],
    "W": [[(0.0, 0.0), (0.18, 1.0), (0.35, 0.3), (0.52, 1.0), (0.7, 0.0)]],
    "X": [[(0.0, 0.0), (0.55, 1.0)], [(0.55, 0.0), (0.0, 1.0)]],
    "Y": [[(0.0, 0.0), (0.3, 0.5), (0.6, 0.0)], [(0.3, 0.5), (0.3, 1.0)]],
}
LETTERS = "ABCDEFGHJKLMNOPRSTUVWXY"
_WIDTH = {c: max(x for s in strokes for x, _ in s) for c, strokes in GLYPHS.items()}


class Pen:
    """Draws ink in millimetres onto a copy of ``page`` (an "L" image at ``dpi``); :meth:`done` returns it."""

    def __init__(self, page: Image.Image, dpi: float, rng: np.random.Generator) -> None:
        self.dpi = dpi
        self.rng = rng
        self.layer = Image.new("L", page.size, 255)
        self.page = page
        self.draw = ImageDraw.Draw(self.layer)

    def px(self, mm: float) -> float:
        return mm * self.dpi / 25.4

    def done(self) -> Image.Image:
        return ImageChops.darker(self.page, self.layer)

    def line(self, points: Sequence[Point], *, width_mm: float, grey: int) -> None:
        """One stroke; pressure varies along it (width and darkness of each piece)."""
        pts = [(self.px(x), self.px(y)) for x, y in points]
        if len(pts) == 1:
            pts = pts * 2
        pieces = max(1, len(pts) // 6)
        step = max(1, math.ceil((len(pts) - 1) / pieces))
        for start in range(0, len(pts) - 1, step):
            piece = pts[start:start + step + 1]
            pressure = float(self.rng.uniform(0.8, 1.15))
            width = max(1, round(self.px(width_mm) * pressure))
            shade = int(np.clip(grey + (1.0 - pressure) * 90, 0, 230))
            self.draw.line(piece, fill=shade, width=width, joint="curve")
            r = width / 2  # round pen tip at the joins
            for x, y in piece[:1] + piece[-1:]:
                if width > 2:
                    self.draw.ellipse((x - r, y - r, x + r, y + r), fill=shade)

    # ------------------------------------------------------------------------------------------------- text

    def text(self, text: str, x_mm: float, baseline_mm: float, *, height_mm: float, width_mm: float, grey: int,
             slant: float | None = None) -> float:
        """Handwritten ``text`` from (x, baseline); returns the x where it ends."""
        rng = self.rng
        slant = float(rng.uniform(-0.05, 0.3)) if slant is None else slant
        x = x_mm
        for char in text:
            if char == " ":
                x += 0.5 * height_mm
                continue
            h = height_mm * float(rng.uniform(0.88, 1.1))
            wide = float(rng.uniform(0.85, 1.15))
            top = baseline_mm - h + float(rng.normal(0.0, 0.06 * height_mm))
            for stroke in GLYPHS[char]:
                pts = _densify(stroke)
                jitter = rng.normal(0.0, 0.025, (len(pts), 2))
                out = [(x + (gx + jx) * h * wide + slant * (1.0 - gy) * h, top + (gy + jy) * h)
                       for (gx, gy), (jx, jy) in zip(pts, jitter, strict=True)]
                self.line(out, width_mm=width_mm, grey=grey)
            x += (_WIDTH[char] * wide + float(rng.uniform(0.22, 0.38))) * h
        return x

    def scribble(self, x_mm: float, y_mm: float, *, length_mm: float, height_mm: float, width_mm: float,
                 grey: int) -> None:
        """A signature: loops and waves along a line, and sometimes a flourish under it."""
        rng = self.rng
        n = int(length_mm * 6)
        t = np.linspace(0.0, 1.0, n)
        loops = rng.uniform(3, 8)
        amp = height_mm * (0.35 + 0.15 * np.sin(t * rng.uniform(2, 6) + rng.uniform(0, 6)))
        xs = x_mm + t * length_mm + 0.35 * height_mm * np.sin(2 * math.pi * loops * t)
        ys = y_mm - amp * np.cos(2 * math.pi * loops * t + rng.uniform(0, 3)) - rng.uniform(0, 0.2) * height_mm * t
        self.line(list(zip(xs.tolist(), ys.tolist(), strict=True)), width_mm=width_mm, grey=grey)
        if rng.random() < 0.5:
            yy = y_mm + 0.45 * height_mm
            self.line(_densify([(x_mm + 0.1 * length_mm, yy + rng.uniform(-0.5, 0.5)),
                                (x_mm + 0.95 * length_mm, yy + rng.uniform(-0.5, 0.5))]),
                      width_mm=width_mm, grey=grey)

    # ------------------------------------------------------------------------------------------- tick boxes

    def tick(self, cx: float, cy: float, *, size_mm: float, width_mm: float, grey: int) -> None:
        """A tick (check mark) centred about (cx, cy); its long arm often leaves the box."""
        turn = math.radians(float(self.rng.uniform(-15, 15)))
        shape = [(-0.45, 0.0), (-0.1, 0.42), (0.55, -0.65)]
        self.line(_densify(_place(shape, cx, cy, size_mm, turn, self.rng)), width_mm=width_mm, grey=grey)

    def cross(self, cx: float, cy: float, *, size_mm: float, width_mm: float, grey: int) -> None:
        turn = math.radians(float(self.rng.uniform(-12, 12)))
        for shape in ([(-0.5, -0.5), (0.5, 0.5)], [(0.5, -0.5), (-0.5, 0.5)]):
            self.line(_densify(_place(shape, cx, cy, size_mm, turn, self.rng)), width_mm=width_mm, grey=grey)

    def fill(self, x: float, y: float, w: float, h: float, *, width_mm: float, grey: int) -> None:
        """A box inked over completely (a wrong tick blacked out): dense zigzags a little past its edges."""
        over = 0.3
        step = width_mm * 0.6
        pts: Stroke = []
        yy = y - over
        flip = False
        while yy <= y + h + over:
            ends = [(x - over, yy), (x + w + over, yy + step / 2)]
            pts += ends[::-1] if flip else ends
            flip = not flip
            yy += step
        self.line(pts, width_mm=width_mm, grey=grey)
        for yy in np.linspace(y, y + h, 4):  # and over again the other way
            self.line([(x - over, yy), (x + w + over, yy + 0.2)], width_mm=width_mm * 1.5, grey=grey)

    # --------------------------------------------------------------------------------------------------- dirt

    def speck(self, x: float, y: float, *, radius_mm: float, grey: int) -> None:
        r = max(0.5, self.px(radius_mm))
        cx, cy = self.px(x), self.px(y)
        self.draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=grey)

    def fibre(self, x: float, y: float, *, length_mm: float, grey: int) -> None:
        a = float(self.rng.uniform(0, math.pi))
        bend = float(self.rng.uniform(-0.3, 0.3))
        pts = [(x + t * length_mm * math.cos(a + bend * t), y + t * length_mm * math.sin(a + bend * t))
               for t in np.linspace(0.0, 1.0, 6)]
        self.line(pts, width_mm=0.08, grey=grey)


def _densify(points: Sequence[Point], step: float = 0.12) -> Stroke:
    """Extra points along straight pieces, so jitter bends them as a hand would."""
    out: Stroke = [points[0]]
    for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
        n = max(1, int(math.hypot(x1 - x0, y1 - y0) / step))
        out += [(x0 + (x1 - x0) * k / n, y0 + (y1 - y0) * k / n) for k in range(1, n + 1)]
    return out


def _place(shape: Sequence[Point], cx: float, cy: float, size: float, turn: float,
           rng: np.random.Generator) -> Stroke:
    c, s = math.cos(turn), math.sin(turn)
    return [(cx + size * (x * c - y * s) + float(rng.normal(0, 0.04)),
             cy + size * (x * s + y * c) + float(rng.normal(0, 0.04))) for x, y in shape]
