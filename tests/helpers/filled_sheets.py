"""Filled-in, scanned controlled copies with ground truth, for the scan reader's tests and benchmark.

A sheet is an issued copy rendered for real (``render_issued`` with a tagged payload, rasterised by PDFium at
the scan's resolution), written on by hand (``tests.helpers.handwriting``): numbers, dates, times and texts in
entry boxes, initials in done-by/checked-by cells, signatures, ticks and crosses, both or no options ticked,
blacked-out corrections, "N/A" with a line, required entries left blank, strokes overrunning a box edge, dust
and fibres; then printed slightly scaled, placed skewed on the scanner, stretched a little by its feed, and
scanned (noise, softness; JPEG, bitonal, colour or a copy of a copy; sometimes a quarter turn). ``truth`` says
what each box really holds, ``true_px`` where any point of the page really landed
(``tests.helpers.sheet_score`` compares a reading with the truth).

Everything is drawn from ``numpy.random.default_rng((seed, index))``: the same seed gives the same sheets
(``make_sheet(seed, index)``, or ``sheets(count, seed)``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import math
from collections.abc import Iterator, Sequence
from functools import lru_cache

import numpy as np
import pypdfium2 as pdfium
from PIL import Image

from app.forms.layout.geometry import Box, FormGeometry
from app.forms.layout.layout import FieldDef, FieldType, TemplateLayout
from app.forms.layout.payload import Payload
from app.forms.render.boxes import form_geometry
from app.forms.render.render import CopyInfo, IssueInfo, render_issued
from app.forms.scan.readings import BoxState
from tests.helpers import scanlike as sl
from tests.helpers.forms import SAMPLES, sample_layout
from tests.helpers.handwriting import LETTERS, Pen

Key = tuple[str | None, str]
SITE = "BSL-01"
VERSION = 3
COPIES = 3  # serials rendered per template; a sheet picks one
FIRST_SERIAL = 101


@dataclasses.dataclass(frozen=True)
class ScanOptions:
    dpi: int = 200
    skew_deg: float = 0.0
    scale: float = 1.0  # the printer's scaling of the content ("fit to page")
    offset_mm: tuple[float, float] = (0.0, 0.0)  # where the sheet lay on the glass
    quarter_turns: int = 0  # counter-clockwise, after the skew (a sheet fed sideways or upside down)
    stretch: float = 1.0  # the scan's scale along the feed against across it (an ADF's feed speed is off a little)
    finish: str = "grey"  # "grey", "jpeg", "bitonal" (mode "1"), "colour" (RGB), "copy" (low contrast, noisy)
    jpeg_quality: int = 70


@dataclasses.dataclass(frozen=True)
class FilledSheet:
    image: Image.Image
    template: str
    page: int
    payload_text: str
    geometry: FormGeometry
    options: ScanOptions
    truth: dict[Key, BoxState]  # every box of the page
    drawn: dict[Key, str]  # what was put in each box: "blank", "digits", "tick", "filled", "overrun", "dust", ...
    required: frozenset[Key]  # boxes that must not be left blank (required entries, initials, signatures)
    page_px: tuple[int, int]  # the printed page's size in pixels, before any quarter turn

    def true_px(self, x_mm: float, y_mm: float) -> tuple[float, float]:
        """Where page point (x_mm, y_mm) really is in ``image``: the truth a registration is measured against."""
        return true_px(self.options, self.page_px, x_mm, y_mm)


# ----------------------------------------------------------------------------------------------- rendering


def issue_info() -> IssueInfo:
    return IssueInfo(site_code=SITE, site_name="Basel Solids", version=VERSION, effective_date=dt.date(2025, 1, 15),
                     issued_to="Otto Operator", issued_by_name="Anna Müller", issued_by_username="amueller",
                     issued_at=dt.datetime(2025, 3, 4, 13, 7, tzinfo=dt.UTC), purpose="Batch 24-0117",
                     reference="LOT 24-0117", due_date=dt.date(2025, 3, 11), issuance_id=42, tz=dt.UTC)


@lru_cache(maxsize=8)
def issued_pdf(code: str) -> bytes:
    """``COPIES`` controlled copies of sample template ``code``, tagged with ``scanlike.TEST_KEY``."""
    copies = [CopyInfo(serial=f"{FIRST_SERIAL + i:06d}", copy_no=i + 1, copy_count=COPIES) for i in range(COPIES)]
    out = io.BytesIO()
    render_issued(out, sample_layout(code), issue_info(), copies, key=sl.TEST_KEY, helper=False)
    return out.getvalue()


def payload_of(code: str, copy: int, page: int) -> str:
    layout = sample_layout(code)
    return Payload(site=SITE, serial=f"{FIRST_SERIAL + copy:06d}", page=page, pages=layout.pages, template=code,
                   version=VERSION).encode(sl.TEST_KEY)


@lru_cache(maxsize=12)
def clean_page(code: str, copy: int, page: int, dpi: int) -> Image.Image:
    """Page ``page`` of copy ``copy`` (0-based) as printed, at ``dpi``."""
    document = pdfium.PdfDocument(issued_pdf(code))
    try:
        index = copy * sample_layout(code).pages + page - 1
        return document[index].render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
    finally:
        document.close()


@lru_cache(maxsize=8)
def geometry_of(code: str) -> FormGeometry:
    return form_geometry(sample_layout(code))


# ------------------------------------------------------------------------------------------------- writing


def _value_text(field: FieldDef, rng: np.random.Generator) -> str:
    digits = "0123456789"
    if field.type is FieldType.NUMBER:
        decimals = field.decimals if field.decimals is not None else int(rng.integers(0, 3))
        whole = str(int(rng.integers(0, 1000))) if rng.random() < 0.6 else "0"
        frac = "".join(rng.choice(list(digits), decimals))
        return whole + ("." + frac if decimals else "")
    if field.type is FieldType.DATE:
        day, month = int(rng.integers(1, 29)), int(rng.integers(1, 13))
        return f"{day:02d}-{month:02d}-25" if rng.random() < 0.5 else f"{day}/{month}/2025"
    if field.type is FieldType.TIME:
        return f"{int(rng.integers(0, 24)):02d}:{int(rng.integers(0, 60)):02d}"
    if field.type is FieldType.INITIALS:
        return _initials(rng)
    pool = LETTERS + digits + "-"
    return "".join(rng.choice(list(pool), int(rng.integers(2, 10)))).strip("-") or "A1"


def _initials(rng: np.random.Generator) -> str:
    return "".join(rng.choice(list(LETTERS), int(rng.integers(2, 4))))


def _width_of(text: str, height: float) -> float:
    return sum(0.5 * height if c == " " else 0.85 * height for c in text)


@dataclasses.dataclass
class _Style:
    width_mm: float
    grey: int


def _style(rng: np.random.Generator) -> _Style:
    return _Style(width_mm=float(rng.uniform(0.25, 0.6)), grey=int(rng.integers(5, 115)))


class _Writer:
    """Fills one page of a sheet and keeps the truth."""

    def __init__(self, pen: Pen, layout: TemplateLayout, boxes: Sequence[Box], rng: np.random.Generator) -> None:
        self.pen, self.rng, self.boxes = pen, rng, list(boxes)
        self.fields = {f.name: f for f in layout.fields}
        self.truth: dict[Key, BoxState] = {}
        self.drawn: dict[Key, str] = {}
        self.required: set[Key] = set()

    def fill(self) -> None:
        groups: dict[str, list[Box]] = {}
        for box in self.boxes:
            key = (box.field, box.part)
            self.truth[key] = BoxState.UNCHECKED if box.tick else BoxState.BLANK
            self.drawn[key] = "blank"
            if box.tick and box.field is not None:
                groups.setdefault(box.field, []).append(box)
        for box in self.boxes:
            if not box.tick:
                self._writing(box)
        for name, options in groups.items():
            self._ticks(self.fields[name], options)
        self._overruns()

    def _ink(self, key: Key, what: str) -> None:
        self.truth[key] = BoxState.INK
        self.drawn[key] = what

    def _writing(self, box: Box) -> None:
        key = (box.field, box.part)
        field = self.fields.get(box.field) if box.field else None
        if box.part == "entry":
            if field is not None and field.required:
                self.required.add(key)
            if self.rng.random() < 0.22:
                return
            if self.rng.random() < 0.07:
                self._not_applicable(box)
                self._ink(key, "n/a")
                return
            assert field is not None
            self._write_in(box, _value_text(field, self.rng), height=(2.6, 4.8))
            self._ink(key, "digits" if field.type is not FieldType.TEXT else "text")
        elif box.part in ("done_by", "checked_by"):
            self.required.add(key)
            if self.rng.random() < 0.25:
                return
            self._write_in(box, _initials(self.rng), height=(2.2, 4.0))
            self._ink(key, "initials")
        elif box.part.startswith("signature:"):
            self.required.add(key)
            if self.rng.random() < 0.3:
                return
            self._signature(box)
            self._ink(key, "signature")

    def _write_in(self, box: Box, text: str, *, height: tuple[float, float]) -> None:
        r, rng = box.rect, self.rng
        h = float(rng.uniform(*height))
        h = min(h, r.h_mm - 2.2)
        room = r.w_mm - 3.0 - (sum(m.w_mm for m in box.masks) if rng.random() < 0.7 else 0.0)
        while len(text) > 1 and _width_of(text, h) > room:
            text = text[:-1]
        x = r.x_mm + float(rng.uniform(1.2, max(1.3, min(4.0, room - _width_of(text, h)))))
        baseline = r.bottom_mm - float(rng.uniform(1.2, max(1.25, r.h_mm - h - 1.2)))
        style = _style(rng)
        self.pen.text(text, x, baseline, height_mm=h, width_mm=style.width_mm, grey=style.grey)

    def _not_applicable(self, box: Box) -> None:
        r, style = box.rect, _style(self.rng)
        h = min(3.2, r.h_mm - 2.4)
        self.pen.text("N/A", r.x_mm + 2.0, r.bottom_mm - 1.4, height_mm=h, width_mm=style.width_mm, grey=style.grey)
        self.pen.line([(r.x_mm + 2.0 + 3.5 * h, r.bottom_mm - 1.5), (r.right_mm - 2.0, r.y_mm + 1.5)],
                      width_mm=style.width_mm, grey=style.grey)

    def _signature(self, box: Box) -> None:
        r, rng, style = box.rect, self.rng, _style(self.rng)
        # name on the first line, date beside it, the signature on the last line (the block's two lines)
        lines = sorted({m.y_mm for m in box.masks if m.h_mm < 2.0})
        name_y = lines[0] + 0.6 if lines else r.y_mm + r.h_mm * 0.4
        sign_y = lines[-1] + 0.6 if lines else r.bottom_mm - 1.5
        if rng.random() < 0.8:
            self.pen.text(_initials(rng) + " " + _initials(rng), r.x_mm + 12, name_y - 0.5, height_mm=2.6,
                          width_mm=style.width_mm, grey=style.grey)
        self.pen.scribble(r.x_mm + float(rng.uniform(14, 20)), sign_y - 2.0, length_mm=float(rng.uniform(15, 30)),
                          height_mm=float(rng.uniform(3, 5)), width_mm=style.width_mm, grey=style.grey)

    def _ticks(self, field: FieldDef, options: list[Box]) -> None:
        rng = self.rng
        if field.required:
            self.required.update((b.field, b.part) for b in options)
        roll = rng.random()
        chosen = [options[int(rng.integers(len(options)))]]
        if roll < 0.1:
            chosen = []
        elif roll < 0.17 and len(options) > 1:
            chosen = list(rng.permutation(np.array(options, dtype=object))[:2])
        elif roll < 0.29 and len(options) > 1:
            wrong = next(b for b in options if b is not chosen[0])
            style = _style(rng)
            r = wrong.rect
            self.pen.fill(r.x_mm, r.y_mm, r.w_mm, r.h_mm, width_mm=max(0.45, style.width_mm), grey=style.grey)
            self.drawn[(wrong.field, wrong.part)] = "filled"
        for box in chosen:
            self._tick(box)

    def _tick(self, box: Box) -> None:
        r, rng, style = box.rect, self.rng, _style(self.rng)
        cx = r.x_mm + r.w_mm / 2 + float(rng.uniform(-0.5, 0.5))
        cy = r.y_mm + r.h_mm / 2 + float(rng.uniform(-0.5, 0.5))
        size = float(rng.uniform(2.2, 4.5))
        kind = "tick" if rng.random() < 0.7 else "cross"
        if rng.random() < 0.1:  # a faint, small mark
            size, style = float(rng.uniform(1.8, 2.4)), _Style(0.25, int(rng.integers(60, 120)))
            kind = "faint " + kind
        if kind.endswith("tick"):
            self.pen.tick(cx, cy, size_mm=size, width_mm=style.width_mm, grey=style.grey)
        else:
            self.pen.cross(cx, cy, size_mm=size, width_mm=style.width_mm, grey=style.grey)
        self.truth[(box.field, box.part)] = BoxState.CHECKED
        self.drawn[(box.field, box.part)] = kind

    def _overruns(self) -> None:
        """A stroke from a written entry running 1-3 mm into the cell to its right (a blank one stays blank)."""
        rng = self.rng
        for box in self.boxes:
            if box.tick or self.truth[(box.field, box.part)] is not BoxState.INK or rng.random() > 0.12:
                continue
            r = box.rect
            right = [b for b in self.boxes if not b.tick and abs(b.rect.x_mm - r.right_mm) < 0.5
                     and abs(b.rect.y_mm - r.y_mm) < 0.5]
            if not right:
                continue
            style = _style(rng)
            y = r.y_mm + r.h_mm * float(rng.uniform(0.35, 0.75))
            self.pen.line([(r.right_mm - 4.0, y), (r.right_mm + float(rng.uniform(1.0, 3.0)),
                                                    y + float(rng.uniform(-1.0, 1.0)))],
                          width_mm=style.width_mm, grey=style.grey)
            key = (right[0].field, right[0].part)
            if self.drawn[key] == "blank":
                self.drawn[key] = "overrun"

    def dirt(self, width_mm: float, height_mm: float) -> None:
        rng, pen = self.rng, self.pen
        for _ in range(int(rng.integers(15, 60))):
            pen.speck(float(rng.uniform(5, width_mm - 5)), float(rng.uniform(5, height_mm - 5)),
                      radius_mm=float(rng.uniform(0.04, 0.2)), grey=int(rng.integers(30, 170)))
        blanks = [b for b in self.boxes if self.drawn[(b.field, b.part)] == "blank"]
        for box in rng.permutation(np.array(blanks, dtype=object))[:int(rng.integers(0, 4))]:
            r = box.rect
            x = float(rng.uniform(r.x_mm + 0.5, r.right_mm - 0.5))
            y = float(rng.uniform(r.y_mm + 0.5, r.bottom_mm - 0.5))
            if rng.random() < 0.7:
                pen.speck(x, y, radius_mm=float(rng.uniform(0.05, 0.25)), grey=int(rng.integers(20, 140)))
            elif not box.tick:
                pen.fibre(x, y, length_mm=float(rng.uniform(0.6, 1.5)), grey=int(rng.integers(110, 170)))
            self.drawn[(box.field, box.part)] = "dust"


# ---------------------------------------------------------------------------------------------- scanning


def _forward(options: ScanOptions, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(M, t): a printed page's pixel p lands at M @ p + t on the glass: scaled about the page centre, turned
    counter-clockwise by the skew, shifted, and stretched along the feed by the scanner."""
    w, h = size
    a, s = math.radians(options.skew_deg), options.scale
    rotation = s * np.array([[math.cos(a), math.sin(a)], [-math.sin(a), math.cos(a)]])
    m = np.diag([1.0, options.stretch]) @ rotation
    centre = np.array([w / 2, h / 2])
    shift = np.array([sl.mm_to_px(v, options.dpi) for v in options.offset_mm], dtype=float)
    return m, centre + shift - m @ centre


