"""Sealing PDFs with the site certificate (PAdES B-B) and making them PDF/A-2b: milliseconds per file, and the
share the seal adds to exporting a signed record's PDF."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from bench.common import Row, site
from tests.helpers.signing import signed_record

REPEATS = 10


def run() -> list[Row]:
    from app.forms.render import pdfa
    from app.services.core import pdfsign
    from app.services.reports import record_export
    from app.services.site import key_setup

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db, seed = site(folder / "home", with_template=None)
        serial = signed_record(seed, folder).serials[0]
        started = time.perf_counter()
        for i in range(REPEATS):
            out = record_export.export_pdf(db, seed.qa, serial, out=folder / f"r{i}.pdf")
        export_s = (time.perf_counter() - started) / REPEATS
        data, identity = out.read_bytes(), key_setup.signing_identity(db)
        started = time.perf_counter()
        for _ in range(REPEATS):
            signed = pdfsign.sign_pdf(data, identity, reason="bench")
        sign_s = (time.perf_counter() - started) / REPEATS
        started = time.perf_counter()
        for _ in range(REPEATS):
            pdfa.make_pdfa(data)
        pdfa_s = (time.perf_counter() - started) / REPEATS
        trusted = [identity.cert_pem]
        started = time.perf_counter()
        for _ in range(REPEATS):
            pdfsign.verify_pdf(signed, trusted)
        check_s = (time.perf_counter() - started) / REPEATS
    kib = len(data) // 1024
    return [
        Row("seal one PDF (PAdES B-B, site certificate)", sign_s * 1000, "ms/file",
            f"{kib} KiB record PDF, +{(len(signed) - len(data)) / 1024:.1f} KiB; {sign_s / export_s:.0%} of its export"),
        Row("make one PDF PDF/A-2b (output intent, XMP)", pdfa_s * 1000, "ms/file", f"{kib} KiB record PDF"),
        Row("check one PDF's seal", check_s * 1000, "ms/file", "pyHanko, the site certificate as trust root"),
        Row("export a signed record's PDF (render, PDF/A, seal)", export_s * 1000, "ms/file",
            f"{kib} KiB, {REPEATS} exports"),
    ]
