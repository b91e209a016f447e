"""Helpers for the templates, issue and register page tests: answering modal dialogs, PDF printers, PDF pages."""

from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium
from PySide6.QtCore import QTimer
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QApplication

from app.ui.kit.signature import SignatureDialog
from tests.helpers.seed import PASSWORD


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

