"""Records page: pick a returned form, transcribe it beside its scan (save-on-entry), correct with reasons,
verify as a second person, review with the audit trail and sign, export; QA's integrity report.

The page is a stack of two views: the list of forms to work on, and the workspace of one record (the scan on
the left, values or review on the right). Pieces live in record_*.py / records_*.py beside this module.
"""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QPushButton, QStackedWidget, QVBoxLayout, QWidget

from app.services.identity.permissions import Permission
from app.ui.kit.dialogs import open_dialog
from app.ui.pages.records.record_workspace import RecordWorkspace
from app.ui.pages.records.records_list import RecordsList
from app.ui.pages.records.records_report import IntegrityReportDialog
from app.ui.pages.registry import PageContext, page


class RecordsPage(QWidget):
    def __init__(self, ctx: PageContext) -> None:
        super().__init__()
        self._ctx = ctx
        self.dialog: QDialog | None = None  # the integrity report dialog, while open
        layout = QVBoxLayout(self)
        self.stack = QStackedWidget()
        self.list = RecordsList(ctx.db, ctx.actor)
        self.workspace = RecordWorkspace(ctx)
        self.stack.addWidget(self.list)
        self.stack.addWidget(self.workspace)
        layout.addWidget(self.stack)
        self.report_button = QPushButton("Integrity report…")
        self.report_button.setToolTip("Data-integrity exception report for a period (PDF or CSV), for QA "
                                      "self-inspection.")
        self.report_button.clicked.connect(self.integrity_report)
        self.report_button.setVisible(ctx.allowed(Permission.VIEW_AUDIT))
        self.list.extra_bar.addWidget(self.report_button)
        self.list.open_requested.connect(self.open_record)
        self.workspace.back_requested.connect(self.show_list)
        self.list.reload()

    def page_shown(self) -> None:
        if self.stack.currentWidget() is self.workspace:
            self.workspace.refresh()
        else:
            self.list.reload()

    def open_record(self, serial: str) -> bool:
        """Open the workspace of ``serial``; an unknown serial is reported on the list, which stays."""
        if not self.workspace.open(serial):
            self.list.error.show_text(self.workspace.error.text())
            return False
        self.list.error.clear_text()
        self.stack.setCurrentWidget(self.workspace)
        return True

    def show_filter(self, name: str) -> None:
        """The list of forms as Home counted it ("mine", "to-transcribe", "to-verify", "to-review",
        "to-approve"; another name: every form)."""
        self.stack.setCurrentWidget(self.list)
        self.list.show_filter(name)

    def show_list(self) -> None:
        self.list.reload()
        self.stack.setCurrentWidget(self.list)

    def integrity_report(self) -> None:
        self.dialog = open_dialog(IntegrityReportDialog(self._ctx, self), self._report_closed)

    def _report_closed(self, _dialog: QDialog, _result: int) -> None:
        self.dialog = None


@page("records")
def records_page(ctx: PageContext) -> QWidget:
    return RecordsPage(ctx)
