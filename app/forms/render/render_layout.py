"""The static part of a form page: title block, issuance grid, instructions, field table, signature blocks,
GDP footer. Everything that is the same for every copy of an issuance is drawn here (once, into a form
XObject); the serial, "Copy n of N" and the QR codes are drawn per copy into the ``Slots`` of ``render_base``.
"""

from __future__ import annotations

import dataclasses
import io
import math
from collections.abc import Callable

from reportlab.lib.colors import Color, black, white
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas

from app.forms.layout.layout import FieldDef, LayoutError, TemplateLayout
from app.forms.render.fonts import CONDENSED_BOLD, MONO, SANS, SANS_BOLD, register_fonts
from app.forms.render.render_base import (
    CRITICAL,
    GDP_LINES,
    GREY_TEXT,
    INK,
    LIGHT_FILL,
    NA_FILL,
    QR_EDGE,
    QR_SLOT,
    REQUIRED,
    RULE,
    Geometry,
    GridCell,
    PageHead,
    fit,
    geometry,
    slots,
    squeezed,
    text_block,
    wrap,
)
from app.forms.render.render_table import (
    BoxSink,
    columns,
    draw_row,
    draw_signatures,
    draw_table_header,
    header_height,
    row_height,
    signature_height,
)

# --- page parts -----

def _draw_top(canvas: Canvas, layout: TemplateLayout, page: int, head: PageHead, geom: Geometry,
              of: int | None = None) -> float:
    """The title block beside the top QR; returns the y below it. ``of``: the page count printed ("Page 6 of
    7" on an extra page, BF-02); None: the layout's."""
    top = geom.height - QR_EDGE
    id_right = geom.top_qr[0] - 3 * mm
    id_left = id_right - 52 * mm
    text_right = id_left - 4 * mm
    width = text_right - geom.left
    y = top - 1 * mm
    y = text_block(canvas, [fit(canvas, f"{head.site}  ·  {layout.department}", SANS_BOLD, 7.5, width)],
                    geom.left, y, SANS_BOLD, 7.5, 9.5, GREY_TEXT)
    title_size = 15.0
    title = wrap(layout.title, SANS_BOLD, title_size, width)
    if len(title) > 1:
        title_size = 12.5
        title = wrap(layout.title, SANS_BOLD, title_size, width)[:3]
    y = text_block(canvas, title, geom.left, y - 1.5, SANS_BOLD, title_size, title_size * 1.18)
    ident = f"{layout.code}   ·   {head.version}   ·   {head.effective}"
    y = text_block(canvas, [fit(canvas, ident, SANS_BOLD, 9, width)], geom.left, y - 1.5, SANS_BOLD, 9, 11)
    if layout.header:
        header = wrap(layout.header, SANS, 7.4, width)
        y = text_block(canvas, header, geom.left, y - 1.5, SANS, 7.4, 8.8, GREY_TEXT)

    # The identification block: status, serial, copy and page.
    box_top, box_bottom = top, top - QR_SLOT
    canvas.setStrokeColor(INK)
    canvas.setLineWidth(1.1)
    canvas.rect(id_left, box_bottom, id_right - id_left, box_top - box_bottom, stroke=1, fill=0)
    band = 7 * mm
    if head.inverted_status:
        canvas.setFillColor(INK)
        canvas.rect(id_left, box_top - band, id_right - id_left, band, stroke=0, fill=1)
        canvas.setFillColor(white)
    else:
        canvas.setFillColor(INK)
        canvas.line(id_left, box_top - band, id_right, box_top - band)
    status_fits = canvas.stringWidth(head.status, SANS_BOLD, 10.5) < (id_right - id_left) - 4 * mm
    status_size = 10.5 if status_fits else 8.5
    canvas.setFont(SANS_BOLD, status_size)
    canvas.drawCentredString((id_left + id_right) / 2, box_top - band + 2.3 * mm, head.status)
    canvas.setFillColor(GREY_TEXT)
    canvas.setFont(SANS, 6.5)
    canvas.drawString(id_left + 2.5 * mm, box_top - band - 3.6 * mm, "SERIAL NO.")  # y: Slots.replaces_y
    s = slots(geom)
    if head.serial is not None:
        size = s.serial_size if canvas.stringWidth(head.serial, MONO, s.serial_size) < 45 * mm else 10
        canvas.setFillColor(INK)
        canvas.setFont(MONO, size)
        canvas.drawRightString(s.serial_right, s.serial_y, head.serial)
    if head.copy is not None:
        canvas.setFillColor(INK)
        canvas.setFont(SANS_BOLD, 8.5)
        canvas.drawRightString(s.copy_right, s.copy_y, head.copy)
    canvas.setStrokeColor(RULE)
    canvas.setLineWidth(0.5)
    canvas.line(id_left, box_bottom + 6.5 * mm, id_right, box_bottom + 6.5 * mm)
    canvas.setFillColor(INK)
    canvas.setFont(SANS_BOLD, 9.5)
    canvas.drawCentredString((id_left + id_right) / 2, box_bottom + 2 * mm, f"Page {page} of {of or layout.pages}")
    return min(y, box_bottom) - 2.5 * mm


