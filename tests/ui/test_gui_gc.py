"""Garbage made on a worker thread is collected on the GUI thread (app.ui.shell.gui_gc): a QObject in a reference
cycle must never be destroyed by a pool thread that happened to cross the collector's threshold."""

from __future__ import annotations

import gc
import threading

from app.ui.shell import gui_gc


class _Cyclic:
    def __init__(self, died_on: list[bool]) -> None:
        self.me = self
        self.died_on = died_on

    def __del__(self) -> None:
        self.died_on.append(threading.current_thread() is threading.main_thread())


def test_cycles_made_on_a_worker_thread_die_on_the_gui_thread(qapp):
    collector = gui_gc.install(qapp)
    assert not gc.isenabled()
    gc.collect()
    died_on: list[bool] = []

    def churn() -> None:  # far past every threshold: automatic collection would run here, on this thread
        for _ in range(50_000):
            _Cyclic(died_on)

    worker = threading.Thread(target=churn)
    worker.start()
    worker.join()
    assert died_on == []
    collector.check()
    assert len(died_on) == 50_000 and all(died_on)


def test_the_application_installs_it_once(qapp):
    from app.ui.shell.launch import create_application
    app = create_application()
    assert gui_gc.install(app) is gui_gc.install(app)
    assert len(app.findChildren(gui_gc.GuiThreadCollector)) == 1
