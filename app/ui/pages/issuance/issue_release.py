"""The one release of a controlled PDF: print it (Qt print dialog, then QtPdf onto the printer) or save it.

Used after issuing, after a replacement, and from the register for a PDF not released yet. The release is
recorded by the service before anything reaches the printer; afterwards the buttons are off for good.
Before it, Preview… shows the same numbered pages watermarked PREVIEW, with codes that are never linked.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPdfWidgets import QPdfView
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.services.core.error_codes import ErrorCode
from app.services.core.errors import FormtrailError
from app.services.identity.permissions import Permission
from app.services.issuance import printing as print_service
from app.ui.kit import file_dialogs, messages, printing, workers
from app.ui.kit.dialogs import open_dialog
from app.ui.kit.operations import run_op
from app.ui.kit.style import set_role
from app.ui.kit.widgets import hint
from app.ui.kit.workers import Task
from app.ui.pages.registry import PageContext


@dataclasses.dataclass(frozen=True)
class PdfToRelease:
    """What the panel releases: the stored PDF, its serial range and pages, the paper it was made for."""

    pdf_id: int
    serials: str  # "000001–000005", as stored
    pages: int
    paper: str = "A4"
    file_name: str = "controlled-copies.pdf"  # suggested when saving
    printed: str = ""  # the same run as printed beside the codes ("BSL-01-000001 – BSL-01-000005"); "": as stored


def _serials(pdf: PdfToRelease | None, *, capital: bool = False) -> str:
    """"serials BSL-01-000001 – BSL-01-000005": what a person reads on the sheets (the stored run says how many;
    a replacement's single serial is passed without a run)."""
    first, _, last = pdf.serials.partition("–") if pdf is not None else ("", "", "")
    word = "the copies" if pdf is None else "serial" if last in ("", first) else "serials"
    named = word if pdf is None else f"{word} {pdf.printed or pdf.serials}"
    return named[:1].upper() + named[1:] if capital else named


def _pages(count: int) -> str:
    return f"{count} page{'s' if count != 1 else ''}"


class PreviewDialog(QDialog):
    """The numbered preview on screen (QtPdf), from a temporary file that is removed when the dialog closes."""

    def __init__(self, path: Path, *, serials: str, pages: int, parent: QWidget | None = None) -> None:
        """``serials``: the copies named as printed ("serials BSL-01-000001 – BSL-01-000002")."""
        super().__init__(parent)
        self.path = path
        self.setWindowTitle(f"Preview — {serials} (not a controlled copy)")
        self.resize(900, 1000)
        column = QVBoxLayout(self)
        self.caption = hint(
            f"Numbered preview of {serials}, {_pages(pages)}: the same layout, serials and issuance "
            "details as the copies, marked PREVIEW — NOT A CONTROLLED COPY; its codes are never linked. Close it, "
            "then print or save the controlled copies once.")
        column.addWidget(self.caption)
        self.document = QPdfDocument(self)
        self.document.load(str(path))
        self.view = QPdfView(self)
        self.view.setDocument(self.document)
        self.view.setPageMode(QPdfView.PageMode.MultiPage)
        self.view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        column.addWidget(self.view, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        column.addWidget(buttons)
        self.finished.connect(self._discard)  # a bound method: no closure holding the dialog (see kit/dialogs)

    def _discard(self, _result: int = 0) -> None:
        self.document.close()  # let go of the file first (Windows keeps an open file)
        self.path.unlink(missing_ok=True)


def _temporary_pdf(stem: str) -> Path:
    fd, name = tempfile.mkstemp(prefix=f"formtrail-preview-{stem}-", suffix=".pdf")
    os.close(fd)
    return Path(name)


class ReleasePanel(QWidget):
    """Preview…, Print… and Save PDF… for one controlled PDF; Print and Save usable once in total, Preview as
    often as wanted before that. ``released(target)`` follows a successful release; ``printed(pages)`` follows
    the end of a print job; ``previewed(path)`` the opening of a preview."""

    released = Signal(str)
    printed = Signal(int)
    previewed = Signal(object)

    def __init__(self, ctx: PageContext, parent: QWidget | None = None, *,
                 release_permissions: tuple[Permission, ...] = (Permission.ISSUE_FORMS,)) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.pdf: PdfToRelease | None = None
        self.task: Task | None = None  # the print job running now
        self.preview_task: Task | None = None  # the preview being rendered
        self.preview: PreviewDialog | None = None  # the preview on screen
        self.done = False
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.preview_button = QPushButton("Pre&view…")
        self.preview_button.setToolTip("See the numbered copies before printing them: the same pages, marked "
                                       "PREVIEW — NOT A CONTROLLED COPY, with codes that are never linked. "
                                       "Not a release.")
        self.preview_button.clicked.connect(lambda: self.show_preview())
        row.addWidget(self.preview_button)
        self.print_button = QPushButton("&Print…")
        self.print_button.setToolTip("Choose a printer; the copies are printed once, 1 copy of each page.")
        self.save_button = QPushButton("Save P&DF…")
        self.save_button.setToolTip("Save the PDF to print it elsewhere. This is its one release: it cannot be "
                                    "printed from Formtrail afterwards.")
        self.print_button.clicked.connect(lambda: self.print_pdf())
        self.save_button.clicked.connect(lambda: self.save_pdf())
        row.addWidget(self.print_button)
        row.addWidget(self.save_button)
        row.addStretch(1)
        column.addLayout(row)
        self.state = QLabel()
        self.state.setWordWrap(True)
        column.addWidget(self.state)
        # who may release: the service's rule (app.services.issuance.printing), mirrored to offer only what works
        self.can_release = any(ctx.allowed(p) for p in release_permissions)
        self.set_pdf(None)

    def set_pdf(self, pdf: PdfToRelease | None, *, released: bool = False) -> None:
        self.pdf, self.done = pdf, released
        if pdf is None:
            self.state.clear()
        elif released:
            self._show_state(f"{_serials(pdf, capital=True)} already printed or saved: controlled copies "
                             "are never printed twice.", "hint")
        elif not self.can_release:
            self._show_state(f"Not printed yet. Document Control prints {_serials(pdf)} from the Register "
                             "(select the serial, then Print…).", "emphasis")
        else:
            self._show_state(f"Not printed yet. Print {_serials(pdf)} ({_pages(pdf.pages)}) or save the PDF — "
                             "once only. Preview… shows the numbered pages first without using up the release.",
                             "emphasis")
        self._update_buttons()

    def _show_state(self, text: str, role: str) -> None:
        self.state.setText(text)
        set_role(self.state, role)

    def _update_buttons(self) -> None:
        usable = self.pdf is not None and not self.done and self.can_release and self.task is None
        self.print_button.setEnabled(usable)
        self.save_button.setEnabled(usable)
        self.preview_button.setEnabled(usable and self.preview_task is None)
        for button in (self.print_button, self.save_button, self.preview_button):
            button.setVisible(self.can_release and self.pdf is not None)

    def show_preview(self) -> Task | None:
        """Render the numbered preview in the background (audited as a preview, not a release), then show it."""
        pdf = self.pdf
        if pdf is None or self.done or self.preview_task is not None:
            return None
        path = _temporary_pdf(pdf.serials.split("–")[0])
        db, actor, pdf_id = self._ctx.db, self._ctx.actor, pdf.pdf_id

        def job(progress: workers.Progress, cancelled: workers.IsCancelled) -> print_service.PreviewedPdf:
            try:
                return print_service.preview_pdf(db, actor, pdf_id, out=path, progress=progress,
                                                 cancelled=cancelled)
            except FormtrailError as exc:
                if exc.code == ErrorCode.PREVIEW_CANCELLED:
                    raise workers.Cancelled() from exc
                raise

        def ended() -> None:
            self.preview_task = None
            self._update_buttons()

        def failed(exc: BaseException) -> None:
            path.unlink(missing_ok=True)
            self._ctx.show_error(self, exc, title="No preview")
        self.preview_task = run_op(
            self, job, title="Numbered preview", label=f"Drawing the preview of {_serials(pdf)}…",
            cancellable=True, on_done=lambda done: self._open_preview(path, pdf, done), on_failed=failed,
            on_cancelled=lambda: path.unlink(missing_ok=True))
        self.preview_task.ended.connect(ended)
        self._update_buttons()
        return self.preview_task

    def _open_preview(self, path: Path, pdf: PdfToRelease, done: print_service.PreviewedPdf) -> None:
        named = _serials(dataclasses.replace(pdf, printed=done.printed))  # as the preview printed them
        dialog = PreviewDialog(path, serials=named, pages=done.pages, parent=self)
        self.preview = dialog

        def closed(_dialog: QDialog, _result: int) -> None:
            self.preview = None
        open_dialog(dialog, closed)
        self.previewed.emit(path)

    def print_pdf(self, printer: QPrinter | None = None) -> bool:
        """Release to ``printer`` (the print dialog asks for one when None) and print in the background.
        Returns whether the release was recorded."""
        pdf = self.pdf
        if pdf is None or self.done:
            return False
        if printer is None:
            printer = printing.choose_printer(self, title=f"Print controlled copies: {_serials(pdf)}",
                                              paper=pdf.paper)
            if printer is None:
                return False
        try:
            released = printing.release_and_print(self._ctx.db, self._ctx.actor, pdf.pdf_id, printer)
        except FormtrailError as exc:
            self._ctx.show_error(self, exc, title="Not printed")
            return False
        target = printing.printer_name(printer)
        self._mark_released(f"Printing {_serials(pdf)} on {target}…", target)
        path = released.path
        self.task = run_op(self, lambda progress, cancelled: printing.print_pdf(path, printer, progress=progress),
                           title="Printing controlled copies",
                           label=f"Sending {_pages(released.pages)} to {target}…", serial=False,
                           on_done=lambda pages: self._printed(pages, target), on_failed=self._print_failed)
        self._update_buttons()
        return True

    def _printed(self, pages: int, target: str) -> None:
        self.task = None
        self._show_state(f"✔ Printed {_serials(self.pdf)} ({_pages(pages)}) on {target}. Controlled copies are "
                         "never printed twice: if a sheet is spoiled or lost, QA replaces it with a new serial.", "ok")
        self._update_buttons()
        self.printed.emit(pages)

    def _print_failed(self, exc: BaseException) -> None:
        self.task = None
        self._show_state(f"✘ Printing failed after the release was recorded: {exc}", "error")
        self._update_buttons()
        messages.error(self, f"The release of {_serials(self.pdf)} was recorded, but printing failed:\n"
                             f"{messages.describe(exc)}\n\nThese copies cannot be printed again. Void the copies "
                             "that did not come out of the printer (Reconcile) and ask QA to replace them with new "
                             "serials.", title="Printing failed")

    def save_pdf(self, path: Path | None = None) -> Path | None:
        """Release by saving the PDF to ``path`` (a file dialog asks when None)."""
        pdf = self.pdf
        if pdf is None or self.done:
            return None
        if path is None:
            path = file_dialogs.ask_save_as(self, f"Save controlled copies: {_serials(pdf)}",
                                            purpose="controlled-pdfs", name=pdf.file_name, filters="PDF (*.pdf)",
                                            suffixes=(".pdf",))
            if path is None:
                return None
        try:
            saved = print_service.save_to_file(self._ctx.db, self._ctx.actor, pdf.pdf_id, out=path)
        except FormtrailError as exc:
            self._ctx.show_error(self, exc, title="Not saved")
            return None
        self._mark_released(f"✔ Saved {_serials(pdf)} ({_pages(saved.pages)}) to {saved.path}. Print "
                            "that file once; it is the only release of these copies.", f"file {saved.path}", role="ok")
        return saved.path

    def _mark_released(self, text: str, target: str, *, role: str = "emphasis") -> None:
        self.done = True
        self._show_state(text, role)
        self._update_buttons()
        self.released.emit(target)
