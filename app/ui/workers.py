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

from PySide6.QtCore import QObject, Qt, QThreadPool, QTimer, Signal, Slot
from PySide6.QtWidgets import QApplication, QProgressDialog, QWidget

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


class Task(QObject):
    """A job running (or finished) in the background; see the module docstring."""

    progressed = Signal(int, int)
    finished = Signal(object)
    failed = Signal(object)
    cancelled = Signal()
    ended = Signal()

    def __init__(self, name: str = "") -> None:
        super().__init__()
        self.name = name
        self._cancel = threading.Event()
        self._running = True
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

    @Slot(object)
    def _release(self) -> None:
        """Drop the module's reference only once control is back in the event loop: if the slots just called
        dropped theirs too, the task would otherwise be destroyed inside its own signal delivery (a crash)."""
        QTimer.singleShot(0, lambda: _RUNNING.discard(self))

    def _on_success(self, result: Any) -> None:
        self._running = False
        self._release()
        self.result = result
        if self._cancel.is_set():
            self.cancelled.emit()
        else:
            self.finished.emit(result)
        self.ended.emit()

    @Slot(object)
    def _on_error(self, exc: BaseException) -> None:
        self._running = False
        self._release()
        if isinstance(exc, Cancelled):
            self.cancelled.emit()
        else:
            self.error = exc
            self.failed.emit(exc)
        self.ended.emit()


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
    _RUNNING.add(task)

    def body() -> None:
        try:
            result = job(relay.progressed.emit, task._cancel.is_set)
        except BaseException as exc:  # noqa: BLE001 - handed to the GUI thread, never swallowed
            relay.raised.emit(exc)
        else:
            relay.succeeded.emit(result)

    _pool(serial).start(body)
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
    ``show_after_ms`` and closes itself when the job ends."""

    def __init__(
        self, task: Task, *, title: str, label: str, parent: QWidget | None = None,
        cancellable: bool = True, show_after_ms: int = 400,
    ) -> None:
        super().__init__(label, "Cancel" if cancellable else "", 0, 0, parent)
        self.setWindowTitle(title)
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setAutoReset(False)
        self.setAutoClose(False)
        self.setMinimumDuration(show_after_ms)
        self.setMinimumWidth(380)
        if not cancellable:
            self.setCancelButton(None)
        self._task = task
        self.canceled.connect(self._cancel)
        task.progressed.connect(self._on_progress)
        task.ended.connect(self._on_ended)
        if not task.running:
            self._on_ended()

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
        self.reset()
        self.hide()
        self.deleteLater()
