"""The electronic signature dialog (21 CFR 11.50, 11.200): what is signed, its meaning, user name and password.

Every page that signs uses it the same way::

    info = SignatureDialog.run(
        self, summary="Template QC-WS-014 v3 'Balance weighing worksheet'",
        meaning=SignatureMeaning.APPROVED,
        username=ctx.actor.username,
        perform=lambda username, password: templates.approve(db, actor, ..., username=username, password=password),
    )
    if info is not None:   # signed: ``info`` is whatever ``perform`` returned
        ...

``perform`` does the whole service call (re-authentication included). A failure is shown inside the
dialog, which stays open for another try; the service counts wrong passwords toward the lockout, and when
the account gets locked the dialog says so and closes (``locked_out`` is then True, ``run`` returns None).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from app.enums import SignatureMeaning
from app.services.core.errors import AccountInactive, AccountLocked, FormtrailError
from app.ui.kit import messages
from app.ui.kit.style import set_role
from app.ui.kit.widgets import ErrorLine, busy, fit_to_contents, hint, password_field, title

T = TypeVar("T")

STATEMENT = ("Your electronic signature is the legally binding equivalent of your handwritten signature. "
             "Type your own user name and password: they are asked for every signature.")


class SignatureDialog(QDialog):
    def __init__(
        self, parent: QWidget | None, *, summary: str, meaning: SignatureMeaning,
        perform: Callable[[str, str], Any], username: str = "",
    ) -> None:
        super().__init__(parent)
        self._perform = perform
        self.result_value: Any = None
        self.locked_out = False
        self.setWindowTitle(f"Electronic signature — {meaning.title}")

        layout = QVBoxLayout(self)
        layout.addWidget(title("Sign electronically"))
        layout.addWidget(QLabel("You are signing:"))
        self.summary = QPlainTextEdit(summary)
        self.summary.setReadOnly(True)
        self.summary.setTabChangesFocus(True)
        self.summary.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.summary.setMaximumHeight(110)
        layout.addWidget(self.summary)
        self.meaning = set_role(QLabel(f"Meaning of this signature: {meaning.title}"), "emphasis")
        layout.addWidget(self.meaning)
        layout.addWidget(hint(STATEMENT))

        form = QFormLayout()
        self.username = QLineEdit(username)
        self.password = password_field()
        form.addRow("&User name:", self.username)
        form.addRow("&Password:", self.password)
        layout.addLayout(form)
        self.error = ErrorLine()
        layout.addWidget(self.error)

        buttons = QDialogButtonBox()
        self.sign_button = buttons.addButton(f"Sign — {meaning.title}", QDialogButtonBox.ButtonRole.AcceptRole)
        self.sign_button.setDefault(True)
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        fit_to_contents(self, min_width=480)
        (self.password if username else self.username).setFocus(Qt.FocusReason.OtherFocusReason)

    def accept(self) -> None:
        username, password = self.username.text().strip(), self.password.text()
        if not username or not password:
            self.error.show_text("Type your user name and password to sign.")
            return
        try:
            with busy():
                self.result_value = self._perform(username, password)
        except (AccountLocked, AccountInactive) as exc:
            self.locked_out = True
            messages.error(self, f"{exc}\n\nNothing was signed.", title="Account locked")
            super().reject()
            return
        except FormtrailError as exc:
            self.error.show_text(f"Not signed: {exc}")
            self.password.clear()
            self.password.setFocus()
            return
        super().accept()

    @classmethod
    def run(
        cls, parent: QWidget | None, *, summary: str, meaning: SignatureMeaning,
        perform: Callable[[str, str], T], username: str = "",
        on_locked_out: Callable[[], None] | None = None,
    ) -> T | None:
        """Show the dialog modally; the value ``perform`` returned, or None when cancelled or locked out
        (then ``on_locked_out`` is called, e.g. to end the session)."""
        dialog = cls(parent, summary=summary, meaning=meaning, perform=perform, username=username)
        accepted = dialog.exec() == QDialog.DialogCode.Accepted
        if dialog.locked_out and on_locked_out is not None:
            on_locked_out()
        value = dialog.result_value if accepted else None
        dialog.deleteLater()
        return value
