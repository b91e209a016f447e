"""BK-02: the headless schedule. What is due runs (a backup, a test-restore of the newest backup followed by the
full verify), a second run does nothing, and a corrupted backup fails its test-restore and raises an incident."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models import AuditEvent
from app.models.incidents import Incident, IncidentKind, IncidentStatus
from app.services.admin import backup
from app.services.core.error_codes import ErrorCode
from app.services.core.errors import NotFound
from app.services.integrity import schedule
from app.services.site import settings
from tests.helpers.safety import scratch_opener


@pytest.fixture
def scheduled(seed, runtime_config, tmp_path):  # noqa: ANN001, ANN201
    settings.change(seed.db, seed.admin, key="backup.folder", value=str(tmp_path / "backups"), reason="schedule")
    return seed, scratch_opener(seed.db, runtime_config.key_folder)


def _events(db, action: str) -> list[AuditEvent]:  # noqa: ANN001
    with db.read() as session:
        rows = list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)))
        session.expunge_all()
        return rows


@pytest.mark.compliance
def test_bk02_schedule_runs_what_is_due_once(scheduled, tmp_path):
    seed, opener = scheduled
    first = schedule.run(seed.db, make_database=opener, scratch_root=tmp_path)
    assert first.ok, first.steps
    done = {s.name: s.done for s in first.steps}
    assert done["backup"] and done["test-restore"] and done["verify"]  # SE-01: the live data checked too
    [tested] = _events(seed.db, "RESTORE_TEST")
    assert '"ok":true' in (tested.new_value or "") and tested.username == "SYSTEM"
    assert [p for p in tmp_path.iterdir() if p.name.startswith("formtrail-test-restore-")] == []  # scratch removed

    second = schedule.run(seed.db, make_database=opener, scratch_root=tmp_path)
    assert second.ok and not second.did_something
    assert len(_events(seed.db, "BACKUP")) == 1 and len(_events(seed.db, "RESTORE_TEST")) == 1
    assert len(_events(seed.db, "VERIFY")) == 1  # not due again before schedule.verify_hours

    state = schedule.status(seed.db)
    assert state.last_backup is not None and state.last_backup.ok
    assert state.last_test_restore is not None and state.last_test_restore.ok
    assert state.next_test_restore_due is not None and state.next_backup_due is not None
    assert state.next_test_restore_due > seed.db.clock.now()


@pytest.mark.compliance
def test_bk02_corrupt_backup_fails_verification_and_raises_an_incident(scheduled, tmp_path, clock):
    seed, opener = scheduled
    settings.change(seed.db, seed.admin, key="backup.interval_hours", value=720, reason="monthly")
    settings.change(seed.db, seed.admin, key="schedule.test_restore_days", value=1, reason="daily")
    assert schedule.run(seed.db, make_database=opener, scratch_root=tmp_path).ok
    newest = schedule.newest_backup(seed.db)
    assert newest is not None
    snapshot = newest / backup.SQLITE_SNAPSHOT if seed.db.dialect == "sqlite" else newest / "tables" / "app_user.jsonl"
    with snapshot.open("r+b") as fh:  # one byte flipped in the middle of the data
        fh.seek(snapshot.stat().st_size // 2)
        byte = fh.read(1)
        fh.seek(-1, 1)
        fh.write(bytes([byte[0] ^ 0xFF]))

    clock.advance(days=2)  # the test-restore is due again, the (monthly) backup is not
    result = schedule.run(seed.db, make_database=opener, scratch_root=tmp_path)
    assert not result.ok
    step = next(s for s in result.steps if s.name == "test-restore")
    assert step.done and not step.ok and "altered" in step.detail
    assert next(s for s in result.steps if s.name == "backup").done is False
    with seed.db.read() as session:
        [incident] = session.scalars(select(Incident)).all()
    assert incident.kind is IncidentKind.RESTORE_TEST_FAILED and incident.status is IncidentStatus.OPEN
    assert "altered" in incident.detail
    assert schedule.status(seed.db).last_test_restore.ok is False  # type: ignore[union-attr]

    clock.advance(days=2)  # failing again counts on the same incident
    assert not schedule.run(seed.db, make_database=opener, scratch_root=tmp_path).ok
    with seed.db.read() as session:
        [incident] = session.scalars(select(Incident)).all()
    assert incident.occurrences == 2


def test_bk02_without_a_backup_nothing_is_tested(seed, runtime_config, tmp_path):
    opener = scratch_opener(seed.db, runtime_config.key_folder)
    result = schedule.run(seed.db, make_database=opener, scratch_root=tmp_path)
    assert result.ok and [s.name for s in result.steps if s.done] == ["verify"]  # no backup: only the check ran
    with pytest.raises(NotFound) as missing:
        schedule.test_restore(seed.db, seed.admin, make_database=opener)
    assert missing.value.code == ErrorCode.NO_BACKUP_TO_TEST


def test_bk02_install_text_runs_the_schedule():
    texts = schedule.install_text(command="/opt/ft/bin/python -m app", env={"FORMTRAIL_HOME": "/srv/ft"}, hours=2)
    assert "ExecStart=/opt/ft/bin/python -m app schedule run" in texts["formtrail-schedule.service"]
    assert "Environment=FORMTRAIL_HOME=/srv/ft" in texts["formtrail-schedule.service"]
    assert "OnUnitActiveSec=2h" in texts["formtrail-schedule.timer"]
    assert texts["crontab"].startswith("17 */2 * * * FORMTRAIL_HOME=/srv/ft /opt/ft/bin/python -m app schedule run")
