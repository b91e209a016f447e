"""Shared pieces of form page drawing: paper geometry, the reserved QR/serial slots, colours, text helpers."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from reportlab.lib.colors import Color
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from app.forms.layout.layout import Paper

INK = Color(0.08, 0.08, 0.10)
GREY_TEXT = Color(0.36, 0.36, 0.40)
RULE = Color(0.25, 0.25, 0.28)
HEAD_FILL = Color(0.88, 0.89, 0.91)
NA_FILL = Color(0.80, 0.80, 0.82)
LIGHT_FILL = Color(0.95, 0.95, 0.96)

MARGIN = 10 * mm  # content margin, left and right
QR_EDGE = 8 * mm  # QR quiet-zone box from the paper edges
QR_SLOT = 32 * mm  # QR box side including the quiet zone
# The bottom-left code sits clear of filing holes: a 4-hole punch (ISO 838, holes ~12 mm in) made it unreadable
# on 24 of 40 sheets at 8 mm from the left edge, and on none at 18 mm (bench/bench_qr_robustness.py).
BOTTOM_QR_LEFT = 18 * mm
ROW_MIN = 8 * mm  # room for one handwritten entry
PAD = 1.3 * mm  # cell padding
CRITICAL = "◆"
REQUIRED = "*"
BOX = "☐"

GDP_LINES = (
    "Write in indelible blue or black ink, legibly, at the time of the activity. No pencil, correction "
    "fluid, erasing or overwriting.",
    "Correct an error with a single line through it so the original stays readable; write the correct entry "
    "beside it with your initials, the date and the reason.",
    "Leave no field blank: put a line through every unused field or space and write \"NA\" with initials "
    "and date.",
    "Controlled copy: do not photocopy, detach or add pages. Return every page, also spoiled ones.",
)


@dataclasses.dataclass(frozen=True)
class Geometry:
    width: float
    height: float

    @property
    def left(self) -> float:
        return MARGIN

    @property
    def right(self) -> float:
        return self.width - MARGIN

    @property
    def top_qr(self) -> tuple[float, float]:
        """Lower-left corner of the top-right QR box."""
        return self.width - QR_EDGE - QR_SLOT, self.height - QR_EDGE - QR_SLOT

    @property
    def bottom_qr(self) -> tuple[float, float]:
        return BOTTOM_QR_LEFT, QR_EDGE

    @property
    def footer_top(self) -> float:
        """Content (table, signatures) stays above this line."""
        return QR_EDGE + QR_SLOT + 3 * mm


def geometry(paper: Paper) -> Geometry:
    width, height = A4 if paper is Paper.A4 else LETTER
    return Geometry(width=width, height=height)


@dataclasses.dataclass(frozen=True)
class GridCell:
    label: str
    value: str
    weight: float = 1.0


@dataclasses.dataclass(frozen=True)
class PageHead:
    """What a page prints besides the layout itself (from the issuance, or the preview/reference context)."""

    site: str  # "Basel Site (BSL-01)"
    version: str  # "Version 3"
    effective: str  # "Effective 2025-01-15"
    status: str  # CONTROLLED COPY / UNCONTROLLED COPY / DRAFT
    grid: tuple[tuple[GridCell, ...], ...]
    serial: str | None = None  # printed statically (preview/reference); None: drawn per copy into the slots
    copy: str | None = None  # likewise for "Copy n of N"
    placeholder_qr: str | None = None  # a crossed-out box with this text instead of a QR code
    watermark: str | None = None
    inverted_status: bool = True  # status printed white on black (controlled) or boxed


@dataclasses.dataclass(frozen=True)
class Slots:
    """Where the per-copy parts go (points, PDF coordinates)."""

    serial_right: float  # the serial label is right-aligned at this x
    serial_y: float
    serial_size: float
    copy_right: float
    copy_y: float
    replaces_right: float  # "REPLACES 000117" on a replacement copy, right-aligned on the serial label line
    replaces_y: float
    foot_x: float  # footer line beside the bottom QR: "Serial 000123 · Copy 3 of 5"
    foot_y: float
    # The room each of them has (a longer serial label is made smaller, then narrower, never cut: see ``squeezed``).
    serial_width: float
    replaces_width: float  # right of the "SERIAL NO." caption
    foot_width: float  # left of the footer's identification line (render_layout keeps 62 mm free for it)
    qr_top: tuple[float, float]
    qr_bottom: tuple[float, float]
    qr_side: float


def slots(geom: Geometry) -> Slots:
    id_right = geom.top_qr[0] - 3 * mm
    top = geom.height - QR_EDGE
    return Slots(
        serial_right=id_right - 2.5 * mm, serial_y=top - 17.2 * mm, serial_size=17,
        copy_right=id_right - 2.5 * mm, copy_y=top - 23.6 * mm,
        replaces_right=id_right - 2.5 * mm, replaces_y=top - 10.6 * mm,
        foot_x=BOTTOM_QR_LEFT + QR_SLOT + 3 * mm, foot_y=QR_EDGE + 1.2 * mm,
        qr_top=geom.top_qr, qr_bottom=geom.bottom_qr, qr_side=QR_SLOT,
        serial_width=47 * mm, replaces_width=31 * mm, foot_width=59 * mm,
    )


def squeezed(natural: float, width: float, *, least: float) -> tuple[float, float]:
    """(size factor, horizontal scale) that make a text ``natural`` points wide fit ``width``: the font shrinks
    first, to ``least`` of its size at most, then the letters are narrowed. (1, 1) when it fits as it is. A
    serial label is never cut with an ellipsis: every character of it is needed to find the form."""
    if natural <= width or natural <= 0:
        return 1.0, 1.0
    ratio = width / natural
    size = max(ratio, least)
    return size, ratio / size


# --- text helpers -----

def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    out: list[str] = []
    for paragraph in text.splitlines() or [""]:
        out.extend(simpleSplit(paragraph, font, size, width) or [""])
    return out


def fit(canvas: Canvas, text: str, font: str, size: float, width: float) -> str:
    """Shorten ``text`` with an ellipsis so it fits ``width`` on one line. A binary search over the length:
    trimming one character at a time re-measured a long text thousands of times (29 s for 30,000 characters)."""
    if canvas.stringWidth(text, font, size) <= width:
        return text
    low, high = 0, len(text)  # text[:low] + "…" fits; text[:high] + "…" does not (or is the whole text)
    while high - low > 1:
        middle = (low + high) // 2
        if canvas.stringWidth(text[:middle] + "…", font, size) <= width:
            low = middle
        else:
            high = middle
    return text[:low] + "…"


def text_block(canvas: Canvas, lines: Sequence[str], x: float, y_top: float, font: str, size: float,
                leading: float, color: Color = INK) -> float:
    """Draw lines from a top edge; returns the y below the block."""
    canvas.setFillColor(color)
    canvas.setFont(font, size)
    y = y_top - size
    for line in lines:
        canvas.drawString(x, y, line)
        y -= leading
    return y_top - leading * len(lines)


def string_width(text: str, font: str, size: float) -> float:
    return stringWidth(text, font, size)
