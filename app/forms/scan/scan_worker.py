"""The unit of work of the decoder processes: (stored file, pages) in, plain results out, one file never
spoiling another.

A worker process imports this module (and so the decoder) when it starts. Everything here takes and returns
plain, picklable data; nothing raises for a bad file: a file that cannot be read comes back as a
:class:`FileDecode` with ``failure`` set, a page that cannot be read as a ``PageDecode`` with ``error`` set.
Only the death of the process (a crash inside a C library) escapes, and the pool that runs these tasks
reports that per task (``app.services.scans.intake_pool``).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence

from app.forms.scan.scan_decode import PageDecode, decode_page, decode_top_right
from app.forms.scan.scan_pages import MAX_PIXELS, PageError, PageImage, SourceError, iter_pages


@dataclasses.dataclass(frozen=True)
class FileTask:
    path: str  # the stored file to read
    name: str  # the name it arrived under, for messages
    pages: tuple[int, ...]  # 0-based page indices to decode


@dataclasses.dataclass(frozen=True)
class FileFailure:
    """The whole file cannot be read; ``code`` is a ``scan_pages.SOURCE_REASONS`` key."""

    code: str
    message: str


@dataclasses.dataclass(frozen=True)
class FileDecode:
    path: str
    pages: tuple[PageDecode, ...] = ()
    failure: FileFailure | None = None


def decode_files(tasks: Sequence[FileTask], max_pixels: int = MAX_PIXELS) -> list[FileDecode]:
    """Decode the given pages of each file; every requested page comes back exactly once, or the file fails."""
    return [_decode_file(task, max_pixels) for task in tasks]


def _decode_file(task: FileTask, max_pixels: int) -> FileDecode:
    try:
        iterator = iter_pages(task.path, filename=task.name, pages=task.pages, max_pixels=max_pixels, lazy=True)
    except SourceError as exc:
        return FileDecode(task.path, failure=FileFailure(exc.reason_code, exc.message))
    except Exception as exc:  # noqa: BLE001 - a decoder bug or a hostile file spoils only this file
        return FileDecode(task.path, failure=FileFailure(
            "unreadable", f"{task.name}: the file could not be read ({type(exc).__name__}: {exc})"))
    out: list[PageDecode] = []
    t0 = time.perf_counter()
    while True:
        try:
            page = next(iterator)
        except StopIteration:
            break
        except SourceError as exc:
            return FileDecode(task.path, failure=FileFailure(exc.reason_code, exc.message))
        except Exception as exc:  # noqa: BLE001 - the file broke off part way: the pages not read fail
            done = {p.index for p in out}
            out.extend(_failed(i, "render-failed", f"page {i + 1} cannot be read ({type(exc).__name__}: {exc})")
                       for i in task.pages if i not in done)
            break
        load_ms = (time.perf_counter() - t0) * 1000.0
        try:
            result = decode_top_right(page)  # most scanner pages: only their top rows are decoded
        except Exception:  # noqa: BLE001 - the whole page is decoded below instead
            result = None
        if result is None and page.deferred is not None:
            try:
                page = _loaded(page, task, max_pixels)
            except SourceError as exc:  # a JPEG file that is damaged after all: the file's problem
                return FileDecode(task.path, failure=FileFailure(exc.reason_code, exc.message))
        error = page.error
        if result is None and page.ok:
            try:
                result = decode_page(page)
            except Exception as exc:  # noqa: BLE001 - one page the decoder chokes on is that page's problem
                error = PageError("corrupt", f"page {page.index + 1}: the decoder failed ({type(exc).__name__})")
        out.append(PageDecode(index=page.index, method=page.method, width=page.width, height=page.height,
                              dpi=page.dpi, dpi_source=page.dpi_source, mode=page.mode, error=error,
                              result=result, load_ms=load_ms))
        t0 = time.perf_counter()
    done = {p.index for p in out}
    out.extend(_failed(i, "render-failed", f"page {i + 1} is not in the file") for i in task.pages if i not in done)
    return FileDecode(task.path, pages=tuple(out))


def _loaded(page: PageImage, task: FileTask, max_pixels: int) -> PageImage:
    """The lazy page decoded; if Pillow cannot, the page read again the eager way (which lets PDFium try, and
    raises SourceError for a broken image file)."""
    try:
        return page.loaded()
    except Exception:  # noqa: BLE001 - the eager path decides what the page is
        try:
            return next(iter_pages(task.path, filename=task.name, pages=[page.index], max_pixels=max_pixels))
        except SourceError:
            raise
        except Exception as exc:  # noqa: BLE001 - the page, not the file, is the problem here
            return PageImage(index=page.index, method=page.method, error=PageError(
                "corrupt", f"page {page.index + 1}: the image cannot be decoded ({type(exc).__name__}: {exc})"))


def failed_page(index: int, code: str, message: str) -> PageDecode:
    """A page that was not decoded (the decoder process died on it, or it took too long)."""
    return _failed(index, code, message)


def _failed(index: int, code: str, message: str) -> PageDecode:
    return PageDecode(index=index, method="", width=0, height=0, dpi=None, dpi_source="unknown", mode="",
                      error=PageError(code, message), result=None, load_ms=0.0)
