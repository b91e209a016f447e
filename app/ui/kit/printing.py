"""Printing stored PDFs on paper: the PDF's own pages, vector wherever the platform takes a PDF.

Controlled copies go to paper once: :func:`release_and_print` records the release through the service FIRST
(the PRINT audit event; a second release is refused) and only then prints the verified stored file. Pages,
records and reports reuse :func:`print_pdf` for anything else they print; :func:`choose_printer` is the Qt print
dialog, kept separate so tests (which cannot drive a native dialog) pass a QPrinter configured for a PDF file.

Three routes, chosen by :func:`print_route`, the most faithful one the platform allows:

* ``file`` — "Print to file" (a PDF printer): the released PDF is written as it is, byte for byte.
* ``cups`` — a printer on Linux or macOS: the PDF goes to CUPS with ``lp``, which takes PDF natively; 1:1, no
  scaling (the QR modules keep their designed size), one copy.
* ``raster`` — elsewhere (Windows): each whole page is rendered ONCE at the printer's resolution (at most
  ``MAX_DPI``) and drawn onto the page. Never in strips: strips left white seams across text at the joints.

Painting onto a QPrinter off the GUI thread is supported by Qt ("QPainter can be used in threads to paint onto
QImage, QPrinter and QPicture"), and QtPdf serialises its pdfium calls, so printing runs in a worker.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QRectF, QSize, QSizeF
from PySide6.QtGui import QImage, QPageLayout, QPageSize, QPainter
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPrintSupport import QAbstractPrintDialog, QPrintDialog, QPrinter
from PySide6.QtWidgets import QDialog, QWidget

from app.services.core.db import Actor, Database
from app.services.issuance import printing
from app.services.issuance.printing import PrintFailed, ReleasedPdf, send_to_cups
from app.textfmt import of_total

MAX_DPI = 600  # a 1200-dpi printer gets 600-dpi pages scaled 2×: crisp QR modules, a bounded memory use

Progress = Callable[[int, int], None]
_PAPER = {"A4": QPageSize.PageSizeId.A4, "Letter": QPageSize.PageSizeId.Letter}


def printer_name(printer: QPrinter) -> str:
    """What the audit trail records as the target: the printer's name, or the file of a PDF printer."""
    if printer.outputFormat() == QPrinter.OutputFormat.PdfFormat and printer.outputFileName():
        return f"PDF file {printer.outputFileName()}"
    return printer.printerName() or "default printer"


def prepare_printer(printer: QPrinter, paper: str | None = None) -> None:
    """Paper of the form ("A4" or "Letter"), portrait, whole sheet, one copy: printed at 1:1 the QR modules
    keep their designed size."""
    if paper:
        printer.setPageSize(QPageSize(_PAPER.get(paper, QPageSize.PageSizeId.A4)))
    printer.setPageOrientation(QPageLayout.Orientation.Portrait)
    printer.setFullPage(True)
    printer.setCopyCount(1)


def choose_printer(parent: QWidget | None, *, title: str, paper: str | None = None) -> QPrinter | None:
    """The Qt print dialog (all pages: no page range), or None when the user cancels."""
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    prepare_printer(printer, paper)
    dialog = QPrintDialog(printer, parent)
    dialog.setWindowTitle(title)
    dialog.setOption(QAbstractPrintDialog.PrintDialogOption.PrintPageRange, False)
    dialog.setOption(QAbstractPrintDialog.PrintDialogOption.PrintSelection, False)
    dialog.setOption(QAbstractPrintDialog.PrintDialogOption.PrintCurrentPage, False)
    accepted = dialog.exec() == QDialog.DialogCode.Accepted
    dialog.deleteLater()
    return printer if accepted else None


def print_route(printer: QPrinter) -> str:
    """``file``, ``cups`` or ``raster`` (see the module docstring)."""
    if printer.outputFormat() == QPrinter.OutputFormat.PdfFormat:
        return "file"
    if sys.platform != "win32" and shutil.which("lp") and printer.printerName():
        return "cups"
    return "raster"


def _page_count(path: Path) -> int:
    document = QPdfDocument()
    try:
        error = document.load(str(path))
        if error != QPdfDocument.Error.None_ or document.pageCount() == 0:
            raise PrintFailed(f"cannot read {path.name} for printing ({error.name})")
        return document.pageCount()
    finally:
        document.close()