def _place(image: Image.Image, options: ScanOptions) -> Image.Image:
    """The sheet as it lay on the scanner (see :func:`_forward`), then turned by quarter turns."""
    m, t = _forward(options, image.size)
    inverse = np.linalg.inv(m)
    offset = -inverse @ t  # PIL wants the inverse map: output pixel -> input pixel
    data = (inverse[0, 0], inverse[0, 1], offset[0], inverse[1, 0], inverse[1, 1], offset[1])
    out = image.transform(image.size, Image.Transform.AFFINE, tuple(float(v) for v in data),
                          resample=Image.Resampling.BILINEAR, fillcolor=255)
    turns = {1: Image.Transpose.ROTATE_90, 2: Image.Transpose.ROTATE_180, 3: Image.Transpose.ROTATE_270}
    return out.transpose(turns[options.quarter_turns % 4]) if options.quarter_turns % 4 else out


def true_px(options: ScanOptions, size: tuple[int, int], x_mm: float, y_mm: float) -> tuple[float, float]:
    """The forward map of :func:`_place` (and the quarter turn) for a page of ``size`` pixels before turning."""
    w, h = size
    m, t = _forward(options, size)
    qx, qy = (float(v) for v in m @ np.array([x_mm, y_mm]) * options.dpi / 25.4 + t)
    turn = options.quarter_turns % 4
    if turn == 1:
        return qy, w - qx
    if turn == 2:
        return w - qx, h - qy
    if turn == 3:
        return h - qy, qx
    return qx, qy


