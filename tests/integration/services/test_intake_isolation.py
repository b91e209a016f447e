"""Issue 12, scan intake: one bad input spoils only itself (invariant 10). Real files — cut-off PNGs,
decompression bombs, 200-inch PDF pages, FIFOs, dangling links — mixed into folders of good scans, on SQLite
and PostgreSQL; real worker processes that crash; real leases held by other connections and processes."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import select

from app.models import ScanPage, ScanSource, SourceStatus
from app.services.integrity import integrity
from app.services.scans import intake
from app.services.scans.intake_lease import Leases
from app.services.site import settings
from tests.helpers import hostile
from tests.helpers import scanlike as sl
from tests.helpers.crashing_decoder import crashing_decode_files
from tests.helpers.forms import effective_template, issue
from tests.helpers.processes import alive, wait_gone
from tests.helpers.scans import issued_page_images, write

DPI = 150
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def issued(seed):
    effective_template(seed)
    result = issue(seed, copies=12)
    return result, issued_page_images(seed.db, result.pdf_sha256, dpi=DPI)


def _png(image, i: int = 0) -> bytes:
    return sl.png_bytes(sl.scanned(image, seed=i), dpi=DPI)


def _by_name(report) -> dict[str, list]:
    lines: dict[str, list] = {}
    for line in report.outcomes:
        lines.setdefault(Path(line.source).name, []).append(line)
    return lines


def _sources(db) -> dict[str, ScanSource]:
    with db.read() as s:
        return {src.original_name: src for src in s.scalars(select(ScanSource))}


def test_a_folder_of_good_scans_with_every_hostile_file_links_every_good_page(seed, issued, tmp_path):
    result, images = issued
    settings.change(seed.db, seed.admin, key="intake.max_pages_per_file", value=4, reason="issue 12 test")
    folder = tmp_path / "in"
    good = {f"good-{i:02d}.png": _png(images[i], i) for i in range(4)}
    good["good-04.jpg"] = sl.jpeg_bytes(sl.scanned(images[4], seed=4), dpi=DPI)
    good["good-pdf.pdf"] = sl.scanner_pdf_bytes([sl.scanned(im, seed=9) for im in images[5:8]], dpi=DPI)
    for name, data in good.items():
        write(folder, name, data)
    bad = hostile.hostile_files(good["good-00.png"])
    bad["long.pdf"] = (hostile.many_pages_pdf(5), "too-large", "too-many-pages")
    for name, (data, _outcome, _code) in bad.items():
        write(folder, name, data)
    private = write(tmp_path / "elsewhere", "private.png", _png(images[8], 8))
    private.chmod(0o600)
    (folder / "linked.png").symlink_to(private)
    entries = hostile.hostile_entries(folder, private)

    report = intake.import_files(seed.db, seed.op, [folder])

    lines = _by_name(report)
    pages = [o for o in report.outcomes if o.page is not None and o.linked]
    assert sorted(o.serial for o in pages) == sorted(result.serials[:9])  # every good page, the link's too
    for name, (_data, outcome, code) in bad.items():
        [line] = lines[name]
        assert (line.outcome, line.code) == (outcome, code), (name, line)
    for name, (outcome, code) in entries.items():
        [line] = lines[name]
        assert (line.outcome, line.code) == (outcome, code), (name, line)
    assert [(o.outcome, o.code) for o in lines["linked.png"]] == [("followed-symlink", "symlink"), ("linked", "linked")]
    assert str(private) in lines["linked.png"][0].reason
    # Nothing is left pending: every file is recorded, read or unreadable with its reason.
    sources = _sources(seed.db)
    assert all(s.status is not SourceStatus.PENDING for s in sources.values())
    assert sources["bomb.png"].error_code == "too-large" and sources["long.pdf"].error_code == "too-many-pages"
    assert sources["poster-20000pt.pdf"].status is SourceStatus.READ  # its one page is an exception
    assert {f.state for f in report.files if Path(f.source).name in good} == {intake.FileState.RECORDED}
    assert integrity.verify_everything(seed.db, seed.admin).ok


def test_a_file_over_the_page_limit_is_refused_whole_without_reading_a_page(seed, issued, tmp_path):
    settings.change(seed.db, seed.admin, key="intake.max_pages_per_file", value=3, reason="issue 12 test")
    path = write(tmp_path, "ten.pdf", hostile.many_pages_pdf(10))
    report = intake.import_files(seed.db, seed.op, [path])
    [line] = report.outcomes
    assert (line.outcome, line.code, line.page) == ("too-large", "too-many-pages", None)
    with seed.db.read() as s:
        assert s.scalar(select(ScanPage.id)) is None  # no page was read: not one exception queued for it


def test_pixel_limit_is_a_site_setting_checked_before_decoding(seed, tmp_path):
    path = write(tmp_path, "big.png", hostile.big_png(5000))  # 25 megapixels: Pillow would decode it
    settings.change(seed.db, seed.admin, key="intake.max_megapixels", value=20, reason="issue 12 test")
    [line] = intake.import_files(seed.db, seed.op, [path]).outcomes
    assert (line.outcome, line.code) == ("too-large", "too-large")


def test_an_explicitly_named_file_of_another_kind_is_unsupported(seed, tmp_path):
    path = write(tmp_path, "minutes.docx", b"PK\x03\x04" + bytes(300))
    [line] = intake.import_files(seed.db, seed.op, [path]).outcomes
    assert (line.outcome, line.code) == ("unsupported-format", "unsupported-format")
    assert _sources(seed.db)["minutes.docx"].status is SourceStatus.UNREADABLE


def test_a_decoder_crash_in_a_worker_costs_that_page_only(seed, issued, tmp_path):
    result, images = issued
    pdf = write(tmp_path, "crash-batch.pdf", sl.scanner_pdf_bytes([sl.scanned(im) for im in images[:4]], dpi=DPI))
    others = [write(tmp_path, f"p{i}.png", _png(images[i], i)) for i in (4, 5)]
    report = intake.import_files(seed.db, seed.op, [pdf, *others], processes=2, decoder=crashing_decode_files)
    by_page = {(Path(o.source).name, o.page): o for o in report.outcomes}
    assert by_page[("crash-batch.pdf", 2)].outcome == "unreadable-page"
    assert by_page[("crash-batch.pdf", 2)].code == "decoder-crashed"
    linked = sorted(o.serial for o in report.outcomes if o.linked)
    assert linked == sorted([result.serials[i] for i in (0, 2, 3, 4, 5)])
    assert _sources(seed.db)["crash-batch.pdf"].status is SourceStatus.READ


def test_a_page_that_never_finishes_is_stopped(seed, issued, tmp_path, monkeypatch):
    from app.services.scans import intake_decode

    result, images = issued
    monkeypatch.setattr(intake_decode, "TASK_BASE_S", 3.0)
    monkeypatch.setattr(intake_decode, "PAGE_S", 0.0)
    paths = [write(tmp_path, "hang.png", _png(images[0])), write(tmp_path, "fine.png", _png(images[1], 1))]
    report = intake.import_files(seed.db, seed.op, paths, processes=2, decoder=crashing_decode_files)
    lines = _by_name(report)
    assert [(o.outcome, o.code) for o in lines["hang.png"]] == [("unreadable-page", "timed-out")]
    assert [o.serial for o in lines["fine.png"]] == [result.serials[1]]


def test_another_live_import_holds_a_file_and_a_dead_one_does_not(seed, issued, tmp_path, db_url):
    """The lease: a file another import really holds right now is left to it; once its holder is gone (here:
    a process killed outright) the file is imported at once — no waiting period."""
    result, images = issued
    path = write(tmp_path, "a.png", _png(images[0]))
    sha = seed.db.files.put_file(path).sha256
    with Leases(seed.db.engine) as other:  # another import in this process (its own connection on PostgreSQL)
        assert other.take(sha)
        [line] = intake.import_files(seed.db, seed.op, [path]).outcomes
        assert (line.outcome, line.code) == ("duplicate-source", "being-imported")
        assert intake.import_files(seed.db, seed.op, [path]).unfinished == 1
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        from app.models.engine import build_engine
        from app.services.scans.intake_lease import Leases
        leases = Leases(build_engine({db_url!r}))
        assert leases.take({sha!r})
        print("held", flush=True)
        time.sleep(600)
    """)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert intake.import_files(seed.db, seed.op, [path]).outcomes[0].code == "being-imported"
    finally:
        holder.kill()
        holder.wait()
    report = intake.import_files(seed.db, seed.op, [path])
    assert [o.serial for o in report.outcomes] == [result.serials[0]]
    assert report.files[0].state is intake.FileState.RECORDED
    with Leases(seed.db.engine) as other:  # held only to find it done: that is "already imported", not busy
        assert other.take(sha)
        again = intake.import_files(seed.db, seed.op, [path])
    assert [(o.code, f.state) for o, f in zip(again.outcomes, again.files)] == [
        ("already-imported", intake.FileState.RECORDED)]


