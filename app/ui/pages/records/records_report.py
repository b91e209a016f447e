"""The data-integrity exception report for QA self-inspection: a period, PDF or CSV, written in the background."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import cast

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QVBoxLayout,
    QWidget,
)

from app.services.integrity import integrity_report
from app.textfmt import plural
from app.ui.kit import file_dialogs, messages
from app.ui.kit.operations import notify, run_op
from app.ui.kit.widgets import ErrorLine, fit_to_contents, hint, title
from app.ui.kit.workers import Task
from app.ui.pages.registry import PageContext

FORMATS = (("PDF report", "pdf"), ("CSV for spreadsheets", "csv"))


class IntegrityReportDialog(QDialog):
    """Asks for the period and the format, then for the file; ``written`` holds (path, findings) when done."""

    def __init__(self, ctx: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.task: Task | None = None
        self.written: tuple[Path, int] | None = None
        self.setWindowTitle("Data-integrity exception report")
        layout = QVBoxLayout(self)
        layout.addWidget(title("Data-integrity exception report"))
        layout.addWidget(hint("For QA self-inspection: late entries, corrections per user, out-of-limit values, "
                              "manual scan links, possible copies, broken signatures, failed log-ins and lockouts, "
                              "clock anomalies and refused actions in the period. The report itself is recorded "
                              "in the audit trail."))
        form = QFormLayout()
        local_today = ctx.db.clock.now().astimezone().date()
        today = QDate(local_today.year, local_today.month, local_today.day)
        self.since, self.until = QDateEdit(today.addDays(-30)), QDateEdit(today)
        for edit in (self.since, self.until):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
        form.addRow("&From (local day, included):", self.since)
        form.addRow("&To (included):", self.until)
        self.format_combo = QComboBox()
        for text, value in FORMATS:
            self.format_combo.addItem(text, value)
        form.addRow("&Format:", self.format_combo)
        layout.addLayout(form)
        self.error = ErrorLine()
        layout.addWidget(self.error)
        buttons = QDialogButtonBox()
        self.write_button = buttons.addButton("Write report…", QDialogButtonBox.ButtonRole.AcceptRole)
        self.write_button.setDefault(True)
        buttons.addButton(QDialogButtonBox.StandardButton.Close)
        buttons.accepted.connect(self.write)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        fit_to_contents(self, min_width=480)

    def ask_path(self, fmt: str) -> Path | None:
        """Where to write the report (a file dialog; tests replace this method)."""
        since, until = self.since.date().toPython(), self.until.date().toPython()
        return file_dialogs.ask_save_as(self, "Write the integrity report", purpose="exports",
                                        name=f"integrity-{self._ctx.site.code}-{since}-{until}.{fmt}",
                                        filters="PDF report (*.pdf)" if fmt == "pdf" else "CSV (*.csv)",
                                        suffixes=(f".{fmt}",))

    def write(self) -> None:
        # QDate.toPython() returns a datetime.date; the stubs type it as object.
        since = cast(dt.date, self.since.date().toPython())
        until = cast(dt.date, self.until.date().toPython())
        if until < since:
            self.error.show_text("The end date is before the start date.")
            return
        path = self.ask_path(self.format_combo.currentData())
        if path is None:
            return
        self.error.clear_text()
        db, actor = self._ctx.db, self._ctx.actor

        def job(progress, cancelled) -> tuple[Path, int]:  # noqa: ANN001 - see workers.Job
            return integrity_report.write_report(db, actor, since=since, until=until, out=path)
        self.task = run_op(self, job, title="Integrity report", label=f"Writing {path.name}…",
                           on_done=self._written, on_failed=self._failed)
        self.write_button.setEnabled(False)

    def _written(self, result: tuple[Path, int]) -> None:
        self.task, self.written = None, result
        self.write_button.setEnabled(True)
        path, count = result
        notify(self, f"Integrity report: {plural(count, 'finding')} written to {path.name}", path=path)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.task = None
        self.write_button.setEnabled(True)
        self.error.show_text(f"Not written: {messages.describe(exc)}")
