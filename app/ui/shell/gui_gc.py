"""Python's cycle collector runs only on the GUI thread.

Automatic collection runs in whichever thread happens to allocate when a threshold is crossed: a background
job (a database query on a pool thread) can end up destroying a widget or a QObject that was garbage in a
reference cycle, on the wrong thread, while the GUI thread is inside Qt. That corrupts memory and crashes
the program somewhere else later (seen under load as rare segmentation faults in unrelated places). So
automatic collection is switched off and a timer on the GUI thread collects instead, with the same
thresholds (the technique of pyqtgraph's GarbageCollector).
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 500


class GuiThreadCollector(QObject):
    def __init__(self, parent: QObject | None = None, *, interval_ms: int = INTERVAL_MS) -> None:
        super().__init__(parent)
        self.threshold = gc.get_threshold()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.check)
        self._timer.start(interval_ms)

    def check(self) -> None:
        """Collect the generations whose thresholds were crossed since the last check (as gc would)."""
        first, second, third = gc.get_count()
        if first > self.threshold[0]:
            gc.collect(0)
            if second > self.threshold[1]:
                gc.collect(1)
                if third > self.threshold[2]:
                    gc.collect(2)


def install(app: QObject) -> GuiThreadCollector:
    """Switch automatic collection off and collect on ``app``'s thread from now on (once per application)."""
    existing = app.findChild(GuiThreadCollector)
    return existing if existing is not None else GuiThreadCollector(app)
