"""Issue and render 1,000 copies end to end (serials, database rows, audit events, PDF, file store), against
the naive route (reportlab's own QR widget per page)."""

from __future__ import annotations

import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

from app.services.issuance import issuance
from bench.bench_render import _issue, naive
from bench.common import Row, site
from tests.helpers.forms import sample_layout


def cli_issue(copies: int = 2000, repeats: int = 3) -> Row:
    """The real `formtrail issue` child process, start-up included, for a two-page form."""
    import os
    import subprocess
    import sys

    from tests.helpers.forms import effective_template
    from tests.helpers.seed import PASSWORD
    root = Path(__file__).resolve().parents[1]
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        db, seed = site(home, with_template=None)
        effective_template(seed, "PRD-BR-102")
        db.engine.dispose()
        env = {k: v for k, v in os.environ.items() if not k.startswith("FORMTRAIL_")}
        env.update(FORMTRAIL_HOME=str(home), FORMTRAIL_USER="dc",
                   FORMTRAIL_PASSWORD=PASSWORD)
        for n in range(repeats):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "app", "issue", "PRD-BR-102", "--copies", str(copies), "--purpose",
                            "bench", "--to", "Line 1", "--due", "2099-01-01", "--out", str(Path(tmp) / f"{n}.pdf")],
                           cwd=root, env=env, check=True, capture_output=True)
            times.append(time.perf_counter() - start)
    median = statistics.median(times)
    pages = copies * 2
    return Row(f"formtrail issue --copies {copies:,}, 2-page form (CLI, start-up incl.)", pages / median, "pages/s",
               f"{median:.2f} s for {pages:,} pages; median of {repeats}; goal >= 1,000")


def run(copies: int = 1000, repeats: int = 3) -> list[Row]:
    db, seed = site()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        issuance.issue_forms(db, seed.dc, code="QC-WS-014", copies=copies, purpose="bench", reference=None,
                             issued_to="Line 1", due=dt.date(2099, 1, 1))
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    with tempfile.TemporaryDirectory() as tmp:
        naive_s = naive(sample_layout("QC-WS-014"), _issue(), 100, Path(tmp) / "naive.pdf") / 100 * copies
    db.engine.dispose()
    return [
        Row("issue + render 1,000 copies (end to end)", copies / median, "pages/s",
            f"{median * 1000 / copies:.2f} ms/page incl. database and audit trail; median of {repeats}"),
        Row("  vs naive route (QR widget per page)", naive_s / median, "× faster",
            f"naive {naive_s * 1000 / copies:.1f} ms/page"),
        cli_issue(),
    ]


def main() -> None:
    for row in run():
        print(f"{row.name}: {row.figure:.1f} {row.unit} ({row.detail})")


if __name__ == "__main__":
    main()