def test_an_interrupted_import_is_resumed_at_once(seed, issued, tmp_path):
    result, images = issued
    pdf = write(tmp_path, "batch.pdf", sl.scanner_pdf_bytes([sl.scanned(im) for im in images[:3]], dpi=DPI))
    answers = iter([False, True])  # stored and recorded, then stopped before any page is read
    first = intake.import_files(seed.db, seed.op, [pdf], cancelled=lambda: next(answers, True))
    assert first.cancelled and first.files[0].state is intake.FileState.UNFINISHED
    assert _sources(seed.db)["batch.pdf"].status is SourceStatus.PENDING
    again = intake.import_files(seed.db, seed.op, [pdf])  # right away: nothing to wait for
    assert sorted(o.serial for o in again.outcomes) == sorted(result.serials[:3])
    assert _sources(seed.db)["batch.pdf"].status is SourceStatus.READ


def test_stored_files_are_never_world_readable(seed, issued, tmp_path):
    _result, images = issued
    private = write(tmp_path / "src", "private.png", _png(images[0]))
    private.chmod(0o600)
    link = tmp_path / "link.png"
    link.symlink_to(private)
    report = intake.import_files(seed.db, seed.op, [link])
    assert report.linked == 1
    root = seed.db.files.root
    group = stat.S_IMODE(root.stat().st_mode) & 0o040
    content = [p for p in root.rglob("*") if p.relative_to(root).parts[0] == "tmp"
               or len(p.relative_to(root).parts[0]) == 2]  # the content-addressed part (and its staging)
    assert len([p for p in content if p.is_file()]) >= 2
    for path in content:  # (the store's own folder is made by whoever writes first; its mode is not ours to set)
        mode = stat.S_IMODE(path.lstat().st_mode)
        assert mode & 0o007 == 0, f"{path} is {oct(mode)}"
        if path.is_file():
            assert mode & 0o222 == 0 and mode & 0o040 == group, f"{path} is {oct(mode)}"
    stored = seed.db.files.path_for(report.outcomes[-1].sha256)
    assert stored.read_bytes() == private.read_bytes()


def test_workers_end_with_their_parent(tmp_path):
    """A parent killed outright (SIGKILL: no clean-up of its own) takes its decoder workers with it."""
    if not sys.platform.startswith("linux"):
        pytest.skip("reads /proc")
    parent = subprocess.Popen([sys.executable, "-c", textwrap.dedent("""
        import time
        from app.services.scans.intake_pool import WorkerPool
        pool = WorkerPool(2, preload=("app.forms.scan.scan_worker",))
        while len(pool.pids) < 2:
            time.sleep(0.05)
        print(*pool.pids, flush=True)
        time.sleep(600)
    """)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    pids = [int(p) for p in parent.stdout.readline().split()]
    assert len(pids) == 2 and all(alive(p) for p in pids)
    parent.kill()
    parent.wait()
    assert wait_gone(pids, 10.0), [p for p in pids if alive(p)]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_named_explicitly_is_skipped_without_blocking(seed, tmp_path):
    fifo = tmp_path / "scan.pdf"
    os.mkfifo(fifo)
    [line] = intake.import_files(seed.db, seed.op, [fifo]).outcomes
    assert (line.outcome, line.code) == ("skipped", "not-a-regular-file")
