"""Decoding the pages of an import, chunk by chunk, handed back in order — and a crash spoils one page only.

Pages travel in chunks of ``CHUNK`` (a big PDF is spread over every worker; a folder of single-page files
goes in groups rather than one round trip per file). Chunks are handed back in the order they were planned
(so which of two identical pages links first does not depend on timing), as soon as the chunks before them
are done, several at a time when they are ready together (one database transaction links them all).

When a worker process dies or overruns its deadline, its chunk is decoded again page by page, so the one
page that crashes the decoder is found and reported ("decoder-crashed" or "timed-out") and its neighbours are
read. A file on which the decoder crashed ``MAX_CRASHES_PER_FILE`` times is not tried further.
"""

from __future__ import annotations

import collections
import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path

from app.forms.pdfium_lock import PDFIUM_LOCK
from app.forms.scan.scan_decode import PageDecode
from app.forms.scan.scan_worker import FileDecode, FileFailure, FileTask, decode_files, failed_page
from app.services.scans.intake_pool import TaskResult, WorkerPool

CHUNK = 8  # pages per worker task
LINK_PAGES = 64  # at most this many decoded pages are linked in one transaction ...
MIN_LINK_PAGES = 24  # ... and, while decoding goes on, at least this many
TASK_BASE_S = 60.0  # a task's deadline: this, plus PAGE_S per page (generous: a loaded machine is slow)
PAGE_S = 30.0
MAX_CRASHES_PER_FILE = 2

DecodeFn = Callable[..., list[FileDecode]]
Cancelled = Callable[[], bool]


@dataclasses.dataclass(frozen=True)
class Item:
    """One page to decode: which source (and its stored file) and which page of it."""

    source_id: int
    sha256: str
    path: Path  # as given by the user, for the report
    name: str
    stored: str  # the stored file the worker reads
    page: int


@dataclasses.dataclass
class Chunk:
    items: list[Item]
    pages: dict[tuple[str, int], PageDecode] = dataclasses.field(default_factory=dict)
    failures: dict[str, FileFailure] = dataclasses.field(default_factory=dict)  # stored path -> why
    waiting: int = 0  # tasks of this chunk still out


def chunks(items: list[Item]) -> list[Chunk]:
    return [Chunk(items[i:i + CHUNK]) for i in range(0, len(items), CHUNK)]


def _tasks(items: list[Item]) -> list[FileTask]:
    by_file: dict[str, list[Item]] = {}
    for item in items:
        by_file.setdefault(item.stored, []).append(item)
    return [FileTask(path, group[0].name, tuple(i.page for i in group)) for path, group in by_file.items()]


def _merge(chunk: Chunk, decoded: list[FileDecode]) -> None:
    for one in decoded:
        if one.failure is not None:
            chunk.failures[one.path] = one.failure
        for page in one.pages:
            chunk.pages[(one.path, page.index)] = page


def decode_inline(work: list[Chunk], *, max_pixels: int, cancelled: Cancelled | None,
                  fn: DecodeFn = decode_files) -> Iterator[list[Chunk] | None]:
    """In this process (small imports: starting workers would cost more than it saves); None on cancel."""
    for chunk in work:
        if cancelled is not None and cancelled():
            yield None
            return
        with PDFIUM_LOCK:  # other threads of this process (the page viewer) may be using PDFium too
            _merge(chunk, fn(_tasks(chunk.items), max_pixels))
        yield [chunk]


class PoolDecoder:
    """Runs the chunks on a :class:`WorkerPool` and yields them back in order, in ready groups."""

    def __init__(self, pool: WorkerPool, *, max_pixels: int, fn: DecodeFn = decode_files) -> None:
        self.pool, self.max_pixels, self.fn = pool, max_pixels, fn
        self._crashes: collections.Counter[str] = collections.Counter()
        self._next_id = 0
        self._tasks: dict[int, tuple[Chunk, list[Item]]] = {}

    def run(self, work: list[Chunk], *, cancelled: Cancelled | None) -> Iterator[list[Chunk] | None]:
        window = 3 * self.pool.size  # tasks out at once: every worker busy, memory flat however big the file
        pending = collections.deque(work)
        order: collections.deque[Chunk] = collections.deque()
        while pending or order:
            while pending and len(self._tasks) < window:
                chunk = pending.popleft()
                order.append(chunk)
                self._submit(chunk, chunk.items)
            if cancelled is not None and cancelled():
                yield None
                return
            # Linking waits for a few chunks unless decoding is over: each transaction has a fixed cost.
            ready_pages = 0
            for chunk in order:
                if chunk.waiting or ready_pages >= LINK_PAGES:
                    break
                ready_pages += len(chunk.items)
            if ready_pages and (ready_pages >= MIN_LINK_PAGES or not self._tasks):
                ready: list[Chunk] = []
                while order and order[0].waiting == 0 and sum(len(c.items) for c in ready) < LINK_PAGES:
                    ready.append(order.popleft())
                yield ready
                continue
            result = self.pool.next_result(timeout=0.5)
            if result is not None:
                self._take(result)

    def _submit(self, chunk: Chunk, items: list[Item]) -> None:
        doomed = [i for i in items if self._crashes[i.stored] >= MAX_CRASHES_PER_FILE]
        for item in doomed:
            chunk.pages[(item.stored, item.page)] = failed_page(
                item.page, "decoder-crashed", f"page {item.page + 1}: not read, the decoder crashed on "
                                              f"{self._crashes[item.stored]} other pages of this file")
        items = [i for i in items if i not in doomed]
        if not items:
            return
        task_id, self._next_id = self._next_id, self._next_id + 1
        self._tasks[task_id] = (chunk, items)
        chunk.waiting += 1
        self.pool.submit(task_id, self.fn, (_tasks(items), self.max_pixels),
                         timeout=TASK_BASE_S + PAGE_S * len(items))

    def _take(self, result: TaskResult) -> None:
        chunk, items = self._tasks.pop(result.task_id)  # type: ignore[call-overload]
        chunk.waiting -= 1
        if result.ok:
            _merge(chunk, result.value)
            return
        if result.broken:  # no worker process can be started: read the pages here instead
            with PDFIUM_LOCK:
                _merge(chunk, self.fn(_tasks(items), self.max_pixels))
            return
        if len(items) > 1:  # find the page that did it: each on its own
            for item in items:
                self._submit(chunk, [item])
            return
        [item] = items
        self._crashes[item.stored] += 1
        code = "timed-out" if result.timed_out else "decoder-crashed"
        chunk.pages[(item.stored, item.page)] = failed_page(item.page, code, f"page {item.page + 1}: {result.error}")