def _draw_grid(canvas: Canvas, head: PageHead, geom: Geometry, y_top: float) -> float:
    width = geom.right - geom.left
    row_h = 8.2 * mm
    canvas.setStrokeColor(RULE)
    canvas.setLineWidth(0.6)
    y = y_top
    for row in head.grid:
        total = sum(c.weight for c in row)
        x = geom.left
        canvas.setFillColor(LIGHT_FILL)
        canvas.rect(geom.left, y - row_h, width, row_h, stroke=1, fill=1)
        for i, cell in enumerate(row):
            w = width * cell.weight / total
            if i:
                canvas.line(x, y, x, y - row_h)
            canvas.setFillColor(GREY_TEXT)
            canvas.setFont(SANS, 6.3)
            canvas.drawString(x + 1.5 * mm, y - 2.7 * mm, cell.label.upper())
            canvas.setFillColor(INK)
            canvas.setFont(CONDENSED_BOLD, 8.8)
            value = fit(canvas, cell.value, CONDENSED_BOLD, 8.8, w - 3 * mm)
            canvas.drawString(x + 1.5 * mm, y - 6.6 * mm, value)
            x += w
        y -= row_h
    return y - 3 * mm


def _draw_instructions(canvas: Canvas, layout: TemplateLayout, geom: Geometry, y_top: float) -> float:
    if not layout.instructions.strip():
        return y_top
    width = geom.right - geom.left
    inner = width - 4 * mm
    size, lead = 7.6, 8.9
    paragraphs = [p.strip() for p in layout.instructions.splitlines() if p.strip()]
    lines: list[tuple[str, bool]] = []
    for paragraph in paragraphs:
        for i, line in enumerate(wrap(paragraph, SANS, size, inner - 5 * mm)):
            lines.append((line, i == 0))
    height = 5.2 * mm + len(lines) * lead + 1.6 * mm
    canvas.setStrokeColor(RULE)
    canvas.setLineWidth(0.6)
    canvas.rect(geom.left, y_top - height, width, height, stroke=1, fill=0)
    canvas.setFillColor(INK)
    canvas.setFont(SANS_BOLD, 7.8)
    canvas.drawString(geom.left + 2 * mm, y_top - 3.8 * mm, "INSTRUCTIONS")
    y = y_top - 5.2 * mm - size + 0.5
    number = 0
    for line, first in lines:
        if first:
            number += 1
            canvas.setFont(SANS_BOLD, size)
            canvas.drawString(geom.left + 2 * mm, y, f"{number}.")
        canvas.setFont(SANS, size)
        canvas.drawString(geom.left + 7 * mm, y, line)
        y -= lead
    return y_top - height - 3 * mm


