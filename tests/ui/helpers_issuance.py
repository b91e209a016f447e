"""Helpers for the templates, issue and register page tests: answering modal dialogs, PDF printers, PDF pages."""

from __future__ import annotations

import ctypes
import sys
from pathlib import Path

import pypdfium2 as pdfium
from PySide6.QtCore import QTimer
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QApplication

from app.ui.signature import SignatureDialog
from tests.helpers.seed import PASSWORD

# WORKAROUND: PySide6 6.12.0 on Python 3.11 also steals a reference to None on every Python call of a
# C++ function returning void (setText, setEnabled, processEvents, QTest.qWait…), like emit() does with
# True (app/ui/qtfix.py). About 60,000 such calls in one process abort it with "Fatal Python error:
# none_dealloc". Until app/ui/qtfix.py pins None as it pins True (asked for in the report of this work), the
# test session pins it here, so a long UI test run does not die halfway.
if sys.version_info < (3, 12) and sys.implementation.name == "cpython":
    _refcount = ctypes.c_ssize_t.from_address(id(None))
    if _refcount.value < 1 << 40:
        _refcount.value += 1 << 40


def answer_signature(password: str = PASSWORD, *, username: str | None = None,
                     seen: list[str] | None = None) -> None:
    """When the next signature dialog opens (modally), type the credentials and sign. ``seen`` collects the
    summary it showed."""
    def answer() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, SignatureDialog):
            QTimer.singleShot(10, answer)
            return
        if seen is not None:
            seen.append(dialog.summary.toPlainText())
        if username is not None:
            dialog.username.setText(username)
        dialog.password.setText(password)
        dialog.sign_button.click()
    QTimer.singleShot(0, answer)


def pdf_printer(path: Path, *, dpi: int = 60) -> QPrinter:
    """A printer writing to a PDF file, at a low resolution to keep the tests fast."""
    printer = QPrinter(QPrinter.PrinterMode.ScreenResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(path))
    printer.setResolution(dpi)
    return printer


def pdf_pages(path: Path) -> int:
    document = pdfium.PdfDocument(str(path))
    try:
        return len(document)
    finally:
        document.close()


def pdf_text(path: Path, page: int = 0) -> str:
    document = pdfium.PdfDocument(str(path))
    try:
        text_page = document[page].get_textpage()
        return text_page.get_text_range()
    finally:
        document.close()

