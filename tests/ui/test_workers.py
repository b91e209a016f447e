"""The background-work helper: results, errors and progress arrive on the GUI thread; cancel is cooperative."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QThread
from PySide6.QtWidgets import QApplication, QPushButton

from app.ui.kit import workers
from app.ui.kit.workers import Cancelled, ProgressDialog, run_task


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


def test_progress_window_closes_before_the_result_is_shown_and_never_comes_back(qtbot) -> None:  # noqa: ANN001
    """The freeze once seen after every export: the handler opened a modal box while the progress window was
    still there; QProgressDialog's own 4 s timer then showed the progress window over the box and blocked it."""
    from PySide6.QtWidgets import QMessageBox, QProgressDialog, QWidget

    from app.ui.kit.operations import run_op
    owner = QWidget()
    qtbot.addWidget(owner)
    owner.show()
    seen: dict[str, object] = {}

    def done(result: int) -> None:
        seen["progress visible"] = any(d.isVisible() for d in owner.findChildren(QProgressDialog))
        box = QMessageBox(QMessageBox.Icon.Information, "Saved", f"{result} rows", QMessageBox.StandardButton.Ok,
                          owner)
        box.open()
        seen["box"] = box
    task = run_op(owner, lambda progress, cancelled: QThread.msleep(300) or 7, title="Export", label="Writing…",
                  on_done=done, show_after_ms=0)
    qtbot.waitUntil(lambda: any(d.isVisible() for d in owner.findChildren(QProgressDialog)), timeout=5_000)
    qtbot.waitUntil(lambda: "box" in seen, timeout=10_000)
    assert seen["progress visible"] is False
    assert not task.running
    qtbot.wait(4_500)  # past QProgressDialog's default minimum duration
    assert QApplication.activeModalWidget() is seen["box"]
    assert owner.findChildren(QProgressDialog) == []  # deleted, so it cannot come back
    seen["box"].accept()  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: QApplication.activeModalWidget() is None)


def test_errors_are_shown_after_the_progress_window_closed(qtbot, monkeypatch) -> None:  # noqa: ANN001
    from PySide6.QtWidgets import QProgressDialog, QWidget

    from app.ui.kit import messages
    from app.ui.kit.operations import run_op
    owner = QWidget()
    qtbot.addWidget(owner)
    shown: list[tuple[str, bool]] = []
    monkeypatch.setattr(messages, "show_exception", lambda parent, exc, **kw: shown.append(
        (str(exc), any(d.isVisible() for d in owner.findChildren(QProgressDialog)))))

    def job(progress, cancelled):  # noqa: ANN001, ANN202
        QThread.msleep(200)
        raise ValueError("disk full")
    run_op(owner, job, title="Export", label="Writing…", show_after_ms=0)
    qtbot.waitUntil(lambda: bool(shown), timeout=10_000)
    assert shown == [("disk full", False)]


def test_a_task_is_destroyed_on_the_gui_thread_even_when_the_pool_thread_lags(qtbot, monkeypatch) -> None:  # noqa: ANN001
    """The "shared QObject was deleted directly" crash: the pool thread held the last reference to the task
    (through the job's closure) and destroyed it there, while the GUI thread still delivered its signals."""
    destroyed_on: list[str] = []
    original = workers._Runner.run

    def lagging_run(self: workers._Runner) -> None:
        original(self)
        QThread.msleep(30)  # the pool thread is descheduled after the job: the GUI thread finishes first
    monkeypatch.setattr(workers._Runner, "run", lagging_run)

    class Probe(workers.Task):
        def __del__(self) -> None:
            destroyed_on.append(threading.current_thread().name)
    monkeypatch.setattr(workers, "Task", Probe)
    for i in range(20):
        holder = [run_task(lambda progress, cancelled, i=i: i)]
        holder[0].finished.connect(lambda _result: holder.clear())
        qtbot.waitUntil(lambda: not holder, timeout=5_000)
    assert workers.wait_for_all(5_000)
    qtbot.waitUntil(lambda: len(destroyed_on) == 20, timeout=5_000)
    assert set(destroyed_on) == {threading.main_thread().name}
