"""Which code layout survives damage: error correction M or Q, one code per page or two?

    python -m bench.bench_qr_robustness [--trials 30] [--workers 2]

For each layout (ECC M or Q; one code top-right, or two codes top-right + bottom-left; 0.75 mm modules,
8 mm from the edges) the same synthetic A4 page at 300 dpi is damaged in the same random ways (paired
seeds: every layout gets exactly the same damage, placed relative to its codes), "scanned" (soft optics,
sensor noise, JPEG q75 inside a scanner-style PDF), and read back through the real pipeline
(``iter_pages`` + ``decode_page``). A page counts as read when the decoder returns exactly the page's
payload; any other code of ours returned counts as a WRONG read (there must be none).

Damage types ("a code" = one of the page's codes chosen at random; with one code, that code):

* stain on a code: a soft dark blotch (darkness and size random) over part of a code;
* pen stroke across a code: 0.5-2 mm wide, random ink and angle;
* hole through a code: a 6 mm hole anywhere over a code (shows black or white);
* 4-hole punch: ISO 838 positions (12 mm from the left edge, 80 mm apart) - where a punch really goes;
* staple across a code;
* photocopy: low contrast and noise over the whole page;
* 150 dpi: scanned at 150 dpi, soft, JPEG q50;
* stains on both codes: one stain on each code (with one code: one stain).

Then, separately: does the bottom-left code by itself survive a 4-hole punch, 8 or 18 mm from the edge?

Cells: read rate with every fallback (in brackets: the fast path alone, corners then whole page).
The damage is random within the stated ranges, so rates depend on those ranges: compare layouts within
a row, not rows with each other.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import math
import multiprocessing
import sys
import time
from collections import Counter, defaultdict

import numpy as np
from PIL import Image

from app.forms.scan.scan_decode import decode_page
from app.forms.scan.scan_pages import iter_pages
from tests.helpers import scanlike as sl

DPI = 300
LAYOUTS = [("M", 1), ("M", 2), ("Q", 1), ("Q", 2)]
DAMAGES = ["none", "stain on a code", "pen stroke across a code", "hole through a code", "4-hole punch",
           "staple across a code", "photocopy (contrast + noise)", "150 dpi, soft, JPEG q50",
           "stains on both codes"]

_pages: dict[tuple[str, int], sl.SyntheticPage] = {}
_noise: list[np.ndarray] = []


def _page(ec: str, codes: int) -> sl.SyntheticPage:
    key = (ec, codes)
    if key not in _pages:
        corners = ("top-right", "bottom-left")[:codes]
        _pages[key] = sl.make_page(sl.payload_text("123456", page=1, pages=2), dpi=DPI, ec_level=ec,
                                   corners=corners)
    return _pages[key]


def _scanned(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Soft optics and sensor noise (from a few cached noise fields, shifted: fast and still random)."""
    if not _noise:
        noise_rng = np.random.default_rng(12345)
        _noise.extend(np.clip(noise_rng.normal(0, 5, (3700, 2700)), -60, 60).astype(np.int16) for _ in range(2))
    a = np.asarray(sl.blur(image, 0.6), dtype=np.int16)
    field = _noise[int(rng.integers(0, len(_noise)))]
    y, x = int(rng.integers(0, field.shape[0] - a.shape[0] + 1)), int(rng.integers(0, field.shape[1] - a.shape[1] + 1))
    return Image.fromarray(np.clip(a + field[y:y + a.shape[0], x:x + a.shape[1]], 0, 255).astype(np.uint8), "L")


