"""PDFium (behind pypdfium2) is not thread-safe: every in-process use (the page viewer, decoding again,
small imports) holds this one lock; big imports decode in worker processes instead."""

from __future__ import annotations

import threading

PDFIUM_LOCK = threading.Lock()
