"""Opening a dialog without blocking, the one way: Qt deletes it after it closed, and nothing keeps it alive.

The pattern it replaces — a closure connected to the dialog's ``finished`` that captured the dialog and called
its ``deleteLater()`` — made a cycle (dialog → connection → closure → dialog wrapper) that Python could break
while Qt was destroying the dialog: "pure virtual method called" now and then. Here the dialog is marked
``WA_DeleteOnClose`` (Qt deletes it on the next turn of the event loop, after ``finished`` was delivered) and
the handler receives it through a weak reference, so the page's handler can still read what the user chose.

A window without a parent belongs to Python: if its last Python reference went away while Qt still had events
for it or its children (a pending deferred delete, a signal connected to a Python callable), Python would
delete it on the spot and PySide would crash ("shared QObject was deleted directly"). Such windows are kept
here until Qt itself has destroyed them (:func:`keep_until_destroyed`)."""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable
from typing import TypeVar

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QWidget

D = TypeVar("D", bound=QDialog)
W = TypeVar("W", bound=QWidget)

_KEPT: dict[int, QWidget] = {}


def keep_until_destroyed(widget: W) -> W:
    """Hold a Python reference to a parentless ``widget`` until Qt destroys it (close with WA_DeleteOnClose,
    or ``deleteLater()``), so that only Qt ever deletes it."""
    key = id(widget)
    _KEPT[key] = widget
    widget.destroyed.connect(functools.partial(_KEPT.pop, key, None))
    return widget


def open_dialog(dialog: D, on_finished: Callable[[D, int], None] | None = None, *, modal: bool = True) -> D:
    """Show ``dialog`` (window-modal with ``open()``, or alongside with ``show()``); when it finishes,
    ``on_finished(dialog, result)`` runs, then Qt deletes the dialog. Returns the dialog."""
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    if dialog.parent() is None:
        keep_until_destroyed(dialog)
    ref = weakref.ref(dialog)

    def finished(result: int) -> None:
        current = ref()
        if current is not None and on_finished is not None:
            on_finished(current, result)
    dialog.finished.connect(finished)
    if modal:
        dialog.open()
    else:
        dialog.show()
    return dialog


def accepted(result: int) -> bool:
    return result == QDialog.DialogCode.Accepted