def codes_on_glass(options: ScanOptions, geometry: FormGeometry) -> bool:
    """Whether both code slots stay 1 mm inside the scanned image."""
    size = (sl.mm_to_px(geometry.width_mm, options.dpi), sl.mm_to_px(geometry.height_mm, options.dpi))
    margin = sl.mm_to_px(1.0, options.dpi)
    for mark in geometry.pages[0].marks:
        r = mark.rect
        for x, y in ((r.x_mm, r.y_mm), (r.right_mm, r.y_mm), (r.x_mm, r.bottom_mm), (r.right_mm, r.bottom_mm)):
            px, py = true_px(dataclasses.replace(options, quarter_turns=0), size, x, y)
            if not (margin <= px <= size[0] - margin and margin <= py <= size[1] - margin):
                return False
    return True


def scan(image: Image.Image, options: ScanOptions, *, seed: int) -> Image.Image:
    out = sl.scanned(_place(image, options), seed=seed, noise=4.0, softness=0.5)
    if options.finish == "jpeg":
        return sl.jpeg_round_trip(out, options.jpeg_quality)
    if options.finish == "copy":  # a photocopy of a photocopy: grey paper, grey black, more noise
        return sl.add_noise(sl.low_contrast(out), 7.0, seed=seed)
    if options.finish == "bitonal":
        return out.point(lambda v: 255 if v > 150 else 0).convert("1", dither=Image.Dither.NONE)
    if options.finish == "colour":
        a = np.asarray(out, dtype=np.float32)
        rgb = np.stack([a * 0.97, a * 0.96, np.minimum(255, a * 0.9 + 30)], axis=-1)  # a warm paper, bluish ink
        return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), "RGB")
    return out


