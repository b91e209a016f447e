"""The background-work helper: results, errors and progress arrive on the GUI thread; cancel is cooperative."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QThread
from PySide6.QtWidgets import QApplication, QPushButton

from app.ui import workers
from app.ui.workers import Cancelled, ProgressDialog, run_task


def _gui_thread() -> QThread:
    return QApplication.instance().thread()


def test_result_and_progress_arrive_on_the_gui_thread(qtbot) -> None:  # noqa: ANN001
    seen: list[tuple[int, int, bool]] = []
    ran_on: list[threading.Thread] = []

    def job(progress, cancelled):  # noqa: ANN001, ANN202
        ran_on.append(threading.current_thread())
        for i in range(3):
            progress(i + 1, 3)
        return "done"
    task = run_task(job)
    task.progressed.connect(lambda done, total: seen.append((done, total, QThread.currentThread() is _gui_thread())))
    with qtbot.waitSignal(task.finished) as blocker:
        pass
    assert blocker.args == ["done"] and task.result == "done" and not task.running
    assert ran_on[0] is not threading.main_thread()
    assert seen == [(1, 3, True), (2, 3, True), (3, 3, True)]


def test_exception_is_delivered_by_failed(qtbot) -> None:  # noqa: ANN001
    def job(progress, cancelled):  # noqa: ANN001, ANN202
        raise ValueError("no such file")
    task = run_task(job)
    with qtbot.waitSignal(task.failed) as blocker:
        pass
    assert isinstance(blocker.args[0], ValueError) and task.error is blocker.args[0]


def test_cancel_is_cooperative(qtbot) -> None:  # noqa: ANN001
    started = threading.Event()

    def job(progress, cancelled):  # noqa: ANN001, ANN202
        started.set()
        while not cancelled():
            QThread.msleep(1)
        raise Cancelled()
    task = run_task(job)
    assert started.wait(5)
    with qtbot.waitSignals([task.cancelled, task.ended]):
        task.cancel()


def test_serial_jobs_run_one_after_another(qtbot) -> None:  # noqa: ANN001
    active, overlap = [0], [False]
    lock = threading.Lock()

    def job(progress, cancelled):  # noqa: ANN001, ANN202
        with lock:
            active[0] += 1
            overlap[0] |= active[0] > 1
        QThread.msleep(5)
        with lock:
            active[0] -= 1
    tasks = [run_task(job, serial=True) for _ in range(4)]
    qtbot.waitUntil(lambda: not any(t.running for t in tasks))
    assert not overlap[0]


@pytest.mark.parametrize("cancellable", [True, False])
def test_progress_dialog_follows_the_task(qtbot, cancellable: bool) -> None:  # noqa: ANN001
    release = threading.Event()

    def job(progress, cancelled):  # noqa: ANN001, ANN202
        progress(1, 4)
        release.wait(5)
        if cancelled():
            raise Cancelled()
        return 4
    task = run_task(job)
    dialog = ProgressDialog(task, title="Importing", label="Reading…", show_after_ms=0, cancellable=cancellable)
    qtbot.waitUntil(lambda: dialog.value() == 1)
    assert dialog.maximum() == 4
    if cancellable:
        dialog.findChild(QPushButton).click()
        assert task.is_cancel_requested()
    release.set()
    with qtbot.waitSignal(task.ended):
        pass
    assert not dialog.isVisible()


def test_wait_for_all(qtbot) -> None:  # noqa: ANN001
    task = run_task(lambda progress, cancelled: QThread.msleep(20))
    assert workers.wait_for_all(5000)
    assert not task.running
