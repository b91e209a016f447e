"""Many QR codes for one issuance, encoded in a helper process while the PDF is being written.

Encoding a code (zxing-cpp, which holds the GIL) costs about as much as drawing the rest of its page, so a
large issuance renders nearly twice as fast when a second process encodes ahead of the writer. Only payload
texts cross the process boundary (no key: the payloads are already tagged), and only (symbol size, PDF path)
comes back. Small batches are encoded in this process: starting a helper costs more than they do.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
from collections.abc import Generator, Sequence

from app.forms.helper_process import end_with_parent
from app.forms.render.qr import qr_matrix

IN_PROCESS_BELOW = 400  # codes; a helper process starts in about 0.2 s
CHUNK = 100  # codes per task: big enough to amortise the round trip, small enough to start drawing early
AHEAD = 8  # tasks in flight


def encode_chunk(texts: Sequence[str]) -> list[tuple[int, str]]:
    """In the helper: (symbol size, dark-run path) for each text."""
    out = []
    for text in texts:
        matrix = qr_matrix(text)
        out.append((matrix.size, matrix.path_code()))
    return out


def encoded(texts: Sequence[str], *, helper: bool | None = None) -> Generator[tuple[int, str], None, None]:
    """(size, path) for each text, in order. ``helper`` forces (True) or forbids (False) the helper process;
    None decides by the number of codes. A generator: the caller closes it to stop the helper early."""
    use_helper = len(texts) >= IN_PROCESS_BELOW if helper is None else helper
    if not use_helper:
        yield from encode_chunk(texts)
        return
    chunks = [texts[i:i + CHUNK] for i in range(0, len(texts), CHUNK)]
    # spawn: the desktop process has threads, and a forked child of a threaded process can deadlock.
    # The helper ends with this process: killed mid-issue, it would otherwise block for ever on its full pipe.
    with cf.ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                initializer=end_with_parent) as pool:
        pending: list[cf.Future[list[tuple[int, str]]]] = []
        queue = iter(chunks)
        for chunk in queue:
            pending.append(pool.submit(encode_chunk, chunk))
            if len(pending) >= AHEAD:
                break
        try:
            while pending:
                results = pending.pop(0).result()
                nxt = next(queue, None)
                if nxt is not None:
                    pending.append(pool.submit(encode_chunk, nxt))
                yield from results
        finally:
            for future in pending:  # cancelled or failed rendering: do not encode the rest
                future.cancel()
