"""The schedule's state (BK-02): what the headless `formtrail schedule run` last did, and when each step is next
due, read from the audit trail's own BACKUP / BACKUP_FAILED / RESTORE_TEST events (Home and `schedule status`
show it); and the systemd/cron text that installs the run. The run itself, which ends with the full verify of a
test-restored copy, is ``app.services.integrity.schedule`` (verify sits above this layer)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Any

from sqlalchemy import select

from app.models import AuditEvent, Role
from app.services.admin import backup
from app.services.core import setting_specs
from app.services.core.db import Actor, Database

TEST_RESTORE_DAYS = "schedule.test_restore_days"


@dataclasses.dataclass(frozen=True)
class LastRun:
    at: dt.datetime
    ok: bool
    where: str  # the backup folder
    detail: str


@dataclasses.dataclass(frozen=True)
class ScheduleStatus:
    backup_folder: str
    backup_interval_hours: int
    test_restore_days: int
    last_backup: LastRun | None  # the newest scheduled backup (or failed one)
    last_test_restore: LastRun | None
    next_backup_due: dt.datetime | None  # None: no scheduled backups (no folder set)
    next_test_restore_due: dt.datetime | None  # None: never (0 days), or no backup yet

    def as_dict(self) -> dict[str, Any]:
        return json.loads(json.dumps(dataclasses.asdict(self), default=str))


def scheduler() -> Actor:
    """Who the trail names for the scheduled work: the system, with the rights the schedule was set up with."""
    return dataclasses.replace(Actor.system("scheduled run"), roles=frozenset({Role.ADMINISTRATOR}))


def _events(db: Database, actions: tuple[str, ...], *, scheduled_only: bool = False) -> list[AuditEvent]:
    with db.read() as session:
        rows = list(session.scalars(select(AuditEvent).where(AuditEvent.action.in_(actions))
                                    .order_by(AuditEvent.seq.desc()).limit(200)))
        session.expunge_all()
    if scheduled_only:
        rows = [r for r in rows if _details(r).get("scheduled") is True]
    return rows


def _details(event: AuditEvent) -> dict[str, Any]:
    try:
        data = json.loads(event.new_value or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _last(event: AuditEvent | None) -> LastRun | None:
    if event is None:
        return None
    details = _details(event)
    ok = event.action == "BACKUP" or (event.action == "RESTORE_TEST" and details.get("ok") is True)
    detail = str(details.get("first") or details.get("error") or "")
    return LastRun(at=event.occurred_at, ok=ok, where=str(details.get("backup") or event.entity_id or ""),
                   detail=detail)


def status(db: Database) -> ScheduleStatus:
    """What the schedule is set to, what it last did and when each step is next due (Home, `schedule status`)."""
    with db.read() as session:
        folder = str(setting_specs.get(session, "backup.folder")).strip()
        hours = int(setting_specs.get(session, "backup.interval_hours"))
        days = int(setting_specs.get(session, TEST_RESTORE_DAYS))
    backups = _events(db, ("BACKUP", "BACKUP_FAILED"), scheduled_only=True)
    tests = _events(db, ("RESTORE_TEST",))
    last_ok_backup = next((b for b in backups if b.action == "BACKUP"), None)
    next_backup = None
    if folder:
        next_backup = last_ok_backup.occurred_at + dt.timedelta(hours=hours) if last_ok_backup else db.clock.now()
    next_test = None
    if days > 0 and newest_backup(db) is not None:
        next_test = tests[0].occurred_at + dt.timedelta(days=days) if tests else db.clock.now()
    return ScheduleStatus(backup_folder=folder, backup_interval_hours=hours, test_restore_days=days,
                          last_backup=_last(backups[0] if backups else None),
                          last_test_restore=_last(tests[0] if tests else None),
                          next_backup_due=next_backup, next_test_restore_due=next_test)


def newest_backup(db: Database) -> Path | None:
    """The newest backup the trail records as written (scheduled or by hand) whose folder is still there."""
    for event in _events(db, ("BACKUP",)):
        if event.entity_id and (Path(event.entity_id) / backup.MANIFEST).exists():
            return Path(event.entity_id)
    return None


def install_text(*, command: str, env: dict[str, str], hours: int = 1) -> dict[str, str]:
    """A systemd user service + timer and a crontab line that run `schedule run` every ``hours`` hours."""
    environment = "".join(f"Environment={key}={value}\n" for key, value in sorted(env.items()))
    service = ("[Unit]\nDescription=Formtrail scheduled backup, test-restore and account checks\n\n"
               f"[Service]\nType=oneshot\n{environment}ExecStart={command} schedule run\n")
    timer = ("[Unit]\nDescription=Run the Formtrail schedule\n\n"
             f"[Timer]\nOnBootSec=10min\nOnUnitActiveSec={hours}h\nPersistent=true\n\n"
             "[Install]\nWantedBy=timers.target\n")
    prefix = " ".join(f"{key}={value}" for key, value in sorted(env.items()))
    cron = f"17 */{hours} * * * {prefix + ' ' if prefix else ''}{command} schedule run >/dev/null 2>&1\n"
    return {"formtrail-schedule.service": service, "formtrail-schedule.timer": timer, "crontab": cron}
