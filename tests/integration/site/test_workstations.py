"""Issue 7: eight workstation processes issuing and importing at once on PostgreSQL lose and duplicate nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.models import IssuedForm, ScanPage, ScanSource
from app.services.core import audit_chain, consistency
from tests.helpers import scanlike as sl
from tests.helpers.forms import effective_template, issue
from tests.helpers.scans import issued_page_images, write
from tests.helpers.training import register_stations

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.slow
def test_eight_workstations_at_once(seed, db_url, runtime_config, backend, tmp_path):
    if backend != "postgres":
        pytest.skip("the multi-workstation set-up is the PostgreSQL site server")
    effective_template(seed)
    first = issue(seed, copies=8)
    images = issued_page_images(seed.db, first.pdf_sha256, dpi=150)
    scans = [write(tmp_path / "scans", f"s{i}.png", sl.png_bytes(sl.scanned(im, seed=i), dpi=150))
             for i, im in enumerate(images)]
    # Four importers, each with two sheets of its own and one sheet that another importer also has.
    batches = [[scans[2 * i], scans[2 * i + 1], scans[(2 * i + 2) % 8]] for i in range(4)]
    # Each process is a workstation of its own (tests/helpers/site_worker.py names it): an administrator
    # registers them first, as a site would (AC-08).
    register_stations(seed, ["WS-issue-100", *(f"WS-import-{str(batch[0])[-6:]}" for batch in batches)])
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    common = [sys.executable, "-m", "tests.helpers.site_worker", db_url, str(runtime_config.home),
              str(runtime_config.file_store_root)]
    procs = [subprocess.Popen([*common, "issue", "100"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(4)]
    procs += [subprocess.Popen([*common, "import", *map(str, batch)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True) for batch in batches]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    issued = [s for r in results[:4] for s in r["serials"]]
    assert len(issued) == len(set(issued)) == 400
    with seed.db.read() as s:
        numbers = sorted(s.scalars(select(IssuedForm.serial_no)))
        assert numbers == list(range(1, 409))  # gap-free across all workstations
        assert s.scalar(select(func.count()).select_from(ScanSource)) == 8  # each file stored once
        pages = s.execute(select(ScanPage.issued_form_id, ScanPage.outcome)).all()
    assert len(pages) == 8 and all(o.value == "linked" for _f, o in pages)
    assert len({f for f, _o in pages}) == 8
    outcomes = [o["outcome"] for r in results[4:] for o in r["outcomes"]]
    assert sorted(outcomes).count("duplicate-source") == 4 and outcomes.count("linked") == 8
    assert audit_chain.verify_chain(seed.db).ok
    assert consistency.check_data(seed.db) == []
