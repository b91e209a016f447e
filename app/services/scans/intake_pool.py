"""Decoder worker processes that never outlive the import and never take more than their own task down.

Why not ``concurrent.futures.ProcessPoolExecutor``: when one of its workers dies (a crash inside PDFium or
zxing on a hostile file), every pending task fails with ``BrokenProcessPool`` and nobody knows which file did
it; a task that hangs hangs the import; and killing the importer left its workers running (they wait on a
queue whose other end they hold themselves). Here each worker runs one task at a time over its own pipe, so
a death is charged to that task alone, a task past its deadline is stopped, and every worker ends itself when
its parent process dies (Linux: the kernel's parent-death signal; everywhere: a thread waiting on the
parent's sentinel).

Workers are started with "spawn" (the GUI process has threads, and a forked child of a threaded process can
deadlock) and import the modules named in ``preload`` at once, while the parent is still storing files.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import importlib
import multiprocessing
import queue
import threading
import time
from collections.abc import Callable, Hashable, Sequence
from multiprocessing.connection import Connection, wait
from typing import Any

from app.forms.helper_process import end_with_parent

_STOP = None
_READY = "ready"  # a worker's first message: its modules are imported
MAX_START_FAILURES = 3  # workers in a row that die before they are ready: the pool is broken


@dataclasses.dataclass(frozen=True)
class TaskResult:
    task_id: Hashable
    value: Any = None
    error: str | None = None  # the task raised (text), or the worker died or timed out on it
    crashed: bool = False  # the worker process died while running the task
    timed_out: bool = False  # the task ran past its deadline and its worker was stopped
    broken: bool = False  # the pool itself failed (no worker could be started): the task never ran

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclasses.dataclass
class _Worker:
    process: Any  # multiprocessing.context.SpawnProcess
    conn: Connection
    task: tuple[Hashable, float] | None = None  # (task id, deadline on the monotonic clock)
    ready: bool = False
    job: tuple[Hashable, Callable[..., Any], tuple[Any, ...], float] | None = None  # the task as submitted


class WorkerPool:
    """``size`` worker processes; ``submit`` queues a task, ``next_result`` returns finished ones (any order).

    A thread of this process feeds the workers and collects their results, so they stay busy while the
    caller is busy elsewhere (writing the previous results to the database)."""

    def __init__(self, size: int, *, preload: Sequence[str] = ()) -> None:
        self._ctx = multiprocessing.get_context("spawn")
        self._preload = tuple(preload)
        self._lock = threading.Lock()
        self._queue: collections.deque[tuple[Hashable, Callable[..., Any], tuple[Any, ...], float]] = \
            collections.deque()
        self._results: queue.Queue[TaskResult] = queue.Queue()
        self._outstanding = 0
        self._closing = False
        self._wake_r, self._wake_w = self._ctx.Pipe(duplex=False)
        self.size = max(1, size)
        self.crashes = 0
        self._start_failures = 0
        self._workers: list[_Worker] = []
        self.broken: BaseException | None = None
        started = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(started,), name="decoder-pool", daemon=True)
        self._thread.start()
        started.wait()
        if self.broken is not None:
            self.close()
            raise RuntimeError(f"the decoder processes cannot be started: {self.broken}") from self.broken

    # -- the caller's side ----------------------------------------------------------------------------------
    def submit(self, task_id: Hashable, fn: Callable[..., Any], args: tuple[Any, ...], *, timeout: float) -> None:
        """Queue ``fn(*args)`` (a module-level function: it travels by name) to run within ``timeout`` seconds."""
        with self._lock:
            if self._closing:
                raise RuntimeError("the decoder pool is closed")
            self._outstanding += 1
            if self.broken is not None:
                self._results.put(TaskResult(task_id, error=f"no decoder process: {self.broken}", broken=True))
                return
            self._queue.append((task_id, fn, args, timeout))
        self._wake()

    @property
    def outstanding(self) -> int:
        """Tasks submitted whose result has not been returned yet."""
        return self._outstanding

    def next_result(self, timeout: float | None = None) -> TaskResult | None:
        """The next finished task (blocking up to ``timeout`` seconds); None when nothing is outstanding or
        the time is up."""
        if self._outstanding == 0:
            return None
        try:
            result = self._results.get(timeout=timeout)
        except queue.Empty:
            return None
        with self._lock:
            self._outstanding -= 1
        return result

    def close(self) -> None:
        """Stop every worker now (busy ones too: used on cancel and after errors); idempotent."""
        with self._lock:
            if self._closing:
                return
            self._closing = True
            self._queue.clear()
        self._wake()
        self._thread.join(timeout=10)
        for worker in self._workers:
            if worker.task is None:
                with contextlib.suppress(OSError, ValueError):
                    worker.conn.send(_STOP)
        for worker in self._workers:
            _end(worker)  # an idle worker holds nothing: ending it outright saves its slow interpreter tear-down
        self._workers.clear()
        for conn in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                conn.close()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @property
    def pids(self) -> list[int]:
        return [w.process.pid for w in list(self._workers) if w.process.pid is not None]

    # -- the feeding thread ---------------------------------------------------------------------------------
    def _wake(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self._wake_w.send_bytes(b"!")

    def _run(self, started: threading.Event) -> None:
        # Workers are started here, not by the caller's thread: Linux's parent-death signal follows the thread
        # that started a process, and this one lives exactly as long as the pool.
        try:
            with self._lock:
                self._workers.extend(self._start() for _ in range(self.size))
        except BaseException as exc:  # noqa: BLE001 - reported to the constructor, which raises it
            self.broken = exc
            started.set()
            return
        started.set()
        try:
            self._feed()
        except BaseException as exc:  # noqa: BLE001 - every task still out fails, none hangs
            with self._lock:
                self.broken = exc
                lost = [task_id for task_id, *_rest in self._queue]
                lost += [w.task[0] for w in self._workers if w.task is not None]
                self._queue.clear()
                for worker in self._workers:
                    worker.task = None
            for task_id in lost:
                self._results.put(TaskResult(task_id, error=f"no decoder process: {exc}", broken=True))

    def _feed(self) -> None:
        while True:
            with self._lock:
                if self._closing:
                    return
                self._dispatch()
            busy = [w for w in self._workers if w.task is not None]
            deadline = min((w.task[1] for w in busy if w.task is not None), default=None)
            limit = None if deadline is None else max(0.0, deadline - time.monotonic())
            handles: list[Any] = [self._wake_r] + [w.conn for w in busy] + [w.process.sentinel for w in busy]
            fired = set(wait(handles, timeout=limit))
            if self._wake_r in fired:
                with contextlib.suppress(OSError, EOFError):
                    while self._wake_r.poll():
                        self._wake_r.recv_bytes()
            for worker in busy:
                if worker.conn in fired:
                    self._receive(worker)
                elif worker.process.sentinel in fired:
                    self._lost(worker, timed_out=False)
            now = time.monotonic()
            for worker in [w for w in self._workers if w.task is not None and w.task[1] <= now]:
                self._lost(worker, timed_out=True)

    def _start(self) -> _Worker:
        parent_conn, child_conn = self._ctx.Pipe(duplex=True)
        process = self._ctx.Process(target=worker_main, args=(child_conn, self._preload), daemon=True,
                                    name="formtrail-decoder")
        process.start()
        child_conn.close()  # only the worker holds its end: its death is seen as end-of-file here
        return _Worker(process=process, conn=parent_conn)

    def _dispatch(self) -> None:
        for worker in self._workers:
            if not self._queue:
                return
            if worker.task is not None:
                continue
            job = self._queue.popleft()
            task_id, fn, args, timeout = job
            try:
                worker.conn.send((task_id, fn, args))
            except (OSError, ValueError):  # it died while idle: replace it and try again
                self._queue.appendleft(job)
                self._started_badly(worker)
                self._replace(worker)
                continue
            worker.task, worker.job = (task_id, time.monotonic() + timeout), job

    def _receive(self, worker: _Worker) -> None:
        try:
            message = worker.conn.recv()
            if message == _READY:
                worker.ready, self._start_failures = True, 0
                return
            task_id, status, value = message
        except (EOFError, OSError):
            self._lost(worker, timed_out=False)
            return
        except Exception as exc:  # noqa: BLE001 - a result that cannot be unpickled fails that task only
            task_id = worker.task[0] if worker.task else None
            worker.task = None
            self._results.put(TaskResult(task_id, error=f"the result could not be read ({exc})"))
            return
        worker.task = worker.job = None
        if status == "ok":
            self._results.put(TaskResult(task_id, value=value))
        else:
            self._results.put(TaskResult(task_id, error=str(value)))

    def _lost(self, worker: _Worker, *, timed_out: bool) -> None:
        """The worker died (or is stopped for running too long): its task fails, a new worker takes its place."""
        task, job = worker.task, worker.job
        worker.task = worker.job = None
        if not worker.ready and not timed_out and job is not None:
            # It died before it could run anything (it could not even start): the task goes round again.
            self._queue.appendleft(job)
            self._started_badly(worker)
            self._replace(worker)
            return
        if task is not None:
            self.crashes += 1
            what = "took too long and was stopped" if timed_out else "ended unexpectedly (the decoder crashed)"
            self._results.put(TaskResult(task[0], error=f"the decoder process {what}", crashed=not timed_out,
                                         timed_out=timed_out))
        self._replace(worker)

    def _started_badly(self, worker: _Worker) -> None:
        if worker.ready:
            return
        self._start_failures += 1
        if self._start_failures >= MAX_START_FAILURES:
            code = getattr(worker.process, "exitcode", None)
            raise RuntimeError(f"{MAX_START_FAILURES} decoder processes in a row ended as they started "
                               f"(exit code {code})")

    def _replace(self, worker: _Worker) -> None:
        _end(worker)
        index = self._workers.index(worker)
        self._workers[index] = self._start()


def _end(worker: _Worker) -> None:
    with contextlib.suppress(OSError, ValueError, AttributeError):
        worker.process.kill()
    with contextlib.suppress(OSError, ValueError, AttributeError):
        worker.process.join(timeout=5)
    with contextlib.suppress(OSError):
        worker.conn.close()


# ------------------------------------------------------------------------------------------- in the worker


def worker_main(conn: Connection, preload: Sequence[str]) -> None:
    """A worker's life: end with the parent, import the decoder, then run one task after another."""
    end_with_parent()
    for name in preload:
        importlib.import_module(name)
    try:
        conn.send(_READY)
    except (OSError, ValueError):
        return
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return  # the parent is gone
        if message is _STOP:
            return
        task_id, fn, args = message
        try:
            reply = (task_id, "ok", fn(*args))
        except Exception as exc:  # noqa: BLE001 - reported to the parent as this task's failure
            reply = (task_id, "error", f"{type(exc).__name__}: {exc}")
        try:
            conn.send(reply)
        except (OSError, ValueError):
            return
        except Exception as exc:  # noqa: BLE001 - e.g. a result that does not pickle
            conn.send((task_id, "error", f"the result could not be sent ({exc})"))
