"""The issuing and backup soak with more trials than `make test` runs: the real `formtrail issue` and
`formtrail backup` SIGKILLed at random moments, then verify, serials, backups and leftover processes checked."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from bench.common import Row
from tests.helpers.soak import SoakSite, issue_backup_trials


def run(trials: int = 12) -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        site = SoakSite.create(Path(tmp))
        start = time.perf_counter()
        out = issue_backup_trials(site, trials=trials, seed=2026)
        took = time.perf_counter() - start
    gap_free = out.serials == list(range(1, len(out.serials) + 1))
    verdict = "all good" if (out.verify_exit == 0 and gap_free and out.backup_ok and not out.leftover_processes) \
        else "FAILED"
    return [Row(f"soak: {trials} trials of SIGKILLed issue + backup", out.killed, "kills",
                f"{verdict}: verify exit {out.verify_exit}, {len(out.serials):,} serials gap-free={gap_free}, "
                f"{out.interrupted_backups} backups interrupted and retaken, backup verifies={out.backup_ok}, "
                f"{len(out.leftover_processes)} processes left; {took:.0f} s")]
