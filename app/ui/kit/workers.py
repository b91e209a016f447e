"""The one background-work helper: run a plain Python callable off the GUI thread, with progress and cancel.

Every long job (verifying the audit chain, exporting, PDF batches, scan import, backups, polling) goes
through :func:`run_task`, so there is one threading model to reason about::

    def job(progress, cancelled):            # runs on a pool thread: no widgets here, services only
        for i, path in enumerate(paths):
            if cancelled():
                raise Cancelled()            # or just return early
            import_one(db, actor, path)
            progress(i + 1, len(paths))
        return len(paths)

    task = run_task(job, serial=True)        # serial=True: one-at-a-time pool for database writes
    task.progressed.connect(self._on_progress)   # (done, total), on the GUI thread
    task.finished.connect(self._on_done)          # the callable's return value, on the GUI thread
    task.failed.connect(self._on_error)           # the exception it raised, on the GUI thread
    ProgressDialog(task, title="Importing scans", label="Reading pages…", parent=self)

Rules:

* The callable receives exactly two positional arguments, ``progress(done: int, total: int)`` and
  ``cancelled() -> bool``; bind anything else with a closure or ``functools.partial``. It must not touch
  widgets; it may call services (they take ``db`` and are thread-safe per call).
* All public signals are emitted on the GUI thread, whatever thread the work ran on, so connecting
  lambdas and widget slots is safe. Connect bound methods of widgets: Qt drops the connection if the
  widget is deleted first.
* Exactly one of ``finished``, ``failed`` or ``cancelled`` is emitted, then ``ended``. ``cancelled`` is
  emitted when cancel was requested and the callable raised :class:`Cancelled` or returned.
* ``Task.cancel()`` only asks: the callable decides where it is safe to stop (between pages, between
  files), so a cancelled job never leaves half a row behind.
* ``serial=True`` uses a pool with a single thread: jobs that write to the database run one after
  another (SQLite has one writer; the audit chain is written in order).
* :func:`wait_for_all` blocks until every job has ended (application exit, tests).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, QTimer, Signal, Slot
from PySide6.QtWidgets import QApplication, QProgressDialog, QWidget
from shiboken6 import isValid

Progress = Callable[[int, int], None]
IsCancelled = Callable[[], bool]
Job = Callable[[Progress, IsCancelled], Any]


class Cancelled(Exception):
    """Raised by a job that noticed ``cancelled()`` and stopped."""


class _Relay(QObject):
    """Carries results from the pool thread to the GUI thread (queued connections)."""

    progressed = Signal(int, int)
    succeeded = Signal(object)
    raised = Signal(object)


class _Runner(QRunnable):
    """The pool's handle on a job. The Task keeps it (the pool does not delete it), so every reference to a
    QObject (the relay, the task through the job's closure) is dropped on the GUI thread: a QObject destroyed
    from a pool thread while the GUI thread still delivers its signals is the "shared QObject was deleted
    directly" crash. ``done`` is set only after ``run`` has let go of all its locals."""

    def __init__(self, job: Job, relay: _Relay, cancel: threading.Event) -> None:
        super().__init__()
        self.setAutoDelete(False)
        self._job: Job | None = job
        self._relay: _Relay | None = relay
        self._cancel = cancel
        self.done = threading.Event()

    def run(self) -> None:
        job, relay = self._job, self._relay
        assert job is not None and relay is not None
        try:
            try:
                result = job(relay.progressed.emit, self._cancel.is_set)
            except BaseException as exc:  # noqa: BLE001 - handed to the GUI thread, never swallowed
                relay.raised.emit(exc)
            else:
                relay.succeeded.emit(result)
                del result
        finally:
            # The runner (held by the task) still references both: these are never the last references.
            del job, relay
            self.done.set()


class Task(QObject):
    """A job running (or finished) in the background; see the module docstring."""

    progressed = Signal(int, int)
    settled = Signal()  # first of all, before the outcome: progress windows close here
    finished = Signal(object)
    failed = Signal(object)
    cancelled = Signal()
    ended = Signal()

    def __init__(self, name: str = "") -> None:
        super().__init__()
        self.name = name
        self._cancel = threading.Event()
        self._running = True
        self._runner: _Runner | None = None
        self.result: Any = None
        self.error: BaseException | None = None

    def cancel(self) -> None:
        """Ask the job to stop at its next ``cancelled()`` check."""
        self._cancel.set()

    def is_cancel_requested(self) -> bool:
        return self._cancel.is_set()

    @property
    def running(self) -> bool:
        return self._running

    @Slot(int, int)
    def _on_progress(self, done: int, total: int) -> None:
        if self._running:
            self.progressed.emit(done, total)

    def _release(self) -> None:
        """Drop the module's reference once control is back in the event loop (the slots just called may have
        dropped theirs: the task must not be destroyed inside its own signal delivery) and once the pool thread
        has let go of the job (it must not hold the last reference)."""
        runner = self._runner
        if runner is not None and not runner.done.is_set():
            QTimer.singleShot(5, self._release)
            return
        QTimer.singleShot(0, lambda: _RUNNING.discard(self))

    @Slot(object)
    def _on_success(self, result: Any) -> None:
        self._conclude()
        self.result = result
        if self._cancel.is_set():
            self.cancelled.emit()
        else:
            self.finished.emit(result)
        self.ended.emit()

    @Slot(object)
    def _on_error(self, exc: BaseException) -> None:
        self._conclude()
        if isinstance(exc, Cancelled):
            self.cancelled.emit()
        else:
            self.error = exc
            self.failed.emit(exc)
        self.ended.emit()

    def _conclude(self) -> None:
        self._running = False
        self._release()
        self.settled.emit()


# Tasks are kept alive here until they end, so a caller may drop its reference.
_RUNNING: set[Task] = set()
_POOLS: dict[bool, QThreadPool] = {}


def _pool(serial: bool) -> QThreadPool:
    pool = _POOLS.get(serial)
    if pool is None:
        pool = QThreadPool()
        if serial:
            pool.setMaxThreadCount(1)
        _POOLS[serial] = pool
    return pool


def run_task(job: Job, *, serial: bool = False, name: str = "") -> Task:
    """Start ``job(progress, cancelled)`` on a pool thread and return its :class:`Task` (signals on the GUI
    thread). ``serial=True`` runs it on the single-thread pool meant for database writes."""
    task = Task(name)
    relay = _Relay()
    relay.progressed.connect(task._on_progress, Qt.ConnectionType.QueuedConnection)
    relay.succeeded.connect(task._on_success, Qt.ConnectionType.QueuedConnection)
    relay.raised.connect(task._on_error, Qt.ConnectionType.QueuedConnection)
    task._relay = relay  # type: ignore[attr-defined]  # lives as long as the task
    task._runner = _Runner(job, relay, task._cancel)
    _RUNNING.add(task)
    _pool(serial).start(task._runner)
    return task


def running_tasks() -> list[Task]:
    return [task for task in _RUNNING if task.running]


def wait_for_all(timeout_ms: int = 30_000) -> bool:
    """Block until every started job has returned and its signals were delivered; False on timeout."""
    ok = all(pool.waitForDone(timeout_ms) for pool in _POOLS.values())
    app = QApplication.instance()
    if app is not None:
        app.processEvents()
    return ok


class ProgressDialog(QProgressDialog):
    """A modal progress window following a :class:`Task`: a bar (or a busy indicator while the total is
    unknown) and a Cancel button that asks the job to stop. It appears only if the job takes longer than
    ``show_after_ms`` and closes itself when the job settles, before any result or error handler runs, so a
    message shown by a handler is never covered or blocked by it.

    QProgressDialog's own show logic is switched off: its timer starts at construction with the 4 s default
    (``setMinimumDuration`` afterwards does not restart it while no value is set) and ``setValue`` may show it
    at any time; one timer of ours decides instead."""

    def __init__(
        self, task: Task, *, title: str, label: str, parent: QWidget | None = None,
        cancellable: bool = True, show_after_ms: int = 400,
    ) -> None:
        super().__init__(label, "Cancel" if cancellable else "", 0, 0, parent)
        self.setWindowTitle(title)
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setAutoReset(False)
        self.setAutoClose(False)
        self.reset()  # stops QProgressDialog's own show timer
        self.setMinimumDuration(_NEVER)
        self.setMinimumWidth(380)
        if not cancellable:
            self.setCancelButton(None)
        self._task = task
        self._show_timer = QTimer(self)
        self._show_timer.setSingleShot(True)
        self._show_timer.timeout.connect(self._appear)
        self.canceled.connect(self._cancel)
        task.progressed.connect(self._on_progress)
        task.settled.connect(self._on_ended)
        if not task.running:
            self._on_ended()
        else:
            self._show_timer.start(show_after_ms)

    @property
    def ended(self) -> bool:
        return not self._task.running

    @Slot()
    def _appear(self) -> None:
        if self._task.running:
            self.show()

    @Slot()
    def _cancel(self) -> None:
        self._task.cancel()
        self.setLabelText("Stopping after the current step…")

    @Slot(int, int)
    def _on_progress(self, done: int, total: int) -> None:
        if total > 0:
            self.setMaximum(total)
            self.setValue(min(done, total))

    @Slot()
    def _on_ended(self) -> None:
        self._show_timer.stop()
        self.reset()
        self.hide()
        self.deleteLater()


_NEVER = 2**31 - 1


def while_alive(owner: QObject, call: Callable[..., None]) -> Callable[..., None]:
    """``call`` for a signal of a task that may outlive ``owner``: Qt does not disconnect a plain function when
    the widget it was written for is deleted, so the call is dropped once ``owner`` is gone."""
    def guarded(*args: Any) -> None:
        if isValid(owner):
            call(*args)
    return guarded

