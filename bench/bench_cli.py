"""CLI start-up: `formtrail --version`, `--help` and read-only commands, each a new process (goals: 0.3 s for
the first two, 0.6 s for a read-only command, on 2 cores). The ratio is against loading every command module
and the schema, what each command paid before the command table was lazy."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import Row, site
from tests.helpers.seed import PASSWORD

EAGER = "import app.cli, app.runtime; from app import commands; commands.all_modules()"


def _median(argv: list[str], env: dict[str, str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(argv, env=env, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run(repeats: int = 7) -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        db, _seed = site(Path(tmp), with_template=None)
        db.engine.dispose()
        # The seeded users carry the test suite's cheap password hash, so `user list` measures start-up, not the
        # log-in's deliberate hashing (about 0.14 s more with a real password).
        env = {**{k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}, "FORMTRAIL_HOME": tmp,
               "FORMTRAIL_USER": "admin", "FORMTRAIL_PASSWORD": PASSWORD}
        cli = [sys.executable, "-m", "app"]
        eager = _median([sys.executable, "-c", EAGER], env, repeats)
        rows = []
        for args, what in ((["--version"], "formtrail --version"), (["--help"], "formtrail --help"),
                           (["doctor"], "formtrail doctor (read-only, no log-in)"),
                           (["user", "list"], "formtrail user list (read-only, with log-in)")):
            median = _median([*cli, *args], env, repeats)
            rows.append(Row(what, median, "s", f"median of {repeats}; importing every command module "
                                               f"and the schema alone: {eager:.2f} s ({eager / median:.1f}×)"))
    return rows


def main() -> None:
    for row in run():
        print(f"{row.name}: {row.figure:.2f} {row.unit} ({row.detail})")


if __name__ == "__main__":
    main()