def _draw_footer(canvas: Canvas, layout: TemplateLayout, page: int, head: PageHead, geom: Geometry,
                 of: int | None = None) -> None:
    x = geom.bottom_qr[0] + QR_SLOT + 3 * mm
    width = geom.right - x
    size, lead = 6.5, 7.7
    lines: list[tuple[str, bool]] = []
    for rule in GDP_LINES:
        lines.extend((line, i == 0) for i, line in enumerate(wrap(rule, SANS, size, width - 7 * mm)))
    box_top = QR_EDGE + QR_SLOT
    box_h = 4.6 * mm + len(lines) * lead + 1.2 * mm
    canvas.setStrokeColor(RULE)
    canvas.setLineWidth(0.6)
    canvas.rect(x, box_top - box_h, width, box_h, stroke=1, fill=0)
    canvas.setFillColor(INK)
    canvas.setFont(SANS_BOLD, 7)
    canvas.drawString(x + 2 * mm, box_top - 3.4 * mm, "GOOD DOCUMENTATION PRACTICE")
    canvas.setFont(SANS, size)
    ty = box_top - 4.6 * mm - size
    for line, first in lines:
        if first:
            canvas.drawString(x + 2 * mm, ty, "•")
        canvas.drawString(x + 4.5 * mm, ty, line)
        ty -= lead
    legend_y = box_top - box_h - 3.4 * mm
    canvas.setFont(SANS_BOLD, 7)
    canvas.drawString(x, legend_y, REQUIRED)
    canvas.setFont(SANS, 6.6)
    cursor = x + 2.4 * mm
    for mark, text in ((None, "required entry"), (CRITICAL, "critical: second person checks and initials")):
        if mark:
            canvas.setFont(SANS_BOLD, 7)
            canvas.drawString(cursor, legend_y, mark)
            cursor += 3 * mm
        canvas.setFont(SANS, 6.6)
        canvas.drawString(cursor, legend_y, text)
        cursor += canvas.stringWidth(text, SANS, 6.6) + 4 * mm
    canvas.setFillColor(NA_FILL)
    canvas.setStrokeColor(RULE)
    canvas.rect(cursor, legend_y - 0.6, 4.5 * mm, 2.6 * mm, stroke=1, fill=1)
    canvas.setFillColor(INK)
    canvas.drawString(cursor + 6 * mm, legend_y, "not applicable: do not write")
    # Identification line under the legend; the serial part on the left is drawn per copy (or from head).
    canvas.setFont(SANS, 6.6)
    canvas.setFillColor(GREY_TEXT)
    room = width - 62 * mm  # the left part holds the serial and copy number
    page_text = f"Page {page} of {of or layout.pages}"
    ident = f"{layout.code} {head.version} · {layout.title} · {page_text}"
    if canvas.stringWidth(ident, SANS, 6.6) > room:
        ident = f"{layout.code} {head.version} · {page_text}"
    canvas.drawRightString(geom.right, slots(geom).foot_y, fit(canvas, ident, SANS, 6.6, room))
    if head.serial is not None:
        draw_foot_serial(canvas, geom, head.serial, head.copy or "")


def draw_page_frame(canvas: Canvas, layout: TemplateLayout, page: int, head: PageHead, *, of: int) -> float:
    """The parts of a page that do not depend on its fields: title block, issuance grid and GDP footer, printed
    "Page ``page`` of ``of``" (an extra page issued to a form in use, BF-02). Returns the y below the grid."""
    geom = geometry(layout.paper)
    canvas.saveState()
    canvas.setStrokeColor(black)
    y = _draw_top(canvas, layout, page, head, geom, of)
    y = _draw_grid(canvas, head, geom, y)
    _draw_footer(canvas, layout, page, head, geom, of)
    canvas.restoreState()
    return y


