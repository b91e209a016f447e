"""Issue and render 1,000 copies end to end (serials, database rows, audit events, PDF, file store), against
the naive route (reportlab's own QR widget per page)."""

from __future__ import annotations

import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

from bench.bench_render import _issue, naive
from bench.common import Row, site
from app.services import issuance
from tests.helpers.forms import sample_layout


def run(copies: int = 1000, repeats: int = 3) -> list[Row]:
    db, seed = site()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        issuance.issue_forms(db, seed.dc, code="QC-WS-014", copies=copies, purpose="bench", reference=None,
                             issued_to="Line 1", due=dt.date(2099, 1, 1))
        times.append(time.perf_counter() - start)
    best = statistics.median(times)
    with tempfile.TemporaryDirectory() as tmp:
        naive_s = naive(sample_layout("QC-WS-014"), _issue(), 100, Path(tmp) / "naive.pdf") / 100 * copies
    db.engine.dispose()
    return [
        Row("issue + render 1,000 copies (end to end)", copies / best, "pages/s",
            f"{best * 1000 / copies:.2f} ms/page incl. database and audit trail; median of {repeats}"),
        Row("  vs naive route (QR widget per page)", naive_s / best, "× faster",
            f"naive {naive_s * 1000 / copies:.1f} ms/page"),
    ]


def main() -> None:
    for row in run():
        print(f"{row.name}: {row.figure:.1f} {row.unit} ({row.detail})")


if __name__ == "__main__":
    main()
