"""BK-04: an archive readable without Formtrail, re-checked by `archive verify`."""

from __future__ import annotations

import csv
import hashlib
import json
import zipfile

import pytest

from app.services.reports import archive
from app.services.scans import intake
from tests.helpers import scanlike as sl
from tests.helpers.forms import effective_template, issue
from tests.helpers.records import fill
from tests.helpers.scans import issued_page_images, write

pytestmark = pytest.mark.sqlite_only  # file layout; the queries are covered on both backends elsewhere


def test_bk04_archive_of_an_issuance_is_self_contained_and_verifies(seed, tmp_path):
    effective_template(seed)
    result = issue(seed, copies=2)
    image = issued_page_images(seed.db, result.pdf_sha256, dpi=150)[0]
    intake.import_files(seed.db, seed.op, [write(tmp_path / "in", "p.png", sl.png_bytes(sl.scanned(image), dpi=150))])
    fill(seed, result.serials[0])
    out = archive.export_archive(seed.db, seed.qa, out=tmp_path / "arch.zip", issuance_id=result.issuance_id)
    with zipfile.ZipFile(out.path) as zf:
        names = set(zf.namelist())
        assert {"README.txt", "manifest.json", "SHA256SUMS", "audit_trail.csv", "audit_trail.json",
                f"records/{result.serials[0]}.pdf", f"records/{result.serials[0]}.json",
                f"reports/reconciliation-{result.issuance_id}.pdf", "data/forms.csv"} <= names
        sums = zf.read("SHA256SUMS").decode().splitlines()
        for line in sums:  # what `sha256sum -c` would do, without Formtrail
            digest, name = line.split("  ", 1)
            assert hashlib.sha256(zf.read(name)).hexdigest() == digest
        forms = list(csv.DictReader(zf.read("data/forms.csv").decode().splitlines()))
        assert [f["serial"] for f in forms] == list(result.serials)
        assert any(n.startswith("scans/") for n in names) and any(n.startswith("issued/") for n in names)
    assert archive.verify_archive(out.path).ok

    folder = archive.export_archive(seed.db, seed.qa, out=tmp_path / "arch", issuance_id=result.issuance_id)
    trail = json.loads((folder.path / "audit_trail.json").read_text())
    trail["events"][3]["reason"] = "rewritten"
    (folder.path / "audit_trail.json").write_text(json.dumps(trail))
    check = archive.verify_archive(folder.path)
    assert not check.ok and "audit_trail.json: altered" in check.problems
