"""Shared set-up for the benchmarks: a real site in a temporary directory, made through the services."""

from __future__ import annotations

import dataclasses
import os
import platform
import resource
import tempfile
from pathlib import Path

from app.runtime import RuntimeConfig, open_database
from app.services.core.db import Database


@dataclasses.dataclass(frozen=True)
class Row:
    """One line of the benchmark table."""

    name: str
    figure: float
    unit: str
    detail: str = ""


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, {platform.system()}"


def peak_rss_mb() -> float:
    """Peak resident memory of this process (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def site(tmp: Path | None = None, *, with_template: str | None = "QC-WS-014"):
    """(Database, Seed) for a fresh SQLite site with the seeded users and one effective template."""
    from tests.helpers.forms import effective_template
    from tests.helpers.seed import seed_site
    home = tmp or Path(tempfile.mkdtemp(prefix="formtrail-bench-"))
    db: Database = open_database(RuntimeConfig(home=home, db_url=f"sqlite:///{home / 'formtrail.db'}",
                                               workstation="BENCH", hasher_profile="fast"))
    seed = seed_site(db)
    if with_template:
        effective_template(seed, with_template)
    return db, seed
