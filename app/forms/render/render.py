"""PDF rendering of forms: issued controlled copies, the template editor's draft preview, reference prints.

Issued copies stream: the static part of each layout page is drawn once into a form XObject; every copy's
page is that XObject plus its serial, "Copy n of N" and two QR codes (top right, bottom left), and each page
goes to the output as soon as it is finished (``StreamingCanvas``), so memory does not grow with the number of
copies.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO, cast

from reportlab.lib.units import mm

from app.forms.layout.layout import TemplateLayout
from app.forms.layout.payload import Payload
from app.forms.render.continuation import draw_continuation
from app.forms.render.fonts import MONO, SANS_BOLD, register_fonts
from app.forms.render.pdfstream import StreamingCanvas
from app.forms.render.qr import QUIET_MODULES, draw_path
from app.forms.render.qr_batch import encoded
from app.forms.render.render_base import INK, Geometry, GridCell, PageHead, Slots, geometry, slots, squeezed
from app.forms.render.render_layout import (
    PageSpace,
    check_fits,
    draw_foot_serial,
    draw_page_frame,
    draw_static_page,
    draw_watermark,
    measure_pages,
)

__all__ = [
    "CopyInfo", "IssueInfo", "PageSpace", "RenderCancelled", "check_fits", "local_text", "measure_pages",
    "render_extra_pages", "render_issued", "render_preview", "render_reference", "site_line",
]

MODULE_MAX = 0.8 * mm  # module size: as large as fits the 32 mm box, at most 0.8 mm (0.78 mm for the usual
# 33-module symbol, 0.71 mm for 37 modules; see bench/ and the report of the issue for the measurements)

Output = str | os.PathLike[str] | BinaryIO
# A numbered preview of controlled copies (render_issued(preview=True)): never filled in, never linked.
PREVIEW_STATUS = "PREVIEW – NOT CONTROLLED"  # what fits the status box; the watermark says it in full
# draw_watermark prints up to the first " – " large and the rest smaller below it (a longer large line runs
# under the top-right code).
PREVIEW_WATERMARK = "PREVIEW – NOT A CONTROLLED COPY – do not fill in, sign or hand out; print the released copies"
Progress = Callable[[int, int], None]


class RenderCancelled(Exception):
    """The caller's ``cancelled()`` said stop; the output is incomplete (a file given by path is removed)."""


@dataclasses.dataclass(frozen=True)
class IssueInfo:
    """One issuance, as printed on every page of its copies."""

    site_code: str
    site_name: str
    version: int
    effective_date: dt.date
    issued_to: str
    issued_by_name: str
    issued_by_username: str
    issued_at: dt.datetime  # aware; printed in local time with its UTC offset
    purpose: str
    reference: str | None
    due_date: dt.date | None
    issuance_id: int | str
    tz: dt.tzinfo | None = None  # the zone to print times in; None: this workstation's local zone

    def __post_init__(self) -> None:
        if self.issued_at.tzinfo is None:
            raise ValueError("issued_at must be timezone-aware")


@dataclasses.dataclass(frozen=True)
class CopyInfo:
    serial: str  # digits, e.g. "000123": what the QR code carries
    copy_no: int
    copy_count: int
    replaces: str | None = None  # a replacement copy prints the serial it replaces
    # The serials as printed (the site's serial format, e.g. "BSL-01-000123"); None: the digits themselves.
    label: str | None = None
    replaces_label: str | None = None

    def __post_init__(self) -> None:
        if not self.serial.isdigit():
            raise ValueError(f"serial {self.serial!r} must be digits")
        if not 1 <= self.copy_no <= self.copy_count:
            raise ValueError(f"copy {self.copy_no} of {self.copy_count} is out of range")
        if self.replaces is not None and (not self.replaces.isdigit() or self.replaces == self.serial):
            raise ValueError(f"replaced serial {self.replaces!r} must be digits and not the new serial")
        # A label must read back as its serial (the digits at its end), or the paper names another form.
        for label, serial in ((self.label, self.serial), (self.replaces_label, self.replaces)):
            if label is not None and (serial is None or not _ends_with_number(label, int(serial))):
                raise ValueError(f"label {label!r} does not end with the number of serial {serial!r}")

    @property
    def printed(self) -> str:
        return self.label or self.serial

    @property
    def replaces_printed(self) -> str | None:
        return self.replaces_label or self.replaces


def _ends_with_number(label: str, number: int) -> bool:
    digits = label[len(label.rstrip("0123456789")):]
    return bool(digits) and int(digits) == number


