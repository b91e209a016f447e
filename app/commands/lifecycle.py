"""Commands for retention, legal holds, disposal and invalidated results (issue 16: BK-05, RC-05)."""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
from pathlib import Path

from app.commands.base import Cli, add_group, group_of
from app.services.admin import disposal, retention
from app.services.admin.retention import HoldScope
from app.services.core.timefmt import local_text
from app.services.records import invalidation


def register(sub: argparse._SubParsersAction) -> None:
    p = group_of(sub, "record").add_parser("invalidate", help="invalidate a recorded result: reason and e-signature; "
                                                              "it stays shown, flagged VOID")
    p.add_argument("serial")
    p.add_argument("field", help="the field's name")
    p.add_argument("--reason", required=True)
    p.set_defaults(handler=cmd_invalidate)

    group = add_group(sub.add_parser("retention", help="retention periods per template (BK-05): list, set"),
                      dest="action", required=True)
    p = group.add_parser("list", help="the site default, each template's period and where each issuance stands")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_retention_list)
    p = group.add_parser("set", help="keep a template's records N years (a configuration change, with a reason)")
    p.add_argument("template")
    p.add_argument("--years", type=int, required=True)
    p.add_argument("--reason", required=True)
    p.set_defaults(handler=cmd_retention_set)

    group = add_group(sub.add_parser("hold", help="legal holds on issuances, records or templates: place, release, "
                                                  "list"), dest="action", required=True)
    p = group.add_parser("place", help="put an issuance, a record or a template on legal hold")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--issuance", metavar="ID")
    which.add_argument("--record", metavar="SERIAL")
    which.add_argument("--template", metavar="CODE")
    p.add_argument("--reason", required=True)
    p.set_defaults(handler=cmd_hold_place)
    p = group.add_parser("release", help="release a legal hold, with a reason")
    p.add_argument("hold_id", type=int, metavar="ID")
    p.add_argument("--reason", required=True)
    p.set_defaults(handler=cmd_hold_release)
    p = group.add_parser("list", help="active legal holds")
    p.add_argument("--all", action="store_true", help="also the released ones")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_hold_list)

    group = add_group(sub.add_parser("disposal", help="disposal of records past their retention: due, request, "
                                                      "approve (QA e-signature), show"), dest="action", required=True)
    p = group.add_parser("due", help="issuances past their retention and on no legal hold")
    p.add_argument("--all", action="store_true", help="also the expired ones on legal hold")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_due)
    p = group.add_parser("request", help="ask QA to approve the disposal of issuances past their retention")
    p.add_argument("issuances", nargs="+", type=int, metavar="ISSUANCE")
    p.add_argument("--reason", required=True)
    p.set_defaults(handler=cmd_request)
    p = group.add_parser("approve", help="approve a disposal request (QA, not the requester; password asked again): "
                                         "its files are destroyed and the certificate stored")
    p.add_argument("request_id", type=int, metavar="ID")
    p.set_defaults(handler=cmd_approve)
    p = group.add_parser("show", help="one disposal request, or all with no ID")
    p.add_argument("request_id", type=int, metavar="ID", nargs="?")
    p.add_argument("--certificate", type=Path, metavar="OUT", help="copy its certificate PDF to OUT")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_show)


def _when(moment: dt.datetime | None) -> str:
    return local_text(moment, seconds=False) if moment is not None else ""


def cmd_invalidate(cli: Cli) -> int:
    actor = cli.actor()
    a = cli.args
    invalidation.check_invalidate(cli.db, actor, serial=a.serial, field=a.field, reason=a.reason)
    view = invalidation.invalidate_result(cli.db, actor, serial=a.serial, field=a.field, reason=a.reason,
                                          username=actor.username, password=cli.sign_password("approved"))
    field = view.field(a.field)
    void = next(e for e in reversed(field.history) if e.invalidated)
    cli.out(f"{view.serial} {field.label}: {void.value} is VOID (invalidated by {void.invalidated_by}, "
            f"{_when(void.invalidated_at)}: {void.invalidation_reason}); the record is {view.state.value}.")
    if field.required and field.current is None:
        cli.out(f"{field.label} is required: enter its new value with `formtrail record enter`.")
    return 0


