"""After intake: exceptions queue actions, replaced forms keep their pages, true copies, disposition,
`verify`, and the hot folder (issue 4, SC-01..SC-05)."""

from __future__ import annotations

import pytest

from app.models import Disposition, FormState, ScanOutcome
from app.services.core.error_codes import ErrorCode
from app.services.core.errors import DomainError, PermissionDenied, RuleViolation, ValidationError
from app.services.core.filestore import FileStatus
from app.services.integrity import integrity
from app.services.issuance import register, replacement
from app.services.reports import audit_log
from app.services.scans import intake, scans, true_copy
from app.services.scans.hot_folder import HotFolder
from tests.helpers import scanlike as sl
from tests.helpers.forms import effective_template, issue
from tests.helpers.scans import issued_page_images, write
from tests.helpers.seed import PASSWORD
from tests.helpers.transactions import counted

DPI = 150


@pytest.fixture
def issued(seed):
    effective_template(seed, "QC-WS-014")
    result = issue(seed, "QC-WS-014", copies=3)
    return result, issued_page_images(seed.db, result.pdf_sha256, dpi=DPI)


def _import(seed, tmp_path, name, image, actor=None):
    path = write(tmp_path, name, sl.png_bytes(sl.scanned(image, seed=len(name)), dpi=DPI))
    return intake.import_files(seed.db, actor or seed.op, [path]).outcomes[0]


def test_manual_link_needs_reason_role_and_is_audited(seed, issued, tmp_path):
    result, images = issued
    line = _import(seed, tmp_path, "inked.png", _codes_blacked_out(images[0]))
    assert line.outcome == "no-code"
    with pytest.raises(ValidationError, match="reason"):
        scans.link_manually(seed.db, seed.dc, scan_page_id=line.scan_page_id, serial=result.serials[0], page_no=1,
                            reason="")
    with pytest.raises(PermissionDenied):
        scans.link_manually(seed.db, seed.op, scan_page_id=line.scan_page_id, serial=result.serials[0], page_no=1,
                            reason="serial readable by eye")
    info = scans.link_manually(seed.db, seed.dc, scan_page_id=line.scan_page_id, serial=result.serials[0],
                               page_no=1, reason="serial 000001 readable by eye")
    assert info.outcome is ScanOutcome.LINKED and info.link_method == "manual" and info.form_state is FormState.RETURNED
    events = audit_log.fetch_events(seed.db, seed.admin, audit_log.AuditFilter(entity="scan_page", action="STATE_CHANGE"))
    assert events[-1].reason == "manual link: serial 000001 readable by eye" and events[-1].username == "dc"
    assert scans.list_exceptions(seed.db, seed.dc) == []


def _codes_blacked_out(image):
    """Ink spilled over both codes: nothing left to decode."""
    from PIL import ImageDraw
    out = image.copy()
    draw = ImageDraw.Draw(out)
    side = sl.mm_to_px(45, DPI)
    draw.rectangle((out.width - side, 0, out.width, side), fill=0)
    draw.rectangle((0, out.height - side, side, out.height), fill=0)
    return out


def test_not_controlled_and_bad_manual_link(seed, issued, tmp_path):
    line = _import(seed, tmp_path, "letter.png", sl.scanned(sl.make_page("https://example.org", dpi=DPI).image))
    assert line.outcome == "foreign-code"
    with pytest.raises(ValidationError, match="pages 1 to 1"):
        scans.link_manually(seed.db, seed.dc, scan_page_id=line.scan_page_id, serial="000001", page_no=9, reason="x")
    info = scans.mark_not_controlled(seed.db, seed.dc, scan_page_id=line.scan_page_id, reason="supplier letter")
    assert info.outcome is ScanOutcome.NOT_CONTROLLED and not info.is_exception


def test_retry_decoding_is_refused_where_it_cannot_help(seed, issued, tmp_path):
    result, images = issued
    line = _import(seed, tmp_path, "p2.png", images[1])
    assert line.outcome == "linked"
    with pytest.raises(DomainError, match="would not change"):
        scans.retry_decoding(seed.db, seed.op, scan_page_id=line.scan_page_id)
    hidden = _import(seed, tmp_path, "hidden.png", _codes_blacked_out(images[2]))
    assert scans.retry_decoding(seed.db, seed.op, scan_page_id=hidden.scan_page_id).outcome is ScanOutcome.NO_CODE


def test_pages_of_a_replaced_form_are_kept_and_shown(seed, issued, tmp_path):
    result, images = issued
    replacement.replace_form(seed.db, seed.qa, serial=result.serials[1], reason="torn", username="qa",
                             password=PASSWORD)
    line = _import(seed, tmp_path, "old.png", images[1])
    assert line.outcome == "form-not-returnable" and "replaced" in line.reason
    [kept] = scans.pages_of_form(seed.db, seed.qa, result.serials[1])
    assert kept.id == line.scan_page_id and kept.outcome is ScanOutcome.NOT_RETURNABLE


def test_rescan_accepted_as_new_version_keeps_the_old_one(seed, issued, tmp_path):
    result, images = issued
    first = _import(seed, tmp_path, "a.png", images[2])
    second = _import(seed, tmp_path, "b.png", sl.add_noise(images[2], 20, seed=4))
    assert (first.outcome, second.outcome) == ("linked", "possible-copy")
    scans.link_manually(seed.db, seed.qa, scan_page_id=second.scan_page_id, serial=result.serials[2], page_no=1,
                        reason="rescan: first scan too dark (SC-04)")
    pages = {p.id: p for p in scans.pages_of_form(seed.db, seed.qa, result.serials[2])}
    assert pages[first.scan_page_id].superseded and not pages[second.scan_page_id].superseded


