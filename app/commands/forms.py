"""Template and issuance commands: import, approve, issue, replace, reference prints, the register."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from app.commands import release
from app.commands.base import Cli, CliError, parse_date
from app.enums import FormState
from app.services.core.errors import FormtrailError
from app.services.core.timefmt import local_text
from app.services.issuance import issuance, printing, replacement
from app.services.issuance import register as form_register
from app.services.templates import template_geometry, templates
from app.textfmt import plural


def register(sub: argparse._SubParsersAction) -> None:
    group = sub.add_parser("template", help="templates (master forms)").add_subparsers(
        dest="template_command", metavar="ACTION", required=True)
    p = group.add_parser("import", help="import a YAML/JSON template file as a new draft version")
    p.add_argument("file", type=Path)
    p.add_argument("--reason", help="change-control reference (default: change_reason in the file)")
    p.set_defaults(handler=cmd_import)
    p = group.add_parser("list", help="list templates")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_list)
    p = group.add_parser("submit", help="submit the newest draft for review")
    p.add_argument("code")
    p.set_defaults(handler=cmd_submit)
    p = group.add_parser("approve", help="approve a version by QA e-signature (makes it effective)")
    p.add_argument("code")
    p.add_argument("--version", type=int, required=True)
    p.set_defaults(handler=cmd_approve)
    p = group.add_parser("return", help="send a version in review back to draft")
    p.add_argument("code")
    p.add_argument("--version", type=int, required=True)
    p.add_argument("--reason", required=True)
    p.set_defaults(handler=cmd_return)
    p = group.add_parser("new-version", help="start the next draft from the newest version")
    p.add_argument("code")
    p.add_argument("--reason", required=True, help="change-control reference")
    p.set_defaults(handler=cmd_new_version)
    p = group.add_parser("retire", help="retire the effective version (no more issuing)")
    p.add_argument("code")
    p.add_argument("--version", type=int, required=True)
    p.add_argument("--reason", required=True)
    p.set_defaults(handler=cmd_retire)
    p = group.add_parser("export", help="export a version as a YAML/JSON file")
    p.add_argument("code")
    p.add_argument("--version", type=int, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.set_defaults(handler=cmd_export)
    p = group.add_parser("layout", help="where every writing box of a version is printed, in millimetres")
    p.add_argument("code")
    p.add_argument("--version", type=int, help="default: the newest version")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_layout)

    p = sub.add_parser("issue", help="issue numbered controlled copies of an effective template")
    p.add_argument("code")
    p.add_argument("--copies", type=int, required=True)
    p.add_argument("--purpose", required=True, help="batch or lot, study, equipment...")
    p.add_argument("--reference", help="batch/lot number or other reference")
    p.add_argument("--to", dest="issued_to", required=True,
                   help="person or area the forms are issued to (the setting issuance.issued_to_mode may require "
                        "one of the names it offers)")
    p.add_argument("--due", required=True, help="return due date YYYY-MM-DD")
    p.add_argument("--out", type=Path, required=True, help="where to save the controlled PDF (its one release)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_issue)

    release.register(sub)

    p = sub.add_parser("replace", help="replace an issued copy with a new serial (reason + QA e-signature)")
    p.add_argument("serial")
    p.add_argument("--reason", required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_replace)

    p = sub.add_parser("print-reference", help="an UNCONTROLLED reference print (no serial, no valid code)")
    p.add_argument("code")
    p.add_argument("--out", type=Path, required=True)
    p.set_defaults(handler=cmd_reference)

    p = sub.add_parser("register", help="the register of issued forms")
    p.add_argument("--state", choices=[s.value for s in FormState])
    p.add_argument("--overdue", action="store_true")
    p.add_argument("--template")
    p.add_argument("--person")
    p.add_argument("--issuance", type=int)
    p.add_argument("--json", action="store_true")
    p.add_argument("--export", choices=form_register.EXPORT_FORMATS)
    p.add_argument("--out", type=Path)
    p.set_defaults(handler=cmd_register)


def _version_dict(info: templates.TemplateVersionInfo) -> dict:
    return {"code": info.code, "title": info.title, "version": info.version, "status": info.status.value,
            "layout_sha256": info.layout_sha256, "change_reason": info.change_reason,
            "effective_date": info.effective_date.isoformat() if info.effective_date else None}


def cmd_import(cli: Cli) -> int:
    info = templates.import_file(cli.db, cli.actor(), cli.args.file, change_reason=cli.args.reason)
    cli.out(f"Imported {info.label} ({info.title}) as a draft.")
    return 0


def cmd_list(cli: Cli) -> int:
    rows = templates.list_templates(cli.db, cli.actor())
    if cli.args.json:
        cli.json([{"code": t.code, "title": t.title, "department": t.department, "version": t.version,
                   "status": t.status.value, "effective_version": t.effective_version,
                   "effective_date": t.effective_date.isoformat() if t.effective_date else None} for t in rows])
    else:
        cli.table(["code", "title", "newest", "status", "effective"],
                  [[t.code, t.title, t.version, t.status.value,
                    f"v{t.effective_version} since {t.effective_date}" if t.effective_version else "-"] for t in rows])
    return 0


def cmd_submit(cli: Cli) -> int:
    info = templates.submit(cli.db, cli.actor(), cli.args.code)
    cli.out(f"{info.label} submitted for review.")
    return 0


def cmd_approve(cli: Cli) -> int:
    actor = cli.actor()
    info = templates.approve(cli.db, actor, cli.args.code, cli.args.version, username=actor.username,
                             password=cli.sign_password("approved"))
    cli.out(f"{info.label} is effective from {info.effective_date}.")
    for sig in info.signatures:
        cli.out(f"  signed: {sig.manifestation()}")
    return 0


def cmd_return(cli: Cli) -> int:
    info = templates.return_to_draft(cli.db, cli.actor(), cli.args.code, cli.args.version, reason=cli.args.reason)
    cli.out(f"{info.label} returned to draft.")
    return 0


def cmd_new_version(cli: Cli) -> int:
    info = templates.new_version(cli.db, cli.actor(), cli.args.code, change_reason=cli.args.reason)
    cli.out(f"Draft {info.label} started.")
    return 0


def cmd_retire(cli: Cli) -> int:
    info = templates.retire(cli.db, cli.actor(), cli.args.code, cli.args.version, reason=cli.args.reason)
    cli.out(f"{info.label} retired.")
    return 0


def cmd_export(cli: Cli) -> int:
    out = templates.export_version(cli.db, cli.actor(), cli.args.code, cli.args.version, cli.args.out)
    cli.out(f"Exported to {out}")
    return 0


def cmd_layout(cli: Cli) -> int:
    geometry = template_geometry.geometry_of(cli.db, cli.actor(), cli.args.code, cli.args.version)
    if cli.args.json:
        cli.json(geometry.as_dict())
        return 0
    cli.out(f"{geometry.code}: {geometry.width_mm:.0f} × {geometry.height_mm:.0f} mm, millimetres from the top-left")
    rows = [[p.page, b.field or "-", b.part, f"{b.rect.x_mm:.1f}", f"{b.rect.y_mm:.1f}", f"{b.rect.w_mm:.1f}",
             f"{b.rect.h_mm:.1f}"] for p in geometry.pages for b in p.boxes]
    cli.table(["page", "field", "part", "x", "y", "width", "height"], rows)
    return 0


def writable_target(out: Path) -> None:
    """Refuse, before anything is issued, a file that exists or a folder that cannot be written."""
    if out.exists():
        raise CliError(f"{out} already exists; the controlled PDF is saved once, to a new file")
    folder = next((p for p in (out.parent, *out.parent.parents) if p.exists()), None)
    if folder is None or not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise CliError(f"cannot save to {out}: {folder or out.parent} is not a folder you can write to; nothing was "
                       "issued")


def cmd_issue(cli: Cli) -> int:
    a = cli.args
    writable_target(a.out)
    actor = cli.actor()
    result = issuance.issue_forms(cli.db, actor, code=a.code, copies=a.copies, purpose=a.purpose,
                                  reference=a.reference, issued_to=a.issued_to, due=parse_date(a.due, "due dates"))
    try:
        printing.save_to_file(cli.db, actor, result.pdf_id, out=a.out)
    except FormtrailError as exc:
        raise CliError(f"issuance {result.issuance_id} (serials {_span(result.labels or result.serials)}) is "
                       f"issued, but its PDF was not saved: {exc} It is not released yet: release it with "
                       f"`formtrail release {result.issuance_id} --out FILE`.") from exc
    printed = result.labels or result.serials
    if a.json:
        cli.json({"issuance_id": result.issuance_id, "serials": list(result.serials), "labels": list(printed),
                  "template": result.template, "version": result.version, "pages": result.pages, "pdf": str(a.out),
                  "sha256": result.pdf_sha256})
    else:
        cli.out(f"Issuance {result.issuance_id}: {plural(len(result.serials), 'copy')} of {result.template}@"
                f"{result.version}, {'serial' if len(printed) == 1 else 'serials'} {_span(printed)}, "
                f"{plural(result.pages, 'page')} saved to {a.out}")
    return 0


def _span(labels: tuple[str, ...]) -> str:
    """The first and last serial as printed ("BSL-01-000001 – BSL-01-000005"; a label may hold "-" itself)."""
    return labels[0] if len(labels) == 1 else f"{labels[0]} – {labels[-1]}"


def cmd_replace(cli: Cli) -> int:
    a = cli.args
    writable_target(a.out)
    actor = cli.actor()
    result = replacement.replace_form(cli.db, actor, serial=a.serial, reason=a.reason, username=actor.username,
                                      password=cli.sign_password("approved"))
    old, new = result.old_label or result.old_serial, result.new_label or result.new_serial  # as printed
    try:
        printing.save_to_file(cli.db, actor, result.pdf_id, out=a.out)
    except FormtrailError as exc:
        raise CliError(f"{old} is replaced by {new}, but its PDF was not saved: {exc} "
                       f"Release it with `formtrail release {result.issuance_id} --pdf {result.pdf_id} --out "
                       "FILE`.") from exc
    if a.json:
        cli.json({"old_serial": result.old_serial, "new_serial": result.new_serial, "old_label": old,
                  "new_label": new, "issuance_id": result.issuance_id, "pdf": str(a.out),
                  "sha256": result.pdf_sha256})
    else:
        cli.out(f"{old} replaced by {new}; PDF saved to {a.out}. The paper of {old} must still come back or be "
                "declared missing.")
    return 0


def cmd_reference(cli: Cli) -> int:
    out = printing.print_reference(cli.db, cli.actor(), cli.args.code, out=cli.args.out)
    cli.out(f"Uncontrolled reference print saved to {out}")
    return 0


def cmd_register(cli: Cli) -> int:
    a = cli.args
    actor = cli.actor()
    flt = form_register.RegisterFilter(state=FormState(a.state) if a.state else None, overdue=a.overdue,
                                  template=a.template, person=a.person, issuance_id=a.issuance)
    if a.export:
        if not a.out:
            raise CliError("--export needs --out FILE")
        n = form_register.export_register(cli.db, actor, flt, fmt=a.export, out=a.out)
        cli.out(f"Exported {plural(n, 'form')} to {a.out}")
        return 0
    rows = form_register.fetch_forms(cli.db, actor, flt, sort="serial", descending=False, limit=10**9)
    if a.json:
        cli.json([{"serial": r.serial, "label": r.printed_as, "template": r.template, "version": r.version,
                   "copy": r.copy_no, "copies": r.copies, "purpose": r.purpose, "reference": r.reference,
                   "issued_to": r.issued_to, "issued_by": r.issued_by, "issued_at": r.issued_at.isoformat(),
                   "due": r.due_date.isoformat(), "state": r.state.value, "overdue": r.overdue,
                   "issuance_id": r.issuance_id, "replaces": r.replaces, "pages": r.pages,
                   "extra_pages": list(r.extra_pages)} for r in rows])
    else:
        cli.table(["serial", "label", "template", "copy", "purpose", "to", "issued", "due", "state"],
                  [[r.serial, r.printed_as, r.template_label, f"{r.copy_no}/{r.copies}", r.purpose, r.issued_to,
                    local_text(r.issued_at, seconds=False), r.due_date,
                    r.state.value + (" OVERDUE" if r.overdue else "")] for r in rows])
    return 0
