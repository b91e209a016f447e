"""The headless schedule (BK-02, Annex 11 §7.2, WHO TRS 1033 §11.19): `formtrail schedule run`, started by a
systemd timer or cron whether or not anyone has Formtrail open, does what is due and nothing else:

* a backup into ``backup.folder`` every ``backup.interval_hours`` (the same scheduled backup the open window
  takes, so the two never double up);
* every ``schedule.test_restore_days`` days, a test-restore: the newest backup is verified, restored into a
  scratch directory (exactly as a real restore would), and the restored copy gets the full `verify`; the result
  is a RESTORE_TEST audit event, and a failure opens an incident (``app.services.core.incidents``);
* every ``schedule.verify_hours`` hours, the full `verify` of the live data (SE-01; the desktop application
  also runs it when it starts, ``check_at_start``); a failure opens an incident;
* dormant accounts are disabled (``app.services.identity.dormant``).

Running it twice in a row does nothing the second time: each step is due by the audit trail's own record of
when it last ran.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from app.services.admin import backup, restore
from app.services.admin.schedule import (  # noqa: F401 - the schedule's state, for the faces in one place
    LastRun,
    ScheduleStatus,
    install_text,
    newest_backup,
    scheduler,
    status,
)
from app.services.core import audit, setting_specs
from app.services.core.db import Actor, Database
from app.services.core.error_codes import ErrorCode
from app.services.core.errors import FormtrailError, NotFound
from app.services.identity import dormant
from app.services.identity.permissions import Permission, require
from app.services.integrity import integrity

MakeDatabase = Callable[[str, Path], Database]  # (database URL, file store root) -> the opened database


@dataclasses.dataclass(frozen=True)
class Step:
    name: str  # "backup", "test-restore", "dormant accounts"
    done: bool  # it was due and ran
    ok: bool  # it ran without failing (True when not due)
    detail: str


@dataclasses.dataclass(frozen=True)
class RunResult:
    steps: tuple[Step, ...]

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.steps)

    @property
    def did_something(self) -> bool:
        return any(s.done for s in self.steps)


def run(db: Database, *, make_database: MakeDatabase, scratch_root: Path | None = None) -> RunResult:
    """Do what is due now (see the module's text); a failing step does not stop the others."""
    steps = [_backup_step(db)]
    state = status(db)
    due = state.next_test_restore_due
    if due is not None and due <= db.clock.now():
        steps.append(_test_restore_step(db, None, make_database=make_database, scratch_root=scratch_root))
    else:
        steps.append(Step("test-restore", False, True, "not due" if due else "not scheduled, or no backup yet"))
    steps.append(_verify_step(db))
    steps.append(_dormant_step(db))
    return RunResult(tuple(steps))


def _verify_step(db: Database) -> Step:
    with db.read() as session:
        hours = setting_specs.get(session, "schedule.verify_hours")
    last = integrity.last_check(db)
    if not hours or (last is not None and last.at + dt.timedelta(hours=hours) > db.clock.now()):
        return Step("verify", False, True, "not due" if hours else "not scheduled")
    report = integrity.verify_everything(db, scheduler())
    first = next((f for f in report.findings if f.error), None)
    return Step("verify", True, report.ok, "everything verified" if first is None else f"FAILED: {first}")


def check_at_start(db: Database) -> integrity.IntegrityReport:
    """SE-01: the full `verify` as the desktop application starts, in the system's name (whoever logs in: an
    operator may not run it, yet must not work on tampered data unnoticed). It is a VERIFY event like any other:
    Home shows it, and a failure opens an incident for QA (the audit rule in app.services.core.incidents)."""
    return integrity.verify_everything(db, dataclasses.replace(scheduler(), full_name="Check at start"))


def _backup_step(db: Database) -> Step:
    try:
        result = backup.run_scheduled_backup(db)
    except (FormtrailError, OSError) as exc:  # BACKUP_FAILED is already on the trail (and opened an incident)
        return Step("backup", True, False, f"FAILED: {exc}")
    if result is None:
        return Step("backup", False, True, "not due (or no backup folder set)")
    return Step("backup", True, True, f"written to {result.path} (chain head {result.chain_head})")


def _test_restore_step(db: Database, path: Path | None, *, make_database: MakeDatabase,
                       scratch_root: Path | None) -> Step:
    try:
        outcome = test_restore(db, scheduler(), path, make_database=make_database, scratch_root=scratch_root)
    except NotFound as exc:
        return Step("test-restore", False, True, str(exc))
    text = "restored and verified" if outcome.ok else f"FAILED: {outcome.problems[0]}"
    return Step("test-restore", True, outcome.ok, f"{outcome.backup}: {text}")


def _dormant_step(db: Database) -> Step:
    disabled = dormant.disable_dormant_accounts(db, actor=scheduler())
    return Step("dormant accounts", bool(disabled), True,
                f"{len(disabled)} disabled: {', '.join(disabled)}" if disabled else "none dormant")


@dataclasses.dataclass(frozen=True)
class RestoreTestResult:
    backup: Path
    ok: bool
    problems: tuple[str, ...]


def test_restore(db: Database, actor: Actor, path: Path | None = None, *, make_database: MakeDatabase,
                 scratch_root: Path | None = None) -> RestoreTestResult:
    """Verify the backup at ``path`` (default: the newest), restore it into a scratch directory as a real restore
    would, run the full verify on the restored copy, then throw the copy away. The result is written to the live
    trail as a RESTORE_TEST event (a failure opens an incident in the same transaction)."""
    require(db, actor, Permission.RESTORE)
    path = path or newest_backup(db)
    if path is None:
        raise NotFound("there is no backup to test-restore yet", code=ErrorCode.NO_BACKUP_TO_TEST)
    problems = _restore_and_verify(db, actor, path, make_database=make_database, scratch_root=scratch_root)
    result = RestoreTestResult(backup=path, ok=not problems, problems=tuple(problems))
    with db.write(actor, reason="scheduled test-restore") as session:
        audit.record_event(session, "RESTORE_TEST", entity="backup", entity_id=str(path), new={
            "ok": result.ok, "backup": str(path), "problems": list(problems[:20]),
            "first": problems[0] if problems else None})
    return result


def _restore_and_verify(db: Database, actor: Actor, path: Path, *, make_database: MakeDatabase,
                        scratch_root: Path | None) -> list[str]:
    check = restore.verify_backup(path, keys=db.keys)
    if not check.ok:
        return [f"the backup does not verify: {p}" for p in check.problems]
    scratch = Path(tempfile.mkdtemp(prefix="formtrail-test-restore-", dir=scratch_root))
    try:
        url = f"sqlite:///{(scratch / 'formtrail.db').resolve()}"
        try:
            # current=db: the scratch copy's serial counter is moved past the live one, as a real restore does.
            restore.restore(path, actor, reason="scheduled test-restore into a scratch directory", target_url=url,
                            target_files=scratch / "files", current=db, in_place=False,
                            workstation=db.workstation, make_database=make_database, keys=db.keys)
        except FormtrailError as exc:
            return [f"the restore failed: {exc}"]
        copy = make_database(url, scratch / "files")
        try:
            report = integrity.verify_everything(copy, actor, record=False)
        finally:
            copy.engine.dispose()
        return [f"the restored copy does not verify: {f}" for f in report.findings if f.error]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
