"""Record commands: show, enter, correct, verify, sign; the record report and the integrity report."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from app.commands.base import Cli, CliError, add_group, group_of, parse_date
from app.enums import SignatureMeaning
from app.services.core.timefmt import local_text
from app.services.integrity import integrity_report
from app.services.records import records
from app.services.records.record_views import EntryInfo, FieldView, RecordView
from app.services.reports import record_export


def register(sub: argparse._SubParsersAction) -> None:
    group = add_group(sub.add_parser("record", help="electronic records of issued forms"),
                      dest="record_command", metavar="ACTION", required=True)
    p = group.add_parser("show", help="a record's fields, signatures and scans")
    p.add_argument("serial")
    p.add_argument("--history", action="store_true", help="every entry of every field, superseded ones too")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_show)
    p = group.add_parser("set", help="save a field's first value (saved at once, with its audit trail)")
    p.add_argument("serial")
    p.add_argument("field")
    p.add_argument("value", nargs="?", help="the value as written on the paper (omit with --na)")
    p.add_argument("--source-page", type=int, help="the form page whose linked scan the value is read from")
    p.add_argument("--activity-time", help="when the work was done, as written on the paper (ISO date-time)")
    p.add_argument("--na", metavar="REASON", help="the field does not apply: say why")
    p.add_argument("--justification", help="why an out-of-limit value is correct as entered")
    p.add_argument("--late-reason", help="why the entry is made long after the activity")
    p.set_defaults(handler=cmd_set)
    p = group.add_parser("correct", help="change a saved value (reason required; the original stays)")
    p.add_argument("serial")
    p.add_argument("field")
    p.add_argument("value", nargs="?")
    p.add_argument("--reason", required=True)
    p.add_argument("--na", metavar="REASON")
    p.add_argument("--paper", action="store_true", help="capture a correction made by hand on the paper")
    p.add_argument("--source-page", type=int)
    p.add_argument("--justification")
    p.set_defaults(handler=cmd_correct)
    p = group.add_parser("verify", help="second-person verification of a critical field")
    p.add_argument("serial")
    p.add_argument("field")
    p.set_defaults(handler=cmd_verify)
    p = group.add_parser("sign", help="sign a record as reviewed or approved (password asked again)")
    p.add_argument("serial")
    p.add_argument("--meaning", required=True, choices=["reviewed", "approved"])
    p.add_argument("--comment")
    p.set_defaults(handler=cmd_sign)
    p = group.add_parser("export", help="the record as JSON (data, history, signatures, scans, audit trail)")
    p.add_argument("serial")
    p.add_argument("--out", type=Path, required=True)
    p.set_defaults(handler=cmd_export)
    p = group.add_parser("list", help="records and their states")
    p.add_argument("--state")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_list)

    report = group_of(sub, "report")  # created by the reconciliation commands
    p = report.add_parser("record", help="the complete record as PDF")
    p.add_argument("serial")
    p.add_argument("--out", type=Path, required=True)
    p.set_defaults(handler=cmd_report_record)
    p = report.add_parser("integrity", help="data-integrity exceptions for a period (.pdf or .csv)")
    p.add_argument("--from", dest="since", required=True)
    p.add_argument("--to", dest="until", required=True)
    p.add_argument("--out", type=Path, required=True)
    p.set_defaults(handler=cmd_report_integrity)


def _moment(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise CliError(f"the activity time is an ISO date-time like 2026-03-04T09:30, not {text!r}") from None
    return moment if moment.tzinfo else moment.astimezone()


def _show_view(cli: Cli, view: records.RecordView, *, history: bool) -> None:
    cli.out(f"{view.serial}  {view.template} v{view.version} {view.title}  state: {view.state.value}"
            f"  (form {view.form_state})")
    rows = []
    for f in view.fields:
        # A value invalidated (RC-05) stays shown, flagged VOID, also without the history.
        entries = f.history if history else tuple(e for e in f.history if e is f.current or
                                                  (e.invalidated and not e.superseded))
        if not entries:
            rows.append([f.name, "", "", "", "required" if f.required else ""])
        for e in entries:
            value = f"NA ({e.reason})" if e.is_na else (e.value or "")
            notes = []
            if e.superseded:
                notes.append("SUPERSEDED")
            if e.invalidated:
                notes.append(f"VOID/INVALIDATED by {e.invalidated_by} "
                             f"{local_text(e.invalidated_at, seconds=False) if e.invalidated_at else ''}: "
                             f"{e.invalidation_reason}")
            if e.kind.value != "original":
                notes.append(f"{e.kind.value}: {e.reason}")
            if e.out_of_limits:
                notes.append(f"OUT OF LIMITS ({f.limits}): {e.justification}")
            if e.late:
                notes.append(f"late: {e.late_reason}")
            if f.critical and not e.superseded and not e.is_na and not e.invalidated:
                notes.append(f"verified by {e.verified_by}" if e.verified_by else "UNVERIFIED")
            rows.append([f.name, value + (f" {f.unit}" if f.unit and not e.is_na else ""),
                         e.entered_by, local_text(e.entered_at, seconds=False), "; ".join(notes)])
    cli.table(["field", "value", "by", "entered", "notes"], rows)
    for s in view.signatures:
        cli.out(f"signed: {s.info.manifestation()} [{s.status.value}]")


def cmd_show(cli: Cli) -> int:
    view = records.record_view(cli.db, cli.actor(), cli.args.serial)
    if cli.args.json:
        cli.json(record_export.as_dict(view, history=cli.args.history))
    else:
        _show_view(cli, view, history=cli.args.history)
    return 0


def _saved(view: RecordView, field: str) -> tuple[FieldView, EntryInfo]:
    """The field and the entry just saved in it: the act returns the record with that entry as the current one."""
    f = view.field(field)
    if f.current is None:
        raise RuntimeError(f"{view.serial} {field}: the value just saved is not the field's current entry")
    return f, f.current


def cmd_set(cli: Cli) -> int:
    a = cli.args
    if a.value is None and a.na is None:
        raise CliError("give the value, or --na REASON")
    view = records.enter_value(cli.db, cli.actor(), serial=a.serial, field=a.field, value=a.value, na_reason=a.na,
                               source_page=a.source_page, activity_at=_moment(a.activity_time),
                               justification=a.justification, late_reason=a.late_reason)
    f, current = _saved(view, a.field)
    cli.out(f"{view.serial} {f.label}: {current.value} saved (record {view.state.value})"
            + (" – OUT OF LIMITS, highlighted" if current.out_of_limits else ""))
    return 0


def cmd_correct(cli: Cli) -> int:
    a = cli.args
    if a.value is None and a.na is None:
        raise CliError("give the corrected value, or --na REASON")
    view = records.correct_value(cli.db, cli.actor(), serial=a.serial, field=a.field, value=a.value,
                                 reason=a.reason, na_reason=a.na, paper=a.paper, source_page=a.source_page,
                                 justification=a.justification)
    f, current = _saved(view, a.field)
    old = f.history[-2]
    cli.out(f"{view.serial} {f.label}: {old.value} → {current.value} ({a.reason}); record {view.state.value}")
    for s in view.signatures:
        if not s.valid:
            cli.out(f"  signature now broken: {s.info.manifestation()} – {s.status.value}")
    return 0


def cmd_verify(cli: Cli) -> int:
    view = records.verify_field(cli.db, cli.actor(), serial=cli.args.serial, field=cli.args.field)
    cli.out(f"{view.serial} {view.field(cli.args.field).label} verified; record {view.state.value}")
    return 0


def cmd_sign(cli: Cli) -> int:
    actor = cli.actor()
    meaning = SignatureMeaning(cli.args.meaning)
    view = records.sign_record(cli.db, actor, serial=cli.args.serial, meaning=meaning, username=actor.username,
                               password=cli.sign_password(meaning.value), comment=cli.args.comment)
    cli.out(f"{view.serial} is {view.state.value}.")
    for s in view.signatures:
        cli.out(f"  {s.info.manifestation()} [{s.status.value}]")
    return 0


def cmd_export(cli: Cli) -> int:
    record_export.export_json(cli.db, cli.actor(), cli.args.serial, out=cli.args.out)
    cli.out(f"Record {cli.args.serial} exported to {cli.args.out}")
    return 0


def cmd_list(cli: Cli) -> int:
    from app.enums import RecordState
    state = RecordState(cli.args.state) if cli.args.state else None
    rows = records.list_records(cli.db, cli.actor(), state=state)
    if cli.args.json:
        cli.json([{"serial": s, "state": st.value, "created_at": c.isoformat(), "created_by": b}
                  for s, st, c, b in rows])
    else:
        cli.table(["serial", "state", "created", "by"],
                  [[s, st.value, local_text(c, seconds=False), b] for s, st, c, b in rows])
    return 0


def cmd_report_record(cli: Cli) -> int:
    out = record_export.export_pdf(cli.db, cli.actor(), cli.args.serial, out=cli.args.out)
    cli.out(f"Record report written to {out}")
    return 0


def cmd_report_integrity(cli: Cli) -> int:
    out, count = integrity_report.write_report(cli.db, cli.actor(), since=parse_date(cli.args.since),
                                               until=parse_date(cli.args.until), out=cli.args.out)
    cli.out(f"Integrity report with {count} findings written to {out}")
    return 0
