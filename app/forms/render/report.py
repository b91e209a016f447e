"""Printed reports (audit trail, reconciliation, records): a header, sections, and on every page who printed
it and when, the audit chain head and "Page x of y"."""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Image,
    KeepTogether,
    LongTable,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    TableStyle,
)

from app.forms.render.fonts import CONDENSED, CONDENSED_BOLD, MONO, SANS, SANS_BOLD, register_fonts
from app.forms.render.pdfa import make_pdfa


@dataclasses.dataclass(frozen=True)
class ReportMeta:
    title: str
    site: str
    printed_by: str
    printed_at: str
    chain_head: str | None = None
    app_version: str = ""
    status: str = "ORIGINAL"  # ORIGINAL / COPY marking for PR-03
    document: str = ""  # what the pages are of, with its version: "Record 000123 version 7" (PR-03)
    signed: tuple[str, ...] = ()  # the manifestations of the signatures over the data shown, on every page


@dataclasses.dataclass(frozen=True)
class Printed:
    """Who printed a report, where and when, and the chain head at that moment: read with the report's data,
    in the same transaction. The layout that knows the report's title makes the :class:`ReportMeta`."""

    site: str
    printed_by: str
    printed_at: str
    chain_head: str
    app_version: str = ""
    status: str = "ORIGINAL"  # "ORIGINAL", or "COPY 2" for the second print of the same document (PR-03)
    document: str = ""
    signed: tuple[str, ...] = ()

    def meta(self, title: str) -> ReportMeta:
        return ReportMeta(title=title, site=self.site, printed_by=self.printed_by, printed_at=self.printed_at,
                          chain_head=self.chain_head, app_version=self.app_version, status=self.status,
                          document=self.document, signed=self.signed)


@dataclasses.dataclass(frozen=True)
class KeyValues:
    pairs: Sequence[tuple[str, str]]
    heading: str | None = None


@dataclasses.dataclass(frozen=True)
class Table:
    columns: Sequence[str]
    rows: Sequence[Sequence[str]]
    widths: Sequence[float] | None = None  # relative
    heading: str | None = None
    # Row indexes drawn struck through (superseded values stay readable: GDP).
    struck_rows: frozenset[int] = frozenset()
    highlight_rows: frozenset[int] = frozenset()


@dataclasses.dataclass(frozen=True)
class Text:
    text: str
    heading: str | None = None


@dataclasses.dataclass(frozen=True)
class Picture:
    path: Path
    caption: str
    max_height_mm: float = 180


Section = KeyValues | Table | Text | Picture

_STYLES: dict[str, ParagraphStyle] = {}


def _styles() -> dict[str, ParagraphStyle]:
    if not _STYLES:
        register_fonts()
        _STYLES.update(
            title=ParagraphStyle("title", fontName=SANS_BOLD, fontSize=15, leading=19, spaceAfter=4),
            heading=ParagraphStyle("heading", fontName=SANS_BOLD, fontSize=10.5, leading=13, spaceBefore=8,
                                   spaceAfter=3),
            body=ParagraphStyle("body", fontName=SANS, fontSize=8.5, leading=10.5),
            cell=ParagraphStyle("cell", fontName=CONDENSED, fontSize=7.2, leading=8.6),
            head=ParagraphStyle("head", fontName=CONDENSED_BOLD, fontSize=7.2, leading=8.6),
            key=ParagraphStyle("key", fontName=SANS_BOLD, fontSize=8.5, leading=10.5),
            mono=ParagraphStyle("mono", fontName=MONO, fontSize=6.8, leading=8.4),
        )
    return _STYLES


def _p(text: str, style: str, *, struck: bool = False) -> Paragraph:
    body = escape(text).replace("\n", "<br/>")
    if struck:
        body = f"<strike>{body}</strike>"
    return Paragraph(body, _styles()[style])


_SIGNED_SIZE, _SIGNED_LEADING, _SIGNED_LINES = 6.2, 2.7 * mm, 4


def _signed_lines(meta: ReportMeta, width: float) -> list[str]:
    """The signature manifestations as the header prints them under the title, at most a few lines."""
    if not meta.signed:
        return []
    lines = simpleSplit("Signed: " + "  |  ".join(meta.signed), SANS, _SIGNED_SIZE, width - 24 * mm)
    if len(lines) > _SIGNED_LINES:
        lines = [*lines[:_SIGNED_LINES - 1], "… more signatures: see the Signatures section"]
    return lines


