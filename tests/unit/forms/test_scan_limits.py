"""Issue 12, the paper side: limits checked before anything is decoded, the rasteriser bounded, a worker task
that never raises for a bad file, and the fast path for scanner pages giving exactly the full path's result."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from app.forms.scan.scan_decode import decode_pages, decode_top_right
from app.forms.scan.scan_jpeg import open_draft, top_rows
from app.forms.scan.scan_pages import RASTERISED, SourceError, iter_pages
from app.forms.scan.scan_probe import Limits, probe
from app.forms.scan.scan_worker import FileTask, decode_files
from tests.helpers import hostile
from tests.helpers import scanlike as sl


@pytest.fixture(scope="module")
def page300() -> sl.SyntheticPage:
    return sl.make_page(sl.payload_text("000300"), dpi=300)


def test_probe_refuses_by_the_header_alone(tmp_path):
    cases = {
        "bomb.png": (hostile.png_bomb(), Limits(), "too-large"),
        "big.png": (hostile.big_png(3000), Limits(max_pixels=5_000_000), "too-large"),
        "long.pdf": (hostile.many_pages_pdf(6), Limits(max_pages=5), "too-many-pages"),
    }
    for name, (data, limits, code) in cases.items():
        with pytest.raises(SourceError) as caught:
            probe(data, filename=name, limits=limits)
        assert caught.value.reason_code == code, name
    assert probe(hostile.many_pages_pdf(5), filename="ok.pdf", limits=Limits(max_pages=5)).pages == 5
    assert probe(hostile.big_png(3000), filename="ok.png", limits=Limits(max_pixels=9_000_000)).pages == 1


def test_a_huge_pdf_page_is_a_page_error_not_a_bitmap():
    for side in (14400, 20000):
        [page] = iter_pages(hostile.huge_page_pdf(side), filename="poster.pdf")
        assert page.error is not None and page.error.reason_code == "too-large" and page.image is None


def test_the_full_resolution_rendering_stays_within_the_limit():
    data = sl.vector_pdf_bytes([sl.payload_text("000001")])
    [page] = iter_pages(data, filename="a4.pdf", max_pixels=5_000_000)  # A4: 3.9 Mpx at 200 dpi, 8.7 at 300
    assert page.ok and page.method == RASTERISED
    assert page.reload is not None and 200 < page.reload.dpi < 300
    full = page.full_resolution()
    assert full is not None and full.width * full.height <= 5_000_000


def test_a_worker_task_never_raises_for_a_bad_file(tmp_path):
    good = sl.png_bytes(sl.scanned(sl.make_page(sl.payload_text(), dpi=150).image), dpi=150)
    files = hostile.hostile_files(good)
    tasks = []
    for name, (data, _outcome, _code) in files.items():
        (tmp_path / name).write_bytes(data)
        tasks.append(FileTask(str(tmp_path / name), name, (0,)))
    tasks.append(FileTask(str(tmp_path / "gone.pdf"), "gone.pdf", (0,)))
    results = decode_files(tasks)
    got = {r.path.rsplit("/", 1)[1]: r for r in results}
    for name, (_data, outcome, code) in files.items():
        result = got[name]
        if outcome == "unreadable-page":
            assert [p.error.reason_code for p in result.pages] == [code]
        else:
            assert result.failure is not None and result.failure.code == code, name
    assert got["gone.pdf"].failure.code == "unreadable"


def test_top_rows_are_exactly_the_top_of_the_whole_decode(page300):
    jpeg = sl.jpeg_bytes(sl.scanned(page300.image), quality=70)
    for factor in (1, 2, 4):
        whole, _mode, _size = open_draft(jpeg, factor)
        whole.load()
        strip = top_rows(jpeg, factor, 300)
        assert strip is not None and strip.size == (whole.width, 300)
        assert np.array_equal(np.asarray(whole)[:300], np.asarray(strip))
    assert top_rows(sl.truncated(jpeg, 0.05), 2, 1500) is None  # the data ends first: the caller decodes it all


def _blacked_out_top_right(image: Image.Image) -> Image.Image:
    out = image.copy()
    side = int(0.4 * out.width)
    ImageDraw.Draw(out).rectangle((out.width - side, 0, out.width, side), fill=0)
    return out


def test_the_fast_path_gives_the_full_paths_result(page300, tmp_path):
    blank = Image.new("L", page300.image.size, 250)
    pages = [sl.scanned(page300.image), sl.rotate(sl.scanned(page300.image), 180),
             sl.rotate(sl.scanned(page300.image), 90), _blacked_out_top_right(page300.image), sl.scanned(blank)]
    path = tmp_path / "scan.pdf"
    path.write_bytes(sl.scanner_pdf_bytes(pages, dpi=300, quality=70))
    [fast] = decode_files([FileTask(str(path), "scan.pdf", tuple(range(len(pages))))])
    full = decode_pages(str(path))
    key = lambda d: (d.index, d.method, d.width, d.height, d.dpi, d.mode, d.result.ours, d.result.foreign,
                     d.result.strategy, d.result.blank, d.result.mirrored)
    assert [key(d) for d in fast.pages] == [key(d) for d in full]
    assert fast.pages[0].result.strategy == "corner:top-right" and fast.pages[4].result.blank
    lazy = list(iter_pages(str(path), lazy=True))
    assert all(p.deferred is not None and p.image is None for p in lazy)
    assert decode_top_right(lazy[0]) is not None and decode_top_right(lazy[3]) is None  # inked over: decode it all


def test_a_jpeg_file_is_lazy_only_when_complete_and_gives_the_full_result(page300, tmp_path):
    jpeg = sl.jpeg_bytes(sl.scanned(page300.image), quality=70, dpi=300)
    (tmp_path / "a.jpg").write_bytes(jpeg)
    (tmp_path / "cut.jpg").write_bytes(sl.truncated(jpeg, 0.8))
    [lazy] = iter_pages(tmp_path / "a.jpg", lazy=True)
    assert lazy.deferred is not None and decode_top_right(lazy) is not None
    [fast] = decode_files([FileTask(str(tmp_path / "a.jpg"), "a.jpg", (0,))])[0].pages
    [full] = decode_pages(str(tmp_path / "a.jpg"))
    assert (fast.result.ours, fast.result.strategy, fast.width, fast.dpi, fast.mode) == (
        full.result.ours, full.result.strategy, full.width, full.dpi, full.mode)
    # Cut off below the code: the top rows alone would read, but the file is not complete, so it is not linked.
    [cut] = decode_files([FileTask(str(tmp_path / "cut.jpg"), "cut.jpg", (0,))])
    assert cut.failure is not None and cut.failure.code == "truncated"


def test_an_image_size_from_the_header_is_what_the_decoder_would_see():
    data = io.BytesIO()
    Image.new("L", (640, 480), 255).save(data, "JPEG")
    im, mode, size = open_draft(data.getvalue(), 2)
    assert (mode, size, im.size) == ("L", (640, 480), (320, 240))
