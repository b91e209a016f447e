"""User administration page: the model, add, deactivate (reason required, confirmed), unlock, reset, roles."""

from __future__ import annotations

from PySide6.QtCore import Qt

from app.enums import Role, UserStatus
from app.services.core.errors import AuthenticationError
from app.services.identity import auth, users
from app.ui.kit.reason import ReasonDialog
from app.ui.pages.admin.user_dialogs import AddUserDialog, ResetPasswordDialog, RolesDialog
from app.ui.pages.admin.users import UsersPage, UserTableModel
from tests.helpers.seed import PASSWORD, TEMP_PASSWORD
from tests.ui.conftest import settle

LEFT = Qt.MouseButton.LeftButton


def _page(qtbot, ctx_for) -> UsersPage:  # noqa: ANN001
    page = UsersPage(ctx_for("admin"))
    qtbot.addWidget(page)
    page.show()
    settle(qtbot)
    return page


def _status(seed, username: str) -> UserStatus:  # noqa: ANN001
    return next(u.status for u in users.list_users(seed.db, seed.admin) if u.username == username)


def test_user_model_passes_the_model_tester(qtmodeltester, seed) -> None:  # noqa: ANN001
    model = UserTableModel(users.list_users(seed.db, seed.admin))
    qtmodeltester.check(model)
    assert model.rowCount() == 7
    assert model.headerData(0, Qt.Orientation.Horizontal) == "User name"
    row = model.row_of("qa")
    assert model.data(model.index(row, 1)) == "Quinn Müller"
    assert model.data(model.index(row, 2)) == "QA"
    assert model.data(model.index(row, 3)) == "Active"
    assert "(UTC" in model.data(model.index(row, 5))  # local time with its UTC offset


def test_add_user(qtbot, seed, ctx_for) -> None:  # noqa: ANN001
    page = _page(qtbot, ctx_for)
    page.add_user()
    dialog = page.dialog
    assert isinstance(dialog, AddUserDialog) and dialog.isVisible()
    qtbot.keyClicks(dialog.username, "jdoe")
    qtbot.keyClicks(dialog.full_name, "Jane Doe")
    dialog.roles.boxes[Role.OPERATOR].setChecked(True)
    dialog.password.setText(TEMP_PASSWORD)
    dialog.repeat.setText(TEMP_PASSWORD)
    dialog.accept()
    settle(qtbot)
    assert page.dialog is None
    assert page.selected() is not None and page.selected().username == "jdoe"
    created = page.selected()
    assert created.roles == (Role.OPERATOR,) and created.must_change_password
    assert auth.authenticate(seed.db, username="jdoe", password=TEMP_PASSWORD).password_change == "temporary"


def test_add_user_error_is_shown_and_nothing_typed_is_lost(qtbot, seed, ctx_for, boxes) -> None:  # noqa: ANN001
    page = _page(qtbot, ctx_for)
    page.add_user()
    dialog = page.dialog
    dialog.username.setText("op")  # exists already: user names are never reused
    dialog.full_name.setText("Another Otto")
    dialog.roles.boxes[Role.OPERATOR].setChecked(True)
    dialog.password.setText(TEMP_PASSWORD)
    dialog.repeat.setText(TEMP_PASSWORD)
    dialog.accept()
    settle(qtbot)
    assert boxes.errors == ["the user name 'op' already exists; user names are never reused"]
    assert dialog.isVisible() and page.dialog is dialog
    assert dialog.full_name.text() == "Another Otto" and dialog.password.text() == TEMP_PASSWORD


