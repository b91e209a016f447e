"""The intake soak of issue 12, bigger than the one in `make test`: trials of two `formtrail scan import`
processes on a folder mixing good scans with hostile files, one SIGKILLed at a random moment, then the same
import again at once. Prints every trial and its outcome; the figure is the share of trials that ended with
everything recorded, nothing stuck and no process left behind."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from bench.common import Row

TRIALS = 12


def run(trials: int = TRIALS) -> list[Row]:
    if not sys.platform.startswith("linux"):
        return [Row("intake soak (SIGKILL trials)", float("nan"), "skipped", "needs Linux (/proc, SIGKILL)")]
    rows = [_run("SQLite", trials, None)]
    from tests.helpers.postgres import PostgresUnavailable, throwaway_server

    try:
        with throwaway_server() as server:
            rows.append(_run("PostgreSQL", trials, server))
    except (PostgresUnavailable, OSError) as exc:
        rows.append(Row("intake soak on PostgreSQL", float("nan"), "skipped", f"no server: {exc}"))
    return rows


def _run(backend: str, trials: int, server: str | None) -> Row:
    from sqlalchemy import create_engine, text

    from app.models.engine import build_engine
    from app.models.migrate import upgrade
    from tests.helpers.soak_intake import soak

    made = 0

    def new_db() -> str:
        nonlocal made
        made += 1
        assert server is not None
        name = f"soak_{made}"
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = server.rsplit("/", 1)[0] + f"/{name}"
        engine = build_engine(url)
        upgrade(engine)
        engine.dispose()
        return url

    with tempfile.TemporaryDirectory() as tmp:
        results = soak(Path(tmp), trials=trials, copies=30, max_delay_s=4.0, new_db_url=new_db if server else None)
    print(f"\nintake soak on {backend}")
    print(f"{'trial':>5}  {'killed after':>12}  {'got to':<16}  {'exits k/o/r':<11}  {'linked':>9}  pending  "
          "busy  left  verify  ok")
    for r in results:
        exits = f"{r.killed_exit if r.killed_exit is not None else '-'}/{r.other_exit}/{r.rerun_exit}"
        print(f"{r.trial:>5}  {r.killed_after_s:>11.2f}s  {r.stage:<16}  {exits:<11}  "
              f"{r.linked:>4}/{r.good_pages:<4}  {r.pending:>7}  {r.busy_on_rerun:>4}  {r.leftover_processes:>4}  "
              f"{'ok' if r.verify_ok else 'FAIL':>6}  {'yes' if r.ok else 'NO'}")
    good = sum(r.ok for r in results)
    stages = sorted({r.stage for r in results})
    return Row(f"intake soak on {backend}: SIGKILL during import, rerun at once", 100.0 * good / len(results),
               "% ok", f"{good}/{len(results)} trials: all pages linked, none pending or busy, verify ok, no process "
                       f"left; kills landed at: {', '.join(stages)}")


def main() -> None:
    for row in run():
        print(f"{row.name}: {row.figure:.1f} {row.unit} ({row.detail})")


if __name__ == "__main__":
    main()
