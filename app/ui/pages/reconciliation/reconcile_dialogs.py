"""Dialogs of the Reconcile page: declare a form missing (reason + deviation), choose a report period, and
where to save a PDF."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from app.services.core.errors import FormtrailError
from app.services.reconciliation import reconciliation
from app.services.reconciliation.reconciliation import ReconFormRow
from app.textfmt import of_total
from app.ui.kit import file_dialogs, messages
from app.ui.kit.widgets import ErrorLine, day_of, fit_to_contents, hint, reason_field, title
from app.ui.pages.registry import PageContext


def ask_save_path(parent: QWidget | None, caption: str, suggestion: str) -> Path | None:
    """Where to save a PDF (None when the user cancels); always ends in .pdf. Tests replace this function."""
    return file_dialogs.ask_save_as(parent, caption, purpose="reports", name=suggestion, filters="PDF (*.pdf)",
                                    suffixes=(".pdf",))


class MissingDialog(QDialog):
    """Declare a sheet missing: a written reason and the reference of the deviation raised for it."""

    def __init__(self, ctx: PageContext, form: ReconFormRow, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx, self._form = ctx, form
        self.result_value: ReconFormRow | None = None
        self.setWindowTitle(f"Declare {form.printed_as} missing")
        layout = QVBoxLayout(self)
        layout.addWidget(title(f"Declare {form.printed_as} missing"))
        replaced = form.replaced_by is not None
        layout.addWidget(hint(
            (f"{form.printed_as} was replaced by {form.replaced_by_label or form.replaced_by}, but its own paper has "
             "not come back. " if replaced
             else f"{form.printed_as} is still out ({of_total(form.pages_back, form.pages, 'page')} back). ")
            + "Declare it missing only after searching for it, and with a deviation raised: the serial is then "
              "accounted for as missing; scans of it arriving later are kept but never linked as valid."))
        form_layout = QFormLayout()
        self.deviation = QLineEdit()
        self.deviation.setPlaceholderText("e.g. DEV-2026-031")
        form_layout.addRow("&Deviation reference:", self.deviation)
        layout.addLayout(form_layout)
        label = QLabel("&Reason (required, recorded in the audit trail):")
        self.reason = reason_field("What happened? e.g. 'not found after the shift; area searched with the supervisor'")
        label.setBuddy(self.reason)
        layout.addWidget(label)
        layout.addWidget(self.reason)
        buttons = QDialogButtonBox()
        self.action_button = buttons.addButton("Declare missing", QDialogButtonBox.ButtonRole.AcceptRole)
        self.action_button.setDefault(True)
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        fit_to_contents(self, min_width=500)
        self.deviation.textChanged.connect(self._update)
        self.reason.textChanged.connect(self._update)
        self._update()
        self.deviation.setFocus()

    def _update(self) -> None:
        self.action_button.setEnabled(bool(self.deviation.text().strip() and self.reason.toPlainText().strip()))

    def accept(self) -> None:
        reason, deviation = self.reason.toPlainText().strip(), self.deviation.text().strip()
        if not reason or not deviation:
            return
        try:
            self.result_value = reconciliation.declare_missing(self._ctx.db, self._ctx.actor, serial=self._form.serial,
                                                               reason=reason, deviation=deviation)
        except FormtrailError as exc:
            messages.show_exception(self, exc, title=self.windowTitle())
            return
        super().accept()


class PeriodDialog(QDialog):
    """The date range of the accountability report (local dates, both included)."""

    def __init__(self, parent: QWidget | None = None, *, today: dt.date) -> None:
        super().__init__(parent)
        self.setWindowTitle("Accountability report")
        layout = QVBoxLayout(self)
        layout.addWidget(title("Accountability report"))
        layout.addWidget(hint("Forms issued in the period, per template and per person or area issued to: how many "
                              "were returned, voided, missing, replaced or are still out."))
        form = QFormLayout()
        self.since, self.until = QDateEdit(), QDateEdit()
        for edit, day in ((self.since, today.replace(day=1)), (self.until, today)):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.setDate(QDate(day.year, day.month, day.day))
        form.addRow("&From (issued on or after):", self.since)
        form.addRow("&To (issued on or before):", self.until)
        layout.addLayout(form)
        self.error = ErrorLine()
        layout.addWidget(self.error)
        buttons = QDialogButtonBox()
        self.ok_button = buttons.addButton("Choose file and save…", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        fit_to_contents(self, min_width=420)

    @property
    def period(self) -> tuple[dt.date, dt.date]:
        return day_of(self.since.date()), day_of(self.until.date())

    def accept(self) -> None:
        since, until = self.period
        if until < since:
            self.error.show_text("The end date is before the start date.")
            return
        super().accept()
