"""Scan intake throughput: from scanned files to the codes on every page (no database).

    python -m bench.bench_scan [--pages 200] [--dpi 300] [--workers 2]

Builds a scanner-style PDF (every page one embedded JPEG, 300 dpi A4, noisy, a different payload per
page) and a folder with the same pages as JPEG files, then measures ``iter_pages`` + ``decode_page``
(through ``scan_decode.decode_pages``) in one process and in a pool of worker processes: pages/s, time
per page by step, peak memory (RSS), and that every page's code was found. Each measurement runs in
fresh processes (spawned), so the corpus built here does not count towards their memory. Peak memory
is also measured for 1/4, 1/2 and all of the pages, to show it does not grow with the number of pages.

The issue's goal: at least 50 pages/s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import multiprocessing
import os
import resource
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image

from app.forms.scan.scan_decode import PageDecode, decode_pages
from app.forms.scan.scan_probe import probe


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB.

    VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss over an exec, so a spawned worker would report
    the peak of the (big) parent it was forked from."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:  # pragma: no cover - not Linux
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def current_rss_mb() -> float:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:  # pragma: no cover - not Linux
        return float("nan")


# --------------------------------------------------------------------------------------------- the corpus


def build_corpus(folder: Path, pages: int, dpi: int, quality: int, seed: int = 0) -> tuple[Path, Path, list[str]]:
    """A scanner-style PDF and a folder of JPEG files with the same ``pages`` pages; returns the payloads."""
    from tests.helpers import scanlike as sl

    rng = np.random.default_rng(seed)
    probe = sl.make_page(sl.payload_text("000001"), dpi=dpi).image
    # a few noise fields, rolled per page: realistic sensor noise without 200 full-page random draws
    fields = [np.clip(rng.normal(0, 6, probe.size[::-1]), -127, 127).astype(np.int16) for _ in range(3)]
    jpegs, texts = [], []
    jpeg_dir = folder / "jpeg"
    jpeg_dir.mkdir(parents=True, exist_ok=True)
    for i in range(pages):
        text = sl.payload_text(f"{100000 + i // 2:06d}", page=i % 2 + 1, pages=2)
        page = sl.make_page(text, dpi=dpi)
        soft = np.asarray(sl.blur(page.image, 0.6), dtype=np.int16)
        noise = np.roll(fields[i % 3], shift=(int(rng.integers(0, 500)), int(rng.integers(0, 500))), axis=(0, 1))
        scan = Image.fromarray(np.clip(soft + noise, 0, 255).astype(np.uint8), "L")
        data = sl.jpeg_bytes(scan, quality=quality, dpi=dpi)
        (jpeg_dir / f"page-{i:04d}.jpg").write_bytes(data)
        jpegs.append(sl.PdfImagePage(data, scan.width, scan.height, dpi=dpi))
        texts.append(text)
    pdf = folder / f"scan-{pages}.pdf"
    pdf.write_bytes(sl.image_pdf_bytes(jpegs))
    for part in (pages // 4, pages // 2):
        if part:
            (folder / f"scan-{part}.pdf").write_bytes(sl.image_pdf_bytes(jpegs[:part]))
    return pdf, jpeg_dir, texts


# ------------------------------------------------------------------------------------ work in the processes


def _warm() -> float:
    return current_rss_mb()


def _decode_chunk(path: str, pages: list[int] | None) -> tuple[list[PageDecode], float, float]:
    """Worker: decode some pages of one file; (results, CPU seconds, peak RSS MiB of this worker)."""
    c0 = time.process_time()
    results = decode_pages(path, pages=pages)
    return results, time.process_time() - c0, peak_rss_mb()


def _decode_files(paths: list[str]) -> tuple[list[PageDecode], float, float]:
    c0 = time.process_time()
    results = [r for p in paths for r in decode_pages(p)]
    return results, time.process_time() - c0, peak_rss_mb()


def _single_process(paths: list[str]) -> dict:
    """Everything in this (fresh) process, one page after the other."""
    baseline = current_rss_mb()
    t0, c0 = time.perf_counter(), time.process_time()
    results = [r for p in paths for r in decode_pages(p)]
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"results": results, "seconds": seconds, "cpu": cpu, "baseline_mb": baseline, "peak_mb": peak_rss_mb()}


def _spawn_pool(workers: int) -> concurrent.futures.ProcessPoolExecutor:
    return concurrent.futures.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))


def run_single(paths: list[str]) -> dict:
    with _spawn_pool(1) as pool:
        pool.submit(_warm).result()  # imports done before the clock starts
        return pool.submit(_single_process, paths).result()


def run_pool_pdf(path: str, workers: int, chunk: int) -> dict:
    count = probe(path).pages
    chunks = [list(range(i, min(count, i + chunk))) for i in range(0, count, chunk)]
    t_start = time.perf_counter()
    with _spawn_pool(workers) as pool:
        for f in [pool.submit(_warm) for _ in range(workers)]:
            f.result()
        t0 = time.perf_counter()
        outs = list(pool.map(_decode_chunk, [path] * len(chunks), chunks))
        seconds = time.perf_counter() - t0
    return {"results": [r for out in outs for r in out[0]], "seconds": seconds, "cpu": sum(out[1] for out in outs),
            "with_startup": time.perf_counter() - t_start, "peak_mb": max(out[2] for out in outs)}


def run_pool_files(paths: list[str], workers: int, chunk: int) -> dict:
    groups = [paths[i:i + chunk] for i in range(0, len(paths), chunk)]
    t_start = time.perf_counter()
    with _spawn_pool(workers) as pool:
        for f in [pool.submit(_warm) for _ in range(workers)]:
            f.result()
        t0 = time.perf_counter()
        outs = list(pool.map(_decode_files, groups))
        seconds = time.perf_counter() - t0
    return {"results": [r for out in outs for r in out[0]], "seconds": seconds, "cpu": sum(out[1] for out in outs),
            "with_startup": time.perf_counter() - t_start, "peak_mb": max(out[2] for out in outs)}


# ------------------------------------------------------------------------------------------------ reporting


def check(results: list[PageDecode], texts: list[str]) -> tuple[int, int]:
    """(pages whose one code of ours is the expected payload, pages with a wrong or missing code)."""
    good = sum(1 for r, t in zip(results, texts) if r.result is not None and r.result.ours == (t,))
    return good, len(texts) - good


def step_line(results: list[PageDecode]) -> str:
    load = [r.load_ms for r in results]
    dec = [r.result.elapsed_ms for r in results if r.result]
    strategies = Counter(r.result.strategy for r in results if r.result)
    return (f"load median {statistics.median(load):5.1f} ms (p95 {np.percentile(load, 95):5.1f}), "
            f"decode median {statistics.median(dec):4.2f} ms (p95 {np.percentile(dec, 95):4.2f}); "
            f"found by {dict(strategies)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--dpi", type=int, default=300)
    parser.add_argument("--quality", type=int, default=75, help="JPEG quality of the scanned pages")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chunk", type=int, default=10, help="pages per task in the pool")
    parser.add_argument("--keep", type=Path, help="build the corpus here and keep it")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="ft-bench-scan-") as tmp:
        folder = args.keep or Path(tmp)
        t0 = time.perf_counter()
        pdf, jpeg_dir, texts = build_corpus(folder, args.pages, args.dpi, args.quality)
        jpegs = sorted(str(p) for p in jpeg_dir.glob("*.jpg"))
        size_mb = pdf.stat().st_size / 2**20
        print(f"corpus: {args.pages} pages A4 at {args.dpi} dpi, noisy, JPEG q{args.quality}: "
              f"{pdf.name} {size_mb:.0f} MiB, {len(jpegs)} JPEG files "
              f"(built in {time.perf_counter() - t0:.0f} s); {os.cpu_count()} CPUs")
        print()
        for label, run in (
            ("PDF, 1 process", lambda: run_single([str(pdf)])),
            (f"PDF, {args.workers} processes", lambda: run_pool_pdf(str(pdf), args.workers, args.chunk)),
            ("JPEG folder, 1 process", lambda: run_single(jpegs)),
            (f"JPEG folder, {args.workers} processes", lambda: run_pool_files(jpegs, args.workers, args.chunk)),
        ):
            out = run()
            good, bad = check(out["results"], texts)
            rate = len(out["results"]) / out["seconds"]
            extra = f" ({len(out['results']) / out['with_startup']:5.1f} with pool start-up)" \
                if "with_startup" in out else ""
            cpu_ms = 1000.0 * out["cpu"] / len(out["results"])
            print(f"{label:26s} {rate:6.1f} pages/s{extra}; {cpu_ms:4.1f} CPU-ms/page; peak RSS "
                  f"{out['peak_mb']:4.0f} MiB per process; codes found {good}/{len(texts)}"
                  f"{'' if not bad else f'  ({bad} WRONG)'}")
            print(f"{'':26s} {step_line(out['results'])}")
        print()
        print("pages/s is wall-clock time (other work on the machine slows it); CPU-ms/page is not affected by it.")
        print()
        print("peak memory against the number of pages (one process, the PDF):")
        for part in (args.pages // 4, args.pages // 2, args.pages):
            path = folder / f"scan-{part}.pdf"
            if not part or not path.exists():
                continue
            out = run_single([str(path)])
            print(f"  {part:4d} pages ({path.stat().st_size / 2**20:4.0f} MiB file): after imports "
                  f"{out['baseline_mb']:4.0f} MiB, peak {out['peak_mb']:4.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
