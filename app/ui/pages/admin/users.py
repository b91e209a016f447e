"""User administration page (administrators): accounts, roles, unlock, temporary passwords, deactivation; and
the selected user's qualifications (AC-07), which QA records here too."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QHeaderView,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.enums import UserStatus
from app.services.core.timefmt import local_text
from app.services.identity import users
from app.services.identity.permissions import Permission
from app.services.identity.users import UserInfo
from app.ui.kit import data_events
from app.ui.kit.data_events import Topic
from app.ui.kit.dialogs import accepted, open_dialog
from app.ui.kit.flow_layout import FlowLayout
from app.ui.kit.list_model import USER_ROLE, ListTableModel
from app.ui.kit.operations import run_query
from app.ui.kit.reason import ReasonDialog
from app.ui.kit.widgets import hint, setup_table
from app.ui.pages.admin.qualifications import QualificationsPanel
from app.ui.pages.admin.user_dialogs import AddUserDialog, ResetPasswordDialog, RolesDialog
from app.ui.pages.registry import PageContext, page

_STATUS_TEXT = {UserStatus.ACTIVE: "Active", UserStatus.LOCKED: "LOCKED", UserStatus.DEACTIVATED: "Deactivated"}
_STATUS_COLOUR = {UserStatus.LOCKED: QColor("#b00020"), UserStatus.DEACTIVATED: QColor("#777777")}


class UserTableModel(ListTableModel[UserInfo]):
    """Adapts a list of ``UserInfo`` (frozen dataclasses) to a table; ``UserRole`` gives the UserInfo."""

    COLUMNS = ("User name", "Full name", "Roles", "Status", "Temp. password", "Created", "Last log-in")
    KEY = "username"

    def role_data(self, user: UserInfo, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.ForegroundRole and user.status in _STATUS_COLOUR:
            return QBrush(_STATUS_COLOUR[user.status])
        if role == Qt.ItemDataRole.ToolTipRole:
            if user.status is UserStatus.DEACTIVATED:
                return f"Deactivated {local_text(user.deactivated_at)}: {user.deactivation_reason}" \
                    if user.deactivated_at else "Deactivated"
            if user.status is UserStatus.LOCKED:
                return "Locked after repeated failed log-ins or signatures; an administrator must unlock it."
        return None

    def text(self, user: UserInfo, column: int) -> str:
        if column == 0:
            return user.username
        if column == 1:
            return user.full_name
        if column == 2:
            return user.role_titles
        if column == 3:
            return _STATUS_TEXT[user.status]
        if column == 4:
            return "yes" if user.must_change_password else ""
        if column == 5:
            return local_text(user.created_at, seconds=False)
        if column == 6:
            return local_text(user.last_login_at, seconds=False) if user.last_login_at else "never"
        return ""


class UsersPage(QWidget):
    def __init__(self, ctx: PageContext) -> None:
        super().__init__()
        self._ctx = ctx
        self.dialog: QDialog | None = None  # the dialog currently open (for tests and for focus)
        self._all: list[UserInfo] = []
        self._want: str | None = None  # the account to select when the list arrives (one just created or changed)
        layout = QVBoxLayout(self)
        layout.addWidget(hint("Accounts are never deleted: deactivate them instead. Every change here is recorded "
                              "in the audit trail with your name and the reason you give."))
        bar = FlowLayout()  # wraps onto a second line on a narrow window instead of scrolling sideways
        self.add_button = QPushButton("Add user…")
        self.roles_button = QPushButton("Change roles…")
        self.unlock_button = QPushButton("Unlock…")
        self.reset_button = QPushButton("Reset password…")
        self.deactivate_button = QPushButton("Deactivate…")
        for button, slot in ((self.add_button, self.add_user), (self.roles_button, self.change_roles),
                             (self.unlock_button, self.unlock), (self.reset_button, self.reset_password),
                             (self.deactivate_button, self.deactivate)):
            button.clicked.connect(slot)
            button.setVisible(ctx.allowed(Permission.MANAGE_USERS))  # QA comes here for qualifications only
            bar.addWidget(button)
        self.show_deactivated = QCheckBox("Show deactivated accounts")
        self.show_deactivated.toggled.connect(lambda _on: self._listed(self._all))
        bar.addWidget(self.show_deactivated)
        self.only_locked = QCheckBox("Only locked accounts")
        self.only_locked.toggled.connect(lambda _on: self._listed(self._all))
        bar.addWidget(self.only_locked)
        layout.addLayout(bar)

        self.model = UserTableModel(parent=self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        setup_table(self.table)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        self.table.selectionModel().selectionChanged.connect(self._show_qualifications)
        self.table.doubleClicked.connect(self.change_roles)
        layout.addWidget(self.table, 3)
        self.qualifications = QualificationsPanel(ctx, self)
        layout.addWidget(self.qualifications, 2)
        data_events.listen(self, {Topic.USERS}, self.reload)
        self.reload()

    def page_shown(self) -> None:
        self.reload()

    def reload(self, *, select: str | None = None) -> None:
        """Read the accounts in the background (and when another act, or a lockout seen elsewhere, changed them)."""
        ctx = self._ctx
        self._want = select or self._want
        run_query(self, lambda: users.list_users(ctx.db, ctx.actor), key="users", on_done=self._listed,
                  on_failed=self._list_failed)

    def _list_failed(self, exc: BaseException) -> None:
        self._ctx.show_error(self, exc)
        self._listed([])

    def _listed(self, rows: list[UserInfo]) -> None:
        chosen = self.selected()
        self._all = rows
        if not self.show_deactivated.isChecked():
            rows = [u for u in rows if u.status is not UserStatus.DEACTIVATED]
        if self.only_locked.isChecked():
            rows = [u for u in rows if u.status is UserStatus.LOCKED]
        self.model.set_rows(rows)
        want, self._want = self._want or (chosen.username if chosen else None), None
        if want is not None:
            self.select(want)
        self._update_buttons()

    def show_filter(self, name: str) -> None:
        """Home's "locked" list: only the locked accounts (another name: every account)."""
        self.only_locked.setChecked(name == "locked")
        self.reload()

    def select(self, username: str) -> None:
        row = self.model.row_of(username)
        if row is not None:
            self.table.selectRow(self.proxy.mapFromSource(self.model.index(row, 0)).row())

    def selected(self) -> UserInfo | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        return self.proxy.data(rows[0], USER_ROLE) if rows else None

    def _update_buttons(self) -> None:
        user = self.selected()
        self.roles_button.setEnabled(user is not None and user.may_manage)
        self.reset_button.setEnabled(user is not None and user.may_manage)
        self.deactivate_button.setEnabled(user is not None and user.may_deactivate)
        self.unlock_button.setEnabled(user is not None and user.may_unlock)

    def _show_qualifications(self) -> None:
        user = self.selected()
        self.qualifications.show_user(user.username if user is not None else None)

    def _open(self, dialog: QDialog, select: str | None = None) -> None:
        self.dialog = dialog

        def done(dialog: QDialog, result: int) -> None:
            self.dialog = None
            if accepted(result):
                created = getattr(dialog, "created", None)
                self.reload(select=created.username if created else select)
        open_dialog(dialog, done)

    def add_user(self) -> None:
        self._open(AddUserDialog(self._ctx, self))

    def change_roles(self) -> None:
        user = self.selected()
        if user is not None and user.status is not UserStatus.DEACTIVATED:
            self._open(RolesDialog(self._ctx, user, self), user.username)

    def reset_password(self) -> None:
        user = self.selected()
        if user is not None:
            self._open(ResetPasswordDialog(self._ctx, user, self), user.username)

    def unlock(self) -> None:
        user = self.selected()
        if user is None:
            return
        ctx = self._ctx
        self._open(ReasonDialog(
            self, heading=f"Unlock {user.full_name} ({user.username})", action_text="Unlock account",
            explanation="The account was locked after repeated wrong passwords. Unlock it only after you have "
                        "confirmed with the user that the attempts were theirs.",
            placeholder="Why? e.g. 'user mistyped the password, confirmed by phone'",
            perform=lambda reason: users.unlock(ctx.db, ctx.actor, username=user.username, reason=reason),
        ), user.username)

    def deactivate(self) -> None:
        user = self.selected()
        if user is None:
            return
        ctx = self._ctx
        self._open(ReasonDialog(
            self, heading=f"Deactivate {user.full_name} ({user.username})", action_text="Deactivate account",
            explanation="Deactivation is final: the account can never log in again and the user name is never "
                        "reused. Everything the user did stays in the records and the audit trail.",
            confirm_text=f"Deactivate {user.full_name} ({user.username}) for good? This cannot be undone.",
            perform=lambda reason: users.deactivate(ctx.db, ctx.actor, username=user.username, reason=reason),
        ), user.username)


@page("users", permissions=(Permission.MANAGE_USERS, Permission.RECORD_TRAINING))
def users_page(ctx: PageContext) -> QWidget:
    return UsersPage(ctx)