def _item(i: retention.IssuanceRetention) -> dict[str, object]:
    return {"issuance": i.issuance_id, "template": i.template_code, "purpose": i.purpose, "reference": i.reference,
            "serials": list(i.serials), "years": i.years, "basis": i.basis,
            "start": i.start.isoformat() if i.start else None,
            "expires_at": i.expires_at.isoformat() if i.expires_at else None, "status": i.status,
            "holds": list(i.holds), "request": i.request_id}


def _items_table(cli: Cli, items: list[retention.IssuanceRetention]) -> None:
    cli.table(["issuance", "template", "forms", "kept", "since", "until", "status"],
              [[i.issuance_id, i.template_code, len(i.serials), f"{i.years} y ({i.basis})", _when(i.start),
                _when(i.expires_at), i.status + (f" #{', #'.join(map(str, i.holds))}" if i.holds else "")]
               for i in items])


def cmd_retention_list(cli: Cli) -> int:
    actor = cli.actor()
    default, rules = retention.rules(cli.db, actor)
    items = disposal.overview(cli.db, actor)
    if cli.args.json:
        cli.json({"default_years": default, "rules": [
            {"template": r.template_code, "years": r.years, "reason": r.reason, "set_at": r.set_at.isoformat(),
             "set_by": r.set_by} for r in rules], "issuances": [_item(i) for i in items]})
        return 0
    cli.out(f"Site default: {default} years after an issuance is reconciled (setting {retention.DEFAULT_KEY}).")
    if rules:
        cli.table(["template", "years", "set", "by", "reason"],
                  [[r.template_code, r.years, _when(r.set_at), r.set_by, r.reason] for r in rules])
    cli.out()
    if items:
        _items_table(cli, items)
    else:
        cli.out("No issuances yet.")
    return 0


def cmd_retention_set(cli: Cli) -> int:
    a = cli.args
    rule = retention.set_rule(cli.db, cli.actor(), template_code=a.template, years=a.years, reason=a.reason)
    cli.out(f"Records of {rule.template_code} are kept {rule.years} years after their issuance is reconciled.")
    return 0


def cmd_hold_place(cli: Cli) -> int:
    a = cli.args
    scope, target = ((HoldScope.ISSUANCE, a.issuance) if a.issuance else (HoldScope.RECORD, a.record)
                     if a.record else (HoldScope.TEMPLATE, a.template))
    hold = retention.place_hold(cli.db, cli.actor(), scope=scope, target=target, reason=a.reason)
    cli.out(f"Legal hold {hold.id} placed on {hold.subject}: {hold.reason}")
    return 0


def cmd_hold_release(cli: Cli) -> int:
    hold = retention.release_hold(cli.db, cli.actor(), cli.args.hold_id, reason=cli.args.reason)
    cli.out(f"Legal hold {hold.id} on {hold.subject} released: {hold.release_reason}")
    return 0


def cmd_hold_list(cli: Cli) -> int:
    found = retention.holds(cli.db, cli.actor(), include_released=cli.args.all)
    if cli.args.json:
        cli.json([{"id": h.id, "scope": h.scope.value, "target": h.target, "active": h.active, "reason": h.reason,
                   "placed_at": h.placed_at.isoformat(), "placed_by": h.placed_by,
                   "released_at": h.released_at.isoformat() if h.released_at else None,
                   "released_by": h.released_by, "release_reason": h.release_reason} for h in found])
        return 0
    if not found:
        cli.out("No legal holds." if cli.args.all else "No active legal holds.")
        return 0
    cli.table(["id", "on", "reason", "placed", "by", "released"],
              [[h.id, h.subject, h.reason, _when(h.placed_at), h.placed_by,
                "" if h.active else f"{_when(h.released_at)} by {h.released_by}: {h.release_reason}"] for h in found])
    return 0


def cmd_due(cli: Cli) -> int:
    items = disposal.due(cli.db, cli.actor(), include_held=cli.args.all)
    if cli.args.json:
        cli.json([_item(i) for i in items])
        return 0
    if not items:
        cli.out("Nothing is due for disposal.")
        return 0
    _items_table(cli, items)
    return 0


