"""Scan intake on real images (issue 4): real issued PDFs rendered, damaged, written as PNG/JPEG/TIFF/PDF,
imported, and each page linked to the right form and page, or queued with the right reason."""

from __future__ import annotations

import os

import pytest
from PIL import Image
from sqlalchemy import func, select

from app.models import FormState, ScanSource, StoredFile
from app.services.issuance import register
from app.services.scans import intake
from tests.helpers import scanlike as sl
from tests.helpers.forms import effective_template, issue
from tests.helpers.scans import issued_page_images, site_key, write

pytestmark = pytest.mark.sqlite_only  # pure decoding; the linking transactions run on both backends elsewhere
DPI = 200


def _corner_box(image, corner: str, dpi: int = DPI):
    side = sl.mm_to_px(32, dpi)
    margin = sl.mm_to_px(6, dpi)
    w, h = image.size
    if corner == "top-right":
        return (w - margin - side, margin, w - margin, margin + side)
    return (margin, h - margin - side, margin + side, h - margin)


DAMAGES = {
    "rot90": lambda im: sl.rotate(im, 90),
    "rot180": lambda im: sl.rotate(im, 180),
    "rot270": lambda im: sl.rotate(im, 270),
    "skew+3": lambda im: sl.rotate(im, 3),
    "skew-3": lambda im: sl.rotate(im, -3),
    "150dpi": lambda im: sl.resample(im, DPI, 150),
    "noise": lambda im: sl.add_noise(im, 14, seed=3),
    "blur": lambda im: sl.blur(im, 1.3),
    "jpeg35": lambda im: sl.jpeg_round_trip(im, 35),
    "low-contrast": lambda im: sl.low_contrast(im),
    "pen-stroke": lambda im: sl.pen_stroke(im, _corner_box(im, "top-right"), dpi=DPI, seed=2),
    "smudge": lambda im: sl.smudge(im, _corner_box(im, "bottom-left"), coverage=0.4, seed=5),
}


@pytest.fixture
def batch(seed):
    """Six copies of the two-page batch record, rendered at 200 dpi: 12 pages."""
    effective_template(seed, "PRD-BR-102")
    result = issue(seed, "PRD-BR-102", copies=6)
    return result, issued_page_images(seed.db, result.pdf_sha256, dpi=DPI)


