"""BK-04 (Annex 11 §17, Part 11 §11.10(c)): an archive reads without Formtrail. Opened by a bare Python (standard
library only, isolated from this environment: what any clean PC has) the records, the audit trail and the
signatures are all there, and re-hashing every file matches SHA256SUMS; the PDFs open in a standard PDF reader."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pypdfium2
import pytest

from app.models import SignatureMeaning as M
from app.services.records import records
from app.services.reports import archive, audit_log
from tests.helpers import scanlike as sl
from tests.helpers.forms import effective_template, issue
from tests.helpers.records import fill, verify_critical
from tests.helpers.scans import issued_page_images, write
from tests.helpers.seed import PASSWORD, Seed

# Run with `python -I -S`: no site-packages, no Formtrail, no environment variables, no current directory.
READER = textwrap.dedent("""
    import csv, hashlib, io, json, sys, zipfile
    with zipfile.ZipFile(sys.argv[1]) as zf:
        names = set(zf.namelist())
        bad = [line for line in zf.read("SHA256SUMS").decode().splitlines()
               if hashlib.sha256(zf.read(line.split("  ", 1)[1])).hexdigest() != line.split("  ", 1)[0]]
        listed = {line.split("  ", 1)[1] for line in zf.read("SHA256SUMS").decode().splitlines()}
        trail = list(csv.DictReader(io.StringIO(zf.read("audit_trail.csv").decode("utf-8"))))
        recs = {n: json.loads(zf.read(n)) for n in names if n.startswith("records/") and n.endswith(".json")}
        print(json.dumps({
            "rehash_failures": bad, "unlisted": sorted(names - listed - {"SHA256SUMS"}),
            "trail_rows": len(trail), "trail_actions": sorted({r.get("action", "") for r in trail}),
            "records": {n: {"serial": r["serial"], "fields": len(r["fields"]),
                            "signatures": [s["manifestation"] for s in r["signatures"]]} for n, r in recs.items()},
            "pdfs": sorted(n for n in names if n.endswith(".pdf")),
        }))
    """)


@pytest.mark.sqlite_only  # image decoding for the scan; the archive's database side is covered in test_archive
def test_bk04_an_archive_opens_on_a_clean_python_with_records_trail_and_signatures(seed: Seed, tmp_path: Path) -> None:
    effective_template(seed)
    result = issue(seed, copies=2)
    serial = result.serials[0]
    image = issued_page_images(seed.db, result.pdf_sha256, dpi=150)[0]
    from app.services.scans import intake
    intake.import_files(seed.db, seed.op, [write(tmp_path / "in", "p.png", sl.png_bytes(sl.scanned(image), dpi=150))])
    fill(seed, serial)
    verify_critical(seed, serial)
    view = records.sign_record(seed.db, seed.qa, serial=serial, meaning=M.REVIEWED, username="qa",
                               password=PASSWORD)
    manifestation = view.signatures[0].info.manifestation()
    out = archive.export_archive(seed.db, seed.qa, out=tmp_path / "arch.zip", issuance_id=result.issuance_id)

    read = subprocess.run([sys.executable, "-I", "-S", "-c", READER, str(out.path)], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path, env={})
    assert read.returncode == 0, read.stderr
    seen = json.loads(read.stdout)
    assert seen["rehash_failures"] == []
    assert set(seen["unlisted"]) <= {"manifest.json", "manifest.json.p7s"}  # the manifest and its signature
    assert seen["records"][f"records/{serial}.json"]["signatures"] == [manifestation]
    assert seen["records"][f"records/{serial}.json"]["fields"] >= 10
    assert {"CREATE", "UPDATE", "STATE_CHANGE", "SIGN"} <= set(seen["trail_actions"]) and seen["trail_rows"] >= 20
    assert seen["trail_rows"] <= audit_log.count_events(seed.db, seed.qa, audit_log.AuditFilter())

    with zipfile.ZipFile(out.path) as zf:  # the human-readable copies open in a standard PDF reader (pdfium)
        record_pdf = zf.read(f"records/{serial}.pdf")
    doc = pypdfium2.PdfDocument(record_pdf)
    try:
        text = " ".join(" ".join(doc[i].get_textpage().get_text_range().split()) for i in range(len(doc)))
    finally:
        doc.close()
    assert manifestation in text and serial in text
