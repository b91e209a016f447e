"""Import 200 scanned, hand-filled pages: through the intake service (a 300-dpi scanner PDF and a folder of
JPEGs), and end to end through the real `formtrail scan import` command, start-up included, as a user sees it
(issue 12: 50 pages/s or more; issue 15: reading every box of every page, still 40 pages/s or more)."""

from __future__ import annotations

import datetime as dt
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import Row, site


def _make_inputs(db, seed, folder: Path, pages: int) -> tuple[Path, Path]:  # noqa: ANN001
    import pypdfium2

    from app.services.issuance import issuance
    from tests.helpers import scanlike as sl
    result = issuance.issue_forms(db, seed.dc, code="QC-WS-014", copies=pages * 2, purpose="bench", reference=None,
                                  issued_to="Line 1", due=dt.date(2099, 1, 1))
    doc = pypdfium2.PdfDocument(str(db.files.path_for(result.pdf_sha256)))

    from app.forms.render.boxes import form_geometry
    from tests.helpers.forms import sample_layout
    from tests.helpers.paper_sheets import fill_worksheet
    geometry = form_geometry(sample_layout("QC-WS-014"))

    def page(i: int):  # noqa: ANN202 - one 300-dpi page at a time: a 400-page batch would not fit in memory
        # Filled in by hand as a returned sheet is, every tenth with a GDP slip (intake reads every box).
        slip = frozenset({"check_weight_id"}) if i % 10 == 0 else frozenset()
        filled = fill_worksheet(doc[i].render(scale=300 / 72).to_pil().convert("L"), geometry, dpi=300,
                                left_blank=slip, seed=i)
        return sl.scanned(filled, seed=i)

    pdf = folder / "scanner.pdf"
    pdf.write_bytes(sl.scanner_pdf_bytes((page(i) for i in range(pages)), dpi=300, quality=70))
    jpegs = folder / "jpegs"
    jpegs.mkdir()
    for i in range(pages, 2 * pages):
        (jpegs / f"page-{i:03d}.jpg").write_bytes(sl.jpeg_bytes(page(i), quality=75, dpi=300))
    doc.close()
    return pdf, jpegs


def _hwm_mb() -> float:
    """This process's own peak RSS (VmHWM starts afresh at exec, unlike ru_maxrss)."""
    with open("/proc/self/status", encoding="ascii") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM")) / 1024


def _child(home: str, path: str) -> None:
    """Runs in a fresh process so its peak memory is the import's own."""
    from app.runtime import RuntimeConfig, open_database
    from app.services.identity import auth
    from app.services.scans import intake
    from tests.helpers.seed import PASSWORD
    db = open_database(RuntimeConfig(home=Path(home), db_url=f"sqlite:///{Path(home) / 'formtrail.db'}",
                                     workstation="BENCH", hasher_profile="fast"), migrate=False)
    actor = auth.authenticate(db, username="op", password=PASSWORD).actor
    start = time.perf_counter()
    report = intake.import_files(db, actor, [Path(path)])
    elapsed = time.perf_counter() - start
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    own = _hwm_mb()
    from app.services.scans import paper_views
    found = paper_views.open_findings(db, actor)
    slips = sum(1 for f in found if f.field == "check_weight_id" and f.kind.value == "required-blank")
    print(f"{len(report.outcomes)} {report.linked} {elapsed} {own} {children} {slips} {len(found) - slips}")


def _cli_import(home: Path, pdf: Path, tmp: Path, repeats: int) -> tuple[list[float], list[float], int]:
    """Wall and CPU seconds (this command and its workers) of `formtrail scan import PDF`, each time on a fresh
    copy of the site (nothing imported yet)."""
    from tests.helpers.seed import PASSWORD
    walls, cpus, linked = [], [], 0
    for n in range(repeats):
        copy = tmp / f"cli-{n}"
        shutil.copytree(home, copy)
        env = {k: v for k, v in os.environ.items() if not k.startswith("FORMTRAIL_")}
        env.update(FORMTRAIL_HOME=str(copy), FORMTRAIL_USER="op", FORMTRAIL_PASSWORD=PASSWORD,
                   FORMTRAIL_WORKSTATION="BENCH")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        out = subprocess.run([sys.executable, "-m", "app", "scan", "import", str(pdf)], env=env,
                             capture_output=True, text=True, check=True).stdout
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        linked = int(out.strip().splitlines()[-1].split()[0])
        shutil.rmtree(copy)
    return walls, cpus, linked


def run(pages: int = 200, repeats: int = 3) -> list[Row]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        db, seed = site(home)
        pdf, jpegs = _make_inputs(db, seed, Path(tmp), pages)
        db.engine.dispose()
        walls, cpus, linked = _cli_import(home, pdf, Path(tmp), repeats)
        best = min(walls)
        rows.append(Row(f"`formtrail scan import` {pages}-page 300-dpi PDF, end to end", pages / best, "pages/s",
                        f"{linked}/{pages} linked; best of {repeats} {best:.2f} s, median "
                        f"{statistics.median(walls):.2f} s, {statistics.median(cpus):.2f} CPU-s incl. workers; "
                        "start-up included"))
        before = (0, 0)  # both imports go to one site: the findings of the one before are subtracted
        for label, path in (("200-page scanner PDF, 300 dpi", pdf), ("folder of 200 JPEG pages, 300 dpi", jpegs)):
            out = subprocess.run([sys.executable, "-m", "bench.bench_intake", "--child", str(home), str(path)],
                                 capture_output=True, text=True, check=True).stdout.split()
            n, linked, elapsed, own, children = int(out[0]), int(out[1]), float(out[2]), float(out[3]), float(out[4])
            slips, false = int(out[5]) - before[0], int(out[6]) - before[1]
            before = (int(out[5]), int(out[6]))
            rows.append(Row(f"import {label}", n / elapsed, "pages/s",
                            f"{linked}/{n} linked, every box read; peak RSS {own:.0f} MB main + {children:.0f} MB "
                            f"per worker"))
            rows.append(Row(f"paper findings on the {label}", false / n, "false/page",
                            f"{slips}/{n // 10} GDP slips found (a required entry left blank); {false} other "
                            "findings on sheets filled in properly"))
    return rows


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3])
        return
    for row in run():
        print(f"{row.name}: {row.figure:.1f} {row.unit} ({row.detail})")


if __name__ == "__main__":
    main()
