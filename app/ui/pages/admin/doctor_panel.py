"""This workstation's set-up checks (`formtrail doctor`) in the desktop app: on the Settings page, and offered
when Formtrail cannot start."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.services.admin import doctor
from app.services.admin.doctor import Check, CheckStatus, DoctorReport
from app.textfmt import plural
from app.ui.kit.list_model import ListTableModel
from app.ui.kit.operations import run_op
from app.ui.kit.widgets import hint, setup_table

STATUS_TEXT = {CheckStatus.OK: "OK", CheckStatus.WARN: "Warning", CheckStatus.FAIL: "FAILED",
               CheckStatus.SKIPPED: "Not checked"}
STATUS_COLOUR = {CheckStatus.WARN: "#8a5a00", CheckStatus.FAIL: "#b00020", CheckStatus.SKIPPED: "#666666"}


class ChecksModel(ListTableModel[Check]):
    COLUMNS = ("Status", "Check", "Found", "What to do")

    def text(self, item: Check, column: int) -> str:
        return (STATUS_TEXT[item.status], item.title, item.detail, item.fix)[column]

    def role_data(self, item: Check, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.ForegroundRole and column == 0 and item.status in STATUS_COLOUR:
            return QColor(STATUS_COLOUR[item.status])
        if role == Qt.ItemDataRole.ToolTipRole and column >= 2:
            return self.text(item, column)
        return None


class ChecksPanel(QWidget):
    """A table of the checks and a button that runs them in the background (they may wait on the network)."""

    def __init__(self, workstation: doctor.Workstation, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._workstation = workstation
        self.report: DoctorReport | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(hint("Checks this workstation's set-up: the database and its connection, the clock, the "
                              "shared file store and key file, the last backup and integrity check. The same "
                              "checks run from the command line with `formtrail doctor`."))
        self.model = ChecksModel(parent=self)
        self.table = QTableView()
        self.table.setModel(self.model)
        setup_table(self.table)
        self.table.setWordWrap(True)
        header = self.table.horizontalHeader()
        for column, mode in enumerate((QHeaderView.ResizeMode.ResizeToContents,
                                       QHeaderView.ResizeMode.ResizeToContents,
                                       QHeaderView.ResizeMode.Stretch, QHeaderView.ResizeMode.Stretch)):
            header.setSectionResizeMode(column, mode)
        layout.addWidget(self.table, 1)
        bar = QHBoxLayout()
        self.run_button = QPushButton("Run checks")
        self.run_button.clicked.connect(self.run)
        bar.addWidget(self.run_button)
        self.summary = QLabel("Not run yet.")
        bar.addWidget(self.summary, 1)
        layout.addLayout(bar)

    def run(self) -> None:
        self.run_button.setEnabled(False)
        self.summary.setText("Checking…")
        workstation = self._workstation
        run_op(self, lambda progress, _cancelled: doctor.run(workstation, progress=progress),
               title="Workstation checks", label="Checking this workstation's set-up…", serial=False,
               on_done=self._show, on_failed=self._failed)

    def _show(self, report: DoctorReport) -> None:
        self.report = report
        self.model.set_rows(report.checks)
        self.table.resizeRowsToContents()
        self.run_button.setEnabled(True)
        failed = sum(c.status is CheckStatus.FAIL for c in report.checks)
        warned = sum(c.status is CheckStatus.WARN for c in report.checks)
        self.summary.setText(f"{plural(failed, 'check')} failed: see What to do." if failed else
                             "Set up correctly" + (f" ({plural(warned, 'warning')})." if warned else "."))

    def _failed(self, exc: BaseException) -> None:
        self.run_button.setEnabled(True)
        self.summary.setText(f"The checks could not run: {exc}")


class ChecksDialog(QDialog):
    """The checks on their own, for when the application cannot start; they run as soon as it opens."""

    def __init__(self, workstation: doctor.Workstation, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Workstation checks — Formtrail")
        layout = QVBoxLayout(self)
        self.panel = ChecksPanel(workstation, self)
        layout.addWidget(self.panel, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(980, 520)
        self.panel.run()
