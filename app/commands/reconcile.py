"""Reconciliation commands: show and close an issuance, void or declare forms missing, reports, overdue."""

from __future__ import annotations

import argparse
from pathlib import Path

from app.commands.base import Cli, CliError, add_group, parse_date
from app.services.core.errors import FormtrailError
from app.services.core.timefmt import local_text
from app.services.issuance import extra_pages, printing
from app.services.reconciliation import reconciliation
from app.services.reports import reports
from app.textfmt import plural


def register(sub: argparse._SubParsersAction) -> None:
    group = sub.add_parser("reconcile", help="reconcile issuances").add_subparsers(
        dest="reconcile_command", metavar="ACTION", required=True)
    p = group.add_parser("show", help="every form of an issuance and whether it is accounted for")
    p.add_argument("issuance", type=int)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_show)
    p = group.add_parser("close", help="close a fully accounted issuance (QA e-signature, meaning reconciled); "
                                       "says first what closing leaves behind (true copies, records)")
    p.add_argument("issuance", type=int)
    p.set_defaults(handler=cmd_close)
    p = group.add_parser("list", help="issuances with their reconciliation status")
    p.add_argument("--open", action="store_true", help="only issuances not yet reconciled")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_list)

    form = sub.add_parser("form", help="one issued form").add_subparsers(dest="form_command", metavar="ACTION",
                                                                          required=True)
    p = form.add_parser("void", help="void a spoiled or erroneous sheet (reason required)")
    p.add_argument("serial")
    p.add_argument("--reason", required=True)
    p.set_defaults(handler=cmd_void)
    p = form.add_parser("add-pages", help="issue extra pages to a form in use: further pages of the same serial "
                                          "(reason required); saves their controlled PDF (its one release)")
    p.add_argument("serial")
    p.add_argument("--count", type=int, required=True, help="how many pages to add")
    p.add_argument("--reason", required=True)
    p.add_argument("--out", type=Path, required=True, help="where to save the PDF of the new pages")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_add_pages)
    p = form.add_parser("history", help="the extra pages added to a form")
    p.add_argument("serial")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_form_history)
    p = form.add_parser("missing", help="declare a sheet missing (reason and deviation reference required)")
    p.add_argument("serial")
    p.add_argument("--reason", required=True)
    p.add_argument("--deviation", required=True)
    p.set_defaults(handler=cmd_missing)

    report = add_group(sub.add_parser("report", help="printed reports"), dest="report_command", metavar="KIND",
                       required=True)
    p = report.add_parser("reconciliation", help="the reconciliation report of one issuance (PDF)")
    p.add_argument("issuance", type=int)
    p.add_argument("--out", type=Path, required=True)
    p.set_defaults(handler=cmd_report_reconciliation)
    p = report.add_parser("accountability", help="issued/returned/voided/missing/replaced per template and person")
    p.add_argument("--from", dest="since", required=True)
    p.add_argument("--to", dest="until", required=True)
    p.add_argument("--out", type=Path, required=True)
    p.set_defaults(handler=cmd_report_accountability)

    p = sub.add_parser("overdue", help="issuances past their return date with forms still out")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_overdue)


def cmd_add_pages(cli: Cli) -> int:
    a = cli.args
    from app.commands.forms import writable_target  # the same check as `issue --out`, before anything is added

    writable_target(a.out)
    actor = cli.actor()
    result = extra_pages.add_pages(cli.db, actor, serial=a.serial, count=a.count, reason=a.reason)
    try:
        printing.save_to_file(cli.db, actor, result.pdf_id, out=a.out)
    except FormtrailError as exc:
        raise CliError(f"{plural(result.last_page - result.first_page + 1, 'page')} added to {result.label}, but "
                       f"their PDF was not saved: {exc} Release it with `formtrail release {result.issuance_id} "
                       f"--pdf {result.pdf_id} --out FILE`.") from exc
    if a.json:
        cli.json({"serial": result.serial, "label": result.label, "first_page": result.first_page,
                  "last_page": result.last_page, "pages": result.last_page, "pdf": str(a.out),
                  "sha256": result.pdf_sha256})
    else:
        cli.out(f"{result.label}: pages {result.first_page}–{result.last_page} added; the form now has "
                f"{plural(result.last_page, 'page')} (page x of {result.last_page}). PDF saved to {a.out}.")
    return 0


def cmd_form_history(cli: Cli) -> int:
    rows = extra_pages.history(cli.db, cli.actor(), cli.args.serial)
    if cli.args.json:
        cli.json([{"serial": r.serial, "first_page": r.first_page, "last_page": r.last_page, "reason": r.reason,
                   "added_at": r.added_at.isoformat(), "added_by": r.added_by, "pdf_id": r.pdf_id} for r in rows])
        return 0
    if not rows:
        cli.out("No extra pages were added to this form.")
    for r in rows:
        cli.out(r.text)
    return 0


