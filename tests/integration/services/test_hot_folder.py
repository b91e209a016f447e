"""Issue 12, the hot folder: it survives any file, files a file to done/ only once every page of it is
recorded, to failed/ with a reason file otherwise, and never files a file it did not read."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import select

from app.models import ScanSource, SourceStatus
from app.services.scans import intake
from app.services.scans.hot_folder import HotFolder
from app.services.scans.intake_lease import Leases
from tests.helpers import hostile
from tests.helpers import scanlike as sl
from tests.helpers.crashing_decoder import crashing_decode_files
from tests.helpers.forms import effective_template, issue
from tests.helpers.scans import issued_page_images, write

DPI = 150


@pytest.fixture
def issued(seed):
    effective_template(seed)
    result = issue(seed, copies=6)
    return result, issued_page_images(seed.db, result.pdf_sha256, dpi=DPI)


class Watch:
    """A watcher on a clock the test moves: every file present is settled at the second look."""

    def __init__(self, seed, folder: Path, **kwargs) -> None:
        self.now = 0.0
        self.hot = HotFolder(seed.db, seed.op, folder, settle_s=1.0, clock=lambda: self.now, **kwargs)

    def look(self) -> dict[str, object]:
        self.hot.poll()
        self.now += 2.0
        results = {r.path.name: r for r in self.hot.poll()}
        self.now += 2.0
        return results

    def close(self) -> None:
        self.hot.close()


@pytest.fixture
def watch(seed, tmp_path):
    made: list[Watch] = []

    def make(**kwargs) -> Watch:
        made.append(Watch(seed, tmp_path / "hot", **kwargs))
        return made[-1]

    (tmp_path / "hot").mkdir()
    yield make
    for w in made:
        w.close()


def test_the_watcher_survives_hostile_files_and_files_each_by_what_became_of_it(seed, issued, tmp_path, watch):
    _result, images = issued
    folder = tmp_path / "hot"
    good = sl.png_bytes(sl.scanned(images[0]), dpi=DPI)
    write(folder, "good.png", good)
    write(folder, "crash-two.pdf", sl.scanner_pdf_bytes([sl.scanned(im) for im in images[1:3]], dpi=DPI))
    expected_failed = {"cut.png": "truncated", "bomb.png": "too-large", "noise.pdf": "corrupt"}
    files = hostile.hostile_files(good)
    for name in expected_failed:
        write(folder, name, files[name][0])
    write(folder, "poster.pdf", files["poster-14400pt.pdf"][0])
    if hostile.make_fifo(folder / "pipe.pdf"):
        expected_failed["pipe.pdf"] = "not-a-regular-file"

    results = watch(decoder=crashing_decode_files).look()

    assert {n for n, r in results.items() if r.moved_to.parent.name == "done"} == {
        "good.png", "crash-two.pdf", "poster.pdf"}
    for name, code in expected_failed.items():
        moved = folder / "failed" / name
        assert results[name].moved_to == moved and results[name].code == code
        assert f"[{code}]" in (folder / "failed" / f"{name}.reason.txt").read_text(encoding="utf-8")
    assert (folder / "done" / "good.png").read_bytes() == good  # moved, never changed or deleted
    assert [o.code for o in results["crash-two.pdf"].report.outcomes] == ["linked", "decoder-crashed"]
    assert sorted(os.listdir(folder)) == ["done", "failed"]


def test_a_file_another_import_holds_stays_until_it_is_read(seed, issued, tmp_path, watch):
    _result, images = issued
    path = write(tmp_path / "hot", "scan.png", sl.png_bytes(sl.scanned(images[0]), dpi=DPI))
    sha = seed.db.files.put_file(path).sha256
    w = watch()
    with Leases(seed.db.engine) as other:
        assert other.take(sha)
        assert w.look() == {} and path.exists()  # not filed: it was not read
    [result_] = w.look().values()
    assert result_.moved_to.parent.name == "done" and result_.report.linked == 1


def test_after_an_interrupted_import_the_file_is_read_before_it_is_filed(seed, issued, tmp_path, watch):
    result, images = issued
    path = write(tmp_path / "hot", "batch.pdf", sl.scanner_pdf_bytes([sl.scanned(im) for im in images[:2]], dpi=DPI))
    answers = iter([False, True])  # the watcher's earlier life: stored and recorded, then gone
    intake.import_files(seed.db, seed.op, [path], origin="hot-folder", cancelled=lambda: next(answers, True))
    with seed.db.read() as s:
        assert s.scalar(select(ScanSource.status)) is SourceStatus.PENDING
    [again] = watch().look().values()  # the restarted watcher
    assert again.moved_to == tmp_path / "hot" / "done" / "batch.pdf"
    assert sorted(o.serial for o in again.report.outcomes if o.page) == sorted(result.serials[:2])
    with seed.db.read() as s:
        assert s.scalar(select(ScanSource.status)) is SourceStatus.READ


def test_a_folder_that_goes_away_is_reported_and_watched_again(seed, tmp_path):
    folder = tmp_path / "share"
    hot = HotFolder(seed.db, seed.op, folder, settle_s=0.0)
    (folder / "done").rmdir()
    (folder / "failed").rmdir()
    folder.rmdir()  # the share is unmounted
    errors: list[BaseException] = []
    looks = iter([False, False, True])
    hot.run(stop=lambda: next(looks), on_result=lambda r: None, poll_s=0.0, on_error=errors.append)
    assert len(errors) == 2 and all(isinstance(e, OSError) for e in errors)
