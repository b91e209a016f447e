"""Regenerate the README's screenshots: the layout probe's views of a demo site on a 1280×720 screen and on a
2560×1440 screen at 200 % (`make screenshots`; needs the test extras)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
WANTED = {  # (physical width, height, scaling): views kept, as <role>-<view>
    (1280, 720, 1.0): ["qa-reconcile", "qa-record-tab2", "dc-issue", "qa-audit", "qa-home", "op-home"],
    (2560, 1440, 2.0): ["qa-scans-tab1", "dc-home"],
}


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    for (width, height, dpr), views in WANTED.items():
        with tempfile.TemporaryDirectory() as tmp:
            config = Path(tmp) / "screen.json"
            config.write_text(json.dumps({"screens": [{"name": "s", "x": 0, "y": 0, "width": width,
                                                       "height": height, "logicalDpi": 96, "logicalBaseDpi": 96,
                                                       "dpr": 1}]}))
            env = {**os.environ, "QT_QPA_PLATFORM": f"offscreen:configfile={config}", "QT_SCALE_FACTOR": str(dpr)}
            subprocess.run([sys.executable, "-m", "tests.helpers.layout_probe", str(Path(tmp) / "shots"), "--shots"],
                           cwd=ROOT, env=env, check=True)
            suffix = "" if dpr == 1 else f"@{int(dpr * 100)}pct"
            for view in views:
                shutil.copy(Path(tmp) / "shots" / f"{view}.png", OUT / f"{view}{suffix}.png")
                print(OUT / f"{view}{suffix}.png")
    record_pdf_pages()
    return 0


def record_pdf_pages() -> None:
    """The first page of a record's complete copy (PDF) of the demo site, as people read it, at 100 dpi."""
    import pypdfium2

    sys.path.insert(0, str(ROOT))  # the demo site is the tests' helper
    from app.services.reports import record_export
    from tests.helpers.layout_probe import demo_site
    os.environ.setdefault("FORMTRAIL_HASH_PROFILE", "fast")
    with tempfile.TemporaryDirectory() as tmp:
        db, seed, serial = demo_site(Path(tmp))
        pdf = Path(tmp) / "record.pdf"
        # the opened record of the demo site, with a correction, so the PDF shows history as well
        record_export.export_pdf(db, seed.qa, serial, out=pdf)
        doc = pypdfium2.PdfDocument(str(pdf))
        try:
            for index in range(min(2, len(doc))):
                target = OUT / f"record-pdf-p{index + 1}.png"
                doc[index].render(scale=100 / 72).to_pil().save(target)
                print(target)
        finally:
            doc.close()
        db.engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
