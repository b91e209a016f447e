"""Commands for configuration approvals (under `config`) and periodic reviews (`review`), issue 16."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any

from app.commands.base import Cli, group_of
from app.services.core.timefmt import local_text
from app.services.reports import reviews
from app.services.reports.reviews import ReviewKind, ReviewView
from app.services.site import config_changes
from app.services.site.config_changes import ConfigChangeView

KINDS = {"audit-trail": ReviewKind.AUDIT_TRAIL, "access": ReviewKind.ACCESS}


def register(sub: argparse._SubParsersAction) -> None:
    config = group_of(sub, "config")
    p = config.add_parser("pending", help="configuration changes waiting for QA's approval")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_pending)
    p = config.add_parser("approve", help="approve a pending configuration change (QA; e-signature: the password "
                                          "is asked at the terminal)")
    p.add_argument("change_id", type=int, metavar="ID")
    p.set_defaults(handler=cmd_approve)
    p = config.add_parser("reject", help="reject a pending configuration change (QA; reason required)")
    p.add_argument("change_id", type=int, metavar="ID")
    p.add_argument("--reason", required=True)
    p.set_defaults(handler=cmd_reject)
    p = config.add_parser("history", help="every version of the configuration (or of one setting), newest first")
    p.add_argument("key", nargs="?", help="only this setting")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_history)

    review = sub.add_parser("review", help="periodic reviews: audit trail and user access (QA signs)")
    group = review.add_subparsers(dest="review_command", metavar="ACTION", required=True)
    for name, kind in KINDS.items():
        p = group.add_parser(name, help=f"produce a new {kind.title.lower()} report (QA)")
        p.add_argument("--out", type=Path, metavar="FILE", help="where to write a copy of the report "
                                                                 f"(default: ./{name}-review-ID.pdf)")
        p.set_defaults(handler=cmd_generate, kind=kind)
    p = group.add_parser("sign", help="sign a review with its conclusion (QA; e-signature: the password is asked "
                                      "at the terminal)")
    p.add_argument("review_id", type=int, metavar="ID")
    p.add_argument("--conclusion", required=True, help="what the review found and what follows from it")
    p.set_defaults(handler=cmd_sign)
    p = group.add_parser("list", help="every periodic review, newest first")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_list)
    p = group.add_parser("due", help="when each periodic review is next due")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_due)


# -- configuration -----------------------------------------------------------------------------------------------
def _when(moment: dt.datetime | None) -> str:
    return local_text(moment, seconds=False) if moment is not None else ""


def _change_dict(c: ConfigChangeView) -> dict[str, Any]:
    return {"id": c.id, "version": c.version, "key": c.key, "old": c.old_value, "new": c.new_value, "gmp": c.gmp,
            "status": c.status.value, "reason": c.reason, "requested_by": c.requested_by,
            "requested_at": c.requested_at.isoformat(), "decided_by": c.decided_by,
            "decided_at": c.decided_at.isoformat() if c.decided_at else None, "decision_reason": c.decision_reason,
            "signature": c.signature}


def _changes_table(cli: Cli, rows: list[ConfigChangeView]) -> None:
    cli.table(["id", "version", "setting", "old", "new", "status", "asked by", "at", "reason", "decided by",
               "decision"],
              [[c.id, f"v{c.version}", c.key, c.old_value, c.new_value, c.status.value, c.requested_by,
                _when(c.requested_at), c.reason, c.decided_by or "", c.decision_reason or c.signature or ""]
               for c in rows])


def cmd_pending(cli: Cli) -> int:
    rows = config_changes.pending(cli.db, cli.actor())
    if cli.args.json:
        cli.json([_change_dict(c) for c in rows])
    elif not rows:
        cli.out("No configuration change waits for approval.")
    else:
        _changes_table(cli, rows)
    return 0


def cmd_approve(cli: Cli) -> int:
    actor = cli.actor()
    config_changes.check_approval(cli.db, actor, cli.args.change_id)  # refused before the password is asked
    change = config_changes.get_change(cli.db, actor, cli.args.change_id)
    cli.out(f"Approving configuration change v{change.version}: {change.key} {change.old_value} -> "
            f"{change.new_value} (asked by {change.requested_by}: {change.reason})")
    done = config_changes.approve(cli.db, actor, change_id=cli.args.change_id, username=actor.username,
                                  password=cli.sign_password("approved"))
    cli.out(f"Approved and in effect: {done.key} = {done.new_value} (version {done.version}). Signed: "
            f"{done.signature}")
    return 0


def cmd_reject(cli: Cli) -> int:
    done = config_changes.reject(cli.db, cli.actor(), change_id=cli.args.change_id, reason=cli.args.reason)
    cli.out(f"Rejected configuration change v{done.version} ({done.key} -> {done.new_value}): it never takes "
            f"effect; {done.key} stays {done.old_value}.")
    return 0


def cmd_history(cli: Cli) -> int:
    rows = config_changes.history(cli.db, cli.actor(), key=cli.args.key)
    if cli.args.json:
        cli.json([_change_dict(c) for c in rows])
    elif not rows:
        cli.out("No configuration change recorded yet.")
    else:
        _changes_table(cli, rows)
    return 0


# -- periodic reviews --------------------------------------------------------------------------------------------
def _review_dict(r: ReviewView) -> dict[str, Any]:
    return {"id": r.id, "kind": r.kind.value, "period_start": r.period_start.isoformat() if r.period_start else None,
            "period_end": r.period_end.isoformat(), "generated_by": r.generated_by,
            "generated_at": r.generated_at.isoformat(), "report_sha256": r.report_sha256, "summary": r.summary,
            "signed": r.signed, "signed_by": r.signed_by,
            "signed_at": r.signed_at.isoformat() if r.signed_at else None, "conclusion": r.conclusion,
            "signature": r.signature}


def cmd_generate(cli: Cli) -> int:
    actor = cli.actor()
    review = reviews.generate(cli.db, actor, cli.args.kind)
    out = cli.args.out or Path.cwd() / review.file_name
    reviews.export_report(cli.db, actor, review.id, out=out)
    cli.out(f"{review.title} {review.id}: report written to {out} (SHA-256 {review.report_sha256}).")
    for title, count in review.summary.items():
        cli.out(f"  {title}: {count}")
    cli.out(f"Read it, then sign it: formtrail review sign {review.id} --conclusion '...'")
    return 0


def cmd_sign(cli: Cli) -> int:
    actor = cli.actor()
    reviews.check_sign(cli.db, actor, cli.args.review_id, conclusion=cli.args.conclusion)  # before the password
    review = reviews.get_review(cli.db, actor, cli.args.review_id)
    cli.out(f"Signing {review.title} {review.id} (report SHA-256 {review.report_sha256}) as reviewed.")
    done = reviews.sign(cli.db, actor, cli.args.review_id, conclusion=cli.args.conclusion, username=actor.username,
                        password=cli.sign_password("reviewed"))
    cli.out(f"Signed: {done.signature}")
    return 0


def cmd_list(cli: Cli) -> int:
    rows = reviews.list_reviews(cli.db, cli.actor())
    if cli.args.json:
        cli.json([_review_dict(r) for r in rows])
    elif not rows:
        cli.out("No periodic review yet.")
    else:
        cli.table(["id", "review", "period from", "to", "generated by", "status", "signed", "conclusion"],
                  [[r.id, r.title, _when(r.period_start) or "(start)", _when(r.period_end), r.generated_by,
                    r.status_text, r.signature or "", r.conclusion or ""] for r in rows])
    return 0


def cmd_due(cli: Cli) -> int:
    cli.actor()
    rows = reviews.due_reviews(cli.db)
    if cli.args.json:
        cli.json([{"review": d.title, "due_on": d.due_on.isoformat(), "overdue": d.overdue,
                   "last_done": d.last_done.isoformat() if d.last_done else None} for d in rows])
    else:
        cli.table(["review", "due on", "overdue", "last signed"],
                  [[d.title, d.due_on.isoformat(), "OVERDUE" if d.overdue else "", _when(d.last_done) or "never"]
                   for d in rows])
    return 0
