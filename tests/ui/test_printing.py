"""Faithful printing: 10 controlled copies printed are the released PDF's pages, page for page, with no seams.

Each route is compared, page by page, with the released PDF rendered at the same resolution (pdfium both
sides): "Print to file" writes the PDF itself; the raster route (Windows) renders each whole page once; the
CUPS route hands the PDF to ``lp`` unchanged (``lp`` is replaced by a script here: no print server runs in the
test environment, and Qt without CUPS offers no native printer; the test checks the file and the options lp
receives)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pytest
from PySide6.QtPrintSupport import QPrinter

from app.services.issuance.printing import ReleasedPdf
from app.ui.kit import printing
from tests.helpers.forms import effective_template, issue
from tests.helpers.seed import Seed

DPI = 100


def _pages(path: Path, dpi: int = DPI) -> list[np.ndarray]:
    document = pdfium.PdfDocument(str(path))
    try:
        return [np.asarray(page.render(scale=dpi / 72, grayscale=True).to_pil().convert("L"), dtype=np.int16)
                for page in document]
    finally:
        document.close()


@pytest.fixture
def released(qapp, seed: Seed, tmp_path: Path) -> ReleasedPdf:  # noqa: ANN001 - QPrinter needs the app
    """10 copies of a one-page form, released once to a PDF printer (the print itself is the test's)."""
    effective_template(seed)
    result = issue(seed, copies=10)
    target = tmp_path / "probe.pdf"
    return printing.release_and_print(seed.db, seed.dc, result.pdf_id, _pdf_printer(target, 300))


def _pdf_printer(path: Path, dpi: int) -> QPrinter:
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(path))
    printer.setResolution(dpi)
    printing.prepare_printer(printer, "A4")
    return printer


def test_print_to_file_writes_the_released_pdf_itself(released: ReleasedPdf, tmp_path: Path) -> None:
    out = tmp_path / "printed.pdf"
    printer = _pdf_printer(out, 600)
    assert printing.print_route(printer) == "file"
    assert printing.print_pdf(released.path, printer) == 10
    assert out.read_bytes() == released.path.read_bytes()
    printed, original = _pages(out), _pages(released.path)
    assert len(printed) == len(original) == 10
    assert all(np.array_equal(a, b) for a, b in zip(printed, original, strict=True))
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".printed")] == []  # no temporary left


def test_print_to_an_unwritable_file_fails_cleanly(released: ReleasedPdf, tmp_path: Path) -> None:
    not_a_folder = tmp_path / "a-file"
    not_a_folder.write_text("x")
    with pytest.raises(printing.PrintFailed, match="cannot write the PDF file"):
        printing.print_pdf(released.path, _pdf_printer(not_a_folder / "x.pdf", 300))


def _common(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both pages cropped to their common size (pdfium and Qt round a page's pixel size differently)."""
    height, width = min(a.shape[0], b.shape[0]), min(a.shape[1], b.shape[1])
    return a[:height, :width], b[:height, :width]


def seam_rows(printed: np.ndarray, original: np.ndarray) -> list[int]:
    """Rows crossing printed matter where the print lost most of the ink: a white seam between strips."""
    printed, original = _common(printed, original)
    ink_printed, ink_original = (255 - printed).sum(axis=1), (255 - original).sum(axis=1)
    inked = ink_original > 255 * 40  # at least 40 pixels' worth of ink in the row
    return [int(r) for r in np.flatnonzero(inked & (ink_printed < 0.6 * ink_original))]


def test_the_seam_check_finds_a_seam() -> None:
    page = np.full((60, 200), 255, dtype=np.int16)
    page[20:40, 10:190] = 0  # a bar of text
    cut = page.copy()
    cut[30] = 255  # a strip joint
    assert seam_rows(page, page) == [] and seam_rows(cut, page) == [30]


def test_raster_route_prints_each_whole_page_without_seams(released: ReleasedPdf, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "raster.pdf"
    pages: list[int] = []
    renders: list[int] = []
    original_render = printing._render_page
    monkeypatch.setattr(printing, "_render_page", lambda document, page, dpi: renders.append(page) or
                        original_render(document, page, dpi))
    printed_pages = printing.print_pdf(released.path, _pdf_printer(out, 300), route="raster",
                                       progress=lambda done, total: pages.append(done))
    assert printed_pages == 10 and pages == list(range(1, 11))
    assert renders == list(range(10))  # each whole page rendered once
    printed, original = _pages(out, 300), _pages(released.path, 300)
    assert len(printed) == 10
    for number, (a, b) in enumerate(zip(printed, original, strict=True), start=1):
        assert abs(a.shape[0] - b.shape[0]) <= 1 and abs(a.shape[1] - b.shape[1]) <= 1, f"page {number}: size"
        a, b = _common(a, b)
        # Sub-pixel placement makes edges differ a little; a shift, a scale or a missing band would not.
        assert np.abs(a - b).mean() < 4.0, f"page {number}: mean difference {np.abs(a - b).mean():.2f}"
        assert seam_rows(a, b) == [], f"page {number}: seams at rows {seam_rows(a, b)[:5]}"
    # A whole page once at 300 dpi: a few MB per page at most.
    assert out.stat().st_size / 10 < 3 * 1024 * 1024


def _fake_lp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "lp").write_text(f"#!/bin/sh\n{script}\n")
    (bin_dir / "lp").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")


def test_cups_route_hands_the_pdf_itself_to_lp(released: ReleasedPdf, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    spool = tmp_path / "spool"
    spool.mkdir()
    _fake_lp(tmp_path, monkeypatch, f'printf "%s\\n" "$@" > {spool}/args\nfor last; do :; done\n'
                                    f'cp "$last" {spool}/job.pdf\necho "request id is Office-42 (1 file(s))"')
    printing.send_to_cups(released.path, printer_name="Office", paper="A4", title="QC-WS-014 000001-000010")
    assert (spool / "job.pdf").read_bytes() == released.path.read_bytes()  # the PDF itself: vector, 1:1
    args = (spool / "args").read_text().split("\n")
    assert args[:4] == ["-d", "Office", "-n", "1"]
    assert "print-scaling=none" in args and "media=A4" in args


def test_a_refusing_print_system_is_reported(released: ReleasedPdf, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_lp(tmp_path, monkeypatch, 'echo "lp: The printer or class does not exist." >&2\nexit 1')
    with pytest.raises(printing.PrintFailed, match="does not exist"):
        printing.send_to_cups(released.path, printer_name="Gone", paper="A4", title="x")
