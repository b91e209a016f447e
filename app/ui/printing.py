"""Printing stored PDFs on paper: QtPdf renders each page onto a QPrinter, at the printer's resolution.

Controlled copies go to paper once: :func:`release_and_print` records the release through the service FIRST
(the PRINT audit event; a second release is refused) and only then prints the verified stored file. Pages,
records and reports reuse :func:`print_pdf` for anything else they print; :func:`choose_printer` is the Qt print
dialog, kept separate so tests (which cannot drive a native dialog) pass a QPrinter configured for a PDF file.

Painting onto a QPrinter off the GUI thread is supported by Qt ("QPainter can be used in threads to paint onto
QImage, QPrinter and QPicture"), and QtPdf serialises its pdfium calls, so printing runs in a worker.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QRect, QRectF, QSize, QSizeF
from PySide6.QtGui import QPageLayout, QPageSize, QPainter
from PySide6.QtPdf import QPdfDocument, QPdfDocumentRenderOptions
from PySide6.QtPrintSupport import QAbstractPrintDialog, QPrintDialog, QPrinter
from PySide6.QtWidgets import QDialog, QWidget

from app.services import printing
from app.services.db import Actor, Database
from app.services.errors import FormtrailError
from app.services.printing import ReleasedPdf

MAX_DPI = 600  # a 1200-dpi printer gets 600-dpi pages scaled 2×: crisp QR modules, a bounded memory use
BAND_BYTES = 24 * 1024 * 1024  # a page is rendered in horizontal bands of at most this many bytes

Progress = Callable[[int, int], None]
_PAPER = {"A4": QPageSize.PageSizeId.A4, "Letter": QPageSize.PageSizeId.Letter}


class PrintFailed(FormtrailError):
    """The printer refused the job or the PDF could not be read (the message says which)."""


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


def _target(printer: QPrinter, page_points: QSizeF) -> QRectF:
    """Where a PDF page goes on the sheet, in device pixels: true size, centred (scaled down only if larger)."""
    paper = printer.paperRect(QPrinter.Unit.DevicePixel)
    dpi = printer.resolution()
    width, height = page_points.width() / 72 * dpi, page_points.height() / 72 * dpi
    scale = min(1.0, paper.width() / width, paper.height() / height)
    width, height = width * scale, height * scale
    return QRectF(paper.x() + (paper.width() - width) / 2, paper.y() + (paper.height() - height) / 2, width, height)


def _draw_page(painter: QPainter, document: QPdfDocument, page: int, target: QRectF, dpi: int) -> None:
    points = document.pagePointSize(page)
    full = QSize(max(1, round(points.width() / 72 * dpi)), max(1, round(points.height() / 72 * dpi)))
    band = max(1, min(full.height(), BAND_BYTES // (4 * full.width())))
    scale_x, scale_y = target.width() / full.width(), target.height() / full.height()
    for top in range(0, full.height(), band):
        rows = min(band, full.height() - top)
        options = QPdfDocumentRenderOptions()
        options.setScaledSize(full)
        options.setScaledClipRect(QRect(0, top, full.width(), rows))
        image = document.render(page, QSize(full.width(), rows), options)
        if image.isNull():
            raise PrintFailed(f"page {page + 1} of the PDF could not be rendered for printing")
        painter.drawImage(QRectF(target.x(), target.y() + top * scale_y, full.width() * scale_x, rows * scale_y),
                          image)


def print_pdf(path: Path, printer: QPrinter, *, progress: Progress | None = None) -> int:
    """Print every page of the PDF at ``path`` once, at the printer's resolution (at most ``MAX_DPI``, scaled
    up from there). Returns the number of pages printed; raises PrintFailed."""
    document = QPdfDocument()
    error = document.load(str(path))
    if error != QPdfDocument.Error.None_ or document.pageCount() == 0:
        raise PrintFailed(f"cannot read {path.name} for printing ({error.name})")
    printer.setCopyCount(1)
    printer.setFullPage(True)
    dpi = min(printer.resolution(), MAX_DPI)
    pages = document.pageCount()
    painter = QPainter()
    if not painter.begin(printer):
        document.close()
        raise PrintFailed(f"the printer {printer_name(printer)} did not accept the job; check that it is on line")
    try:
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        for page in range(pages):
            if page and not printer.newPage():
                raise PrintFailed(f"the printer {printer_name(printer)} stopped after {page} of {pages} pages")
            _draw_page(painter, document, page, _target(printer, document.pagePointSize(page)), dpi)
            if progress is not None:
                progress(page + 1, pages)
    finally:
        painter.end()
        document.close()
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
