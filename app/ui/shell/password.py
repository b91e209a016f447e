"""Change-password dialog: the user's own password, at will or forced (temporary or expired password)."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QVBoxLayout, QWidget

from app.services.core.db import Actor, Database
from app.services.core.errors import AccountInactive, AccountLocked, AuthenticationError, FormtrailError
from app.services.identity import auth
from app.ui.kit import messages
from app.ui.kit.widgets import ErrorLine, busy, fit_to_contents, hint, password_field, password_rules, title

_WHY = {
    "temporary": "Your password is a temporary one set by an administrator. Choose your own password "
                 "before you continue; nobody else may know it.",
    "expired": "Your password has expired. Choose a new one before you continue.",
}


class ChangePasswordDialog(QDialog):
    """Asks the current password again (a wrong one counts toward the lockout), then the new one twice.

    ``forced`` is None for a change the user asked for, or "temporary"/"expired" when the log-in demands it
    (then Cancel means: log out). After a lockout ``locked_out`` is True and the dialog closes."""

    def __init__(self, db: Database, actor: Actor, *, forced: str | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._db, self._actor = db, actor
        self.locked_out = False
        self.setWindowTitle("Change password")

        layout = QVBoxLayout(self)
        layout.addWidget(title(f"New password for {actor.full_name} ({actor.username})"))
        if forced:
            layout.addWidget(hint(_WHY.get(forced, _WHY["expired"])))
        form = QFormLayout()
        self.current = password_field()
        self.new = password_field()
        self.repeat = password_field()
        form.addRow("&Current password:", self.current)
        form.addRow("&New password:", self.new)
        form.addRow("&Repeat new password:", self.repeat)
        layout.addLayout(form)
        layout.addWidget(hint(password_rules(db)))
        self.error = ErrorLine()
        layout.addWidget(self.error)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Change password")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Log out" if forced else "Cancel")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        fit_to_contents(self, min_width=460)
        self.current.setFocus()

    def accept(self) -> None:
        if not self.current.text() or not self.new.text():
            self.error.show_text("Fill in your current password and the new one.")
            return
        if self.new.text() != self.repeat.text():
            self.error.show_text("The two new passwords differ; type the same password twice.")
            self.repeat.clear()
            self.repeat.setFocus()
            return
        try:
            with busy():
                auth.change_own_password(self._db, self._actor, current_password=self.current.text(),
                                         new_password=self.new.text())
        except (AccountLocked, AccountInactive) as exc:
            self.locked_out = True
            messages.error(self, str(exc), title="Account locked")
            super().reject()
            return
        except FormtrailError as exc:
            self.error.show_text(str(exc))
            if isinstance(exc, AuthenticationError):
                self.current.clear()
                self.current.setFocus()
            return
        super().accept()