def local_text(moment: dt.datetime, tz: dt.tzinfo | None = None) -> str:
    """"2025-03-04 14:07 CET (UTC+01:00)": local time with zone and offset (as app.services.core.timefmt)."""
    local = moment.astimezone(tz)
    offset = local.strftime("%z")
    utc_offset = f"UTC{offset[:3]}:{offset[3:]}" if offset else "UTC"
    zone = local.tzname() or ""
    stamp = local.strftime("%Y-%m-%d %H:%M")
    if not zone or zone.startswith(("UTC", "+", "-")):
        return f"{stamp} ({utc_offset})"
    return f"{stamp} {zone} ({utc_offset})"


def site_line(code: str, name: str | None) -> str:
    """"Basel QC laboratory (BSL-01)" at the head of every page; just "BSL-01" when the site has no name or its
    name is its code (a site set up before the name was required), so no page prints "BSL-01 (BSL-01)"."""
    name = (name or "").strip()
    return f"{name} ({code})" if name and name != code else code


@contextlib.contextmanager
def _open(out: Output) -> Iterator[BinaryIO]:
    """A binary file for ``out``; a file opened here by path is removed again if rendering fails."""
    if hasattr(out, "write"):
        yield cast(BinaryIO, out)  # the member of Output that has write()
        return
    path = Path(out)
    handle = open(path, "wb")  # noqa: SIM115 (closed below, removed on failure)
    try:
        yield handle
    except BaseException:
        handle.close()
        path.unlink(missing_ok=True)
        raise
    handle.close()


def _canvas(handle: BinaryIO, layout: TemplateLayout, *, title: str, author: str,
            subject: str) -> StreamingCanvas:
    register_fonts()
    geom = geometry(layout.paper)
    canvas = StreamingCanvas(handle, pagesize=(geom.width, geom.height))
    canvas.setTitle(title)
    canvas.setAuthor(author)
    canvas.setSubject(subject)
    canvas.setCreator("Formtrail")
    return canvas


def _issue_head(layout: TemplateLayout, issue: IssueInfo) -> PageHead:
    grid = (
        (GridCell("Issued to", issue.issued_to, 1.0),
         GridCell("Issued by", f"{issue.issued_by_name} ({issue.issued_by_username})", 1.05),
         GridCell("Issued on", local_text(issue.issued_at, issue.tz), 1.05)),
        (GridCell("Purpose", issue.purpose, 1.25),
         GridCell("Reference", issue.reference or "NA", 0.9),
         GridCell("Return by", issue.due_date.isoformat() if issue.due_date else "NA", 0.5),
         GridCell("Issuance", str(issue.issuance_id), 0.45)),
    )
    return PageHead(
        site=site_line(issue.site_code, issue.site_name), version=f"Version {issue.version}",
        effective=f"Effective {issue.effective_date.isoformat()}", status="CONTROLLED COPY", grid=grid,
    )


def _module(size: int, box: float) -> float:
    return min(MODULE_MAX, box / (size + 2 * QUIET_MODULES))


def _draw_codes(canvas: StreamingCanvas, size: int, path: str, where: Slots) -> None:
    module = _module(size, where.qr_side)
    side = (size + 2 * QUIET_MODULES) * module
    inset = (where.qr_side - side) / 2
    # Top-right: flush with the slot's top-right corner; bottom-left: flush with its bottom-left corner, so
    # both keep at least 8 mm to the paper edges whatever the symbol size.
    draw_path(canvas, size, path, where.qr_top[0] + 2 * inset, where.qr_top[1] + 2 * inset, module)
    draw_path(canvas, size, path, where.qr_bottom[0], where.qr_bottom[1], module)


def _draw_copy_texts(canvas: StreamingCanvas, geom: Geometry, where: Slots, copy: CopyInfo) -> None:
    copy_text = f"Copy {copy.copy_no} of {copy.copy_count}"
    canvas.setFillColor(INK)
    draw_fitted(canvas, copy.printed, MONO, where.serial_size, right=where.serial_right, y=where.serial_y,
                width=where.serial_width, least=0.45, centred=True)
    canvas.setFont(SANS_BOLD, 8.5)
    canvas.drawRightString(where.copy_right, where.copy_y, copy_text)
    if copy.replaces:
        draw_fitted(canvas, f"REPLACES {copy.replaces_printed}", SANS_BOLD, 6.5, right=where.replaces_right,
                    y=where.replaces_y, width=where.replaces_width, least=0.8)
        copy_text += f" · replaces {copy.replaces_printed}"
    draw_foot_serial(canvas, geom, copy.printed, copy_text)


