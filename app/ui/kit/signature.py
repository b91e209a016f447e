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

A batch (one password entry, one signature per item, e.g. ``true_copy.verify_many``) passes ``progress_label``:
``perform(username, password, progress)`` then runs off the GUI thread behind a progress window (``run_op``,
announcing ``changes`` when it ends), and the dialog waits, its fields disabled, until it has ended.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent
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
from app.services.identity.batch import BatchResult
from app.textfmt import plural
from app.ui.kit import messages
from app.ui.kit.data_events import Topic
from app.ui.kit.operations import run_op
from app.ui.kit.style import set_role
from app.ui.kit.widgets import ErrorLine, busy, fit_to_contents, hint, password_field, title
from app.ui.kit.workers import Progress, Task

T = TypeVar("T")

STATEMENT = ("Your electronic signature is the legally binding equivalent of your handwritten signature. "
             "Type your own user name and password: they are asked for every signature.")


class SignatureDialog(QDialog):
    def __init__(
        self, parent: QWidget | None, *, summary: str, meaning: SignatureMeaning,
        perform: Callable[..., Any], username: str = "", progress_label: str | None = None,
        changes: Iterable[Topic] = (),
    ) -> None:
        super().__init__(parent)
        self._perform = perform
        self._progress_label, self._changes = progress_label, frozenset(changes)
        self.task: Task | None = None  # a batch being signed in the background
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
        # A batch lists every item signed: room for more of them, the rest scrolls.
        self.summary.setMaximumHeight(110 if summary.count("\n") < 6 else 240)
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
        self.cancel_button = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        fit_to_contents(self, min_width=480)
        (self.password if username else self.username).setFocus(Qt.FocusReason.OtherFocusReason)

    def accept(self) -> None:
        username, password = self.username.text().strip(), self.password.text()
        if self.task is not None:
            return
        if not username or not password:
            self.error.show_text("Type your user name and password to sign.")
            return
        if self._progress_label is not None:
            self._start(username, password)
            return
        try:
            with busy():
                self.result_value = self._perform(username, password)
        except FormtrailError as exc:
            self._refused(exc)
            return
        super().accept()

    def _refused(self, exc: FormtrailError) -> None:
        if isinstance(exc, AccountLocked | AccountInactive):
            self.locked_out = True
            messages.error(self, f"{exc}\n\nNothing was signed.", title="Account locked")
            super().reject()
            return
        self.error.show_text(f"Not signed: {exc}")
        self.password.clear()
        self.password.setFocus()

    # -- a batch, signed in the background -----------------------------------------------------------
    def _start(self, username: str, password: str) -> None:
        perform = self._perform

        def job(progress: Progress, _cancelled: Callable[[], bool]) -> Any:
            return perform(username, password, progress)
        self.error.clear_text()
        self._set_running(True)
        self.task = run_op(self, job, title=self.windowTitle(), label=self._progress_label or "",
                           on_done=self._signed, on_failed=self._failed, changes=self._changes)

    def _set_running(self, running: bool) -> None:
        for widget in (self.username, self.password, self.sign_button, self.cancel_button):
            widget.setEnabled(not running)

    def _signed(self, result: Any) -> None:
        self.task = None
        self.result_value = result
        super().accept()

    def _failed(self, exc: BaseException) -> None:
        self.task = None
        self._set_running(False)
        if isinstance(exc, FormtrailError):
            self._refused(exc)
        else:  # not a refusal: say what happened; what was signed before it stays signed (the pages reload)
            messages.show_exception(self, exc, title=self.windowTitle())

    def reject(self) -> None:
        if self.task is None:  # a batch being signed finishes first (each item is signed or refused whole)
            super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        if self.task is not None:
            event.ignore()
            return
        super().closeEvent(event)

    @classmethod
    def run(
        cls, parent: QWidget | None, *, summary: str, meaning: SignatureMeaning,
        perform: Callable[..., T], username: str = "",
        on_locked_out: Callable[[], None] | None = None, progress_label: str | None = None,
        changes: Iterable[Topic] = (),
    ) -> T | None:
        """Show the dialog modally; the value ``perform`` returned, or None when cancelled or locked out
        (then ``on_locked_out`` is called, e.g. to end the session). ``progress_label``: a batch (see above)."""
        dialog = cls(parent, summary=summary, meaning=meaning, perform=perform, username=username,
                     progress_label=progress_label, changes=changes)
        accepted = dialog.exec() == QDialog.DialogCode.Accepted
        if dialog.locked_out and on_locked_out is not None:
            on_locked_out()
        value = dialog.result_value if accepted else None
        dialog.deleteLater()
        return value


# -- batches: one password entry, one signature per item ---------------------------------------------------
def batch_summary(statement: str, items: Sequence[str], *, left_out: Sequence[tuple[str, str]] = ()) -> str:
    """What the signature dialog shows for a batch: the statement, every item to be signed (one a line), and
    the selected items left out with why."""
    lines = [statement, "", f"{plural(len(items), 'item')} to sign, each with its own signature:"]
    lines += [f"  • {item}" for item in items]
    if left_out:
        lines += ["", f"Left out ({plural(len(left_out), 'selected item')} you may not sign now):"]
        lines += [f"  • {key}: {why}" for key, why in left_out]
    return "\n".join(lines)


def batch_report(result: BatchResult[Any], *, done: str, done_plural: str,
                 name: Callable[[Any], str] = str) -> tuple[str, str]:
    """After a batch: a one-line summary ("18 true copies verified, 2 refused") and the refusals, one a line
    with why ("" when none was refused). ``name`` says how an item is called (its key by default)."""
    text = plural(len(result.signed), done, done_plural)
    if result.refused:
        text += f", {len(result.refused):,} refused"
        refusals = "Refused:\n" + "\n".join(f"• {name(key)}: {message}" for key, _code, message in result.refused)
    else:
        refusals = ""
    if result.signed:
        shown = ", ".join(name(key) for key in result.signed[:10])
        text += f" ({shown}{', …' if len(result.signed) > 10 else ''})"
    return text, refusals