def cmd_request(cli: Cli) -> int:
    view = disposal.request(cli.db, cli.actor(), issuance_ids=cli.args.issuances, reason=cli.args.reason)
    cli.out(f"Disposal request {view.id}: {len(view.items)} issuance(s), {len(view.files)} stored file(s) to "
            "destroy once QA approves it (`formtrail disposal approve "
            f"{view.id}`).")
    return 0


def cmd_approve(cli: Cli) -> int:
    actor = cli.actor()
    if disposal.show(cli.db, actor, cli.args.request_id).status is disposal.DisposalStatus.APPROVED:
        # Approved and signed, but the destruction was interrupted: finish it (the signature is already there).
        view = disposal.complete(cli.db, actor, cli.args.request_id)
    else:
        disposal.check_approve(cli.db, actor, cli.args.request_id)
        view = disposal.approve(cli.db, actor, cli.args.request_id, username=actor.username,
                                password=cli.sign_password("approved"))
    cli.out(f"Disposal request {view.id} approved ({view.approval}); {len(view.files)} stored file(s) destroyed "
            f"{_when(view.completed_at)}. Certificate: `formtrail disposal show {view.id} --certificate OUT.pdf`.")
    return 0


def _view_dict(v: disposal.DisposalView) -> dict[str, object]:
    return {"id": v.id, "status": v.status.value, "reason": v.reason, "requested_at": v.requested_at.isoformat(),
            "requested_by": v.requested_by, "approved_at": v.approved_at.isoformat() if v.approved_at else None,
            "approved_by": v.approved_by, "approval": v.approval,
            "completed_at": v.completed_at.isoformat() if v.completed_at else None,
            "certificate_sha256": v.certificate_sha256,
            "items": [{"issuance": i.issuance_id, "template": i.template_code, "serials": list(i.serials),
                       "records": list(i.records), "years": i.retention_years, "basis": i.retention_basis,
                       "start": i.retention_start.isoformat(), "expires_at": i.expires_at.isoformat()}
                      for i in v.items],
            "files": [{"sha256": f.sha256, "kind": f.kind, "name": f.name, "size": f.size} for f in v.files],
            "kept": list(v.kept), "may_approve": v.may_approve}


def cmd_show(cli: Cli) -> int:
    actor = cli.actor()
    a = cli.args
    if a.request_id is None:
        views = disposal.requests(cli.db, actor)
        if a.json:
            cli.json([_view_dict(v) for v in views])
        elif not views:
            cli.out("No disposal requests.")
        else:
            cli.table(["id", "status", "issuances", "files", "requested", "by", "approved by"],
                      [[v.id, v.status.value, ", ".join(str(i.issuance_id) for i in v.items), len(v.files),
                        _when(v.requested_at), v.requested_by, v.approved_by or ""] for v in views])
        return 0
    view = disposal.show(cli.db, actor, a.request_id)
    if a.certificate is not None:
        shutil.copyfile(disposal.certificate_path(cli.db, actor, a.request_id), a.certificate)
    if a.json:
        cli.json(_view_dict(view))
        return 0
    cli.out(f"Disposal request {view.id}: {view.status.value}. Reason: {view.reason}")
    cli.out(f"Requested by {view.requested_by}, {_when(view.requested_at)}")
    if view.approval:
        cli.out(f"Approved: {view.approval}")
    if view.completed_at:
        cli.out(f"Files destroyed {_when(view.completed_at)}; certificate SHA-256 {view.certificate_sha256}")
    for i in view.items:
        cli.out(f"  issuance {i.issuance_id} ({i.template_code}): {', '.join(i.serials)}; kept {i.retention_years} "
                f"years ({i.retention_basis}) from {_when(i.retention_start)} to {_when(i.expires_at)}")
    for f in view.files:
        cli.out(f"  file {f.name} ({f.kind}, {f.size:,} bytes) sha256 {f.sha256}")
    for k in view.kept:
        cli.out(f"  {k}")
    if a.certificate is not None:
        cli.out(f"Certificate copied to {a.certificate}")
    return 0
