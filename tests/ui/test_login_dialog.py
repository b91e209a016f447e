"""Log-in dialog: success, wrong password, lockout (AC-05), forced password change (AC-04)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from app.enums import Role
from app.services.identity import auth, users
from app.ui.shell.login import LoginDialog
from tests.helpers.seed import PASSWORD, TEMP_PASSWORD

LEFT = Qt.MouseButton.LeftButton
NEW_PASSWORD = "N3w-Secret-pass!"


def _login(qtbot, dialog: LoginDialog, username: str, password: str) -> None:  # noqa: ANN001
    dialog.username.setText(username)
    dialog.password.setText(password)
    qtbot.mouseClick(dialog.login_button, LEFT)


def _dialog(qtbot, seed, site) -> LoginDialog:  # noqa: ANN001
    dialog = LoginDialog(seed.db, site)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_login_success(qtbot, seed, site) -> None:  # noqa: ANN001
    dialog = _dialog(qtbot, seed, site)
    _login(qtbot, dialog, "dc", PASSWORD)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.outcome is not None and dialog.outcome.actor.username == "dc"
    assert dialog.outcome.actor.roles == frozenset({Role.DOCUMENT_CONTROL})


def test_wrong_password_shows_the_service_message_and_stays_open(qtbot, seed, site, trail) -> None:  # noqa: ANN001
    dialog = _dialog(qtbot, seed, site)
    _login(qtbot, dialog, "dc", "not-the-password")
    assert dialog.isVisible() and dialog.outcome is None
    assert dialog.error.text() == "wrong user name or password"
    assert "5 consecutive wrong passwords" in dialog.hints.text()
    assert dialog.password.text() == "" and dialog.username.text() == "dc"
    assert [e.action for e in trail(username="dc")][-1] == "LOGIN_FAILURE"


def test_ac05_five_failures_lock_the_account_with_a_lockout_event(qtbot, seed, site, trail) -> None:  # noqa: ANN001
    dialog = _dialog(qtbot, seed, site)
    for _ in range(5):
        _login(qtbot, dialog, "op", "wrong-password")
    assert "now locked" in dialog.error.text()
    assert "administrator" in dialog.hints.text()
    lockouts = trail(action="LOCKOUT")
    assert [(e.entity_id, e.workstation) for e in lockouts] == [("op", "TEST-WS-01")]
    _login(qtbot, dialog, "op", PASSWORD)  # even the right password no longer opens it
    assert dialog.outcome is None and "locked" in dialog.error.text()


def test_deactivated_account_is_refused(qtbot, seed, site) -> None:  # noqa: ANN001
    users.deactivate(seed.db, seed.admin, username="op2", reason="left the company")
    dialog = _dialog(qtbot, seed, site)
    _login(qtbot, dialog, "op2", PASSWORD)
    assert dialog.outcome is None and "deactivated" in dialog.error.text()


def test_ac04_temporary_password_must_be_changed_before_work(qtbot, seed, site) -> None:  # noqa: ANN001
    users.create_user(seed.db, seed.admin, username="newbie", full_name="Nina Newbie", roles=[Role.OPERATOR],
                      temporary_password=TEMP_PASSWORD)
    dialog = _dialog(qtbot, seed, site)
    _login(qtbot, dialog, "newbie", TEMP_PASSWORD)
    change = dialog.password_dialog
    assert change is not None and change.isVisible()
    assert dialog.outcome is None  # not in yet
    change.current.setText(TEMP_PASSWORD)
    change.new.setText(NEW_PASSWORD)
    change.repeat.setText(NEW_PASSWORD + "typo")
    change.accept()
    assert "differ" in change.error.text() and change.isVisible()
    change.repeat.setText(NEW_PASSWORD)
    change.accept()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.outcome is not None and dialog.outcome.password_change is None
    assert auth.authenticate(seed.db, username="newbie", password=NEW_PASSWORD).password_change is None


def test_cancelling_the_forced_change_logs_out(qtbot, seed, site, trail) -> None:  # noqa: ANN001
    users.reset_password(seed.db, seed.admin, username="op", temporary_password=TEMP_PASSWORD,
                         reason="forgot it")
    dialog = _dialog(qtbot, seed, site)
    _login(qtbot, dialog, "op", TEMP_PASSWORD)
    assert dialog.password_dialog is not None
    dialog.password_dialog.reject()
    assert dialog.isVisible() and dialog.outcome is None
    assert "logged out" in dialog.error.text()
    assert [e.action for e in trail(username="op")][-1] == "LOGOUT"


def test_forced_change_shows_the_password_policy_error(qtbot, seed, site) -> None:  # noqa: ANN001
    users.reset_password(seed.db, seed.admin, username="op", temporary_password=TEMP_PASSWORD, reason="forgot")
    dialog = _dialog(qtbot, seed, site)
    _login(qtbot, dialog, "op", TEMP_PASSWORD)
    change = dialog.password_dialog
    change.current.setText(TEMP_PASSWORD)
    change.new.setText("weak")
    change.repeat.setText("weak")
    change.accept()
    assert change.isVisible() and "at least 10 characters" in change.error.text()
