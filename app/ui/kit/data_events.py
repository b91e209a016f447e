""""The data changed": one signal every page listens to, instead of pages reloading one another.

An operation that writes (``run_op(..., changes={Topic.SCANS})``) announces what it changed when it ends; a page
that shows that data ``listen``\\ s for it and reloads — at once if it is on screen, otherwise the next time it is
shown (``page_shown``), so a hidden page costs nothing. A page never needs to know which other pages exist."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QWidget
from shiboken6 import isValid


class Topic(enum.Enum):
    """What kind of data changed (coarse on purpose: a page reloads its list, it does not patch rows)."""

    TEMPLATES = "templates"
    ISSUANCE = "issuance"      # issued forms, issuances, their states and reconciliation
    SCANS = "scans"            # scan files, pages, exceptions, true copies
    RECORDS = "records"        # electronic records, their values and signatures
    PAPER = "paper"            # the paper findings of scanned sheets (read boxes) and their resolution
    USERS = "users"            # accounts, roles, lockouts
    SETTINGS = "settings"      # configuration and the site's own data (backups, verify runs)


class _Hub(QObject):
    changed = Signal(object)  # frozenset[Topic]


_HUB: _Hub | None = None


def hub() -> _Hub:
    """The application's one hub (made on first use, on the GUI thread that uses it)."""
    global _HUB  # one hub per process, as there is one QApplication
    if _HUB is None or not isValid(_HUB):
        _HUB = _Hub()
    return _HUB


def announce(topics: Iterable[Topic]) -> None:
    """Tell every listening page that data of ``topics`` changed."""
    wanted = frozenset(topics)
    if wanted:
        hub().changed.emit(wanted)


def listen(owner: QWidget, topics: Iterable[Topic], reload: Callable[[], None]) -> None:
    """Call ``reload`` when data of ``topics`` changed while ``owner`` is on screen; a hidden owner is left to
    reload when it is shown again. The connection ends with ``owner``."""
    wanted = frozenset(topics)

    def changed(what: frozenset[Topic]) -> None:
        if isValid(owner) and what & wanted and owner.isVisible():
            reload()
    # Through a child of owner, so Qt drops the connection when the widget is destroyed.
    hub().changed.connect(_Receiver(owner, changed).fire)


class _Receiver(QObject):
    """Lives as a child of the listening widget, so the connection dies with it."""

    def __init__(self, owner: QWidget, call: Callable[[frozenset[Topic]], None]) -> None:
        super().__init__(owner)
        self._call = call

    @Slot(object)
    def fire(self, what: frozenset[Topic]) -> None:
        self._call(what)
