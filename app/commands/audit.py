"""Audit trail commands: verify the chain, export the trail."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from app.commands.base import Cli, CliError, parse_date
from app.services.core import audit_chain
from app.services.identity.permissions import Permission, require
from app.services.reports import audit_log
from app.textfmt import plural


def register(sub: argparse._SubParsersAction) -> None:
    group = sub.add_parser("audit", help="audit trail").add_subparsers(dest="audit_command", metavar="ACTION",
                                                                        required=True)
    p = group.add_parser("verify", help="recompute the hash chain; non-zero exit naming the first bad row")
    p.add_argument("--anchor", action="append", default=[],
                   help="a chain head printed on a report (COUNT:HASH); checked too, catches truncation")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_verify)
    p = group.add_parser("export", help="export the audit trail (audited)")
    p.add_argument("--format", required=True, choices=audit_log.EXPORT_FORMATS)
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--user-filter", dest="username", help="only events of this user")
    p.add_argument("--entity")
    p.add_argument("--entity-id")
    p.add_argument("--action")
    p.add_argument("--from", dest="since", help="YYYY-MM-DD (local), inclusive")
    p.add_argument("--to", dest="until", help="YYYY-MM-DD (local), inclusive")
    p.set_defaults(handler=cmd_export)


def cmd_verify(cli: Cli) -> int:
    actor = cli.actor()
    require(cli.db, actor, Permission.VIEW_AUDIT)
    try:
        anchors = tuple(audit_chain.parse_anchor(a) for a in cli.args.anchor)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    report = audit_chain.verify_chain(cli.db, anchors=anchors)
    problem = report.problem  # None exactly when report.ok
    if cli.args.json:
        cli.json({"ok": report.ok, "count": report.count, "head": report.head,
                  "problem": None if problem is None else {"seq": problem.seq, "kind": problem.kind,
                                                           "detail": problem.detail}})
    elif report.ok:
        cli.out(f"Audit trail intact: {plural(report.count, 'event')}; chain head {report.head}")
    else:
        cli.out(f"AUDIT TRAIL BROKEN at {report.problem}")
        cli.out(f"{plural(report.count, 'event')} read; last row {report.head}")
    return 0 if report.ok else 1


def _day(text: str | None, *, end: bool) -> dt.datetime | None:
    if not text:
        return None
    day = parse_date(text)
    moment = dt.datetime.combine(day + dt.timedelta(days=1 if end else 0), dt.time()).astimezone()
    return moment


def cmd_export(cli: Cli) -> int:
    a = cli.args
    flt = audit_log.AuditFilter(username=a.username, entity=a.entity, entity_id=a.entity_id, action=a.action,
                                since=_day(a.since, end=False), until=_day(a.until, end=True))
    result = audit_log.export_events(cli.db, cli.actor(), flt, fmt=a.format, out=a.out)
    cli.out(f"Exported {plural(result.count, 'event')} to {result.path} (sha256 {result.sha256})")
    return 0
