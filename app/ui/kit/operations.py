"""The one way a page runs a service call in the background: :func:`run_op` for acts (with progress, and a
"data changed" announcement when they end), :func:`run_query` for reads (silent, the latest answer wins).

In the manner of Anki's ``CollectionOp``: the page gives the job and what to do with its result; this module
owns the order of events, so no page can get it wrong:

1. the job runs on a pool thread (``serial=True``, the default: the write queue, one job at a time);
2. a progress window appears if it takes longer than ``show_after_ms`` (never before, never after the end);
3. when the job ends the progress window is closed FIRST, then ``on_done(result)`` runs — or, on an error,
   ``on_failed(exc)`` or the standard error message; a handler may open a dialog safely;
4. nothing modal reports a success: :func:`notify` puts the message in the main window's status bar, with
   links to open the file written or its folder.

Handlers are only called while ``owner`` still exists (a page closed meanwhile gets nothing).

In the manner of Anki's ``QueryOp``, :func:`run_query` reads without a progress window on the parallel pool (a
read never waits behind a write), and hands its result to ``on_done`` only if no newer query of the same owner
and key started meanwhile: a page that reloads twice quickly never shows the older list last."""

from __future__ import annotations

import collections
import dataclasses
import itertools
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtWidgets import QWidget
from shiboken6 import isValid

from app.ui.kit import data_events, messages, workers
from app.ui.kit.data_events import Topic
from app.ui.kit.workers import Job, ProgressDialog, Task

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class Notice:
    """A non-modal report of something done: its text and, if a file was written, the file."""

    text: str
    path: Path | None = None


# A progress window for quick jobs would only flicker; tests set 0 to see it during every job.
SHOW_AFTER_MS = 400

# The latest notices, newest last: what the status bar showed (tests and the About box read it).
HISTORY: collections.deque[Notice] = collections.deque(maxlen=50)


def notify(owner: QWidget | None, text: str, *, path: Path | None = None) -> Notice:
    """Report ``text`` without a modal box: in the status bar of the main window that holds ``owner`` (a
    window offering ``show_notice``), with links to ``path`` and its folder when given."""
    notice = Notice(text, path)
    HISTORY.append(notice)
    widget = owner
    while widget is not None and isValid(widget):
        show = getattr(widget, "show_notice", None)
        if show is not None:
            show(notice)
            break
        widget = widget.parentWidget()
    return notice


def run_op(
    owner: QWidget, job: Job, *, title: str, label: str,
    on_done: Callable[[Any], None] | None = None,
    on_failed: Callable[[BaseException], None] | None = None,
    on_cancelled: Callable[[], None] | None = None,
    serial: bool = True, cancellable: bool = False, show_after_ms: int | None = None, name: str = "",
    changes: Iterable[Topic] = (),
) -> Task:
    """Run ``job(progress, cancelled)`` in the background behind a progress window parented to ``owner``.

    ``on_failed`` defaults to the standard error message titled ``title``. When the job ends, however it ends
    (a failed or cancelled batch may have committed part of its work), the pages showing ``changes`` reload.
    Returns the task (its ``ended`` signal fires after the handlers)."""
    task = workers.run_task(job, serial=serial, name=name or title)
    changed = frozenset(changes)
    # Connected before the handlers and emitted first (Task.settled): the window is gone when they run.
    ProgressDialog(task, title=title, label=label, parent=owner, cancellable=cancellable,
                   show_after_ms=SHOW_AFTER_MS if show_after_ms is None else show_after_ms)

    def failed(exc: BaseException) -> None:
        if on_failed is not None:
            on_failed(exc)
        else:
            messages.show_exception(owner, exc, title=title)
    if on_done is not None:
        task.finished.connect(workers.while_alive(owner, on_done))
    task.failed.connect(workers.while_alive(owner, failed))
    if on_cancelled is not None:
        task.cancelled.connect(workers.while_alive(owner, on_cancelled))
    if changed:
        task.ended.connect(lambda: data_events.announce(changed))
    return task


_QUERIES: dict[tuple[int, str], int] = {}  # (owner's id, key) -> the generation whose answer is awaited
# One counter for all queries: a per-slot count would start again at 1 once the latest answer was taken, and an
# older query still running would then pass for the newest.
_GENERATIONS = itertools.count(1)
_IN_FLIGHT: set[Task] = set()


def run_query(
    owner: QWidget, query: Callable[[], T], *, on_done: Callable[[T], None],
    on_failed: Callable[[BaseException], None] | None = None, key: str = "", name: str = "",
) -> Task:
    """Run the read ``query()`` off the GUI thread and give its result to ``on_done`` on the GUI thread — only
    if ``owner`` still exists and this is the latest query of ``owner`` under ``key``. ``on_failed`` defaults
    to the standard error message."""
    slot = (id(owner), key)
    generation = next(_GENERATIONS)
    _QUERIES[slot] = generation
    task = workers.run_task(lambda progress, cancelled: query(), serial=False, name=name or f"query {key}")
    _IN_FLIGHT.add(task)

    def current() -> bool:
        return isValid(owner) and _QUERIES.get(slot) == generation

    def done(result: Any) -> None:
        if current():
            on_done(result)

    def failed(exc: BaseException) -> None:
        if not current():
            return
        if on_failed is not None:
            on_failed(exc)
        else:
            messages.show_exception(owner, exc, title="Could not read")

    def ended() -> None:
        _IN_FLIGHT.discard(task)
        if _QUERIES.get(slot) == generation:
            del _QUERIES[slot]
    task.finished.connect(done)
    task.failed.connect(failed)
    task.ended.connect(ended)
    return task


def queries_in_flight() -> int:
    """How many reads have not delivered yet (tests wait for 0)."""
    return len(_IN_FLIGHT)
