"""Message boxes in one place, so every dialog words errors the same way and tests can replace them.

Service errors (``FormtrailError``) are written for the user and are shown exactly as raised; anything
else is an unexpected fault and says so.
"""

from __future__ import annotations

import traceback

from PySide6.QtWidgets import QMessageBox, QWidget

from app.services.core.errors import FormtrailError

TITLE = "Formtrail"


def describe(exc: BaseException) -> str:
    """The text a person sees for an exception."""
    if isinstance(exc, FormtrailError):
        return str(exc)
    return f"Unexpected problem ({type(exc).__name__}): {exc}\n\nNothing was saved by this step. " \
           "If it happens again, tell your system administrator."


def error(parent: QWidget | None, text: str, *, title: str = TITLE, details: str | None = None) -> None:
    box = QMessageBox(QMessageBox.Icon.Critical, title, text, QMessageBox.StandardButton.Ok, parent)
    if details:
        box.setDetailedText(details)
    box.exec()


def error_offering(parent: QWidget | None, text: str, *, action: str, title: str = TITLE,
                   details: str | None = None) -> bool:
    """An error with one way forward besides Close (e.g. "Check this workstation…"); True if it was chosen."""
    box = QMessageBox(QMessageBox.Icon.Critical, title, text, QMessageBox.StandardButton.NoButton, parent)
    chosen = box.addButton(action, QMessageBox.ButtonRole.ActionRole)
    box.setDefaultButton(box.addButton(QMessageBox.StandardButton.Close))
    if details:
        box.setDetailedText(details)
    box.exec()
    return box.clickedButton() is chosen


def show_exception(parent: QWidget | None, exc: BaseException, *, title: str = TITLE) -> None:
    details = None if isinstance(exc, FormtrailError) else "".join(traceback.format_exception(exc))
    error(parent, describe(exc), title=title, details=details)


def info(parent: QWidget | None, text: str, *, title: str = TITLE) -> None:
    QMessageBox.information(parent, title, text)


def warning(parent: QWidget | None, text: str, *, title: str = TITLE) -> None:
    QMessageBox.warning(parent, title, text)


def confirm(parent: QWidget | None, text: str, *, title: str = TITLE, ok_text: str = "OK") -> bool:
    """Ask a yes/no question; the safe answer (Cancel) is the default button."""
    box = QMessageBox(QMessageBox.Icon.Question, title, text, QMessageBox.StandardButton.NoButton, parent)
    ok = box.addButton(ok_text, QMessageBox.ButtonRole.AcceptRole)
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(cancel)
    box.exec()
    return box.clickedButton() is ok
