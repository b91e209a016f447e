"""Eight issuers and two importers at once, each a process of its own (invariants 1 and 10): nobody fails with
"database is locked", serials stay unique and gap-free, every scanned page is linked, everything verifies.
On SQLite and on the real PostgreSQL server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from app.models import IssuedForm
from app.services.integrity import integrity
from tests.helpers import scanlike as sl
from tests.helpers.forms import effective_template, issue
from tests.helpers.scans import issued_page_images, write

ROOT = Path(__file__).resolve().parents[3]


def _start(module: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", module, *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})


@pytest.mark.slow
def test_eight_issuers_and_two_importers_at_once_all_succeed(seed, db_url, runtime_config, tmp_path):
    effective_template(seed)
    returned = issue(seed, copies=8)  # sheets that come back while others are being issued
    images = issued_page_images(seed.db, returned.pdf_sha256, dpi=150)
    folders = [tmp_path / "scanner-a", tmp_path / "scanner-b"]
    for i, image in enumerate(images):
        write(folders[i % 2], f"sheet-{i + 1:02d}.png", sl.png_bytes(sl.scanned(image, seed=i), dpi=150))
    home = str(runtime_config.home)
    copies = 120
    issuers = [_start("tests.helpers.issue_worker", db_url, home, "QC-WS-014", str(copies)) for _ in range(8)]
    importers = [_start("tests.helpers.import_worker", db_url, home, str(folder)) for folder in folders]
    results = []
    for proc in issuers + importers:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err[-2000:]
        assert "database is locked" not in err
        results.append(json.loads(out.strip().splitlines()[-1]))
    issued = [r for r in results[:8]]
    assert all(len(r["serials"]) == copies for r in issued)
    assert sum(r["linked"] for r in results[8:]) == len(images)
    with seed.db.read() as session:
        numbers = list(session.scalars(select(IssuedForm.serial_no).order_by(IssuedForm.serial_no)))
    assert numbers == list(range(1, 8 + 8 * copies + 1))  # unique and gap-free
    for r in issued:  # each issuance a contiguous block
        block = [int(s) for s in r["serials"]]
        assert block == list(range(block[0], block[0] + copies))
    report = integrity.verify_everything(seed.db, seed.qa)
    assert report.ok, report.findings
