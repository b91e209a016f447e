"""Printing 10 controlled copies of a one-page form: time and spooled size per page for each route.

"Print to file" (the PDF itself) and the raster route used where no PDF-capable print system exists (each
whole page rendered once at the printer's resolution), here at 300 and 600 dpi onto a PDF printer so the
spooled job can be measured. The CUPS route hands the same bytes as "Print to file" to ``lp``."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QApplication

from bench.common import Row, site
from tests.helpers.forms import issue


def _printer(path: Path, dpi: int) -> QPrinter:
    from app.ui.kit import printing
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(path))
    printer.setResolution(dpi)
    printing.prepare_printer(printer, "A4")
    return printer


def run(copies: int = 10) -> list[Row]:
    from app.ui.kit import printing
    QApplication.instance() or QApplication([])
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db, seed = site(folder / "home")
        result = issue(seed, copies=copies)
        released = printing.release_and_print(db, seed.dc, result.pdf_id, _printer(folder / "probe.pdf", 300))
        for route, dpi in (("file", 600), ("raster", 300), ("raster", 600)):
            out = folder / f"{route}-{dpi}.pdf"
            start = time.perf_counter()
            pages = printing.print_pdf(released.path, _printer(out, dpi), route=route)
            took = time.perf_counter() - start
            size_mb = out.stat().st_size / pages / 1e6
            label = "print to file (the PDF itself)" if route == "file" else f"raster, whole pages, {dpi} dpi"
            rows.append(Row(f"print {copies} copies: {label}", took / pages * 1000, "ms/page",
                            f"{took:.2f} s in all, {size_mb:.2f} MB/page spooled"))
    return rows