def test_sc02_true_copy_by_a_second_person_then_disposition(seed, issued, tmp_path):
    result, images = issued
    _import(seed, tmp_path, "p.png", images[0], actor=seed.op)
    serial = result.serials[0]
    with pytest.raises(DomainError, match="not verified"):
        true_copy.record_disposition(seed.db, seed.dc, serial=serial, disposition=Disposition.ARCHIVED,
                                     location="Archive room B, box 12", reason="filed")
    with pytest.raises(RuleViolation) as refused:
        true_copy.verify_true_copy(seed.db, seed.op, serial=serial, username="op", password=PASSWORD,
            checklist=true_copy.Checklist.confirmed())
    assert refused.value.code == ErrorCode.SEPARATION_OF_DUTIES
    with pytest.raises(DomainError, match="0 of 1"):
        true_copy.verify_true_copy(seed.db, seed.dc, serial=result.serials[1], username="dc", password=PASSWORD,
            checklist=true_copy.Checklist.confirmed())
    [waiting] = true_copy.pending(seed.db, seed.viewer)
    assert (waiting.serial, waiting.imported_by) == (serial, ("op",))
    status = true_copy.verify_true_copy(seed.db, seed.op2, serial=serial, username="op2", password=PASSWORD,
        checklist=true_copy.Checklist.confirmed())
    assert true_copy.pending(seed.db, seed.viewer) == []
    assert status.verified_by == "op2"
    with pytest.raises(ValidationError, match="where"):
        true_copy.record_disposition(seed.db, seed.dc, serial=serial, disposition=Disposition.ARCHIVED,
                                     location=" ", reason="filed")
    with pytest.raises(PermissionDenied):
        true_copy.record_disposition(seed.db, seed.dc, serial=serial, disposition=Disposition.DESTROYED,
                                     location=None, reason="retention", username="dc", password=PASSWORD)
    done = true_copy.record_disposition(seed.db, seed.dc, serial=serial, disposition=Disposition.ARCHIVED,
                                        location="Archive room B, box 12", reason="filed after verification")
    assert done.disposition == "archived"
    destroyed = true_copy.record_disposition(seed.db, seed.qa, serial=serial, disposition=Disposition.DESTROYED,
                                             location=None, reason="retention ended", username="qa",
                                             password=PASSWORD)
    assert destroyed.disposition == "destroyed"


def test_sc01_verify_names_altered_and_missing_files(seed, issued, tmp_path):
    result, images = issued
    line = _import(seed, tmp_path, "p.png", images[0])
    assert integrity.verify_everything(seed.db, seed.admin).ok
    path = seed.db.files.path_for(line.sha256)
    path.chmod(0o644)
    data = bytearray(path.read_bytes())
    data[100] ^= 0xFF
    path.write_bytes(bytes(data))
    seed.db.files.path_for(result.pdf_sha256).unlink()
    report = integrity.verify_everything(seed.db, seed.admin)
    assert not report.ok
    files = {(f.subject.split()[2], f.detail.split()[0]) for f in report.findings if f.area == "file"}
    assert files == {(line.sha256, FileStatus.ALTERED.value), (result.pdf_sha256, FileStatus.MISSING.value)}


def test_hot_folder_imports_finished_files_and_never_deletes(seed, issued, tmp_path):
    result, images = issued
    folder = tmp_path / "hot"
    folder.mkdir()
    now = [0.0]
    watcher = HotFolder(seed.db, seed.op, folder, settle_s=2.0, clock=lambda: now[0])
    good = write(folder, "scan001.png", sl.png_bytes(sl.scanned(images[0]), dpi=DPI))
    bad = write(folder, "scan002.pdf", b"%PDF-1.7 truncated")
    assert watcher.poll() == []  # just seen: maybe still being written
    now[0] = 1.0
    import os
    os.utime(good, ns=(good.stat().st_atime_ns, good.stat().st_mtime_ns + 10**9))  # the scanner writes more
    assert watcher.poll() == []
    now[0] = 2.5  # the PDF has been unchanged for 2.5 s, the PNG for 1.5 s
    results = {r.path.name: r for r in watcher.poll()}
    assert list(results) == ["scan002.pdf"]
    now[0] = 3.5
    results.update({r.path.name: r for r in watcher.poll()})
    assert results["scan001.png"].moved_to == folder / "done" / "scan001.png"
    assert results["scan002.pdf"].moved_to == folder / "failed" / "scan002.pdf"
    assert results["scan001.png"].report.linked == 1
    assert (folder / "failed" / "scan002.pdf").read_bytes() == b"%PDF-1.7 truncated"
    assert register.fetch_forms(seed.db, seed.op, register.RegisterFilter(state=FormState.RETURNED))[0].serial == \
        result.serials[0]


def test_returned_forms_list_every_status_in_one_read(seed, issued, tmp_path):
    """Issue 13: the true-copy list was a register read plus one status read per form (up to 500) in the UI;
    the service reads it once and says per form what the actor may do, as ``status`` does."""
    result, images = issued
    _import(seed, tmp_path, "p.png", images[0], actor=seed.op)
    with counted() as seen:
        rows = true_copy.returned_forms(seed.db, seed.op2)
    assert seen.reads == 1 and seen.writes == 0
    assert [r.serial for r in rows] == [result.serials[0]]
    for actor in (seed.op, seed.op2, seed.viewer):  # the importer may not verify, a second operator may
        [row] = true_copy.returned_forms(seed.db, actor)
        assert row.status == true_copy.status(seed.db, actor, row.serial)
    assert [r.status.may_verify for r in (true_copy.returned_forms(seed.db, a)[0] for a in (seed.op, seed.op2))] \
        == [False, True]