def draw_foot_serial(canvas: Canvas, geom: Geometry, serial: str, copy: str) -> None:
    """"SERIAL <label>  Copy n of N" beside the bottom code, made smaller and narrower to fit its room when a
    long serial label (or a replaced one) needs it; never cut."""
    s = slots(geom)
    text = f"SERIAL {serial}"
    gap = 3 * mm
    natural = canvas.stringWidth(text, MONO, 8.5) + (gap + canvas.stringWidth(copy, SANS, 7) if copy else 0)
    factor, narrow = squeezed(natural, s.foot_width, least=0.8)
    canvas.saveState()
    canvas.translate(s.foot_x, s.foot_y)
    canvas.scale(narrow, 1)
    canvas.setFillColor(INK)
    canvas.setFont(MONO, 8.5 * factor)
    canvas.drawString(0, 0, text)
    if copy:
        canvas.setFont(SANS, 7 * factor)
        canvas.drawString(canvas.stringWidth(text, MONO, 8.5 * factor) + gap * factor, 0, copy)
    canvas.restoreState()


def draw_placeholder_qr(canvas: Canvas, x: float, y: float, side: float, text: str) -> None:
    """A crossed-out box where the QR code would be: visibly not a code, and nothing a scanner can read."""
    inset = 2.5 * mm
    canvas.setStrokeColor(GREY_TEXT)
    canvas.setLineWidth(0.8)
    canvas.setDash(2, 2)
    canvas.rect(x + inset, y + inset, side - 2 * inset, side - 2 * inset, stroke=1, fill=0)
    canvas.setDash()
    canvas.line(x + inset, y + inset, x + side - inset, y + side - inset)
    canvas.line(x + inset, y + side - inset, x + side - inset, y + inset)
    canvas.setFillColor(white)
    label_w = side - 2 * inset - 3 * mm
    canvas.rect(x + inset + 1.5 * mm, y + side / 2 - 4.2 * mm, label_w, 8.4 * mm, stroke=0, fill=1)
    canvas.setFillColor(INK)
    canvas.setFont(SANS_BOLD, 6.4)
    lines = simpleSplit(text, SANS_BOLD, 6.4, side - 2 * inset - 4 * mm)[:3]
    ty = y + side / 2 + (len(lines) - 1) * 3.8 - 2.2
    for line in lines:
        canvas.drawCentredString(x + side / 2, ty, line)
        ty -= 7.6


def draw_watermark(canvas: Canvas, geom: Geometry, text: str) -> None:
    """Across the page diagonal, translucent: ``text`` up to the first " – " large, the rest below it."""
    head, _, rest = text.partition(" – ")
    diagonal = math.hypot(geom.width, geom.height) - 70 * mm
    canvas.saveState()
    canvas.setFillColor(Color(0.55, 0.08, 0.08), alpha=0.18)
    canvas.translate(geom.width / 2, geom.height / 2)
    canvas.rotate(math.degrees(math.atan2(geom.height, geom.width)))
    size = 44.0
    while size > 14 and canvas.stringWidth(head, SANS_BOLD, size) > diagonal:
        size -= 1
    small = min(17.0, size * 0.45)
    lines = wrap(rest, SANS_BOLD, small, diagonal * 0.6) if rest else []
    height = size + len(lines) * small * 1.3
    y = height / 2 - size * 0.8
    canvas.setFont(SANS_BOLD, size)
    canvas.drawCentredString(0, y, head)
    canvas.setFont(SANS_BOLD, small)
    y -= size * 0.35 + small * 1.1
    for line in lines:
        canvas.drawCentredString(0, y, line)
        y -= small * 1.3
    canvas.restoreState()


@dataclasses.dataclass(frozen=True)
class PageSpace:
    """How much of a page's writing area its fields (and, on the last page, the signature blocks) use."""

    page: int
    needed_mm: float
    available_mm: float

    @property
    def fits(self) -> bool:
        return self.needed_mm <= self.available_mm + 0.01

    def error(self, layout: TemplateLayout) -> LayoutError:
        what = "fields and the signature blocks" if self.page == layout.pages else "fields"
        return LayoutError(
            f"page {self.page} of {layout.code} does not fit on {layout.paper.value} paper: its {what} need "
            f"{self.needed_mm:.0f} mm but {self.available_mm:.0f} mm are free; move fields to another page "
            f"(and raise pages) or shorten labels and help texts"
        )


