"""Dialogs of the user administration page: new account, roles, temporary password."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from app.enums import Role
from app.services.core.errors import FormtrailError
from app.services.identity import users
from app.services.identity.users import UserInfo
from app.ui.kit import messages
from app.ui.kit.widgets import fit_to_contents, hint, password_field, password_rules, reason_field, title
from app.ui.pages.registry import PageContext

ROLE_HELP = {
    Role.ADMINISTRATOR: "user accounts and settings only; no GMP work, cannot sign",
    Role.DOCUMENT_CONTROL: "templates, issuing and printing forms, scans, reconciliation",
    Role.OPERATOR: "returns sheets, enters and verifies record data",
    Role.QA: "approves templates, closes reconciliations, reviews and approves records",
    Role.VIEWER: "reads GMP data, changes nothing",
}


class RolePicker(QGroupBox):
    """One checkbox per role, with what the role may do."""

    def __init__(self, chosen: tuple[Role, ...] = (), parent: QWidget | None = None) -> None:
        super().__init__("Roles", parent)
        layout = QVBoxLayout(self)
        self.boxes: dict[Role, QCheckBox] = {}
        for role in Role:
            box = QCheckBox(f"{role.title} — {ROLE_HELP[role]}")
            box.setChecked(role in chosen)
            layout.addWidget(box)
            self.boxes[role] = box
        layout.addWidget(hint("An administrator account cannot also hold a GMP role (Document Control, "
                              "Operator, QA): create a separate account for GMP work."))

    def roles(self) -> list[Role]:
        return [role for role, box in self.boxes.items() if box.isChecked()]


def _buttons(dialog: QDialog, action: str) -> QDialogButtonBox:
    buttons = QDialogButtonBox()
    ok = buttons.addButton(action, QDialogButtonBox.ButtonRole.AcceptRole)
    ok.setDefault(True)
    buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    return buttons


class AddUserDialog(QDialog):
    """Creates the account on OK; an error keeps the dialog open with everything typed."""

    def __init__(self, ctx: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.created: UserInfo | None = None
        self.setWindowTitle("Add user")
        layout = QVBoxLayout(self)
        layout.addWidget(title("New user account"))
        layout.addWidget(hint("User names are never reused, not even after deactivation. The user must replace "
                              "the temporary password at the first log-in; give it to them in person."))
        form = QFormLayout()
        self.username = QLineEdit()
        self.username.setPlaceholderText("lower-case, e.g. jdoe")
        self.full_name = QLineEdit()
        self.full_name.setPlaceholderText("as printed in signatures, e.g. Jane Doe")
        form.addRow("&User name:", self.username)
        form.addRow("&Full name:", self.full_name)
        self.roles = RolePicker()
        form.addRow(self.roles)
        self.password = password_field()
        self.repeat = password_field()
        form.addRow("&Temporary password:", self.password)
        form.addRow("&Repeat password:", self.repeat)
        form.addRow("", hint(password_rules(ctx.db)))
        layout.addLayout(form)
        self.buttons = _buttons(self, "Create user")
        layout.addWidget(self.buttons)
        fit_to_contents(self)
        self.username.setFocus()

    def accept(self) -> None:
        if self.password.text() != self.repeat.text():
            messages.error(self, "The two temporary passwords differ; type the same password twice.",
                           title="Add user")
            return
        try:
            self.created = users.create_user(
                self._ctx.db, self._ctx.actor, username=self.username.text().strip(),
                full_name=self.full_name.text(), roles=self.roles.roles(), temporary_password=self.password.text(),
            )
        except FormtrailError as exc:
            messages.show_exception(self, exc, title="The user was not created")
            return
        super().accept()


class RolesDialog(QDialog):
    """Changes the roles of one user, with a reason."""

    def __init__(self, ctx: PageContext, user: UserInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx, self._user = ctx, user
        self.setWindowTitle(f"Roles of {user.username}")
        layout = QVBoxLayout(self)
        layout.addWidget(title(f"Roles of {user.full_name} ({user.username})"))
        layout.addWidget(hint("Granting and revoking are recorded with the date, so Formtrail can always tell "
                              "who held which role on a given day."))
        self.roles = RolePicker(user.roles)
        layout.addWidget(self.roles)
        label = QLabel("&Reason (required, recorded in the audit trail):")
        self.reason = reason_field("Why? e.g. 'moved to QA, change request CR-2026-014'")
        label.setBuddy(self.reason)
        layout.addWidget(label)
        layout.addWidget(self.reason)
        layout.addWidget(_buttons(self, "Save roles"))
        fit_to_contents(self)

    def accept(self) -> None:
        try:
            users.set_roles(self._ctx.db, self._ctx.actor, username=self._user.username, roles=self.roles.roles(),
                            reason=self.reason.toPlainText())
        except FormtrailError as exc:
            messages.show_exception(self, exc, title="Roles not changed")
            return
        super().accept()


class ResetPasswordDialog(QDialog):
    """Gives a user a temporary password (they must change it at the next log-in), with a reason."""

    def __init__(self, ctx: PageContext, user: UserInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx, self._user = ctx, user
        self.setWindowTitle(f"Reset password of {user.username}")
        layout = QVBoxLayout(self)
        layout.addWidget(title(f"Temporary password for {user.full_name} ({user.username})"))
        layout.addWidget(hint("Use this when a user forgot the password. They must choose their own password at "
                              "the next log-in. Give the temporary password to them in person."))
        form = QFormLayout()
        self.password = password_field()
        self.repeat = password_field()
        form.addRow("&Temporary password:", self.password)
        form.addRow("R&epeat password:", self.repeat)
        layout.addLayout(form)
        layout.addWidget(hint(password_rules(ctx.db)))
        label = QLabel("&Reason (required, recorded in the audit trail):")
        self.reason = reason_field("Why? e.g. 'user forgot the password, identity checked in person'")
        label.setBuddy(self.reason)
        layout.addWidget(label)
        layout.addWidget(self.reason)
        layout.addWidget(_buttons(self, "Set temporary password"))
        fit_to_contents(self)

    def accept(self) -> None:
        if self.password.text() != self.repeat.text():
            messages.error(self, "The two passwords differ; type the same password twice.", title=self.windowTitle())
            return
        try:
            users.reset_password(self._ctx.db, self._ctx.actor, username=self._user.username,
                                 temporary_password=self.password.text(), reason=self.reason.toPlainText())
        except FormtrailError as exc:
            messages.show_exception(self, exc, title="Password not reset")
            return
        super().accept()
