"""The "reason for change" dialog used wherever good documentation practice asks why (GDP, Annex 11 §9)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from app.services.core.errors import FormtrailError
from app.ui.kit import messages
from app.ui.kit.widgets import fit_to_contents, hint, reason_field, title


class ReasonDialog(QDialog):
    """Asks for a reason, optionally confirms, then runs ``perform(reason)``.

    The action button stays disabled until a reason is typed. A service error is shown in a message box and
    the dialog stays open with everything typed. ``result_value`` holds what ``perform`` returned."""

    def __init__(
        self, parent: QWidget | None, *, heading: str, explanation: str, action_text: str,
        perform: Callable[[str], Any], confirm_text: str | None = None, placeholder: str | None = None,
    ) -> None:
        super().__init__(parent)
        self._perform = perform
        self._confirm_text = confirm_text
        self.result_value: Any = None
        self.setWindowTitle(heading)
        layout = QVBoxLayout(self)
        layout.addWidget(title(heading))
        layout.addWidget(hint(explanation))
        label = QLabel("&Reason (required, recorded in the audit trail):")
        self.reason = reason_field(placeholder or "Why? e.g. 'left the company on 2026-03-01'")
        label.setBuddy(self.reason)
        layout.addWidget(label)
        layout.addWidget(self.reason)
        buttons = QDialogButtonBox()
        self.action_button = buttons.addButton(action_text, QDialogButtonBox.ButtonRole.AcceptRole)
        self.action_button.setDefault(True)
        self.action_button.setEnabled(False)
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        fit_to_contents(self, min_width=460)
        self.reason.textChanged.connect(
            lambda: self.action_button.setEnabled(bool(self.reason.toPlainText().strip())))
        self.reason.setFocus()

    def accept(self) -> None:
        reason = self.reason.toPlainText().strip()
        if not reason:
            return
        if self._confirm_text and not messages.confirm(self, self._confirm_text, title=self.windowTitle(),
                                                       ok_text=self.action_button.text()):
            return
        try:
            self.result_value = self._perform(reason)
        except FormtrailError as exc:
            messages.show_exception(self, exc, title=self.windowTitle())
            return
        super().accept()
