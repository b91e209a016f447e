"""What every helper process of ours does first: end when the process that started it ends.

A helper blocked on a full result pipe whose reader was killed (an issuing or importing process killed
mid-way) would otherwise wait for ever, holding memory and file handles.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import threading
from multiprocessing.connection import wait


def end_with_parent() -> None:
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            import ctypes
            import signal

            pr_set_pdeathsig = 1
            ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, int(signal.SIGKILL))
    parent = multiprocessing.parent_process()
    if parent is None:
        return
    sentinel = parent.sentinel

    def watch() -> None:
        with contextlib.suppress(Exception):
            wait([sentinel])
        os._exit(1)  # the parent is gone: nothing of ours is left to clean up

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
