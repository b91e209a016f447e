"""The unit of work of paper reading: (stored file, page, its template geometry) in, a :class:`PageReading` out.

Runs in the intake's worker processes (or inline for a page or two). Plain, picklable data in and out; nothing
raises for a bad page: a page that cannot be loaded or registered comes back as a reading with ``error`` set,
so a person looks at it instead of anyone assuming it was checked.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence

from app.forms.layout.geometry import FormGeometry
from app.forms.scan.readings import PageReading
from app.forms.scan.scan_pages import MAX_PIXELS, SourceError, iter_pages

READ_DPI = 150.0  # the reader's working resolution: boxes are millimetres wide, 150 dpi gives ~6 px per mm


@dataclasses.dataclass(frozen=True)
class ReadTask:
    key: int  # the scan page's id
    path: str  # the stored file
    name: str  # its original name, for messages
    index: int  # 0-based page index in the file
    page_no: int  # the form page it is linked to
    geometry: FormGeometry
    payload_text: str | None  # the code's text, when known (tells the reader the symbol size)


@dataclasses.dataclass(frozen=True)
class ReadResult:
    key: int
    reading: PageReading
    ms: float


def read_pages(tasks: Sequence[ReadTask], max_pixels: int = MAX_PIXELS) -> list[ReadResult]:
    """Read every task's page; one result per task, in order."""
    return [_read(task, max_pixels) for task in tasks]


def _read(task: ReadTask, max_pixels: int) -> ReadResult:
    from app.forms.scan.field_states import read_scan_page  # the reader's numpy work loads with the first page

    start = time.perf_counter()
    try:
        page = next(iter_pages(task.path, filename=task.name, pages=[task.index], min_dpi=READ_DPI,
                               max_pixels=max_pixels))
        if page.image is None:
            raise ValueError(page.error.message if page.error is not None else "no image")
        reading = read_scan_page(page.image, task.geometry, task.page_no, task.payload_text)
    except (SourceError, StopIteration, ValueError, OSError) as exc:
        reading = PageReading(page=task.page_no, boxes=(), residual_mm=None,
                              error=f"the page could not be read for its boxes: {exc}")
    except Exception as exc:  # noqa: BLE001 - a reader bug on one page is that page's problem, said plainly
        reading = PageReading(page=task.page_no, boxes=(), residual_mm=None,
                              error=f"the reader failed on this page ({type(exc).__name__}: {exc})")
    return ReadResult(task.key, reading, (time.perf_counter() - start) * 1000.0)