def test_deactivate_needs_a_reason_and_a_confirmation(qtbot, seed, ctx_for, boxes, trail) -> None:  # noqa: ANN001
    page = _page(qtbot, ctx_for)
    page.select("op")
    assert page.deactivate_button.isEnabled()
    page.deactivate()
    dialog = page.dialog
    assert isinstance(dialog, ReasonDialog)
    assert not dialog.action_button.isEnabled()  # no reason, no deactivation
    dialog.accept()
    settle(qtbot)
    assert dialog.isVisible() and _status(seed, "op") is UserStatus.ACTIVE
    qtbot.keyClicks(dialog.reason, "   ")
    assert not dialog.action_button.isEnabled()  # blanks are no reason
    boxes.answer = False  # the administrator thinks again
    dialog.reason.setPlainText("left the company on 2026-03-01")
    qtbot.mouseClick(dialog.action_button, LEFT)
    assert boxes.confirms and "cannot be undone" in boxes.confirms[0]
    assert dialog.isVisible() and _status(seed, "op") is UserStatus.ACTIVE
    boxes.answer = True
    qtbot.mouseClick(dialog.action_button, LEFT)
    assert page.dialog is None
    assert _status(seed, "op") is UserStatus.DEACTIVATED
    settle(qtbot)
    assert page.model.row_of("op") is None  # hidden unless asked for
    page.show_deactivated.setChecked(True)
    assert page.model.row_of("op") is not None
    status_events = [e for e in trail(entity="user") if e.entity_id == "op" and e.field == "status"]
    assert status_events[-1].new_value == "deactivated"
    assert status_events[-1].reason == "left the company on 2026-03-01"


def test_own_account_cannot_be_deactivated_from_the_page(qtbot, ctx_for) -> None:  # noqa: ANN001
    page = _page(qtbot, ctx_for)
    page.select("admin")
    assert not page.deactivate_button.isEnabled()


def test_unlock_with_reason(qtbot, seed, ctx_for, trail) -> None:  # noqa: ANN001
    for _ in range(5):
        try:
            auth.authenticate(seed.db, username="op", password="wrong")
        except AuthenticationError:
            pass
    page = _page(qtbot, ctx_for)
    page.select("op")
    assert page.model.data(page.model.index(page.model.row_of("op"), 3)) == "LOCKED"
    assert page.unlock_button.isEnabled()
    page.unlock()
    page.dialog.reason.setPlainText("mistyped, confirmed by phone")
    page.dialog.accept()
    settle(qtbot)
    assert _status(seed, "op") is UserStatus.ACTIVE
    assert trail(action="UNLOCK")[-1].reason == "mistyped, confirmed by phone"
    assert not page.unlock_button.isEnabled()


def test_reset_to_temporary_password(qtbot, seed, ctx_for) -> None:  # noqa: ANN001
    page = _page(qtbot, ctx_for)
    page.select("dc")
    page.reset_password()
    dialog = page.dialog
    assert isinstance(dialog, ResetPasswordDialog)
    dialog.password.setText(TEMP_PASSWORD)
    dialog.repeat.setText(TEMP_PASSWORD)
    dialog.reason.setPlainText("forgot the password, identity checked")
    dialog.accept()
    settle(qtbot)
    assert page.dialog is None
    assert auth.authenticate(seed.db, username="dc", password=TEMP_PASSWORD).password_change == "temporary"


def test_change_roles_refused_combination_is_shown(qtbot, seed, ctx_for, boxes) -> None:  # noqa: ANN001
    page = _page(qtbot, ctx_for)
    page.select("qa2")
    page.change_roles()
    dialog = page.dialog
    assert isinstance(dialog, RolesDialog)
    dialog.roles.boxes[Role.ADMINISTRATOR].setChecked(True)
    dialog.reason.setPlainText("needs admin")
    dialog.accept()
    settle(qtbot)
    assert dialog.isVisible() and "cannot also hold a GMP role" in boxes.errors[0]
    dialog.roles.boxes[Role.ADMINISTRATOR].setChecked(False)
    dialog.roles.boxes[Role.VIEWER].setChecked(True)
    dialog.accept()
    settle(qtbot)
    assert page.dialog is None
    assert page.selected().roles == (Role.QA, Role.VIEWER)
    assert auth.authenticate(seed.db, username="qa2", password=PASSWORD).actor.roles == {Role.QA, Role.VIEWER}
