"""Paper review commands (under `scan`): what the reader saw in each box, the paper findings, resolving them,
reading the boxes again."""

from __future__ import annotations

import argparse
import datetime as dt

from app.commands.base import Cli, group_of
from app.services.core.timefmt import local_text
from app.services.scans import paper_reading, paper_review, paper_views
from app.textfmt import plural


def register(sub: argparse._SubParsersAction) -> None:
    group = group_of(sub, "scan")
    p = group.add_parser("fields", help="what the reader saw in every box of the scanned pages of one form")
    p.add_argument("serial", help="the serial, or its label as printed on the form")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_fields)
    p = group.add_parser("findings", help="paper findings (GDP defects on returned sheets) waiting for QA")
    p.add_argument("--serial", help="only the findings of this form (serial or printed label)")
    p.add_argument("--all", action="store_true", help="also the resolved and superseded ones")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_findings)
    p = group.add_parser("resolve-finding", help="resolve a paper finding (QA): a reason, a deviation reference "
                                                 "or both")
    p.add_argument("finding_id", type=int, metavar="ID")
    p.add_argument("--reason", help="what was done, or why the sheet is acceptable as it is")
    p.add_argument("--deviation", metavar="REF", help="the reference of the deviation raised for it")
    p.set_defaults(handler=cmd_resolve_finding)
    p = group.add_parser("read", help="read the boxes of scanned pages again and raise their paper findings")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("serial", nargs="?", help="every linked page of this form (serial or printed label)")
    which.add_argument("--unread", action="store_true", help="every linked page not read yet")
    p.set_defaults(handler=cmd_read)


def _when(moment: dt.datetime | None) -> str:
    return local_text(moment, seconds=False) if moment is not None else ""


def cmd_fields(cli: Cli) -> int:
    form = paper_views.readings_of_form(cli.db, cli.actor(), cli.args.serial)
    if cli.args.json:
        cli.json({"serial": form.serial, "label": form.label, "template": form.template, "pages": [
            {"page": p.page, "scan_id": p.scan_page_id, "read_at": p.read_at.isoformat() if p.read_at else None,
             "read_by": p.read_by, "residual_mm": p.residual_mm, "error": p.error, "open_findings": p.open_findings,
             "boxes": [{"field": b.field, "label": b.field_label, "part": b.part, "state": b.state.value,
                        "confidence": round(b.confidence, 3), "ink": round(b.ink, 4), "note": b.note}
                       for b in p.boxes]} for p in form.pages]})
        return 0
    cli.out(f"{form.label} ({form.template})")
    if not form.pages:
        cli.out("No page of it is scanned and linked yet.")
    for page in form.pages:
        cli.out()
        if page.read_at is None:
            cli.out(f"Page {page.page} (scan {page.scan_page_id}): not read yet.")
            continue
        fit = f", matched within {page.residual_mm:.2f} mm" if page.residual_mm is not None else ""
        cli.out(f"Page {page.page} (scan {page.scan_page_id}), read {_when(page.read_at)} by {page.read_by}{fit}; "
                f"{plural(page.open_findings, 'open finding')}")
        if page.error is not None:
            cli.out(f"  could not be read: {page.error}")
            continue
        cli.table(["field", "box", "state", "confidence", "note"],
                  [[b.field_label, b.part_label, b.state.value, f"{b.confidence:.2f}", b.note or ""]
                   for b in page.boxes])
    return 0


def _finding_dict(f: paper_views.PaperFindingView) -> dict:
    return {"id": f.id, "serial": f.serial, "label": f.label, "page": f.page, "scan_id": f.scan_page_id,
            "field": f.field, "field_label": f.field_label, "part": f.part, "kind": f.kind.value,
            "detail": f.detail, "status": f.status.value, "opened_at": f.opened_at.isoformat(),
            "opened_by": f.opened_by, "resolved_at": f.resolved_at.isoformat() if f.resolved_at else None,
            "resolved_by": f.resolved_by, "resolution": f.resolution, "deviation_ref": f.deviation_ref,
            "may_resolve": f.may_resolve}


def cmd_findings(cli: Cli) -> int:
    actor = cli.actor()
    if cli.args.serial:
        found = list(paper_views.findings_of_form(cli.db, actor, cli.args.serial).findings)
        if not cli.args.all:
            found = [f for f in found if f.is_open]
    else:
        found = paper_views.open_findings(cli.db, actor, include_closed=cli.args.all)
    if cli.args.json:
        cli.json([_finding_dict(f) for f in found])
        return 0
    if not found:
        cli.out("No paper findings." if cli.args.all else "No open paper findings.")
        return 0
    cli.table(["id", "form", "page", "field", "box", "finding", "status"],
              [[f.id, f.label, f.page, f.field_label, f.part_label, f"{f.kind.title}: {f.detail}",
                f.status.value + (f" ({f.resolved_by})" if f.resolved_by else "")] for f in found])
    return 0


def cmd_resolve_finding(cli: Cli) -> int:
    a = cli.args
    view = paper_review.resolve_finding(cli.db, cli.actor(), a.finding_id, reason=a.reason, deviation_ref=a.deviation)
    how = "; ".join(x for x in (view.resolution, f"deviation {view.deviation_ref}" if view.deviation_ref else None)
                    if x)
    cli.out(f"Paper finding {view.id} resolved ({view.label} page {view.page}, {view.field_label}: "
            f"{view.kind.title}): {how}.")
    return 0


def cmd_read(cli: Cli) -> int:
    actor = cli.actor()
    if cli.args.unread:
        summary = paper_reading.read_unread(cli.db, actor)
    else:
        summary = paper_reading.read_form(cli.db, actor, cli.args.serial)
    if not summary.pages:
        cli.out("No linked page to read.")
        return 0
    cli.out(f"Read {plural(summary.pages, 'page')}: {plural(summary.findings, 'open paper finding')}"
            + (f", {plural(summary.unread, 'page')} could not be placed on the template" if summary.unread else ""))
    return 0
