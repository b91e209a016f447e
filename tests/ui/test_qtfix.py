"""The PySide6 emit() reference-count workaround (app/ui/qtfix.py)."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal

from app.ui import qtfix


class _Emitter(QObject):
    changed = Signal(object)


def test_many_emits_leave_true_alive() -> None:
    emitter = _Emitter()
    for i in range(20_000):
        emitter.changed.emit(i)
    assert sys.getrefcount(True) > 1000


def test_the_fix_is_applied_only_when_needed() -> None:
    if qtfix.emit_steals_true() and sys.version_info < (3, 12):
        assert sys.getrefcount(True) > 1 << 39  # pinned on import of app.ui
    assert qtfix.apply() in (True, False)  # idempotent