def damage(page: sl.SyntheticPage, kind: str, seed: int) -> tuple[Image.Image, int]:
    """The damaged, scanned page image and its resolution. Random choices depend only on ``seed``."""
    rng = np.random.default_rng(seed)
    img, boxes = page.image, page.code_boxes
    # which code is hit: drawn the same way for every layout, then mapped onto the codes the page has
    pick = int(rng.integers(0, 2))
    box = boxes[pick % len(boxes)]
    x0, y0, x1, y1 = box
    dpi = DPI
    if kind == "none":
        out = img
    elif kind == "stain on a code":
        out = sl.smudge(img, box, coverage=rng.uniform(0.25, 0.6), darkness=int(rng.integers(10, 80)),
                        seed=int(rng.integers(1 << 30)))
    elif kind == "stains on both codes":
        out = img
        for b in boxes:
            out = sl.smudge(out, b, coverage=rng.uniform(0.25, 0.6), darkness=int(rng.integers(10, 80)),
                            seed=int(rng.integers(1 << 30)))
    elif kind == "pen stroke across a code":
        out = sl.pen_stroke(img, box, dpi=DPI, width_mm=rng.uniform(0.5, 2.0), ink=int(rng.integers(20, 80)),
                            seed=int(rng.integers(1 << 30)), through=rng.uniform(0.15, 0.85))
    elif kind == "hole through a code":
        centre = (int(rng.uniform(x0, x1)), int(rng.uniform(y0, y1)))
        out = sl.hole_punch(img, centre, dpi=DPI, fill=int(rng.choice([20, 255])))
    elif kind == "4-hole punch":
        # ISO 838: holes 6 mm, centres 12 mm from the edge, 80 mm apart, symmetric about the middle;
        # the sheet sits up to +-3 mm off in the punch
        offset = rng.uniform(-3, 3)
        out = img
        for k in (-1.5, -0.5, 0.5, 1.5):
            y_mm = sl.A4_MM[1] / 2 + 80 * k + offset
            out = sl.hole_punch(out, (sl.mm_to_px(12, DPI), sl.mm_to_px(y_mm, DPI)), dpi=DPI,
                                fill=int(rng.choice([20, 255])))
    elif kind == "staple across a code":
        centre = (int(rng.uniform(x0, x1)), int(rng.uniform(y0, y1)))
        out = sl.staple(img, centre, dpi=DPI, angle_deg=rng.uniform(0, 180))
    elif kind == "photocopy (contrast + noise)":
        out = sl.add_noise(sl.low_contrast(img, black=int(rng.integers(100, 150)), white=int(rng.integers(190, 226))),
                           rng.uniform(6, 14), seed=int(rng.integers(1 << 30)))
    elif kind == "150 dpi, soft, JPEG q50":
        dpi = 150
        small = sl.blur(sl.resample(img, DPI, 150), rng.uniform(0.5, 1.0))
        out = sl.jpeg_round_trip(sl.add_noise(small, 5, seed=int(rng.integers(1 << 30))), 50)
        return out, dpi
    else:  # pragma: no cover
        raise ValueError(kind)
    return _scanned(out, rng), dpi


def punched_code_alone(ec: str, left_margin_mm: float, seed: int) -> bool:
    """Whether the bottom-left code alone (zxing on its corner) survives a 4-hole punch."""
    import zxingcpp

    page = sl.make_page(sl.payload_text("123456", page=1, pages=2), dpi=DPI, ec_level=ec,
                        left_margin_mm=left_margin_mm)
    image, _dpi = damage(page, "4-hole punch", seed)
    x0, y0, x1, y1 = page.code_boxes[1]
    region = image.crop((max(0, x0 - 120), y0 - 120, x1 + 120, min(image.height, y1 + 120)))
    return any(b.text == page.text for b in zxingcpp.read_barcodes(region, formats=zxingcpp.BarcodeFormat.QRCodeModel2))


