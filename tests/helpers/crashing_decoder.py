"""A decoder for the worker processes that dies like a real crash does — on purpose, on chosen pages.

Given to ``intake.import_files(decoder=...)``: any page of a file whose name contains "crash" kills its worker
process outright (SIGKILL, as a segmentation fault in a C library would end it, with no Python clean-up), and
a page of a file whose name contains "hang" never finishes. Every other page is decoded for real.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Sequence

from app.forms.scan.scan_pages import MAX_PIXELS
from app.forms.scan.scan_worker import FileDecode, FileTask, decode_files

CRASH_PAGE = 1  # 0-based: the second page of a "crash" file kills the worker


def crashing_decode_files(tasks: Sequence[FileTask], max_pixels: int = MAX_PIXELS) -> list[FileDecode]:
    for task in tasks:
        if "crash" in task.name and CRASH_PAGE in task.pages:
            os.kill(os.getpid(), signal.SIGKILL)
        if "hang" in task.name:
            time.sleep(3600)
    return decode_files(tasks, max_pixels)
