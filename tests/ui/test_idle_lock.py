"""Idle auto-lock (AC-06): the session locks, only its owner resumes, anyone else can only log them out."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit

from app.ui.shell.idle import IdleWatcher
from tests.helpers.seed import PASSWORD

LEFT = Qt.MouseButton.LeftButton


def _locked_window(qtbot, open_window):  # noqa: ANN001, ANN202
    window = open_window("op", idle_timeout_ms=40)
    qtbot.waitUntil(lambda: window.is_locked, timeout=3000)
    return window, window.lock_dialog


def test_ac06_idle_session_locks_and_is_recorded(qtbot, open_window, trail) -> None:  # noqa: ANN001
    window, lock = _locked_window(qtbot, open_window)
    assert lock.isVisible() and lock.isModal()
    assert lock.heading.text() == "Locked — Otto Operator (op)"
    assert "without activity" in lock.why.text()
    assert window.screens.currentWidget() is window.cover  # the work behind is hidden, not just disabled
    assert not window.menuBar().isEnabled()
    assert [e.reason for e in trail(action="SESSION_LOCK")] == ["idle timeout"]


def test_ac06_another_user_can_only_log_the_owner_out(qtbot, open_window, trail) -> None:  # noqa: ANN001
    window, lock = _locked_window(qtbot, open_window)
    # no user-name field: the lock screen resumes the owner's session or ends it, nothing else
    assert [w for w in lock.findChildren(QLineEdit) if w.isVisible()] == [lock.password]
    lock.reject()  # Escape does not unlock
    lock.close()   # nor does the window's close button
    assert window.is_locked and lock.isVisible()
    with qtbot.waitSignal(window.logged_out, timeout=2000):
        qtbot.mouseClick(lock.logout_button, LEFT)
    assert window.ended and not window.isVisible()
    assert trail(username="op")[-1].action == "LOGOUT"


def test_ac06_wrong_password_does_not_resume(qtbot, open_window, trail) -> None:  # noqa: ANN001
    window, lock = _locked_window(qtbot, open_window)
    lock.password.setText("someone-elses-password")
    qtbot.mouseClick(lock.resume_button, LEFT)
    assert window.is_locked and lock.error.text() == "wrong user name or password"
    assert trail(username="op")[-1].action == "LOGIN_FAILURE"


def test_ac06_owner_resumes_with_password(qtbot, open_window, trail) -> None:  # noqa: ANN001
    window, lock = _locked_window(qtbot, open_window)
    window.idle.stop()  # keep this test's window from locking again straight away
    lock.password.setText(PASSWORD)
    qtbot.mouseClick(lock.resume_button, LEFT)
    assert not window.is_locked and not window.ended
    assert window.screens.currentWidget() is window.workspace and window.menuBar().isEnabled()
    assert trail(username="op")[-1].action == "SESSION_RESUME"
    assert window.idle.is_active()  # the countdown runs again


def test_lock_now_action(qtbot, open_window, trail) -> None:  # noqa: ANN001
    window = open_window("qa")
    window.lock_action.trigger()
    assert window.is_locked
    assert trail(action="SESSION_LOCK")[-1].reason == "locked by the user"
    assert window.lock_dialog.why.text().startswith("This session was locked. Only Quinn Müller can continue it")


def test_input_restarts_the_countdown(qtbot) -> None:  # noqa: ANN001
    target = QLineEdit()
    qtbot.addWidget(target)
    target.show()
    watcher = IdleWatcher(60_000)
    watcher.start()
    qtbot.keyClicks(target, "abc")
    assert watcher.inputs >= 3 and watcher.is_active()
    watcher.detach()
