"""WORKAROUND for a reference-counting bug in PySide6 6.12.0: ``SignalInstance.emit()`` returns ``True``
without taking a reference to it, so every signal emitted from Python code steals one reference to ``True``.
A few thousand emits (progress reports, test suites) bring the count to zero and the interpreter aborts with
"Fatal Python error: bool_dealloc". Python 3.12+ makes ``True`` immortal; on 3.11 we do the same by giving it
a reference count that no session can use up. Applied once, only when the bug is measured, on import of
``app.ui``. Remove when the minimum PySide6 no longer has the bug (tests/ui/test_qtfix.py shows it)."""

from __future__ import annotations

import ctypes
import sys

from PySide6.QtCore import QObject, Signal

_HEADROOM = 1 << 40


class _Probe(QObject):
    pinged = Signal()


def emit_steals_true() -> bool:
    """Whether this PySide6 build has the bug."""
    probe = _Probe()
    before = sys.getrefcount(True)
    probe.pinged.emit()
    return sys.getrefcount(True) < before


def apply() -> bool:
    """Pin ``True``'s reference count if needed; returns whether it was pinned."""
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython" or not emit_steals_true():
        return False
    refcount = ctypes.c_ssize_t.from_address(id(True))  # ob_refcnt is the first field of every PyObject
    if refcount.value < _HEADROOM:
        refcount.value += _HEADROOM
    return True
