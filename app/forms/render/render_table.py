"""The field table and the signature blocks of a form page: column plan, row heights, cell drawing."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence

from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from app.forms.layout.layout import FieldDef, FieldType, SignatureRole, TemplateLayout
from app.forms.render.fonts import CONDENSED, CONDENSED_BOLD, SANS, SANS_BOLD
from app.forms.render.render_base import (
    CRITICAL,
    GREY_TEXT,
    HEAD_FILL,
    INK,
    NA_FILL,
    PAD,
    REQUIRED,
    ROW_MIN,
    RULE,
    Geometry,
    fit,
    string_width,
    text_block,
    wrap,
)


def limits_text(field: FieldDef) -> str:
    """"99.90 – 100.10", "≥ 10", "≤ 5.0" (with the field's decimals when it has them)."""
    low, high = field.low, field.high
    if low is not None and high is not None:
        joiner = " to " if low < 0 or high < 0 else " – "  # "−15 to 15" reads better than "−15 – 15"
        return f"{_num(low, field.decimals)}{joiner}{_num(high, field.decimals)}"
    if low is not None:
        return f"≥ {_num(low, field.decimals)}"
    if high is not None:
        return f"≤ {_num(high, field.decimals)}"
    return ""


def _num(value: int | float, decimals: int | None = None) -> str:
    if decimals is not None:
        text = f"{value:.{decimals}f}"
    elif isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        text = f"{value:.1f}"
    else:
        text = f"{value}"
    return text.replace("-", "−")


# Told where each writing box is drawn: (field name or None, part, x, y of the bottom, width, height, masks),
# in points from the page's lower-left corner; masks are (x, y, w, h) rectangles printed inside the box.
BoxSink = Callable[[str | None, str, float, float, float, float, tuple[tuple[float, float, float, float], ...]],
                   None]


# --- the field table -----

@dataclasses.dataclass(frozen=True)
class Column:
    key: str
    title: str
    width: float


def columns(layout: TemplateLayout, geom: Geometry) -> tuple[Column, ...]:
    """The table columns for the whole layout (the same on every page, so pages line up)."""
    fields = layout.fields
    fixed = [Column("no", "No.", 8 * mm)]
    tail: list[Column] = []
    if any(f.unit for f in fields):
        tail.append(Column("unit", "Unit", 12 * mm))
    if any(f.has_limits for f in fields):
        tail.append(Column("limits", "Limits", 23 * mm))
    tail.append(Column("value", "Entry", 0))
    if any(f.done_by for f in fields):
        tail.append(Column("done", "Done by\ninitials / date", 23 * mm))
    if any(f.checked_by for f in fields):
        tail.append(Column("checked", "Checked by\ninitials / date", 23 * mm))
    total = geom.right - geom.left
    rest = total - sum(c.width for c in fixed + tail)
    # The parameter text and the writing space share what is left; writing space never below 42 mm.
    value = max(42 * mm, rest * 0.44)
    param = rest - value
    out = fixed + [Column("param", "Parameter / instruction", param)]
    return tuple(out + [dataclasses.replace(c, width=value) if c.key == "value" else c for c in tail])


_LABEL_SIZE = 8.6
_LABEL_LEAD = 9.8
_HELP_SIZE = 6.8
_HELP_LEAD = 8.0


def _param_lines(field: FieldDef, width: float) -> tuple[list[str], list[str]]:
    text_width = width - 2 * PAD - 5 * mm  # room for the markers on the right
    label = wrap(field.label, CONDENSED, _LABEL_SIZE, text_width)
    helptext = wrap(field.help, CONDENSED, _HELP_SIZE, text_width) if field.help else []
    return label, helptext


_OPTION_SIZE = 8.8
_OPTION_GAP = 3.5 * mm
_OPTION_LEAD = 16.0  # tick boxes of wrapped options 2 mm apart: a tick's arm must not reach the box above


TICK_BOX = 3.5 * mm  # side of a printed tick box: drawn as a square (not a glyph) so the reader knows its edges
_TICK_GAP = 1.2 * mm  # between a tick box and its label


def _option_width(label: str) -> float:
    return TICK_BOX + _TICK_GAP + string_width(label, CONDENSED, _OPTION_SIZE)


def _value_lines(field: FieldDef, width: float) -> list[list[str]]:
    """Tick-box options (their labels) laid out in lines; an option is never split from its box."""
    if field.type is FieldType.CHOICE:
        options = list(field.choices)
    elif field.type is FieldType.CHECKBOX:
        options = ["Yes", "No"]
    else:
        return []
    room = width - 2 * PAD
    lines: list[list[str]] = [[]]
    used = 0.0
    for option in options:
        w = _option_width(option)
        if lines[-1] and used + _OPTION_GAP + w > room:
            lines.append([])
            used = 0.0
        used += (_OPTION_GAP if lines[-1] else 0) + w
        lines[-1].append(option)
    return lines


def row_height(field: FieldDef, cols: Sequence[Column]) -> float:
    by_key = {c.key: c for c in cols}
    label, helptext = _param_lines(field, by_key["param"].width)
    text = 2 * PAD + len(label) * _LABEL_LEAD + len(helptext) * _HELP_LEAD
    choices = len(_value_lines(field, by_key["value"].width))
    options = 2 * PAD + (choices - 1) * _OPTION_LEAD + TICK_BOX + 1.2 * mm if choices else 0.0
    return max(ROW_MIN, text, options)


def header_height(cols: Sequence[Column]) -> float:
    return 7.6 * mm if any("\n" in c.title for c in cols) else 5.6 * mm


def draw_table_header(canvas: Canvas, cols: Sequence[Column], x0: float, y_top: float) -> float:
    height = header_height(cols)
    canvas.setFillColor(HEAD_FILL)
    canvas.setStrokeColor(RULE)
    canvas.setLineWidth(0.6)
    canvas.rect(x0, y_top - height, sum(c.width for c in cols), height, stroke=1, fill=1)
    x = x0
    for col in cols:
        lines = col.title.split("\n")
        y = y_top - height / 2 + (len(lines) - 1) * 4.2 - 2.6
        for i, line in enumerate(lines):
            font, size = (CONDENSED_BOLD, 7.6) if i == 0 else (CONDENSED, 6.6)
            canvas.setFillColor(INK if i == 0 else GREY_TEXT)
            canvas.setFont(font, size)
            canvas.drawCentredString(x + col.width / 2, y, line)
            y -= 8.4
        if x > x0:
            canvas.line(x, y_top, x, y_top - height)
        x += col.width
    return y_top - height


def draw_row(canvas: Canvas, field: FieldDef, number: int, cols: Sequence[Column], x0: float, y_top: float,
             height: float, *, on_box: BoxSink | None = None) -> None:
    bottom = y_top - height
    x = x0
    for col in cols:
        key = col.key
        not_used = (key == "done" and not field.done_by) or (key == "checked" and not field.checked_by)
        if not_used:
            canvas.setFillColor(NA_FILL)
            canvas.rect(x, bottom, col.width, height, stroke=0, fill=1)
        first = y_top - PAD - _LABEL_SIZE + 0.5
        if key == "no":
            canvas.setFillColor(GREY_TEXT)
            canvas.setFont(CONDENSED, 8)
            canvas.drawCentredString(x + col.width / 2, first, str(number))
        elif key == "param":
            label, helptext = _param_lines(field, col.width)
            y = text_block(canvas, label, x + PAD, y_top - PAD + 0.5, CONDENSED, _LABEL_SIZE, _LABEL_LEAD)
            if helptext:
                text_block(canvas, helptext, x + PAD, y, CONDENSED, _HELP_SIZE, _HELP_LEAD, GREY_TEXT)
            marks = (CRITICAL if field.critical else "") + (REQUIRED if field.required else "")
            if marks:
                canvas.setFillColor(INK)
                canvas.setFont(SANS_BOLD, 8)
                canvas.drawRightString(x + col.width - PAD, first, marks)
        elif key == "unit" and field.unit:
            canvas.setFillColor(INK)
            canvas.setFont(CONDENSED, 8.6)
            unit = fit(canvas, field.unit, CONDENSED, 8.6, col.width)
            canvas.drawCentredString(x + col.width / 2, first, unit)
        elif key == "limits" and field.has_limits:
            _draw_limits(canvas, limits_text(field), x, first, col.width)
        elif key == "value":
            _draw_value(canvas, field, x, y_top, col.width, height, on_box=on_box)
        elif key in ("done", "checked") and on_box is not None and not not_used:
            on_box(field.name, "done_by" if key == "done" else "checked_by", x, bottom, col.width, height, ())
        x += col.width
    canvas.setStrokeColor(RULE)
    canvas.setLineWidth(0.6)
    canvas.rect(x0, bottom, x - x0, height, stroke=1, fill=0)
    x = x0
    for col in cols[:-1]:
        x += col.width
        canvas.line(x, y_top, x, bottom)


def _draw_limits(canvas: Canvas, text: str, x: float, y: float, width: float) -> None:
    """Centred in the cell; smaller when long, and on two lines ("99.999 –" / "100.001") if it must."""
    canvas.setFillColor(INK)
    room = width - 2 * PAD
    size = 8.6
    while size > 7 and canvas.stringWidth(text, CONDENSED, size) > room:
        size -= 0.2
    lines = [text]
    joiner = next((j for j in (" – ", " to ") if j in text), None)
    if canvas.stringWidth(text, CONDENSED, size) > room and joiner:
        low, high = text.split(joiner, 1)
        lines, size = [f"{low}{joiner.rstrip()}", high], 8.6
    for line in lines:
        fitted = size
        while fitted > 5.5 and canvas.stringWidth(line, CONDENSED, fitted) > room:
            fitted -= 0.2
        canvas.setFont(CONDENSED, fitted)
        canvas.drawCentredString(x + width / 2, y, line)
        y -= 9.6


_HINTS = {FieldType.DATE: "dd-mmm-yyyy", FieldType.TIME: "hh:mm (24 h)", FieldType.INITIALS: "initials"}


def _draw_value(canvas: Canvas, field: FieldDef, x: float, y_top: float, width: float, height: float, *,
                on_box: BoxSink | None = None) -> None:
    lines = _value_lines(field, width)
    if lines:
        canvas.setFont(CONDENSED, _OPTION_SIZE)
        canvas.setLineWidth(0.7)
        y = y_top - height / 2 - 3 + (len(lines) - 1) * _OPTION_LEAD / 2
        for line in lines:
            cursor = x + PAD
            for label in line:
                box_y = y + 0.35 * _OPTION_SIZE - TICK_BOX / 2  # centred on the text's middle
                canvas.setStrokeColor(INK)
                canvas.rect(cursor, box_y, TICK_BOX, TICK_BOX, stroke=1, fill=0)
                if on_box is not None:
                    on_box(field.name, f"option:{label}", cursor, box_y, TICK_BOX, TICK_BOX, ())
                canvas.setFillColor(INK)
                canvas.drawString(cursor + TICK_BOX + _TICK_GAP, y, label)
                cursor += _option_width(label) + _OPTION_GAP
            y -= _OPTION_LEAD
        return
    hint = _HINTS.get(field.type)
    if field.type is FieldType.NUMBER and field.decimals is not None:
        hint = "whole number" if field.decimals == 0 else "format " + _num(0, field.decimals)
    masks: tuple[tuple[float, float, float, float], ...] = ()
    if hint:
        canvas.setFillColor(GREY_TEXT)
        canvas.setFont(CONDENSED, 6.2)
        canvas.drawRightString(x + width - 1.2 * mm, y_top - height + 1.2 * mm, hint)
        hint_w = string_width(hint, CONDENSED, 6.2)
        masks = ((x + width - 1.2 * mm - hint_w - 0.5 * mm, y_top - height + 0.6 * mm, hint_w + 1 * mm, 3.2 * mm),)
    if on_box is not None:
        on_box(field.name, "entry", x, y_top - height, width, height, masks)


SIGN_PER_ROW = 4
SIGN_BOX = 24 * mm
_SIGN_HEAD = 5.5 * mm


def signature_height(layout: TemplateLayout) -> float:
    count = len(layout.signature_blocks)
    if not count:
        return 0.0
    rows = math.ceil(count / SIGN_PER_ROW)
    return _SIGN_HEAD + rows * SIGN_BOX + (rows - 1) * 2 * mm


def draw_signatures(canvas: Canvas, layout: TemplateLayout, geom: Geometry, y_top: float, *,
                    on_box: BoxSink | None = None) -> float:
    """The wet-signature blocks side by side: role, name (print), signature and date lines."""
    width = geom.right - geom.left
    canvas.setFillColor(INK)
    canvas.setFont(SANS_BOLD, 8.2)
    canvas.drawString(geom.left, y_top - 3.6 * mm, "SIGNATURES")
    canvas.setFillColor(GREY_TEXT)
    canvas.setFont(SANS, 6.6)
    canvas.drawString(geom.left + 24 * mm, y_top - 3.6 * mm,
                      "Sign by hand in ink after checking every page of this form; print your name in full.")
    blocks = layout.signature_blocks
    per_row = min(SIGN_PER_ROW, len(blocks))
    gap = 3 * mm
    box_w = (width - gap * (per_row - 1)) / per_row
    y = y_top - _SIGN_HEAD
    roles = [b.role for b in blocks]
    seen: dict[SignatureRole, int] = {}
    for start in range(0, len(blocks), per_row):
        for i, block in enumerate(blocks[start:start + per_row]):
            x = geom.left + i * (box_w + gap)
            bottom = y - SIGN_BOX
            canvas.setStrokeColor(RULE)
            canvas.setLineWidth(0.6)
            canvas.setFillColor(HEAD_FILL)
            canvas.rect(x, y - 6.5 * mm, box_w, 6.5 * mm, stroke=0, fill=1)
            canvas.rect(x, bottom, box_w, SIGN_BOX, stroke=1, fill=0)
            canvas.line(x, y - 6.5 * mm, x + box_w, y - 6.5 * mm)
            canvas.setFillColor(INK)
            canvas.setFont(CONDENSED_BOLD, 8.4)
            label = fit(canvas, block.label, CONDENSED_BOLD, 8.4, box_w - 2 * PAD)
            canvas.drawString(x + PAD, y - 3 * mm, label)
            canvas.setFillColor(GREY_TEXT)
            canvas.setFont(CONDENSED, 6.2)
            canvas.drawString(x + PAD, y - 5.5 * mm, _ROLE_MEANING[block.role])
            # Writing lines, captions on the left: name and date, then the signature with the full width.
            name_y = y - 14.5 * mm
            sign_y = bottom + 2.2 * mm
            date_x = x + box_w * 0.64
            canvas.setFont(CONDENSED, 6.4)
            captions = (("Name", x + PAD, name_y), ("Date", date_x, name_y), ("Signature", x + PAD, sign_y))
            ends = (date_x - 2 * mm, x + box_w - PAD, x + box_w - PAD)
            canvas.setStrokeColor(GREY_TEXT)
            canvas.setLineWidth(0.4)
            masks = []
            for (caption, cx, cy), end in zip(captions, ends, strict=True):
                canvas.drawString(cx, cy + 0.8, caption)
                caption_w = canvas.stringWidth(caption, CONDENSED, 6.4)
                canvas.line(cx + caption_w + 1 * mm, cy, end, cy)
                masks += [(cx - 0.5 * mm, cy - 0.2 * mm, caption_w + 1 * mm, 3 * mm),
                          (cx + caption_w + 0.5 * mm, cy - 0.6 * mm, end - cx - caption_w, 1.2 * mm)]
            if on_box is not None:
                seen[block.role] = seen.get(block.role, 0) + 1
                part = f"signature:{block.role.value}"
                if roles.count(block.role) > 1:
                    part += f":{seen[block.role]}"
                # The signature's own writing area: under the name and date line, so a printed name with no
                # signature is still an empty signature.
                top = name_y - 1.5 * mm
                on_box(None, part, x, bottom, box_w, top - bottom, tuple(masks[-2:]))
        y -= SIGN_BOX + 2 * mm
    return y + 2 * mm


_ROLE_MEANING = {
    SignatureRole.PERFORMED: "performed the work recorded here",
    SignatureRole.CHECKED: "second person: checked the entries",
    SignatureRole.REVIEWED: "reviewed the completed form",
    SignatureRole.APPROVED: "approved the completed form",
}