# Told where each field's row is drawn: (field, x, y of the row's bottom, width, height) in points.
RowSink = Callable[[FieldDef, float, float, float, float], None]


def draw_static_page(canvas: Canvas, layout: TemplateLayout, page: int, head: PageHead, *,
                     check: bool = True, on_row: RowSink | None = None, on_box: BoxSink | None = None) -> PageSpace:
    """Everything on page ``page`` that does not change from copy to copy.

    With ``check``, raises LayoutError when the page's content does not fit; the space is returned anyway.
    ``on_row`` hears where each field's row is drawn (the scan viewer zooms to it: one geometry, this one);
    ``on_box`` where each writing box is (the scan reader looks for ink there: the same one geometry).
    """
    geom = geometry(layout.paper)
    canvas.saveState()
    canvas.setStrokeColor(black)
    y = _draw_top(canvas, layout, page, head, geom)
    y = _draw_grid(canvas, head, geom, y)
    if page == 1:
        y = _draw_instructions(canvas, layout, geom, y)
    cols = columns(layout, geom)
    fields = layout.fields_on(page)
    numbers = {f.name: i for i, f in enumerate(layout.fields, start=1)}
    heights = [row_height(f, cols) for f in fields]
    needed = (header_height(cols) if fields else 0) + sum(heights)
    if page == layout.pages:
        needed += signature_height(layout) + (3 * mm if fields else 0)
    space = PageSpace(page=page, needed_mm=needed / mm, available_mm=(y - geom.footer_top) / mm)
    if check and not space.fits:
        canvas.restoreState()
        raise space.error(layout)
    if fields:
        y = draw_table_header(canvas, cols, geom.left, y)
        for field, height in zip(fields, heights, strict=True):
            draw_row(canvas, field, numbers[field.name], cols, geom.left, y, height, on_box=on_box)
            if on_row is not None:
                on_row(field, geom.left, y - height, sum(c.width for c in cols), height)
            y -= height
    elif page != layout.pages:
        canvas.setFillColor(GREY_TEXT)
        canvas.setFont(SANS, 8)
        canvas.drawString(geom.left, y - 4 * mm, "This page has no entries.")
    if page == layout.pages and layout.signature_blocks:
        draw_signatures(canvas, layout, geom, y - (3 * mm if fields else 0), on_box=on_box)
    _draw_footer(canvas, layout, page, head, geom)
    if head.placeholder_qr is not None:
        for x, yq in (geom.top_qr, geom.bottom_qr):
            draw_placeholder_qr(canvas, x, yq, QR_SLOT, head.placeholder_qr)
    if head.watermark:
        draw_watermark(canvas, geom, head.watermark)
    canvas.restoreState()
    return space


def measure_pages(layout: TemplateLayout, *, on_row: RowSink | None = None,
                  on_box: Callable[[int], BoxSink] | None = None) -> tuple[PageSpace, ...]:
    """The space each page needs and has (for the template editor: "page 2: 14 mm left"), without raising;
    ``on_row`` hears where each field's row lands, ``on_box(page)`` gives the sink for that page's writing boxes:
    the same as on every issued copy, since where things land
    does not depend on the head's texts (site and identification lines are fitted to one line each, and every
    issuance grid has two rows)."""
    register_fonts()
    head = PageHead(site="SITE", version="Version 999", effective="Effective 2000-01-01",
                    status="CONTROLLED COPY", grid=((GridCell("a", "a"),), (GridCell("b", "b"),)))
    scratch = Canvas(io.BytesIO(), pagesize=(geometry(layout.paper).width, geometry(layout.paper).height))
    pages = range(1, layout.pages + 1)
    return tuple(draw_static_page(scratch, layout, page, head, check=False, on_row=on_row,
                                  on_box=on_box(page) if on_box is not None else None) for page in pages)


def check_fits(layout: TemplateLayout) -> None:
    """Raise LayoutError naming the first page whose content does not fit on the paper."""
    for space in measure_pages(layout):
        if not space.fits:
            raise space.error(layout)