def _view_dict(view: reconciliation.ReconciliationView) -> dict:
    return {
        "issuance_id": view.issuance_id, "template": view.template, "version": view.version, "title": view.title,
        "purpose": view.purpose, "reference": view.reference, "issued_to": view.issued_to,
        "issued_by": view.issued_by, "issued_at": view.issued_at.isoformat(), "due": view.due_date.isoformat(),
        "state": view.state.value, "overdue": view.overdue, "accounted": view.accounted, "total": view.total,
        "unverified_true_copy_serials": list(view.unverified_true_copy_serials),
        "untranscribed_record_serials": list(view.untranscribed_record_serials),
        "close_warnings": list(view.close_warnings),
        "may_close": view.may_close, "why_not_close": view.why_not_close,
        "forms": [{"serial": f.serial, "copy": f.copy_no, "state": f.state.value, "pages": f.pages,
                   "pages_back": f.pages_back, "accounted": f.accounted, "note": f.note, "reason": f.reason,
                   "deviation": f.deviation_ref, "replaces": f.replaces, "replaced_by": f.replaced_by,
                   "scans": [{"scan_id": s.scan_page_id, "page": s.page_no, "outcome": s.outcome,
                              "sha256": s.sha256} for s in f.scans]} for f in view.forms],
        "signatures": [s.manifestation() for s in view.signatures],
    }


def cmd_show(cli: Cli) -> int:
    view = reconciliation.reconciliation(cli.db, cli.actor(), cli.args.issuance)
    if cli.args.json:
        cli.json(_view_dict(view))
        return 0
    cli.out(f"Issuance {view.issuance_id}: {view.template}@{view.version} {view.title}")
    cli.out(f"  {view.purpose} ({view.reference or '-'}) to {view.issued_to}, due {view.due_date}"
            + (" OVERDUE" if view.overdue else "") + f"; {view.state.value}")
    cli.out(f"  {view.accounted} of {view.total} accounted for")
    _warn(cli, view)
    if view.why_not_close and not view.outstanding and not view.closed:  # the outstanding forms are listed below
        cli.out(f"  cannot be closed now: {view.why_not_close}")
    cli.table(["serial", "state", "pages back", "accounted", "note / reason"],
              [[f.serial, f.state.value, f"{f.pages_back}/{f.pages}", "yes" if f.accounted else "NO",
                f.note or f.reason or ""] for f in view.forms])
    for sig in view.signatures:
        cli.out(f"  signed: {sig.manifestation()}")
    return 0


def _warn(cli: Cli, view: reconciliation.ReconciliationView) -> None:
    for warning in view.close_warnings:
        cli.out(f"  warning: if closed now, {warning}")


def cmd_close(cli: Cli) -> int:
    actor = cli.actor()
    # Refused (and the refusal recorded) before the password is asked for; what is left behind is said first.
    _warn(cli, reconciliation.check_close(cli.db, actor, cli.args.issuance))
    view = reconciliation.close(cli.db, actor, cli.args.issuance, username=actor.username,
                                password=cli.sign_password("reconciled"))
    cli.out(f"Issuance {view.issuance_id} reconciled: {plural(view.total, 'form')} accounted for.")
    for sig in view.signatures:
        cli.out(f"  signed: {sig.manifestation()}")
    return 0


def cmd_list(cli: Cli) -> int:
    rows = reconciliation.list_issuances(cli.db, cli.actor(), only_open=cli.args.open)
    if cli.args.json:
        cli.json([_summary(s) for s in rows])
    else:
        cli.table(["issuance", "template", "purpose", "to", "due", "accounted", "state"],
                  [[s.issuance_id, s.template, s.purpose, s.issued_to, s.due_date, f"{s.accounted}/{s.total}",
                    s.state.value + (" OVERDUE" if s.overdue else "") + (" ready" if s.ready else "")]
                   for s in rows])
    return 0


def _summary(s: reconciliation.IssuanceSummary) -> dict:
    return {"issuance_id": s.issuance_id, "template": s.template, "purpose": s.purpose, "reference": s.reference,
            "issued_to": s.issued_to, "issued_by": s.issued_by, "issued_at": s.issued_at.isoformat(),
            "due": s.due_date.isoformat(), "accounted": s.accounted, "total": s.total, "state": s.state.value,
            "overdue": s.overdue, "ready": s.ready}


def cmd_void(cli: Cli) -> int:
    row = reconciliation.void_form(cli.db, cli.actor(), serial=cli.args.serial, reason=cli.args.reason)
    cli.out(f"{row.serial} voided. The spoiled sheet stays part of the record: scan it back when it is returned.")
    return 0


def cmd_missing(cli: Cli) -> int:
    row = reconciliation.declare_missing(cli.db, cli.actor(), serial=cli.args.serial, reason=cli.args.reason,
                                         deviation=cli.args.deviation)
    cli.out(f"{row.serial} declared missing (deviation {row.deviation_ref}).")
    return 0


def cmd_report_reconciliation(cli: Cli) -> int:
    out = reports.reconciliation_report(cli.db, cli.actor(), cli.args.issuance, out=cli.args.out)
    cli.out(f"Reconciliation report written to {out}")
    return 0


def cmd_report_accountability(cli: Cli) -> int:
    out = reports.accountability_report(cli.db, cli.actor(), since=parse_date(cli.args.since),
                                        until=parse_date(cli.args.until),
                                        out=cli.args.out)
    cli.out(f"Accountability report written to {out}")
    return 0


def cmd_overdue(cli: Cli) -> int:
    rows = [s for s in reconciliation.list_issuances(cli.db, cli.actor(), only_open=True) if s.overdue]
    if cli.args.json:
        cli.json([_summary(s) for s in rows])
    else:
        cli.table(["issuance", "template", "purpose", "to", "due", "accounted", "issued"],
                  [[s.issuance_id, s.template, s.purpose, s.issued_to, s.due_date, f"{s.accounted}/{s.total}",
                    local_text(s.issued_at, seconds=False)] for s in rows])
    return 0
