"""Commands for the incident log (SE-03) and the headless schedule (BK-02) (issue 16)."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from app.commands.base import Cli, CliError
from app.runtime import RuntimeConfig, open_database
from app.services.admin import incident_log
from app.services.admin.incident_log import IncidentView
from app.services.core.db import Database
from app.services.integrity import schedule
from app.textfmt import plural


def register(sub: argparse._SubParsersAction) -> None:
    group = sub.add_parser("incident", help="the incident log: list, show, close (QA e-signature)").add_subparsers(
        dest="incident_command", metavar="ACTION", required=True)
    p = group.add_parser("list", help="open incidents (or all, with --all)")
    p.add_argument("--all", action="store_true", help="closed incidents too")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_incident_list)
    p = group.add_parser("show", help="one incident in full")
    p.add_argument("id", type=_incident_id)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_incident_show)
    p = group.add_parser("close", help="close an incident: assessment, CAPA, reason and your e-signature (QA)")
    p.add_argument("id", type=_incident_id)
    p.add_argument("--assessment", help="what happened: root cause and impact on the data")
    p.add_argument("--capa", help="corrective and preventive action taken")
    p.add_argument("--reason", help="why the incident can be closed")
    p.set_defaults(handler=cmd_incident_close)

    group = sub.add_parser("schedule", help="scheduled backup, test-restore and account checks (headless)"
                           ).add_subparsers(dest="schedule_command", metavar="ACTION", required=True)
    p = group.add_parser("run", help="do what is due now (run it from a timer; a second run does nothing)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_schedule_run)
    p = group.add_parser("status", help="what the schedule last did and when each step is next due")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_schedule_status)
    p = group.add_parser("test-restore", help="test-restore a backup now (default: the newest) and verify it")
    p.add_argument("path", type=Path, nargs="?")
    p.set_defaults(handler=cmd_schedule_test_restore)
    p = group.add_parser("install", help="print (or write) a systemd user timer and a crontab line running "
                                         "`schedule run`")
    p.add_argument("--write", type=Path, metavar="DIR", help="write the unit files into DIR (e.g. "
                                                             "~/.config/systemd/user)")
    p.add_argument("--every-hours", type=int, default=1, help="how often the timer runs the schedule (default 1)")
    p.set_defaults(handler=cmd_schedule_install)


def _incident_id(text: str) -> int:
    """"7" or "INC-7"."""
    digits = text.upper().removeprefix("INC-")
    if not digits.isdigit():
        raise argparse.ArgumentTypeError(f"an incident is named by its number (7 or INC-7), not {text!r}")
    return int(digits)


def _as_dict(view: IncidentView) -> dict[str, object]:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in dataclasses.asdict(view).items()}


def cmd_incident_list(cli: Cli) -> int:
    views = incident_log.list_incidents(cli.db, cli.actor(), include_closed=cli.args.all)
    if cli.args.json:
        cli.json([_as_dict(v) for v in views])
        return 0
    for v in views:
        seen = f", {v.occurrences}×" if v.occurrences > 1 else ""
        cli.out(f"{v.label:<8} {v.status:<6} {v.opened_at.isoformat(timespec='seconds')}  {v.kind_title}: "
                f"{v.subject}{seen}")
    cli.out(f"{plural(len(views), 'incident')}{'' if cli.args.all else ' open'}.")
    return 0


def cmd_incident_show(cli: Cli) -> int:
    v = incident_log.get_incident(cli.db, cli.actor(), cli.args.id)
    if cli.args.json:
        cli.json(_as_dict(v))
        return 0
    cli.out(f"{v.label}: {v.kind_title} — {v.subject} ({v.status})")
    cli.out(f"  opened {v.opened_at.isoformat(timespec='seconds')} by {v.opened_by}; {plural(v.occurrences, 'time')},"
            f" last {v.last_seen_at.isoformat(timespec='seconds')}")
    cli.out(f"  detail: {v.detail}")
    for title, text in (("assessment", v.assessment), ("CAPA", v.capa), ("closing reason", v.closing_reason)):
        if text:
            cli.out(f"  {title}: {text}")
    if v.closed_at:
        cli.out(f"  closed {v.closed_at.isoformat(timespec='seconds')} by {v.closed_by}")
    if v.signature:
        cli.out(f"  signed: {v.signature}")
    if v.open and not v.may_close and v.why_not_close:
        cli.out(f"  (you cannot close it: {v.why_not_close})")
    return 0


def cmd_incident_close(cli: Cli) -> int:
    a, actor = cli.args, cli.actor()
    # Refused (and logged) before the password is asked for: no assessment, no reason, already closed.
    incident_log.check_close(cli.db, actor, a.id, assessment=a.assessment, capa=a.capa, reason=a.reason)
    view = incident_log.close(cli.db, actor, a.id, assessment=a.assessment, capa=a.capa, reason=a.reason,
                              username=actor.username, password=cli.sign_password(incident_log.MEANING.title))
    cli.out(f"{view.label} closed. Signed: {view.signature}")
    return 0


def scratch_opener(cli: Cli) -> schedule.MakeDatabase:
    """How the schedule opens a scratch copy: this workstation's set-up (key folder, hashing) on another file."""
    def make_database(url: str, files: Path) -> Database:
        return open_database(RuntimeConfig(home=files.parent, db_url=url, workstation=cli.config.workstation,
                                           hasher_profile=cli.config.hasher_profile, files_dir=files,
                                           keys_dir=cli.config.key_folder))
    return make_database


