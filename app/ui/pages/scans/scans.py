"""Scans page: import returned sheets (files, folders, drag-and-drop, hot folder), work the exceptions queue,
review what the scans show wrong on paper, verify true copies. The tabs live in scans_import.py,
scans_exceptions.py, scans_findings.py and scans_true_copy.py."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from app.services.identity.permissions import Permission
from app.ui.pages.registry import PageContext, page
from app.ui.pages.scans.scans_exceptions import ExceptionsPanel
from app.ui.pages.scans.scans_findings import FindingsPanel
from app.ui.pages.scans.scans_import import ImportPanel
from app.ui.pages.scans.scans_true_copy import TrueCopyPanel


def dropped_paths(event: QDropEvent | QDragEnterEvent | QDragMoveEvent) -> list[Path]:
    """The local files and folders being dragged (URLs that are not local files are ignored)."""
    mime = event.mimeData()
    if mime is None or not mime.hasUrls():
        return []
    return [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]


class ScansPage(QWidget):
    """Tabs: Import (DC and operators), Exceptions, Paper findings (everyone who sees the page; QA resolves),
    True copies.

    ``show_filter("exceptions" | "paper-findings" | "true-copy" | "true-copy-for-me" | "import")`` brings a tab
    to the front (the home dashboard uses it)."""

    def __init__(self, ctx: PageContext) -> None:
        super().__init__()
        self._ctx = ctx
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.tabs = QTabWidget()
        layout.addWidget(self.tabs)

        self.importer: ImportPanel | None = None
        if ctx.allowed(Permission.IMPORT_SCANS):
            self.importer = ImportPanel(ctx, self)
            self.importer.imported.connect(self._imported)
            self.tabs.addTab(self.importer, "Import")
            self.setAcceptDrops(True)
        self.exceptions = ExceptionsPanel(ctx, self)
        self.exceptions.changed.connect(self._resolved)
        self.exceptions.model.modelReset.connect(self._update_titles)  # the list arrives in the background
        self.tabs.addTab(self.exceptions, "Exceptions")
        self.findings = FindingsPanel(ctx, self)
        self.findings.model.modelReset.connect(self._update_titles)
        self.findings.changed.connect(self._update_titles)
        self.tabs.addTab(self.findings, "Paper findings")
        self.true_copies = TrueCopyPanel(ctx, self)
        self.tabs.addTab(self.true_copies, "True copies")
        self.exceptions.reload()
        self.findings.reload()
        self.true_copies.reload()
        self._update_titles()

    # -- tabs ----------------------------------------------------------------------------------------------
    def page_shown(self) -> None:
        self.exceptions.reload()
        self.findings.reload()
        self.true_copies.reload()
        self._update_titles()

    def show_filter(self, name: str) -> None:
        if name == "exceptions":
            self.tabs.setCurrentWidget(self.exceptions)
        elif name == "paper-findings":  # Home's count: the open findings, which QA resolves
            self.tabs.setCurrentWidget(self.findings)
            self.findings.show_only("open")
        elif name in ("true-copy", "true-copies"):
            self.tabs.setCurrentWidget(self.true_copies)
            self.true_copies.show_only("to-verify")
        elif name == "true-copy-for-me":  # Home's count: exactly the forms this user may verify
            self.tabs.setCurrentWidget(self.true_copies)
            self.true_copies.show_only("for-me")
        elif name == "import" and self.importer is not None:
            self.tabs.setCurrentWidget(self.importer)

    def _update_titles(self) -> None:
        count = self.exceptions.model.rowCount()
        self.tabs.setTabText(self.tabs.indexOf(self.exceptions), f"Exceptions ({count})" if count else "Exceptions")
        still_open = self.findings.open_count
        self.tabs.setTabText(self.tabs.indexOf(self.findings),
                             f"Paper findings ({still_open})" if still_open else "Paper findings")

    def _imported(self, _report: object) -> None:
        self.exceptions.reload()
        self.findings.reload()
        self.true_copies.reload()
        self._update_titles()

    def _resolved(self) -> None:
        self.true_copies.reload()
        self._update_titles()

    # -- drag and drop -------------------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        if self.importer is not None and not self.importer.busy and dropped_paths(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:  # noqa: N802 - Qt override
        self.dragEnterEvent(event)  # type: ignore[arg-type]

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        paths = dropped_paths(event)
        if self.importer is None or self.importer.busy or not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        self.tabs.setCurrentWidget(self.importer)
        self.importer.import_paths(paths, origin="drop")


@page("scans")
def scans_page(ctx: PageContext) -> QWidget:
    return ScansPage(ctx)
