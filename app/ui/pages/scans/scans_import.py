"""The Import tab of the Scans page: files, folders and dropped files in, one result line per page."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.services.scans import intake
from app.services.scans.intake import ImportReport
from app.textfmt import noun, plural
from app.ui.kit import file_dialogs
from app.ui.kit.data_events import Topic
from app.ui.kit.image_viewer import ImageViewer, ViewerPage, scan_page_loader
from app.ui.kit.operations import run_op
from app.ui.kit.style import set_role
from app.ui.kit.widgets import hint, setup_table
from app.ui.kit.workers import Task
from app.ui.pages.registry import PageContext
from app.ui.pages.scans.scans_hot_folder import HotFolderPanel
from app.ui.pages.scans.scans_models import ImportResultModel, outcome_title

FILE_FILTER = "Scans (*.pdf *.tif *.tiff *.png *.jpg *.jpeg);;All files (*)"


def summary_text(report: ImportReport) -> str:
    """One paragraph saying what an import did, in words."""
    pages = [o for o in report.outcomes if o.page is not None]
    files = {o.source for o in report.outcomes if o.outcome not in ("skipped", "followed-symlink")}
    parts = [f"{plural(len(pages), 'page')} from {plural(len(files), 'file')}: "
             f"{report.linked} linked, {report.exceptions} in the exceptions queue"]
    duplicates = sum(1 for o in report.outcomes if o.outcome == "duplicate-source")
    if duplicates:
        parts.append(f"{plural(duplicates, 'file')} {noun(duplicates, 'was', 'were')} already imported and not "
                     "stored again")
    if report.failed_files:
        parts.append(f"{plural(report.failed_files, 'file')} could not be read (kept as received)")
    if report.skipped:
        parts.append(f"{plural(report.skipped, 'entry')} {noun(report.skipped, 'was', 'were')} skipped (folders, "
                     "links and files that are not scans; see each line)")
    if report.unfinished:
        parts.append(f"{plural(report.unfinished, 'file')} {noun(report.unfinished, 'is', 'are')} not finished "
                     "(being imported elsewhere right now, or not stored); import again to finish")
    counts: dict[str, int] = {}
    for line in pages:
        if not line.linked:
            counts[line.outcome] = counts.get(line.outcome, 0) + 1
    if counts:
        parts.append("exceptions: " + ", ".join(f"{n} × {outcome_title(code)}" for code, n in counts.items()))
    text = "; ".join(parts) + "."
    if report.cancelled:
        text = ("Import stopped before the end. " + text + " The files are stored; import them again to read "
                "the pages that were not read yet.")
    return text


class ImportPanel(QWidget):
    """Buttons, the results of the last import, a viewer for the selected result, and the hot folder.

    ``imported`` is emitted with every :class:`ImportReport` (also the hot folder's), so the page can refresh
    its exceptions queue."""

    imported = Signal(object)

    def __init__(self, ctx: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.task: Task | None = None
        self.last_report: ImportReport | None = None
        layout = QVBoxLayout(self)
        layout.addWidget(hint(
            "Import returned sheets as scanned PDF, TIFF, PNG or JPEG files: drop files or folders anywhere on this "
            "page, or use the buttons. Each page is linked to its issued form by its QR code; a page that cannot be "
            "linked goes to the Exceptions tab with the reason. Files are stored exactly as received; the same file "
            "imported twice is recognised."))
        bar = QHBoxLayout()
        self.files_button = QPushButton("Import files…")
        self.files_button.setToolTip("Choose one or more scan files")
        self.files_button.clicked.connect(self.choose_files)
        self.folder_button = QPushButton("Import folder…")
        self.folder_button.setToolTip("Import every scan file directly inside a folder")
        self.folder_button.clicked.connect(self.choose_folder)
        bar.addWidget(self.files_button)
        bar.addWidget(self.folder_button)
        bar.addWidget(hint("…or drag files here."))
        bar.addStretch(1)
        layout.addLayout(bar)
        self.summary = QLabel("Nothing imported in this session yet.")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.summary)

        self.model = ImportResultModel(parent=self)
        self.table = setup_table(QTableView())
        self.table.setModel(self.model)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.resizeSection(2, 250)
        self.table.selectionModel().selectionChanged.connect(self._show_selected)
        self.viewer = ImageViewer(scan_page_loader(ctx.db, ctx.actor), self)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.table)
        splitter.addWidget(self.viewer)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([3000, 2000])
        layout.addWidget(splitter, 1)

        self.hot_folder = HotFolderPanel(ctx, self)
        self.hot_folder.imported.connect(self.imported)
        layout.addWidget(self.hot_folder)

    @property
    def busy(self) -> bool:
        return self.task is not None

    # -- choosing -----------------------------------------------------------------------------------------
    def choose_files(self) -> None:
        paths = file_dialogs.ask_open_files(self, "Import scanned files", purpose="scans", filters=FILE_FILTER)
        if paths:
            self.import_paths(paths, origin="file")

    def choose_folder(self) -> None:
        folder = file_dialogs.ask_folder(self, "Import every scan file of a folder", purpose="scans")
        if folder is not None:
            self.import_paths([folder], origin="folder")

    # -- importing ----------------------------------------------------------------------------------------
    def import_paths(self, paths: Sequence[Path], *, origin: str) -> Task | None:
        """Import in the background with a progress window and Cancel; returns the task (None if refused)."""
        if self.task is not None:
            self._ctx.show_error(self, RuntimeError("an import is still running"))
            return None
        ctx, files = self._ctx, list(paths)

        def job(progress, cancelled):  # noqa: ANN001, ANN202 - worker signature
            return intake.import_files(ctx.db, ctx.actor, files, origin=origin, progress=progress,
                                       cancelled=cancelled)

        what = files[0].name if len(files) == 1 else f"{len(files)} items"
        self.task = run_op(self, job, title="Importing scans", label=f"Storing and reading {what}…",
        changes={Topic.SCANS, Topic.ISSUANCE},
                           cancellable=True, on_done=self._done, on_cancelled=self._stopped,
                           on_failed=self._failed)
        self._set_busy(True)
        self.summary.setText(f"Importing {what}…")
        set_role(self.summary, "")
        return self.task

    def _set_busy(self, busy: bool) -> None:
        self.files_button.setEnabled(not busy)
        self.folder_button.setEnabled(not busy)

    def _done(self, report: ImportReport) -> None:
        self.task = None
        self._set_busy(False)
        self.show_report(report)
        self.imported.emit(report)

    def _stopped(self) -> None:
        task, self.task = self.task, None
        self._set_busy(False)
        report = task.result if task is not None else None
        if isinstance(report, ImportReport):
            self.show_report(ImportReport(outcomes=report.outcomes, cancelled=True))
            self.imported.emit(report)
        else:
            self.summary.setText("Import stopped. Files already stored are kept; import them again to finish.")

    def _failed(self, exc: BaseException) -> None:
        self.task = None
        self._set_busy(False)
        self.summary.setText("Nothing was imported.")
        self._ctx.show_error(self, exc, title="Import scans")

    def show_report(self, report: ImportReport) -> None:
        self.last_report = report
        self.model.set_rows(report.outcomes)
        self.summary.setText(summary_text(report))
        set_role(self.summary, "ok" if report.exceptions == 0 and not report.failed_files and not report.cancelled
                 and not report.unfinished else "emphasis")
        first = next((i for i, o in enumerate(report.outcomes) if o.scan_page_id), None)
        if first is not None:
            self.table.selectRow(first)

    def _show_selected(self, *_selection: object) -> None:
        pages = [ViewerPage(o.scan_page_id, f"{Path(o.source).name} p.{o.page} — {outcome_title(o.outcome)}")
                 for o in self.model.rows if o.scan_page_id]
        selected = self.table.selectionModel().selectedRows()
        if not selected or not pages:
            self.viewer.set_pages([])
            return
        chosen = self.model.row_at(selected[0].row()).scan_page_id
        index = next((i for i, p in enumerate(pages) if p.key == chosen), None)
        if index is None:
            self.viewer.clear("This line is a whole file that could not be used: there is no page to show.")
        else:
            self.viewer.set_pages(pages, index)