def trial(ec: str, codes: int, kind: str, seed: int) -> tuple[str, int, str, bool, bool, bool, float, str]:
    """One damaged page through the real pipeline: (ec, codes, kind, read, fast-path read, wrong, ms, step)."""
    page = _page(ec, codes)
    image, dpi = damage(page, kind, seed)
    [scan] = iter_pages(sl.scanner_pdf_bytes([image], dpi=dpi, quality=75), filename="scan.pdf")
    result = decode_page(scan)
    fast = decode_page(scan, fallbacks=False)
    read = result.ours == (page.text,)
    wrong = any(t != page.text for t in result.ours + fast.ours)
    step = (result.strategy or "-").split(":")[0] if result.strategy and ":" in result.strategy else "-"
    if result.strategy and result.strategy.startswith("corner:"):
        step = "corner"
    elif result.strategy == "page":
        step = "page"
    return ec, codes, kind, read, fast.ours == (page.text,), wrong, result.elapsed_ms, step


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=30, help="damaged pages per cell")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args(argv)

    tasks = [(ec, codes, kind, args.seed * 100003 + DAMAGES.index(kind) * 10007 + i)
             for kind in DAMAGES for i in range(args.trials) for ec, codes in LAYOUTS]
    t0 = time.perf_counter()
    with concurrent.futures.ProcessPoolExecutor(args.workers,
                                                mp_context=multiprocessing.get_context("spawn")) as pool:
        results = list(pool.map(trial, *zip(*tasks), chunksize=8))
    seconds = time.perf_counter() - t0

    cells: dict[tuple[str, str, int], list[tuple[bool, bool, bool, float]]] = defaultdict(list)
    steps: dict[tuple[str, int], Counter] = defaultdict(Counter)
    for ec, codes, kind, read, fast, wrong, ms, step in results:
        cells[(kind, ec, codes)].append((read, fast, wrong, ms))
        steps[(ec, codes)][step if read else "not read"] += 1
    heads = [f"ECC {ec}, {codes} code{'s' if codes > 1 else ''}" for ec, codes in LAYOUTS]
    print(f"read rate over {args.trials} damaged pages per cell (fast path alone in brackets); "
          f"A4, {DPI} dpi, 0.75 mm modules, JPEG q75 scanner PDF; {len(results)} pages in {seconds:.0f} s")
    print()
    print(f"{'damage':30s}" + "".join(f"{h:>20s}" for h in heads))
    totals: dict[tuple[str, int], list[bool]] = defaultdict(list)
    wrong_total = 0
    for kind in DAMAGES:
        line = f"{kind:30s}"
        for ec, codes in LAYOUTS:
            rows = cells[(kind, ec, codes)]
            rate = sum(r[0] for r in rows) / len(rows)
            fast = sum(r[1] for r in rows) / len(rows)
            wrong_total += sum(r[2] for r in rows)
            if kind != "none":
                totals[(ec, codes)].extend(r[0] for r in rows)
            line += f"{f'{rate:4.0%} ({fast:4.0%})':>20s}"
        print(line)
    print(f"{'all damage (mean)':30s}" + "".join(
        f"{sum(totals[l]) / len(totals[l]):>20.0%}" for l in LAYOUTS))
    ci = 1.96 * math.sqrt(0.25 / args.trials)
    print()
    print(f"wrong reads (a code of ours other than the page's): {wrong_total}")
    print(f"95% margin of a single cell: up to +-{ci:.0%} (binomial, {args.trials} pages)")
    print("which step read the page (all damage types):")
    for layout, head in zip(LAYOUTS, heads):
        print(f"  {head:16s} " + ", ".join(f"{k} {v}" for k, v in steps[layout].most_common()))
    print()
    print("the bottom-left code alone under a 4-hole punch (ISO 838: hole centres 12 mm from the left edge, "
          "28.5/108.5/188.5/268.5 mm from the top, +-3 mm):")
    with concurrent.futures.ProcessPoolExecutor(args.workers,
                                                mp_context=multiprocessing.get_context("spawn")) as pool:
        for margin in (8.0, 18.0):
            line = f"  quiet zone {margin:4.0f} mm from the left edge:"
            for ec in ("M", "Q"):
                seeds = [args.seed + 7919 * i for i in range(args.trials)]
                ok = sum(pool.map(punched_code_alone, [ec] * len(seeds), [margin] * len(seeds), seeds))
                line += f"  ECC {ec} {ok}/{len(seeds)} read"
            print(line)
    ms = [r[6] for r in results]
    print(f"decode time per page: median {np.median(ms):.1f} ms, p95 {np.percentile(ms, 95):.1f} ms, "
          f"max {max(ms):.0f} ms (fallbacks included)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