def random_options(rng: np.random.Generator, *, dpis: Sequence[int] = (150, 200, 300)) -> ScanOptions:
    finish = str(rng.choice(["grey", "jpeg", "jpeg", "bitonal", "colour", "copy"]))
    scale = float(rng.uniform(0.95, 1.05))
    # an enlarged print loses its outer few mm; the sheet's placement must not push a code off the glass too
    room_x, room_y = (min(3.0, max(0.0, 3.0 - (scale - 1.0) * half)) for half in (105.0, 148.5))
    return ScanOptions(dpi=int(rng.choice(list(dpis))), skew_deg=float(rng.uniform(-3, 3)), scale=scale,
                       offset_mm=(float(rng.uniform(-room_x, room_x)), float(rng.uniform(-room_y, room_y))),
                       quarter_turns=int(rng.choice([0, 0, 0, 0, 0, 0, 1, 2, 2, 3])), finish=finish,
                       jpeg_quality=int(rng.integers(45, 90)), stretch=float(rng.uniform(0.994, 1.006)))


def make_sheet(seed: int, index: int = 0, *, template: str | None = None, page: int | None = None,
               options: ScanOptions | None = None, dpis: Sequence[int] = (150, 200, 300)) -> FilledSheet:
    """One filled, scanned page; whatever is not given is drawn from ``(seed, index)``."""
    rng = np.random.default_rng((seed, index))
    code = template or str(rng.choice(sorted(SAMPLES)))
    layout = sample_layout(code)
    page = page or int(rng.integers(1, layout.pages + 1))
    copy = int(rng.integers(COPIES))
    geometry = geometry_of(code)
    if options is None:
        options = random_options(rng, dpis=dpis)
        while not codes_on_glass(options, geometry):  # a corner of the sheet off the glass: place it again
            options = random_options(rng, dpis=dpis)
    clean = clean_page(code, copy, page, options.dpi)
    pen = Pen(clean, options.dpi, rng)
    writer = _Writer(pen, layout, geometry.page(page).boxes, rng)
    writer.fill()
    writer.dirt(geometry.width_mm, geometry.height_mm)
    image = scan(pen.done(), options, seed=seed * 1000 + index)
    return FilledSheet(image=image, template=code, page=page, payload_text=payload_of(code, copy, page),
                       geometry=geometry, options=options, truth=writer.truth, drawn=writer.drawn,
                       required=frozenset(writer.required), page_px=clean.size)


def sheets(count: int, seed: int = 0, *, dpis: Sequence[int] = (150, 200, 300)) -> Iterator[FilledSheet]:
    """``count`` sheets of every sample template, pages, resolutions and finishes."""
    for index in range(count):
        yield make_sheet(seed, index, dpis=dpis)
