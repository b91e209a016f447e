"""Cold start: a new process until the log-in window is on screen (offscreen Qt)."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import Row, site


def run(repeats: int = 5) -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        db, _seed = site(Path(tmp), with_template=None)
        db.engine.dispose()
        env = {**os.environ, "FORMTRAIL_HOME": tmp, "QT_QPA_PLATFORM": "offscreen"}
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            out = subprocess.run([sys.executable, "-m", "app", "gui", "--smoke-test"], env=env, capture_output=True,
                                 text=True, check=True).stdout
            times.append(time.perf_counter() - start)
            assert "login window shown" in out, out
    return [Row("cold start to the log-in window", statistics.median(times), "s",
                f"median of {repeats}, new process each time, offscreen")]


def main() -> None:
    for row in run():
        print(f"{row.name}: {row.figure:.2f} {row.unit} ({row.detail})")


if __name__ == "__main__":
    main()
