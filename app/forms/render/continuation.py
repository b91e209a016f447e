"""The writing area of an extra page issued to a form in use (BF-02): why and by whom it was added, then ruled
rows for entries, each with its "done by" (initials and date), down to the GDP footer."""

from __future__ import annotations

from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from app.forms.render.fonts import SANS, SANS_BOLD
from app.forms.render.render_base import GREY_TEXT, INK, RULE, Geometry, wrap

ROW = 9 * mm  # one handwritten line, a little more than a field row's minimum
DONE_BY = 34 * mm


def draw_continuation(canvas: Canvas, geom: Geometry, y_top: float, *, note: str) -> None:
    """``note`` ("Extra page 6 of 7, added … by …: reason") boxed at the top, then the ruled rows."""
    width = geom.right - geom.left
    lines = wrap(note, SANS, 8, width - 4 * mm)[:4]
    box_h = 5.5 * mm + 3.6 * mm * len(lines)
    canvas.saveState()
    canvas.setStrokeColor(INK)
    canvas.setLineWidth(1.0)
    canvas.rect(geom.left, y_top - box_h, width, box_h, stroke=1, fill=0)
    canvas.setFillColor(INK)
    canvas.setFont(SANS_BOLD, 8.5)
    canvas.drawString(geom.left + 2 * mm, y_top - 4 * mm, "EXTRA PAGE – CONTINUATION OF THIS CONTROLLED COPY")
    canvas.setFont(SANS, 8)
    y = y_top - 4 * mm
    for line in lines:
        y -= 3.6 * mm
        canvas.drawString(geom.left + 2 * mm, y, line)
    y = y_top - box_h - 4 * mm
    canvas.setFillColor(GREY_TEXT)
    canvas.setFont(SANS, 6.5)
    canvas.drawString(geom.left, y, "ENTRY (refer to the field or step it continues)")
    canvas.drawString(geom.right - DONE_BY + 1.5 * mm, y, "DONE BY (initials, date)")
    y -= 1.5 * mm
    canvas.setStrokeColor(RULE)
    canvas.setLineWidth(0.5)
    top = y
    while y - ROW >= geom.footer_top:
        y -= ROW
        canvas.line(geom.left, y, geom.right, y)
    canvas.line(geom.right - DONE_BY, top, geom.right - DONE_BY, y)
    canvas.restoreState()