def cmd_schedule_run(cli: Cli) -> int:
    result = schedule.run(cli.db, make_database=scratch_opener(cli))
    if cli.args.json:
        cli.json({"ok": result.ok, "did_something": result.did_something,
                  "steps": [dataclasses.asdict(s) for s in result.steps]})
    else:
        for step in result.steps:
            mark = ("done" if step.ok else "FAILED") if step.done else "-"
            cli.out(f"{mark:<6} {step.name:<17} {step.detail}")
        if not result.ok:
            cli.out("A scheduled step failed: an incident was opened for QA (`formtrail incident list`).")
    return 0 if result.ok else 1


def cmd_schedule_status(cli: Cli) -> int:
    state = schedule.status(cli.db)
    if cli.args.json:
        cli.json(state.as_dict())
        return 0
    cli.out(f"Backups: {'into ' + state.backup_folder if state.backup_folder else 'not scheduled (no backup.folder)'}"
            f", every {plural(state.backup_interval_hours, 'hour')}")
    for title, last, due in (("backup", state.last_backup, state.next_backup_due),
                             ("test-restore", state.last_test_restore, state.next_test_restore_due)):
        if last is None:
            cli.out(f"  last {title}: never")
        else:
            cli.out(f"  last {title}: {last.at.isoformat(timespec='seconds')} {'ok' if last.ok else 'FAILED'} "
                    f"({last.where}){': ' + last.detail if last.detail else ''}")
        cli.out(f"  next {title} due: {due.isoformat(timespec='seconds') if due else '—'}")
    cli.out(f"Test-restores: every {plural(state.test_restore_days, 'day')}" if state.test_restore_days
            else "Test-restores: never (schedule.test_restore_days is 0)")
    return 0


def cmd_schedule_test_restore(cli: Cli) -> int:
    result = schedule.test_restore(cli.db, cli.actor(), cli.args.path, make_database=scratch_opener(cli))
    for problem in result.problems:
        cli.out(f"PROBLEM: {problem}")
    cli.out(f"Test-restore of {result.backup}: " + ("restored and verified." if result.ok else
                                                   "FAILED; an incident was opened for QA."))
    return 0 if result.ok else 1


def cmd_schedule_install(cli: Cli) -> int:
    config = cli.config
    env = {"FORMTRAIL_HOME": str(config.home.resolve()), "FORMTRAIL_WORKSTATION": config.workstation}
    if config.keys_dir:
        env["FORMTRAIL_KEYS"] = str(config.keys_dir.resolve())
    if config.files_dir:
        env["FORMTRAIL_FILES"] = str(config.files_dir.resolve())
    command = f"{sys.executable} -m app"
    texts = schedule.install_text(command=command, env=env, hours=max(1, cli.args.every_hours))
    if not config.is_default_db:
        cli.out("# This workstation uses a database server: add its FORMTRAIL_DB line (from the workstation's env "
                "file) to the service's environment; it is not printed here because it holds a password.")
    if cli.args.write:
        cli.args.write.mkdir(parents=True, exist_ok=True)
        for name in ("formtrail-schedule.service", "formtrail-schedule.timer"):
            path = cli.args.write / name
            if path.exists():
                raise CliError(f"{path} exists; remove it first or write elsewhere")
            path.write_text(texts[name], encoding="utf-8")
            cli.out(f"Wrote {path}")
        cli.out("Enable it with: systemctl --user daemon-reload && systemctl --user enable --now "
                "formtrail-schedule.timer")
    else:
        for name in ("formtrail-schedule.service", "formtrail-schedule.timer"):
            cli.out(f"# ~/.config/systemd/user/{name}\n{texts[name]}")
    cli.out(f"# or, with cron (crontab -e):\n{texts['crontab']}")
    return 0
