"""Small building blocks shared by the dialogs: labelled hints, an inline error line, password rules."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QApplication,
    QBoxLayout,
    QDialog,
    QLabel,
    QLayout,
    QLineEdit,
    QPlainTextEdit,
    QTableView,
    QWidget,
)

from app.services.core.db import Database
from app.services.site import settings
from app.ui.kit import file_dialogs
from app.ui.kit.style import set_role


def hint(text: str, parent: QWidget | None = None) -> QLabel:
    """Grey explanatory text under a field or at the top of a dialog."""
    label = QLabel(text, parent)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    return set_role(label, "hint")


def title(text: str, parent: QWidget | None = None) -> QLabel:
    return set_role(QLabel(text, parent), "title")


class ErrorLine(QLabel):
    """Red text inside a dialog for the last error (empty and hidden when there is none)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        set_role(self, "error")
        self.hide()

    def show_text(self, text: str) -> None:
        self.setText(text)
        self.setVisible(bool(text))

    def clear_text(self) -> None:
        self.show_text("")


def password_field(placeholder: str = "") -> QLineEdit:
    field = QLineEdit()
    field.setEchoMode(QLineEdit.EchoMode.Password)
    field.setPlaceholderText(placeholder)
    return field


def reason_field(placeholder: str = "Why is this change made? (goes into the audit trail)") -> QPlainTextEdit:
    field = QPlainTextEdit()
    field.setPlaceholderText(placeholder)
    field.setTabChangesFocus(True)
    field.setFixedHeight(72)
    return field


def password_rules(db: Database) -> str:
    """The password policy in plain words, from the current settings."""
    values = {s.key: s.value for s in settings.list_settings(db)}
    lines = [
        f"• at least {values['password.min_length']} characters",
        "• at least three of: lower-case letters, capitals, digits, symbols",
        "• must not contain the user name",
    ]
    if values["password.history"]:
        lines.append(f"• must differ from the last {values['password.history']} passwords of the account")
    if values["password.expiry_days"]:
        lines.append(f"• expires after {values['password.expiry_days']} days; you will then be asked for a new one")
    return "Password rules:\n" + "\n".join(lines)


def fit_to_contents(dialog: QDialog, *, min_width: int = 0) -> None:
    """Keep a dialog exactly as large as its contents, growing when an error line appears (word-wrapped labels
    otherwise get clipped). ``min_width`` widens it through a strut, since a fixed-size dialog ignores its own
    minimum width."""
    layout = dialog.layout()
    if layout is None:
        return
    layout.setSizeConstraint(QLayout.SizeConstraint.SetFixedSize)
    if min_width and isinstance(layout, QBoxLayout):
        strut = QWidget(dialog)
        strut.setFixedSize(min_width - layout.contentsMargins().left() - layout.contentsMargins().right(), 0)
        layout.addWidget(strut)


def setup_table(view: QTableView) -> QTableView:
    """The look every Formtrail table shares: whole rows selected one at a time, read-only, compact rows."""
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.verticalHeader().hide()
    view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 8)
    view.horizontalHeader().setStretchLastSection(True)
    view.horizontalHeader().setHighlightSections(False)
    # Columns sized to their contents look at the first rows only: measuring every row of a 1,000-form issuance
    # asked the model for 200,000 cells and took a second and a half.
    view.horizontalHeader().setResizeContentsPrecision(60)
    return view


@contextlib.contextmanager
def busy() -> Iterator[None]:
    """A wait cursor while the GUI thread does something that takes a moment (checking a password hash)."""
    QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        yield
    finally:
        QApplication.restoreOverrideCursor()


def ask_export_path(parent: QWidget, caption: str, name: str, formats: dict[str, str],
                    default: str) -> tuple[Path, str] | None:
    """Where to export and in which format (``formats`` maps a file-dialog filter to its format), starting in the
    folder of the last export; the file name gets the chosen format's extension. None when the user cancels."""
    answer = file_dialogs.ask_save(parent, caption, purpose="exports", name=name, filters=";;".join(formats),
                                   selected=default)
    if answer is None:
        return None
    path, chosen = answer
    fmt = formats.get(chosen) or path.suffix.lstrip(".").lower() or formats[default]
    return file_dialogs.ending(path, f".{fmt}"), fmt


def main_action(page: QWidget, button: QAbstractButton) -> None:
    """Enter (or Return) anywhere on ``page`` presses ``button`` when it is shown and enabled: the page's main
    action, as the default button of a dialog."""
    def press() -> None:
        if button.isVisible() and button.isEnabled():
            button.click()
    for key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
        shortcut = QShortcut(QKeySequence(key), page)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(press)


def day_of(value: QDate) -> dt.date:
    """A QDate as the date it holds (PySide6 types ``toPython`` as returning any object)."""
    day = value.toPython()
    if not isinstance(day, dt.date):
        raise TypeError(f"not a valid date: {value!r}")
    return day