def draw_fitted(canvas: StreamingCanvas, text: str, font: str, size: float, *, right: float, y: float,
                width: float, least: float, centred: bool = False) -> None:
    """``text`` right-aligned at ``right`` on baseline ``y``, made to fit ``width`` (``render_base.squeezed``);
    ``centred``: a smaller text is raised to stay centred on the line the full size would take."""
    factor, narrow = squeezed(canvas.stringWidth(text, font, size), width, least=least)
    canvas.saveState()
    canvas.translate(right, y + (size * (1 - factor) * 0.36 if centred else 0))
    canvas.scale(narrow, 1)
    canvas.setFont(font, size * factor)
    canvas.drawRightString(0, 0, text)
    canvas.restoreState()


def render_issued(
    out: Output,
    layout: TemplateLayout,
    issue: IssueInfo,
    copies: Iterable[CopyInfo],
    *,
    key: bytes | None,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
    helper: bool | None = None,
    preview: bool = False,
) -> int:
    """Render the controlled copies of one issuance; returns the number of pages written.

    ``copies`` may be any iterable; it is read whole first, because every QR code is encoded ahead.
    ``progress(done, total)`` is called after each page, with total = pages × copies. ``cancelled()`` is checked
    before each copy; when it returns true, RenderCancelled is raised. ``helper`` forces (True) or forbids
    (False) encoding the QR codes in a helper process (see ``qr_batch``); None decides by the page count.

    With ``preview``, the same pages as a numbered preview before the release: the same head and serials,
    PREVIEW_WATERMARK across every page, PREVIEW_STATUS in place of CONTROLLED COPY, and codes without a tag
    (``Payload.preview_text``) that intake refuses by name; ``key`` is not used (None is fine).
    """
    head = _issue_head(layout, issue)
    if preview:
        head = dataclasses.replace(head, status=PREVIEW_STATUS, inverted_status=False)
    geom = geometry(layout.paper)
    where = slots(geom)
    done = 0
    with _open(out) as handle:
        canvas = _canvas(handle, layout, title=f"{layout.code} v{issue.version} {layout.title}",
                         author=f"{issue.issued_by_name} ({issue.issued_by_username})",
                         subject=(f"{PREVIEW_STATUS}: preview of " if preview else "")
                         + f"Controlled copies, issuance {issue.issuance_id}: {issue.purpose}")
        forms = []
        for page in range(1, layout.pages + 1):
            name = f"static-p{page}"
            canvas.beginForm(name)
            draw_static_page(canvas, layout, page, head)
            canvas.endForm()
            forms.append(name)
        copies = list(copies)
        total = len(copies) * layout.pages
        texts = [Payload(site=issue.site_code, serial=copy.serial, page=page, pages=layout.pages,
                         template=layout.code, version=issue.version).code_text(key, preview=preview)
                 for copy in copies for page in range(1, layout.pages + 1)]
        codes = encoded(texts, helper=helper)  # encoded ahead, in a helper process for big issuances
        try:
            for copy in copies:
                if cancelled is not None and cancelled():
                    raise RenderCancelled(f"cancelled after {done} pages")
                for form in forms:
                    canvas.doForm(form)
                    if preview:  # on the page, not in the form XObject: a viewer ignores the alpha there
                        draw_watermark(canvas, geom, PREVIEW_WATERMARK)
                    _draw_codes(canvas, *next(codes), where)
                    _draw_copy_texts(canvas, geom, where, copy)
                    canvas.showPage()
                    done += 1
                    if progress is not None:
                        progress(done, max(total, done))
        finally:
            codes.close()  # a cancelled or failed rendering stops the helper at once
        if done == 0:
            raise ValueError("no copies to render")
        canvas.finish()
    return done


