"""`formtrail verify` (everything an insider could change, each finding named) and `formtrail keys`."""

from __future__ import annotations

import argparse
from pathlib import Path

from app.commands.base import Cli, CliError
from app.services.core import audit_chain
from app.services.integrity import integrity
from app.services.site import key_setup
from app.textfmt import plural


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("keys", help="the site's key file (outside the data): list, rotate, export")
    group = p.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    k = group.add_parser("list", help="key versions and the current one's fingerprint")
    k.set_defaults(handler=cmd_keys_list)
    k = group.add_parser("rotate", help="start a new key version (older tags keep verifying)")
    k.add_argument("--reason", required=True)
    k.set_defaults(handler=cmd_keys_rotate)
    k = group.add_parser("export", help="copy the key file (keep it apart from the data backups)")
    k.add_argument("out", type=Path)
    k.add_argument("--reason", required=True)
    k.set_defaults(handler=cmd_keys_export)


def add_verify_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="the result as one JSON object")
    p.add_argument("--anchor", action="append", default=[], metavar="SEQ:HASH",
                   help="a chain head printed on a report, to check the trail against (repeatable)")


def cmd_verify(cli: Cli) -> int:
    try:
        given = tuple(audit_chain.parse_anchor(text) for text in getattr(cli.args, "anchor", []) or [])
    except ValueError as exc:
        raise CliError(str(exc)) from None
    report = integrity.verify_everything(cli.db, cli.actor(), anchors_given=given)
    if cli.args.json:
        cli.json(report.as_dict())
        return 0 if report.ok else 1
    for finding in report.findings:
        cli.out(f"{'PROBLEM' if finding.error else 'warning'}: {finding}")
    chain = report.chain
    cli.out(f"Checked: {plural(chain.count if chain else 0, 'audit event')} (chain head "
            f"{chain.head if chain else '—'}), {plural(report.anchors_checked, 'anchor')}, "
            f"{plural(report.rows_checked, 'controlled row')}, {plural(report.signatures_checked, 'signature')}, "
            f"{plural(report.codes_checked, 'linking QR code')}, {plural(report.files_checked, 'stored file')}.")
    cli.out("Everything verifies." if report.ok else
            f"INTEGRITY CHECK FAILED: {plural(sum(1 for f in report.findings if f.error), 'problem')}. Report "
            "this to QA: it is a data-integrity incident (`formtrail incident list`).")
    return 0 if report.ok else 1


def cmd_keys_list(cli: Cli) -> int:
    info = key_setup.info(cli.db, cli.actor())
    cli.out(f"Site {info.site}: key file {info.path}; current version {info.current} ({info.fingerprint})")
    for number, created in info.versions:
        cli.out(f"  version {number}, created {created}")
    return 0


def cmd_keys_rotate(cli: Cli) -> int:
    info = key_setup.rotate(cli.db, cli.actor(), reason=cli.args.reason)
    cli.out(f"New key version {info.current} ({info.fingerprint}); earlier versions keep verifying what they "
            "signed. Export the key file again (`formtrail keys export`).")
    return 0


def cmd_keys_export(cli: Cli) -> int:
    out = key_setup.export(cli.db, cli.actor(), cli.args.out, reason=cli.args.reason)
    cli.out(f"Key file copied to {out} (readable by you only). Keep it apart from the data backups: whoever "
            "holds it and a backup can forge what the keys protect.")
    return 0
