"""Idle auto-lock (21 CFR 11.10(d), AC-06): an input watcher and the lock screen only the same user can leave."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeyEvent
from PySide6.QtWidgets import QApplication, QDialog, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from app.services.core.db import Actor, Database
from app.services.core.errors import AccountInactive, AccountLocked, FormtrailError
from app.services.identity import auth
from app.ui.kit.style import set_role
from app.ui.kit.widgets import ErrorLine, busy, fit_to_contents, hint, password_field, title

_INPUT_EVENTS = frozenset({
    QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove, QEvent.Type.Wheel,
    QEvent.Type.TouchBegin, QEvent.Type.TouchUpdate, QEvent.Type.ShortcutOverride,
})


class IdleWatcher(QObject):
    """Counts user input anywhere in the application; ``idle`` fires after ``timeout_ms`` without any."""

    idle = Signal()

    def __init__(self, timeout_ms: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(timeout_ms)
        self._timer.timeout.connect(self.idle)
        self.inputs = 0
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    @property
    def timeout_ms(self) -> int:
        return self._timer.interval()

    def start(self) -> None:
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def is_active(self) -> bool:
        return self._timer.isActive()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() in _INPUT_EVENTS and self._timer.isActive():
            self.inputs += 1
            self._timer.start()  # restart the countdown
        return False

    def detach(self) -> None:
        self._timer.stop()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)


class LockDialog(QDialog):
    """Covers a locked session. The session's owner types their password to resume; anyone else can only log
    that user out (what they saved stays saved). Escape and the window's close button do nothing."""

    resumed = Signal()
    logged_out = Signal()

    def __init__(self, db: Database, actor: Actor, *, idle_minutes: float | None, parent: QWidget | None) -> None:
        super().__init__(parent)
        self._db, self._actor = db, actor
        self._finishing = False
        self.setWindowTitle("Formtrail — session locked")
        self.setWindowModality(Qt.WindowModality.ApplicationModal)
        self.setWindowFlag(Qt.WindowType.WindowCloseButtonHint, False)

        layout = QVBoxLayout(self)
        layout.setSpacing(12)
        self.heading = title(f"Locked — {actor.full_name} ({actor.username})")
        layout.addWidget(self.heading)
        why = (f"This session was locked after {idle_minutes:g} minutes without activity." if idle_minutes
               else "This session was locked.")
        self.why = hint(f"{why} Only {actor.full_name} can continue it, with their password.")
        layout.addWidget(self.why)
        row = QHBoxLayout()
        self.password = password_field(f"Password of {actor.username}")
        self.resume_button = QPushButton(f"Unlock as {actor.username}")
        self.resume_button.setDefault(True)
        self.resume_button.clicked.connect(self._resume)
        row.addWidget(self.password, 1)
        row.addWidget(self.resume_button)
        layout.addLayout(row)
        self.error = ErrorLine()
        layout.addWidget(self.error)
        layout.addSpacing(8)
        layout.addWidget(set_role(hint(
            f"Not {actor.full_name}? You cannot use this session. Log {actor.username} out; their saved work "
            "is kept, and you can then log in as yourself."
        ), "hint"))
        self.logout_button = QPushButton(f"Log out {actor.username}")
        self.logout_button.setAutoDefault(False)
        self.logout_button.clicked.connect(self._log_out)
        layout.addWidget(self.logout_button, 0, Qt.AlignmentFlag.AlignLeft)
        fit_to_contents(self, min_width=440)
        self.password.setFocus()

    def _resume(self) -> None:
        if not self.password.text():
            self.error.show_text(f"Type the password of {self._actor.username}.")
            return
        try:
            with busy():
                auth.authenticate(self._db, username=self._actor.username, password=self.password.text(),
                                  purpose=auth.Purpose.RESUME)
        except (AccountLocked, AccountInactive) as exc:
            self.error.show_text(str(exc))
            self.resume_button.setEnabled(False)
            self.password.setEnabled(False)
            self.logout_button.setDefault(True)
            return
        except FormtrailError as exc:
            self.error.show_text(str(exc))
            self.password.clear()
            self.password.setFocus()
            return
        self.password.clear()
        self.finish(QDialog.DialogCode.Accepted)
        self.resumed.emit()

    def _log_out(self) -> None:
        self.finish(QDialog.DialogCode.Rejected)
        self.logged_out.emit()

    def reject(self) -> None:
        """Escape does not unlock."""

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        if event.key() == Qt.Key.Key_Escape:
            event.accept()
            return
        super().keyPressEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        if not self._finishing:
            event.ignore()  # the window's close button does not unlock either
            return
        super().closeEvent(event)

    def finish(self, code: QDialog.DialogCode) -> None:
        """Close the lock screen (after a resume or a log-out, or when the application ends)."""
        self._finishing = True
        self.done(code)
