"""`make bench`: every benchmark, one table. Figures are ratios and per-item rates; nothing here is a test."""

from __future__ import annotations

import argparse
import importlib
import time
import traceback

from bench.common import Row, machine

SUITE = ("bench_issue", "bench_intake", "bench_soak_intake", "bench_soak", "bench_gui", "bench_verify",
         "bench_start", "bench_cli", "bench_backup", "bench_print", "bench_paper_review", "bench_signing")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("only", nargs="*", help=f"run only these ({', '.join(SUITE)})")
    names = parser.parse_args().only or SUITE
    rows: list[Row] = []
    started = time.perf_counter()
    for name in names:
        print(f"... {name}", flush=True)
        try:
            rows.extend(importlib.import_module(f"bench.{name}").run())
        except Exception:  # noqa: BLE001 - one failing benchmark must not hide the others
            traceback.print_exc()
            rows.append(Row(name, float("nan"), "FAILED", "see the trace above"))
    width = max(len(r.name) for r in rows)
    print()
    print(f"Formtrail benchmarks on {machine()}")
    print(f"{'benchmark'.ljust(width)}  {'figure':>12}  unit       detail")
    print(f"{'-' * width}  {'-' * 12}  ---------  ------")
    for r in rows:
        figure = f"{r.figure:,.2f}" if r.figure < 100 else f"{r.figure:,.0f}"
        print(f"{r.name.ljust(width)}  {figure:>12}  {r.unit:<9}  {r.detail}")
    print(f"(total {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