def _expect(result, index):  # page index in the issued PDF -> (serial, page_no)
    return result.serials[index // 2], index % 2 + 1


def _assert_all_linked(report, result, order):
    pages = [o for o in report.outcomes if o.page is not None]
    assert [o.outcome for o in pages] == ["linked"] * len(order), [(o.source, o.page, o.reason) for o in pages]
    assert [(o.serial, o.page_no) for o in pages] == [_expect(result, i) for i in order]


def test_sc01_degraded_png_and_jpeg_pages_link_to_the_right_form_and_page(seed, batch, tmp_path):
    result, images = batch
    files = []
    for index, (name, damage) in zip(range(12), DAMAGES.items()):
        image = sl.scanned(damage(images[index]), seed=index)
        data = sl.jpeg_bytes(image, quality=70, dpi=DPI) if index % 2 else sl.png_bytes(image, dpi=DPI)
        files.append(write(tmp_path / "in", f"{index:02d}-{name}.{'jpg' if index % 2 else 'png'}", data))
    report = intake.import_files(seed.db, seed.op, files)
    _assert_all_linked(report, result, range(12))
    states = {r.serial: r.state for r in register.fetch_forms(seed.db, seed.op, register.RegisterFilter())}
    assert set(states.values()) == {FormState.RETURNED}


def test_multi_page_tiff_and_scanner_pdf(seed, batch, tmp_path):
    result, images = batch
    scans = [sl.scanned(im, seed=i) for i, im in enumerate(images)]
    tiff = write(tmp_path, "batch.tif", sl.tiff_bytes(scans[:6], dpi=DPI))
    pdf = write(tmp_path, "batch.pdf", sl.scanner_pdf_bytes(scans[6:], dpi=DPI, quality=60))
    report = intake.import_files(seed.db, seed.op, [tiff, pdf], processes=2)
    _assert_all_linked(report, result, range(12))
    with seed.db.read() as s:
        assert s.scalar(select(func.count()).select_from(ScanSource)) == 2


def test_bytes_are_stored_exactly_as_received_and_reimport_is_recognised(seed, batch, tmp_path):
    result, images = batch
    data = sl.jpeg_bytes(sl.scanned(images[0]), quality=80, dpi=DPI)
    path = write(tmp_path, "page.jpg", data)
    first = intake.import_files(seed.db, seed.op, [path])
    sha = first.outcomes[0].sha256
    assert seed.db.files.read(sha) == data
    again = intake.import_files(seed.db, seed.op, [write(tmp_path, "renamed.jpg", data)])
    [line] = again.outcomes
    assert line.outcome == "duplicate-source" and "page.jpg" in line.reason
    with seed.db.read() as s:
        assert s.scalar(select(func.count()).select_from(StoredFile).where(StoredFile.kind == "scan")) == 1


def test_inv6_bad_codes_and_bad_files_get_precise_outcomes_and_nothing_is_lost(seed, batch, tmp_path):
    result, images = batch
    key = site_key(seed.db)
    clean = lambda text: sl.png_bytes(sl.make_page(text, dpi=DPI).image, dpi=DPI)  # noqa: E731
    forged = sl.payload_text(result.serials[0], 1, 2, site="BSL-01", template="PRD-BR-102", version=1,
                             key=bytes(32))
    cases = {
        "forged.png": (clean(forged), "tag-invalid"),
        "foreign.png": (sl.png_bytes(_foreign_page(), dpi=DPI), "foreign-code"),
        "unknown.png": (clean(sl.payload_text("999999", 1, 2, site="BSL-01", template="PRD-BR-102",
                                              version=1, key=key)), "unknown-serial"),
        "othersite.png": (clean(sl.payload_text("000001", 1, 2, site="ZRH-02", template="PRD-BR-102",
                                                version=1, key=bytes(32))), "other-site"),
        "page9.png": (clean(sl.payload_text(result.serials[0], 3, 3, site="BSL-01", template="PRD-BR-102",
                                            version=1, key=key)), "page-out-of-range"),
        "blank.png": (sl.png_bytes(sl.scanned(Image.new("L", images[0].size, 250)), dpi=DPI), "blank"),
        "page1.png": (sl.png_bytes(sl.scanned(images[0], seed=1), dpi=DPI), "linked"),
        "photocopy.png": (sl.png_bytes(sl.low_contrast(sl.scanned(images[0], seed=9)), dpi=DPI), "possible-copy"),
        "truncated.pdf": (sl.truncated(sl.scanner_pdf_bytes([images[2]], dpi=DPI)), "unreadable-file"),
        "empty.png": (b"", "unreadable-file"),
        "random.pdf": (os.urandom(5000), "unreadable-file"),
        "encrypted.pdf": (sl.encrypted_pdf_bytes(), "unreadable-file"),
    }
    paths = [write(tmp_path / "bad", name, data) for name, (data, _expected) in cases.items()]
    report = intake.import_files(seed.db, seed.op, paths)
    got = {os.path.basename(o.source): o for o in report.outcomes}
    assert {name: got[name].outcome for name in cases} == {name: exp for name, (_d, exp) in cases.items()}
    assert "encrypted" in got["encrypted.pdf"].reason and "truncated" in got["truncated.pdf"].reason
    assert got["photocopy.png"].serial == result.serials[0] and "uncontrolled copy" in got["photocopy.png"].reason
    # Every file that had bytes is kept, also the ones that could not be read.
    with seed.db.read() as s:
        kept = s.scalar(select(func.count()).select_from(StoredFile).where(StoredFile.kind == "scan"))
    assert kept == len(cases)
    assert "[empty-file]" in got["empty.png"].reason and "[encrypted]" in got["encrypted.pdf"].reason


def _foreign_page():
    page = sl.make_page("https://example.com/not-a-formtrail-code", dpi=DPI)
    return sl.scanned(page.image)
