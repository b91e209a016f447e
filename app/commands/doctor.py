"""`formtrail doctor`: check this workstation's set-up, one line per check, and say what to fix."""

from __future__ import annotations

import argparse

from app.commands.base import Cli
from app.runtime import doctor_workstation
from app.services.admin import doctor
from app.textfmt import plural

MARKS = {doctor.CheckStatus.OK: "ok", doctor.CheckStatus.WARN: "WARN", doctor.CheckStatus.FAIL: "FAIL",
         doctor.CheckStatus.SKIPPED: "-"}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("doctor", help="check this workstation's set-up (database, TLS, schema, privileges, clock, "
                                      "file store, keys, last backup and verify); exit 1 if a check fails")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_doctor)


def cmd_doctor(cli: Cli) -> int:
    report = doctor.run(doctor_workstation(cli.config))
    if cli.args.json:
        cli.json(report.as_dict())
        return 0 if report.ok else 1
    width = max(len(c.title) for c in report.checks)
    for check in report.checks:
        cli.out(f"{MARKS[check.status]:<4}  {check.title:<{width}}  {check.detail}")
        if check.fix:
            cli.out(f"{'':<4}  {'':<{width}}  → {check.fix}")
    failed = [c.title.lower() for c in report.checks if c.status is doctor.CheckStatus.FAIL]
    warned = sum(c.status is doctor.CheckStatus.WARN for c in report.checks)
    if failed:
        cli.out(f"\n{len(failed)} of {len(report.checks)} checks failed: {', '.join(failed)}.")
    else:
        above = f" ({plural(warned, 'warning')} above)." if warned else "."
        cli.out("\nThis workstation is set up correctly" + above)
    return 0 if report.ok else 1