def _to_file(path: Path, printer: QPrinter) -> None:
    """The PDF itself, written next to its target under a temporary name and renamed: a failure leaves no
    half-written file where the user expects the print."""
    target = Path(printer.outputFileName())
    temporary: Path | None = None
    try:
        with tempfile.NamedTemporaryFile(dir=target.parent, prefix=f".{target.name}.", delete=False) as out:
            temporary = Path(out.name)
            with path.open("rb") as source:
                shutil.copyfileobj(source, out, 1024 * 1024)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except OSError as exc:
        if temporary is not None:
            with contextlib.suppress(OSError):
                temporary.unlink()
        raise PrintFailed(f"cannot write the PDF file {target}: {exc.strerror or exc}") from exc


def _target(printer: QPrinter, page_points: QSizeF) -> QRectF:
    """Where a PDF page goes on the sheet, in device pixels: true size, centred (scaled down only if larger)."""
    paper = printer.paperRect(QPrinter.Unit.DevicePixel)
    dpi = printer.resolution()
    width, height = page_points.width() / 72 * dpi, page_points.height() / 72 * dpi
    scale = min(1.0, paper.width() / width, paper.height() / height)
    width, height = width * scale, height * scale
    return QRectF(paper.x() + (paper.width() - width) / 2, paper.y() + (paper.height() - height) / 2, width, height)


def _render_page(document: QPdfDocument, page: int, dpi: int) -> QImage:
    """One whole page at ``dpi``, once (greyscale or colour as the page is: pdfium renders RGB)."""
    points = document.pagePointSize(page)
    size = QSize(max(1, round(points.width() / 72 * dpi)), max(1, round(points.height() / 72 * dpi)))
    image = document.render(page, size)
    if image.isNull():
        raise PrintFailed(f"page {page + 1} of the PDF could not be rendered for printing")
    return image


def _to_raster(path: Path, printer: QPrinter, progress: Progress | None) -> int:
    document = QPdfDocument()
    error = document.load(str(path))
    if error != QPdfDocument.Error.None_ or document.pageCount() == 0:
        raise PrintFailed(f"cannot read {path.name} for printing ({error.name})")
    dpi = min(printer.resolution(), MAX_DPI)
    pages = document.pageCount()
    painter = QPainter()
    if not painter.begin(printer):
        document.close()
        raise PrintFailed(f"the printer {printer_name(printer)} did not accept the job; check that it is on line")
    try:
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        for page in range(pages):
            if page and not printer.newPage():
                raise PrintFailed(f"the printer {printer_name(printer)} stopped after {of_total(page, pages, 'page')}")
            painter.drawImage(_target(printer, document.pagePointSize(page)), _render_page(document, page, dpi))
            if progress is not None:
                progress(page + 1, pages)
    finally:
        painter.end()
        document.close()
    return pages


def print_pdf(path: Path, printer: QPrinter, *, progress: Progress | None = None, route: str | None = None) -> int:
    """Print every page of the PDF at ``path`` once, by the most faithful route (``route`` forces one; tests
    use it). Returns the number of pages printed; raises PrintFailed."""
    printer.setCopyCount(1)
    printer.setFullPage(True)
    route = route or print_route(printer)
    if route == "raster":
        return _to_raster(path, printer, progress)
    pages = _page_count(path)
    if route == "file":
        _to_file(path, printer)
    else:
        send_to_cups(path, printer_name=printer.printerName(), paper=printer.pageLayout().pageSize().key(),
                     title=printer.docName() or path.name)
    if progress is not None:
        progress(pages, pages)
    return pages


def check_printer(printer: QPrinter) -> None:
    """Refuse (PrintFailed) a printer that cannot take the job, BEFORE the one release is used up: no printer
    installed, or a PDF file that cannot be written (the print dialog's default is a folder name)."""
    if printer.outputFormat() == QPrinter.OutputFormat.PdfFormat:
        name = printer.outputFileName()
        target = Path(name) if name else None
        if target is None or target.is_dir() or not target.parent.is_dir() or not os.access(target.parent, os.W_OK):
            raise PrintFailed(f"cannot write the PDF file {name or '(none chosen)'}: choose a file name in a folder "
                              "you can write to")
    elif not printer.isValid():
        raise PrintFailed(f"the printer {printer_name(printer)} is not available; choose another printer")


def release_and_print(db: Database, actor: Actor, pdf_id: int, printer: QPrinter) -> ReleasedPdf:
    """Check the printer, then record the one release of a controlled PDF to it (refused if it was released
    before), on the calling thread; the caller then prints ``result.path`` with :func:`print_pdf` (in a worker)."""
    check_printer(printer)
    return printing.release_to_printer(db, actor, pdf_id, printer=printer_name(printer),
                                       copies=printer.copyCount())
