"""Paper review by exception (issue 15): how well the scan reader tells written from blank boxes and ticked
from empty ones, and how fast, on filled, scanned sheets with known truth (``tests/helpers/filled_sheets``).

    python -m bench.bench_paper_review [--pages 240] [--seed 15]

Accuracy: ``--pages`` sheets of every sample template (150-300 dpi, ±3° skew, 95-105 % scale, grey, JPEG,
bitonal, colour and copied scans, some turned), made and read in two worker processes. Speed: registration +
box states in this process alone, on pages made beforehand, at the resolutions intake reads (150 dpi: a
scanner's 300-dpi JPEG, DCT-scaled) and others; and the import path with and without reading the boxes: a
300-dpi scanner PDF of filled sheets, pages decoded as intake's workers do (top rows first), in two processes.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import multiprocessing
import statistics
import time

from bench.common import Row

SPEED_PAGES = 24
IMPORT_PAGES = 96


def _read_one(args: tuple[int, int]) -> object:
    """Make sheet ``index`` of ``seed``, read it, score it (in a worker process)."""
    from app.forms.scan.field_states import read_scan_page
    from tests.helpers.filled_sheets import make_sheet
    from tests.helpers.sheet_score import score
    seed, index = args
    sheet = make_sheet(seed, index)
    reading = read_scan_page(sheet.image, sheet.geometry, sheet.page, sheet.payload_text)
    return score(sheet, reading)


def accuracy(pages: int, seed: int) -> list[Row]:
    from tests.helpers.sheet_score import Score
    total = Score()
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
        for result in pool.map(_read_one, [(seed, i) for i in range(pages)], chunksize=4):
            assert isinstance(result, Score)
            total.add(result)
    n = total.pages
    return [
        Row("paper review: writing boxes read right (blank/ink)", 100 * total.writing_accuracy, "%",
            f"{total.writing_right}/{total.writing} boxes on {n} pages; {total.writing_unclear} unclear"),
        Row("paper review: tick boxes read right", 100 * total.tick_accuracy, "%",
            f"{total.ticks_right}/{total.ticks}; {total.ticks_unclear} unclear, {total.ticks_wrong} wrong "
            f"({total.false_checked} empty ones read checked)"),
        Row("paper review: blank required entries missed (goal 0)", total.missed_blank, "entries",
            f"of {total.required_blank} left blank on paper"),
        Row("paper review: written boxes read blank", total.false_blank / n, "per page",
            f"{total.false_blank} on {n} pages (each a false 'missing entry')"),
        Row("paper review: blank boxes read written", total.false_ink / n, "per page", f"{total.false_ink} in all"),
        Row("paper review: boxes read unclear", (total.writing_unclear + total.ticks_unclear) / n, "per page",
            f"worst page {total.worst_page_errors} wrong boxes; {total.overruns_blank}/{total.overruns} boxes a "
            f"stroke overruns read blank; {total.unregistered} pages not registered"),
    ]


def speed(seed: int) -> list[Row]:
    from app.forms.scan.field_states import read_scan_page
    from tests.helpers.filled_sheets import ScanOptions, make_sheet
    rows = []
    for dpi in (150, 200, 300):
        sheets = [make_sheet(seed, 10_000 + i, options=ScanOptions(dpi=dpi, skew_deg=1.3, scale=0.99,
                                                                    finish="jpeg")) for i in range(SPEED_PAGES)]
        times = []
        for _round in range(3):
            for sheet in sheets:
                start = time.perf_counter()
                reading = read_scan_page(sheet.image, sheet.geometry, sheet.page, sheet.payload_text)
                times.append((time.perf_counter() - start) * 1000.0)
                assert reading.error is None, reading.error
        boxes = statistics.mean(len(s.geometry.page(s.page).boxes) for s in sheets)
        median = statistics.median(times)
        rows.append(Row(f"paper review: register + read a {dpi}-dpi page", median, "ms/page",
                        f"median of {len(times)}; {1000 / median:.0f} pages/s on one core; ~{boxes:.0f} boxes a page"))
    return rows


def _scanned_300(args: tuple[int, int]) -> object:
    from tests.helpers.filled_sheets import ScanOptions, make_sheet
    seed, index = args
    return make_sheet(seed, index, options=ScanOptions(dpi=300, skew_deg=(index % 7 - 3) * 0.7,
                                                       scale=0.97 + 0.01 * (index % 5))).image


def _import_pages(path: str, pages: range, read: bool) -> int:
    """What an intake worker does with its pages (``scan_worker``), and, with ``read``, the box reading too;
    returns how many pages were read without an error."""
    from app.forms.layout.payload import parse
    from app.forms.scan.field_states import read_scan_page
    from app.forms.scan.scan_decode import decode_page, decode_top_right
    from app.forms.scan.scan_pages import iter_pages
    from tests.helpers.filled_sheets import geometry_of
    done = 0
    for page in iter_pages(path, pages=pages, lazy=True):
        result = decode_top_right(page) or decode_page(page.loaded())
        if read and result.ours:
            payload = parse(result.ours[0])[0]
            done += read_scan_page(page, geometry_of(payload.template), payload.page, result.ours[0]).error is None
    return done


def import_path(seed: int) -> list[Row]:
    import tempfile
    from pathlib import Path

    from tests.helpers import scanlike as sl
    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory() as tmp, concurrent.futures.ProcessPoolExecutor(
            max_workers=2, mp_context=context) as pool:
        images = pool.map(_scanned_300, [(seed, 20_000 + i) for i in range(IMPORT_PAGES)], chunksize=2)
        path = Path(tmp) / "scanner.pdf"
        path.write_bytes(sl.scanner_pdf_bytes(images, dpi=300, quality=75))  # type: ignore[arg-type]
        halves = (range(0, IMPORT_PAGES // 2), range(IMPORT_PAGES // 2, IMPORT_PAGES))
        list(pool.map(_import_pages, [str(path)] * 2, [range(0, 2)] * 2, [True, True]))  # warm both workers
        rates = {}
        for read in (False, True):
            start = time.perf_counter()
            read_ok = sum(pool.map(_import_pages, [str(path)] * 2, halves, [read, read]))
            rates[read] = IMPORT_PAGES / (time.perf_counter() - start)
    return [Row("paper review: import path with the box reading, 2 workers", rates[True], "pages/s",
                f"{read_ok}/{IMPORT_PAGES} pages read; without it {rates[False]:.0f} pages/s (decode only); "
                "a 300-dpi scanner PDF, each page decoded as intake decodes it")]


def run(pages: int = 240, seed: int = 15) -> list[Row]:
    return accuracy(pages, seed) + speed(seed) + import_path(seed)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_paper_review")
    parser.add_argument("--pages", type=int, default=240)
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    for row in run(args.pages, args.seed):
        print(f"{row.name}: {row.figure:.2f} {row.unit} ({row.detail})")


if __name__ == "__main__":
    main()
