"""Log-in dialog: user name and password; a temporary or expired password must be changed before work starts."""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from app.services.core.db import Database
from app.services.core.errors import AccountInactive, AccountLocked, FormtrailError
from app.services.identity import auth
from app.services.identity.auth import LoginOutcome
from app.services.site import settings
from app.services.site.setup import SiteInfo
from app.ui.kit.dialogs import open_dialog
from app.ui.kit.style import set_role
from app.ui.kit.widgets import ErrorLine, busy, fit_to_contents, hint, password_field, title
from app.ui.shell.password import ChangePasswordDialog


class LoginDialog(QDialog):
    """On success ``outcome`` holds the logged-in user (``password_change`` already dealt with)."""

    def __init__(self, db: Database, site: SiteInfo, *, username: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._db = db
        self.outcome: LoginOutcome | None = None
        self.password_dialog: ChangePasswordDialog | None = None
        self._failures: dict[str, int] = {}
        self._max_failures = next(s.value for s in settings.list_settings(db) if s.key == "login.max_failures")
        self.setWindowTitle("Formtrail — log in")

        layout = QVBoxLayout(self)
        layout.setSpacing(10)
        layout.addWidget(title("Formtrail"))
        layout.addWidget(set_role(hint(site.label), "subtitle"))  # the code alone when the name is the code
        form = QFormLayout()
        self.username = QLineEdit(username)
        self.username.setPlaceholderText("e.g. jdoe")
        self.password = password_field()
        form.addRow("&User name:", self.username)
        form.addRow("&Password:", self.password)
        layout.addLayout(form)
        self.error = ErrorLine()
        layout.addWidget(self.error)
        self.hints = hint("")
        self.hints.hide()
        layout.addWidget(self.hints)
        layout.addWidget(hint(f"Database: {db.display_url}  ·  Workstation: {db.workstation}"))

        buttons = QDialogButtonBox()
        self.login_button = buttons.addButton("Log in", QDialogButtonBox.ButtonRole.AcceptRole)
        self.login_button.setDefault(True)
        buttons.addButton("Quit", QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        fit_to_contents(self, min_width=440)
        (self.password if username else self.username).setFocus(Qt.FocusReason.OtherFocusReason)

    def accept(self) -> None:
        name = self.username.text().strip()
        if not name or not self.password.text():
            self.error.show_text("Type your user name and your password.")
            return
        try:
            with busy():
                outcome = auth.authenticate(self._db, username=name, password=self.password.text())
        except (AccountLocked, AccountInactive) as exc:
            self._failed(name, str(exc), final=True)
            return
        except FormtrailError as exc:
            self._failed(name, str(exc), final=False)
            return
        self.password.clear()
        self.error.clear_text()
        if outcome.password_change:
            self._force_password_change(outcome)
        else:
            self._done(outcome)

    def _failed(self, name: str, text: str, *, final: bool) -> None:
        self.error.show_text(text)
        self.password.clear()
        self.password.setFocus()
        if final:
            self.hints.setText("Only an administrator can unlock an account. Ask your administrator, "
                               "giving your user name.")
        else:
            self._failures[name] = self._failures.get(name, 0) + 1
            self.hints.setText(
                f"Check the user name and that Caps Lock is off. After {self._max_failures} consecutive wrong "
                f"passwords the account is locked (failed attempts here for {name!r}: {self._failures[name]})."
            )
        self.hints.show()

    def _force_password_change(self, outcome: LoginOutcome) -> None:
        dialog = ChangePasswordDialog(self._db, outcome.actor, forced=outcome.password_change, parent=self)
        self.password_dialog = dialog
        open_dialog(dialog, lambda dialog, result: self._after_password_change(outcome, dialog, result))

    def _after_password_change(self, outcome: LoginOutcome, dialog: ChangePasswordDialog, result: int) -> None:
        self.password_dialog = None
        if result == QDialog.DialogCode.Accepted:
            self._done(dataclasses.replace(outcome, password_change=None))
            return
        auth.logout(self._db, outcome.actor)
        if dialog.locked_out:
            self.error.show_text(f"The account {outcome.actor.username!r} is locked; an administrator must unlock it.")
        else:
            self.error.show_text("You were logged out: you must set a new password before you can work.")
        self.password.setFocus()

    def _done(self, outcome: LoginOutcome) -> None:
        self.outcome = outcome
        super().accept()
