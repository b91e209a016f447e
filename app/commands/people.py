"""Commands for training records (AC-07) and registered workstations (AC-08) (issue 16, "identity")."""

from __future__ import annotations

import argparse
import datetime as dt

from app.commands.base import Cli, parse_date
from app.models.stations import QualificationKind, TrainedActivity
from app.services.core.timefmt import local_text
from app.services.identity import training, workstations

KIND_CHOICES = [k.value for k in QualificationKind]
ACTIVITY_CHOICES = [a.value for a in TrainedActivity]


def register(sub: argparse._SubParsersAction) -> None:
    group = sub.add_parser("training", help="qualification records: identity, accountability statement, training")
    actions = group.add_subparsers(dest="training_command", metavar="ACTION", required=True)
    p = actions.add_parser("record", help="record a qualification of a user (QA; never your own)")
    p.add_argument("subject", metavar="USER")  # not "user": that is the acting user (--user)
    p.add_argument("--kind", required=True, choices=KIND_CHOICES)
    p.add_argument("--activity", choices=ACTIVITY_CHOICES, help="the activity trained for (with --kind training)")
    p.add_argument("--reference", required=True, help="course, SOP or document id")
    p.add_argument("--completed", required=True, help="YYYY-MM-DD")
    p.add_argument("--expires", help="YYYY-MM-DD (none: no expiry)")
    p.set_defaults(handler=cmd_record)
    p = actions.add_parser("list", help="qualification records, and whether each user may sign and verify")
    p.add_argument("subject", metavar="USER", nargs="?")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_list)
    p = actions.add_parser("revoke", help="revoke a qualification record (kept, with the reason)")
    p.add_argument("record_id", type=int, metavar="ID")
    p.add_argument("--reason", required=True)
    p.set_defaults(handler=cmd_revoke)

    group = sub.add_parser("workstation", help="registered workstations")
    actions = group.add_subparsers(dest="workstation_command", metavar="ACTION", required=True)
    p = actions.add_parser("whoami", help="this workstation's id and whether it is registered")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_whoami)
    p = actions.add_parser("list", help="registered, retired and seen-not-registered workstations")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_stations)
    p = actions.add_parser("register", help="register a workstation under a name (administrator)")
    p.add_argument("station", metavar="ID", help="its id (or an unambiguous start of it) as `list` shows it")
    p.add_argument("--name", required=True)
    p.set_defaults(handler=cmd_register)
    p = actions.add_parser("rename", help="rename a registered workstation (administrator)")
    p.add_argument("station", metavar="NAME")
    p.add_argument("--name", required=True, help="the new name")
    p.add_argument("--reason", required=True)
    p.set_defaults(handler=cmd_rename)
    p = actions.add_parser("retire", help="retire a workstation: read-only from then on (administrator)")
    p.add_argument("station", metavar="NAME")
    p.add_argument("--reason", required=True)
    p.set_defaults(handler=cmd_retire)


def _date(day: dt.date | None) -> str:
    return day.isoformat() if day else ""


def _when(moment: dt.datetime | None) -> str:
    return local_text(moment, seconds=False) if moment is not None else ""


def _record_dict(q: training.QualificationInfo) -> dict[str, object]:
    return {"id": q.id, "user": q.username, "kind": q.kind.value, "activity": q.activity.value if q.activity else None,
            "reference": q.reference, "completed": _date(q.completed_on), "expires": _date(q.expires_on) or None,
            "recorded_by": q.recorded_by, "recorded_at": q.recorded_at.isoformat(), "status": q.status,
            "current": q.current, "revoked_by": q.revoked_by, "revoke_reason": q.revoke_reason}


def cmd_record(cli: Cli) -> int:
    a = cli.args
    q = training.record(cli.db, cli.actor(), username=a.subject, kind=QualificationKind(a.kind),
                        activity=TrainedActivity(a.activity) if a.activity else None, reference=a.reference,
                        completed_on=parse_date(a.completed), expires_on=parse_date(a.expires) if a.expires else None)
    cli.out(f"Recorded #{q.id}: {q.what} for {q.username} ({q.reference}), {q.status}")
    return 0


def cmd_list(cli: Cli) -> int:
    rows = training.list_qualifications(cli.db, cli.actor(), cli.args.subject)
    if cli.args.json:
        cli.json([_record_dict(q) for q in rows])
        return 0
    cli.table(("ID", "User", "Qualification", "Reference", "Completed", "Expires", "Status", "Recorded by"),
              [(q.id, q.username, q.what, q.reference, _date(q.completed_on), _date(q.expires_on), q.status,
                q.recorded_by) for q in rows])
    if cli.args.subject:
        standing = training.of_user(cli.db, cli.actor(), cli.args.subject).standing
        cli.out()
        cli.out(f"May sign: {'yes' if standing.may_sign else 'no, ' + (standing.why_not_sign or '')}")
        cli.out(f"May verify values: {'yes' if standing.may_verify else 'no, ' + (standing.why_not_verify or '')}")
    return 0


def cmd_revoke(cli: Cli) -> int:
    q = training.revoke(cli.db, cli.actor(), qualification_id=cli.args.record_id, reason=cli.args.reason)
    cli.out(f"Revoked #{q.id}: {q.what} of {q.username}")
    return 0


def _station_dict(s: workstations.StationInfo) -> dict[str, object]:
    return {"id": s.station_id, "host": s.host, "name": s.name, "status": s.status.value,
            "first_seen": s.first_seen_at.isoformat(), "last_seen": s.last_seen_at.isoformat(),
            "registered_by": s.registered_by, "retired_by": s.retired_by, "retire_reason": s.retire_reason}


def cmd_whoami(cli: Cli) -> int:
    me = workstations.this_station(cli.db)  # no log-in needed: any station may ask who it is
    if cli.args.json:
        cli.json({"id": me.station_id, "host": me.host, "label": me.label, "registered": me.registered,
                  "why_not": me.why_not})
        return 0
    cli.out(f"Workstation id: {me.station_id}")
    cli.out(f"Host: {me.host or '?'}")
    cli.out(f"Recorded in the audit trail as: {me.label}")
    cli.out("Registered: yes" if me.registered else f"Registered: no. {me.why_not}")
    return 0


def cmd_stations(cli: Cli) -> int:
    rows = workstations.list_stations(cli.db, cli.actor())
    if cli.args.json:
        cli.json([_station_dict(s) for s in rows])
        return 0
    cli.table(("Name", "Status", "Id", "Host", "Last seen", "Registered by"),
              [(s.name or "", s.status_text, s.station_id, s.host, _when(s.last_seen_at), s.registered_by or "")
               for s in rows])
    return 0


def cmd_register(cli: Cli) -> int:
    s = workstations.register(cli.db, cli.actor(), station=cli.args.station, name=cli.args.name)
    cli.out(f"Registered {s.station_id} ({s.host}) as {s.name}")
    return 0


def cmd_rename(cli: Cli) -> int:
    s = workstations.rename(cli.db, cli.actor(), station=cli.args.station, new_name=cli.args.name,
                            reason=cli.args.reason)
    cli.out(f"Renamed {s.station_id} to {s.name}")
    return 0


def cmd_retire(cli: Cli) -> int:
    s = workstations.retire(cli.db, cli.actor(), station=cli.args.station, reason=cli.args.reason)
    cli.out(f"Retired {s.name} ({s.station_id}): read-only from now on")
    return 0
