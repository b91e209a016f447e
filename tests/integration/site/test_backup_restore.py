"""BK-01..BK-03: backup while in use, verify, corrupted backups named, restore round trip, RESTORE event."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.runtime import RuntimeConfig, open_database
from app.services.admin import backup, restore, transfer
from app.services.core import audit_chain
from app.services.core.errors import DomainError, PermissionDenied, ValidationError
from app.services.reports import audit_log
from tests.helpers import scanlike as sl
from tests.helpers.forms import effective_template, issue
from tests.helpers.records import fill
from tests.helpers.scans import issued_page_images, write


@pytest.fixture
def busy_site(seed, tmp_path):
    """A site with templates, an issuance, a returned scan and some record data."""
    from app.services.scans import intake
    effective_template(seed)
    result = issue(seed, copies=3)
    image = issued_page_images(seed.db, result.pdf_sha256, dpi=150)[0]
    intake.import_files(seed.db, seed.op, [write(tmp_path / "in", "p.png", sl.png_bytes(sl.scanned(image), dpi=150))])
    fill(seed, result.serials[0])
    return seed


def _make(tmp_path: Path):
    def make_database(url, files):
        # The same installation (its station id lives in the user's settings, not in the data folder): the
        # workstation registered on the site it restores (AC-08), which may go on issuing.
        return open_database(RuntimeConfig(home=tmp_path / "restored-home", db_url=url, workstation="TEST-WS-01",
                                           hasher_profile="fast", files_dir=files))
    return make_database


def test_bk01_backup_verify_restore_round_trip(busy_site, tmp_path):
    seed = busy_site
    result = backup.backup(seed.db, seed.admin, tmp_path / "bk")
    manifest = json.loads((tmp_path / "bk" / "manifest.json").read_text())
    assert manifest["row_counts"]["issued_form"] == 3 and manifest["stored_files"] == 2
    assert all(name in manifest["files"] for name in (*[f"files/{h}" for h in _stored(seed)],))
    check = restore.verify_backup(tmp_path / "bk", keys=seed.db.keys)
    assert check.ok, check.problems
    assert check.chain_head == result.chain_head
    assert audit_log.count_events(seed.db, seed.admin, audit_log.AuditFilter(action="BACKUP")) == 1

    target = f"sqlite:///{tmp_path / 'restored' / 'formtrail.db'}"
    (tmp_path / "restored").mkdir()
    done = restore.restore(tmp_path / "bk", seed.admin, reason="restore test (BK-02)", target_url=target,
                           target_files=tmp_path / "restored" / "files", current=seed.db, in_place=False,
                           workstation="WS-R", make_database=_make(tmp_path))
    restored = _make(tmp_path)(target, tmp_path / "restored" / "files")
    try:
        counts = transfer.row_counts(restored.engine)
        original = manifest["row_counts"]
        assert {k: v for k, v in counts.items() if k != "audit_event"} == \
            {k: v for k, v in original.items() if k != "audit_event"}
        assert counts["audit_event"] == original["audit_event"] + 1  # + the RESTORE event
        chain = audit_chain.verify_chain(restored)
        assert chain.ok and done.chain_head_after.split(":")[0] == str(chain.count - 1)
        for sha in _stored(seed):
            assert restored.files.read(sha) == seed.db.files.read(sha)
        [event] = audit_log.fetch_events(restored, seed.admin, audit_log.AuditFilter(action="RESTORE"))
        details = json.loads(event.new_value)
        assert details["chain_head_before"] and event.reason == "restore test (BK-02)"
    finally:
        restored.engine.dispose()


def _stored(seed):
    from sqlalchemy import select

    from app.models import StoredFile
    with seed.db.read() as s:
        return list(s.scalars(select(StoredFile.sha256)))


def test_bk02_corrupted_backup_names_the_file(busy_site, tmp_path):
    seed = busy_site
    backup.backup(seed.db, seed.admin, tmp_path / "bk")
    sha = _stored(seed)[0]
    victim = tmp_path / "bk" / "files" / sha
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0x01
    victim.write_bytes(bytes(data))
    other = next(p for p in (tmp_path / "bk").rglob("*") if p.is_file() and p.name not in ("manifest.json", sha))
    other.unlink()
    check = restore.verify_backup(tmp_path / "bk", keys=seed.db.keys)
    assert not check.ok
    text = "\n".join(check.problems)
    assert f"files/{sha}: altered" in text and f"{other.relative_to(tmp_path / 'bk').as_posix()}: missing" in text
    with pytest.raises(DomainError, match="does not verify"):
        restore.restore(tmp_path / "bk", seed.admin, reason="x", target_url=f"sqlite:///{tmp_path / 'r.db'}",
                        target_files=tmp_path / "rf", current=seed.db, in_place=False, workstation="W",
                        make_database=_make(tmp_path))


def test_bk03_restore_is_for_administrators_with_a_reason(busy_site, tmp_path):
    seed = busy_site
    with pytest.raises(PermissionDenied):  # taking a backup is the administrator's act too
        backup.backup(seed.db, seed.qa, tmp_path / "qa-bk")
    backup.backup(seed.db, seed.admin, tmp_path / "bk")
    with pytest.raises(PermissionDenied):
        restore.restore(tmp_path / "bk", seed.qa, reason="x", target_url=f"sqlite:///{tmp_path / 'r.db'}",
                        target_files=tmp_path / "rf", current=seed.db, in_place=False, workstation="W",
                        make_database=_make(tmp_path))


def _approved(seed) -> restore.Approval:  # noqa: ANN001
    """BK-03: a second person (QA) approves an in-place restore, typing their password at that moment."""
    from tests.helpers.seed import PASSWORD
    return restore.approve_restore(seed.db, seed.admin, username="qa", password=PASSWORD)


def test_backup_refuses_a_non_empty_folder(busy_site, tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    from app.services.core.errors import ValidationError
    with pytest.raises(ValidationError, match="not empty"):
        backup.backup(busy_site.db, busy_site.admin, tmp_path / "full")


def test_bk03_in_place_restore_keeps_the_replaced_file_and_reports_the_gap(seed, tmp_path, backend):
    if backend != "sqlite":
        pytest.skip("in-place restore replaces the embedded SQLite database")
    from app.services.site import settings
    effective_template(seed)
    backup.backup(seed.db, seed.admin, tmp_path / "bk")
    issue(seed, copies=2)  # work done after the backup point: lost by going back
    settings.change(seed.db, seed.admin, key="password.history", value=8, reason="after backup")
    db_file = Path(seed.db.engine.url.database)
    url, files = f"sqlite:///{db_file}", seed.db.files.root
    done = restore.restore(tmp_path / "bk", seed.admin, reason="disk corruption on the workstation",
                           target_url=url, target_files=files, current=seed.db, in_place=True, workstation="W",
                           approval=_approved(seed), make_database=_make(tmp_path))
    assert done.moved_aside is not None and done.moved_aside.exists() and done.events_lost > 5
    restored = _make(tmp_path)(url, files)
    try:
        from app.services.issuance import register
        assert register.count_forms(restored, seed.viewer, register.RegisterFilter()) == 0
        [event] = audit_log.fetch_events(restored, seed.admin, audit_log.AuditFilter(action="RESTORE"))
        details = json.loads(event.new_value)
        assert details["events_lost_after_backup"] == done.events_lost
        assert any("issued_form" in key for key in details["lost_summary"])
        assert audit_chain.verify_chain(restored).ok
    finally:
        restored.engine.dispose()


def test_scheduled_backup_runs_when_due_and_shows_on_home(seed, tmp_path, clock):
    from app.services.reports import work
    from app.services.site import settings
    assert backup.run_scheduled_backup(seed.db, seed.dc) is None  # not configured
    settings.change(seed.db, seed.admin, key="backup.folder", value=str(tmp_path / "auto"), reason="CC-11")
    settings.change(seed.db, seed.admin, key="backup.interval_hours", value=12, reason="CC-11")
    first = backup.run_scheduled_backup(seed.db, seed.dc)
    assert first is not None and restore.verify_backup(first.path, keys=seed.db.keys).ok
    assert backup.run_scheduled_backup(seed.db, seed.dc) is None  # not due yet
    clock.advance(hours=13)
    assert backup.run_scheduled_backup(seed.db, seed.dc) is not None
    outcome, when, where = work.worklist(seed.db, seed.viewer).last_backup
    assert outcome == "BACKUP" and str(tmp_path / "auto") in where


def test_inv10_an_in_place_restore_never_lets_a_serial_repeat(seed, tmp_path, backend):
    """Back up, issue 000004–000005 and save their PDF, restore in place: the next serial is 000006, the
    restore names 000004–000005, and the QR payload of the old paper can never match a new form."""
    if backend != "sqlite":
        pytest.skip("in-place restore replaces the embedded SQLite database")
    from app.services.issuance import printing, register
    effective_template(seed)
    issue(seed, copies=3)
    backup.backup(seed.db, seed.admin, tmp_path / "bk")
    after = issue(seed, copies=2)
    printing.save_to_file(seed.db, seed.dc, after.pdf_id, out=tmp_path / "paper.pdf")
    url, files = f"sqlite:///{Path(seed.db.engine.url.database)}", seed.db.files.root
    done = restore.restore(tmp_path / "bk", seed.admin, reason="workstation disk replaced", target_url=url,
                           target_files=files, current=seed.db, in_place=True, workstation="W",
                           approval=_approved(seed), make_database=_make(tmp_path))
    assert done.serials_after_backup == ("000004", "000005")
    restored = _make(tmp_path)(url, files)
    try:
        dc = seed.dc
        again = issue_into(restored, dc, copies=1)
        assert again.serials == ("000006",)
        numbers = {r.serial for r in register.fetch_forms(restored, dc, register.RegisterFilter(), limit=100)}
        assert numbers.isdisjoint({"000004", "000005"})
        [event] = audit_log.fetch_events(restored, seed.admin, audit_log.AuditFilter(action="RESTORE"))
        assert json.loads(event.new_value)["serials_issued_after_backup"] == "000004-000005"
    finally:
        restored.engine.dispose()


def test_inv10_a_restore_into_a_new_folder_continues_past_the_live_site(seed, tmp_path):
    effective_template(seed)
    backup.backup(seed.db, seed.admin, tmp_path / "bk")
    issue(seed, copies=4)  # the live site goes on after the backup point
    target = tmp_path / "new-home"
    target.mkdir()
    done = restore.restore(tmp_path / "bk", seed.admin, reason="moving to a new workstation",
                           target_url=f"sqlite:///{target / 'formtrail.db'}", target_files=target / "files",
                           current=seed.db, in_place=False, workstation="W", make_database=_make(tmp_path))
    assert done.serials_after_backup == ("000001", "000004")
    restored = _make(tmp_path)(done.db_url, target / "files")
    try:
        assert issue_into(restored, seed.dc, copies=1).serials == ("000005",)
    finally:
        restored.engine.dispose()


def test_a_backup_opened_with_the_sqlite3_tool_still_verifies_and_restores(seed, tmp_path, backend):
    import sqlite3
    effective_template(seed)
    issue(seed, copies=2)
    backup.backup(seed.db, seed.admin, tmp_path / "bk")
    manifest = json.loads((tmp_path / "bk" / "manifest.json").read_text())
    assert not [name for name in manifest["files"] if name.endswith(("-wal", "-shm", "-journal"))]
    if backend == "sqlite":
        conn = sqlite3.connect(tmp_path / "bk" / "database.sqlite")  # what a curious administrator does
        assert conn.execute("select count(*) from issued_form").fetchone() == (2,)
        conn.close()
        assert not list((tmp_path / "bk").glob("database.sqlite-*"))  # rollback journal: nothing left beside it
        # A stray scratch file (another tool, another SQLite version) is not part of the backup and is ignored.
        (tmp_path / "bk" / "database.sqlite-shm").write_bytes(b"\0" * 32768)
    check = restore.verify_backup(tmp_path / "bk", keys=seed.db.keys)
    assert check.ok, check.problems
    target = tmp_path / "restored"
    target.mkdir()
    done = restore.restore(tmp_path / "bk", seed.admin, reason="restore test", current=None, in_place=False,
                           keys=seed.db.keys,
                           target_url=f"sqlite:///{target / 'formtrail.db'}", target_files=target / "files",
                           workstation="W", make_database=_make(tmp_path))
    restored = _make(tmp_path)(done.db_url, target / "files")
    try:
        from app.services.issuance import register
        assert register.count_forms(restored, seed.viewer, register.RegisterFilter()) == 2
    finally:
        restored.engine.dispose()


def issue_into(db, actor, *, copies: int):  # noqa: ANN001, ANN201 - a restored database, the seeded user
    import datetime as dt

    from app.services.identity import auth
    from app.services.issuance import issuance
    again = auth.authenticate(db, username=actor.username, password="Corr3ct-Horse!").actor
    return issuance.issue_forms(db, again, code="QC-WS-014", copies=copies, purpose="after restore",
                                reference=None, issued_to="Line 1", due=dt.date(2099, 1, 1))


def test_inv10_an_interrupted_backup_is_named_and_simply_taken_again(seed, tmp_path):
    effective_template(seed)
    issue(seed, copies=1)
    dest = tmp_path / "bk"
    dest.mkdir()
    (dest / backup.INCOMPLETE).write_text("killed")  # what a backup killed half-way leaves
    (dest / "files").mkdir()
    (dest / "files" / "half-copied").write_bytes(b"x" * 100)
    check = restore.verify_backup(dest, keys=seed.db.keys)
    assert not check.ok and "interrupted backup" in check.problems[0]
    backup.backup(seed.db, seed.admin, dest)
    assert restore.verify_backup(dest, keys=seed.db.keys).ok and not (dest / backup.INCOMPLETE).exists()
    other = tmp_path / "someone-elses"
    other.mkdir()
    (other / "notes.txt").write_text("not ours")
    with pytest.raises(ValidationError) as refused:
        backup.backup(seed.db, seed.admin, other)
    assert refused.value.code == "folder-not-empty" and (other / "notes.txt").exists()


def test_after_restoring_an_older_backup_the_doctor_still_knows_the_store(seed, tmp_path, backend):
    """The store's anchor file holds anchors of the history given up by the restore; its older anchors still
    name this database, so `doctor` must not call the site's own store a stranger's."""
    if backend != "sqlite":
        pytest.skip("in-place restore replaces the embedded SQLite database")
    from app.services.admin import doctor
    effective_template(seed)
    backup.backup(seed.db, seed.admin, tmp_path / "bk1")
    issue(seed, copies=2)
    backup.backup(seed.db, seed.admin, tmp_path / "bk2")  # anchors the later history in the store
    db_file = Path(seed.db.engine.url.database)
    url, files = f"sqlite:///{db_file}", seed.db.files.root
    restore.restore(tmp_path / "bk1", seed.admin, reason="going back before a bad import", target_url=url,
                    target_files=files, current=seed.db, in_place=True, workstation="W", approval=_approved(seed),
                    make_database=_make(tmp_path))
    restored = _make(tmp_path)(url, files)
    try:
        report = doctor.run(doctor.workstation_of(restored))
    finally:
        restored.engine.dispose()
    store = report.check("file-store")
    assert store.status is doctor.CheckStatus.OK, store.detail


def test_a_backup_anchors_its_chain_head_once(seed, tmp_path):
    """The BACKUP event's transaction anchors the head; the anchor is not written a second time right after."""
    import os
    import time

    from app.services.core import anchors
    anchor_file = anchors.anchor_file(seed.db.files.root, "BSL-01")
    stale = time.time() - 3600  # the last anchor is old: the write itself would anchor anyway
    os.utime(anchor_file, (stale, stale))
    before = anchor_file.read_text().splitlines()
    backup.backup(seed.db, seed.admin, tmp_path / "bk")
    added = anchor_file.read_text().splitlines()[len(before):]
    [event] = audit_log.fetch_events(seed.db, seed.admin, audit_log.AuditFilter(action="BACKUP"))
    assert [json.loads(line)["seq"] for line in added] == [event.seq]