def render_extra_pages(out: Output, layout: TemplateLayout, issue: IssueInfo, copy: CopyInfo, *, first_page: int,
                       last_page: int, note: str, key: bytes) -> int:
    """Extra pages ``first_page``..``last_page`` of one controlled copy (BF-02): each printed "Page x of
    ``last_page``" with the copy's serial and codes for that page number (tagged with ``key``), the issuance head,
    ``note`` (why, when and by whom they were added) and ruled rows to write on. Returns the number of pages."""
    if not 1 < first_page <= last_page:
        raise ValueError(f"extra pages {first_page}–{last_page} are out of range")
    head = dataclasses.replace(_issue_head(layout, issue), status="CONTROLLED COPY")
    geom = geometry(layout.paper)
    where = slots(geom)
    pages = range(first_page, last_page + 1)
    texts = [Payload(site=issue.site_code, serial=copy.serial, page=page, pages=last_page, template=layout.code,
                     version=issue.version).encode(key) for page in pages]
    with _open(out) as handle:
        canvas = _canvas(handle, layout, title=f"{layout.code} v{issue.version} {layout.title}: extra pages",
                         author=f"{issue.issued_by_name} ({issue.issued_by_username})",
                         subject=f"Extra pages {first_page}–{last_page} of controlled copy {copy.printed}")
        codes = encoded(texts, helper=False)
        try:
            for page in pages:
                y = draw_page_frame(canvas, layout, page, head, of=last_page)
                draw_continuation(canvas, geom, y, note=f"Page {page} of {last_page}. {note}")
                _draw_codes(canvas, *next(codes), where)
                _draw_copy_texts(canvas, geom, where, copy)
                canvas.showPage()
        finally:
            codes.close()
        canvas.finish()
    return len(pages)


def render_preview(out: Output, layout: TemplateLayout, *, site_code: str, version_label: str,
                   site_name: str | None = None) -> int:
    """The template editor's draft preview: placeholder serial, "DRAFT – NOT FOR GMP USE" across every page
    and a crossed-out box instead of each QR code. Returns the number of pages.

    A page whose content does not fit is drawn anyway (overflowing its footer) so the author sees it; use
    ``measure_pages``/``check_fits`` to warn. Issuing such a layout raises LayoutError.
    """
    placeholder = "(set at issuance)"
    head = PageHead(
        site=site_line(site_code, site_name), version=version_label,
        effective="not effective", status="DRAFT – NOT FOR GMP USE", inverted_status=False,
        grid=((GridCell("Issued to", placeholder), GridCell("Issued by", placeholder, 1.05),
               GridCell("Issued on", placeholder, 1.05)),
              (GridCell("Purpose", placeholder, 1.25), GridCell("Reference", placeholder, 0.9),
               GridCell("Return by", placeholder, 0.5), GridCell("Issuance", "—", 0.45))),
        serial="XXXXXX", copy="Copy n of N", placeholder_qr="NO CODE: DRAFT PREVIEW",
        watermark="DRAFT – NOT FOR GMP USE",
    )
    return _render_static(out, layout, head, title=f"{layout.code} {version_label} {layout.title} (DRAFT)",
                          author="Formtrail", subject="Draft preview, not for GMP use", check=False)


def render_reference(out: Output, layout: TemplateLayout, *, site_code: str, version: int, printed_by: str,
                     printed_at: dt.datetime, site_name: str | None = None,
                     effective_date: dt.date | None = None, valid_until: dt.date | None = None,
                     tz: dt.tzinfo | None = None) -> int:
    """A reference print: "UNCONTROLLED COPY – printed <time> by <user> – for reference only" across every
    page, no serial and no QR code (a crossed-out box). Returns the number of pages."""
    if printed_at.tzinfo is None:
        raise ValueError("printed_at must be timezone-aware")
    when = local_text(printed_at, tz)
    watermark = f"UNCONTROLLED COPY – printed {when} by {printed_by} – for reference only"
    if valid_until is not None:
        watermark += f" – valid to {valid_until.isoformat()}"
    head = PageHead(
        site=site_line(site_code, site_name), version=f"Version {version}",
        effective=f"Effective {effective_date.isoformat()}" if effective_date else "reference print",
        status="UNCONTROLLED COPY", inverted_status=False,
        grid=((GridCell("Printed by", printed_by), GridCell("Printed on", when, 1.05),
               GridCell("Valid to", valid_until.isoformat() if valid_until else "day of printing", 1.05)),
              (GridCell("Use", "For reference only: do not record GMP data on this print", 2.2),
               GridCell("Serial", "none", 0.45), GridCell("Issuance", "none", 0.45))),
        serial="NONE", copy="Reference only", placeholder_qr="NO CODE: UNCONTROLLED COPY",
        watermark=watermark,
    )
    return _render_static(out, layout, head, title=f"{layout.code} v{version} {layout.title} (UNCONTROLLED)",
                          author=printed_by, subject=watermark)


def _render_static(out: Output, layout: TemplateLayout, head: PageHead, *, title: str, author: str,
                   subject: str, check: bool = True) -> int:
    with _open(out) as handle:
        canvas = _canvas(handle, layout, title=title, author=author, subject=subject)
        for page in range(1, layout.pages + 1):
            draw_static_page(canvas, layout, page, head, check=check)
            canvas.showPage()
        canvas.finish()
    return layout.pages
