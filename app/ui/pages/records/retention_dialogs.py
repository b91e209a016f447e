"""The Place hold… dialog of the Retention page: what is held (an issuance, a record by its serial, or a
template), and why. The service checks the target exists and refuses a hold without a reason."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from app.services.admin import retention
from app.services.admin.retention import HoldScope, HoldView
from app.services.core.errors import FormtrailError
from app.ui.kit import messages
from app.ui.kit.widgets import fit_to_contents, hint, reason_field
from app.ui.pages.registry import PageContext

SCOPES = ((HoldScope.ISSUANCE, "Issuance (its number)"), (HoldScope.RECORD, "Record (the form's serial)"),
          (HoldScope.TEMPLATE, "Template (its code: all its records)"))


class HoldDialog(QDialog):
    def __init__(self, ctx: PageContext, parent: QWidget | None, *, issuance: str = "") -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.placed: HoldView | None = None
        self.setWindowTitle("Place legal hold")
        layout = QVBoxLayout(self)
        layout.addWidget(hint("A legal hold keeps records from disposal, whatever their retention, until it is "
                              "released with a reason (litigation, an inspection, an investigation)."))
        form = QFormLayout()
        self.scope = QComboBox()
        for scope, text in SCOPES:
            self.scope.addItem(text, scope)
        self.target = QLineEdit(issuance)
        self.target.setPlaceholderText("e.g. 12, 000123 or QC-WS-014")
        self.reason = reason_field("The matter the records are kept for, e.g. 'litigation L-2036-4'")
        form.addRow("Hold on:", self.scope)
        form.addRow("Which:", self.target)
        form.addRow("Reason:", self.reason)
        layout.addLayout(form)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Place hold")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        fit_to_contents(self, min_width=460)

    def accept(self) -> None:
        ctx = self._ctx
        try:
            self.placed = retention.place_hold(ctx.db, ctx.actor, scope=self.scope.currentData(),
                                               target=self.target.text(), reason=self.reason.toPlainText())
        except FormtrailError as exc:
            messages.show_exception(self, exc, title=self.windowTitle())
            return
        super().accept()
