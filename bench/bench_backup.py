"""Backup of a database holding 10,000 scans (the snapshot, the file store copy and the manifest hashes)."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert

from app.models import ScanSource, SourceStatus, StoredFile
from app.services.admin import backup
from bench.common import Row, site


def fill(db, count: int, size: int) -> int:  # noqa: ANN001
    """``count`` stored scan files of ``size`` bytes (incompressible, like JPEG data) with their rows."""
    now = dt.datetime.now(dt.timezone.utc)
    files, sources, total = [], [], 0
    for i in range(count):
        put = db.files.put_bytes(os.urandom(size - 16) + i.to_bytes(16, "big"))
        total += put.size
        files.append(dict(sha256=put.sha256, size=put.size, kind="scan", media_type="image/jpeg",
                          original_name=f"scan-{i:05d}.jpg", stored_at=now, stored_by="op"))
        sources.append(dict(sha256=put.sha256, original_name=f"scan-{i:05d}.jpg", size=put.size,
                            media_type="image/jpeg", origin="hot-folder", status=SourceStatus.READ, page_count=1,
                            imported_at=now, imported_by="op", imported_by_id=None, workstation="BENCH"))
    with db.engine.begin() as conn:
        conn.execute(insert(StoredFile), files)
        conn.execute(insert(ScanSource), sources)
    return total


def run(count: int = 10_000, size: int = 100_000) -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        db, seed = site(Path(tmp) / "home", with_template=None)
        fill(db, count, size)
        start = time.perf_counter()
        result = backup.backup(db, seed.admin, Path(tmp) / "backup")
        elapsed = time.perf_counter() - start
        db.engine.dispose()
    return [Row("backup, database with 10,000 scans", result.bytes / 1e6 / elapsed, "MB/s",
                f"{result.bytes / 1e6:.0f} MB ({count:,} files of {size // 1000} kB) in {elapsed:.1f} s, "
                "each file hashed twice (check + manifest)")]


def main() -> None:
    for row in run():
        print(f"{row.name}: {row.figure:.1f} {row.unit} ({row.detail})")


if __name__ == "__main__":
    main()