def _footer_canvas(meta: ReportMeta) -> type[Canvas]:
    class NumberedCanvas(Canvas):
        """Holds the pages until the end so every footer can say "Page x of y"."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            # Not reportlab's default Helvetica, which is never embedded (PDF/A): every page starts in DejaVu.
            kwargs["initialFontName"] = kwargs.get("initialFontName") or SANS
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 (reportlab API)
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self._draw_frame(total)
                super().showPage()
            super().save()

        def _draw_frame(self, total: int) -> None:
            width, height = self._pagesize
            self.saveState()
            self.setFont(SANS_BOLD, 8)
            self.drawString(12 * mm, height - 9 * mm, f"{meta.site} · {meta.title}")
            self.drawRightString(width - 12 * mm, height - 9 * mm,
                                 f"{meta.document} · {meta.status}" if meta.document else meta.status)
            self.setStrokeColor(colors.grey)
            self.line(12 * mm, height - 10.5 * mm, width - 12 * mm, height - 10.5 * mm)
            self.line(12 * mm, 13 * mm, width - 12 * mm, 13 * mm)
            self.setFont(SANS, _SIGNED_SIZE)
            for index, text in enumerate(_signed_lines(meta, width)):
                self.drawString(12 * mm, height - 13.5 * mm - index * _SIGNED_LEADING, text)
            self.setFont(SANS, 6.8)
            self.drawString(12 * mm, 9.5 * mm, f"Printed by {meta.printed_by} on {meta.printed_at}")
            if meta.chain_head:
                self.setFont(MONO, 6.2)
                self.drawString(12 * mm, 6 * mm, f"Audit trail chain head at printing: {meta.chain_head}")
            self.setFont(SANS, 6.8)
            self.drawRightString(width - 12 * mm, 9.5 * mm, f"Page {self._pageNumber} of {total}")
            if meta.app_version:
                self.drawRightString(width - 12 * mm, 6 * mm, f"Formtrail {meta.app_version}")
            self.restoreState()

    return NumberedCanvas


# A table sets its cells' font even when every cell is a Paragraph: not reportlab's Helvetica, never embedded.
_CELL_FONT = ("FONTNAME", (0, 0), (-1, -1), SANS)


def _flowables(section: Section, frame_width: float, frame_height: float) -> list[Any]:
    out: list[Any] = []
    heading = getattr(section, "heading", None)
    if heading:
        out.append(_p(heading, "heading"))
    if isinstance(section, KeyValues):
        rows = [[_p(k, "key"), _p(v, "body")] for k, v in section.pairs]
        table = LongTable(rows, colWidths=[frame_width * 0.25, frame_width * 0.75])
        table.setStyle(TableStyle([_CELL_FONT, ("VALIGN", (0, 0), (-1, -1), "TOP"),
                                   ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
                                   ("TOPPADDING", (0, 0), (-1, -1), 1.5)]))
        out.append(table)
    elif isinstance(section, Table):
        widths = section.widths or [1.0] * len(section.columns)
        scale = frame_width / sum(widths)
        col_widths = [w * scale for w in widths]
        head = [_p(c, "head") for c in section.columns]
        # A row taller than a page (a long audit detail) continues in the rows below it: reportlab cannot
        # split one row across pages, and the text is never cut short.
        room = frame_height - _row_height(head, col_widths) - 24
        data: list[list[Any]] = [head]
        source: list[int] = [-1]  # the section row each table row shows
        for index, row in enumerate(section.rows):
            struck = index in section.struck_rows
            for part in _fitted([_p(str(cell), "cell", struck=struck) for cell in row], col_widths, room):
                data.append(part)
                source.append(index)
        table = LongTable(data, colWidths=col_widths, repeatRows=1)
        style = [
            _CELL_FONT,
            ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e4e8ee")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("TOPPADDING", (0, 0), (-1, -1), _V_PAD),
            ("BOTTOMPADDING", (0, 0), (-1, -1), _V_PAD),
        ]
        style += [("BACKGROUND", (0, i), (-1, i), colors.HexColor("#fff2cc"))
                  for i, row_index in enumerate(source) if row_index in section.highlight_rows]
        table.setStyle(TableStyle(style))
        if not section.rows:
            out.append(_p("(none)", "body"))
        else:
            out.append(table)
    elif isinstance(section, Text):
        out.append(_p(section.text, "body"))
    elif isinstance(section, Picture):
        image = Image(str(section.path))
        # Leave room for the caption and a heading so the picture always fits one frame.
        height = min(section.max_height_mm * mm, frame_height - 14 * mm)
        ratio = min(frame_width / image.imageWidth, height / image.imageHeight)
        image.drawWidth, image.drawHeight = image.imageWidth * ratio, image.imageHeight * ratio
        out.append(KeepTogether([image, _p(section.caption, "mono")]))
    out.append(Spacer(1, 3 * mm))
    return out


_H_PAD = 6  # reportlab's default left and right cell padding
_V_PAD = 1.2


def _row_height(cells: Sequence[Any], widths: Sequence[float]) -> float:
    return max(cell.wrap(w - 2 * _H_PAD, 1e9)[1] for cell, w in zip(cells, widths, strict=True)) + 2 * _V_PAD


def _fitted(cells: list[Any], widths: Sequence[float], room: float) -> list[list[Any]]:
    """``cells`` as one row, or as several rows each at most ``room`` high, every cell continuing below."""
    rows: list[list[Any]] = []
    while _row_height(cells, widths) > room:
        first, rest = [], []
        for cell, width in zip(cells, widths, strict=True):
            tall = cell.wrap(width - 2 * _H_PAD, 1e9)[1] + 2 * _V_PAD > room
            parts = (cell.split(width - 2 * _H_PAD, room - 2 * _V_PAD) if tall else None) or [cell]
            first.append(parts[0])
            rest.append(parts[1] if len(parts) > 1 else _p("", "cell"))
        if all(part is cell for part, cell in zip(first, cells, strict=True)):
            break  # nothing would split (one unbreakable line): let reportlab say so rather than loop
        rows.append(first)
        cells = rest
    rows.append(cells)
    return rows


def render_report(
    out: Path | BinaryIO, meta: ReportMeta, sections: Sequence[Section], *, wide: bool = False
) -> None:
    """Write the report PDF to ``out``, as PDF/A-2b (``pdfa``)."""
    _styles()
    pagesize = landscape(A4) if wide else A4
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer, pagesize=pagesize, leftMargin=12 * mm, rightMargin=12 * mm,
        topMargin=15 * mm + len(_signed_lines(meta, pagesize[0])) * _SIGNED_LEADING, bottomMargin=17 * mm,
        title=meta.title, author=meta.printed_by, creator=f"Formtrail {meta.app_version}".strip(),
    )
    story: list[Any] = [_p(meta.title, "title")]
    for section in sections:
        story.extend(_flowables(section, doc.width, doc.height))
    doc.build(story, canvasmaker=_footer_canvas(meta))
    data = make_pdfa(buffer.getvalue())
    if isinstance(out, Path):
        out.write_bytes(data)
    else:
        out.write(data)
