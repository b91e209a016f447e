"""`formtrail validation-report --out DIR`: the validation pack. Runs the compliance tests (`pytest -m compliance`)
against this build and writes DIR/validation-report.pdf, DIR/results.json and the raw DIR/junit.xml; exit 1 when
a compliance test failed or could not run."""

from __future__ import annotations

import argparse
from pathlib import Path

from app.commands.base import Cli, CliError

HELP = "run the compliance tests and write the validation pack (PDF, JSON, JUnit XML); exit 1 if a test failed"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validation-report", help=HELP)
    p.add_argument("--out", required=True, type=Path, metavar="DIR", help="folder for the pack (created)")
    p.add_argument("--select", "-k", metavar="EXPR", help="only the compliance tests matching this pytest -k "
                                                          "expression (a partial pack; the PDF says so)")
    p.add_argument("--workers", "-n", type=int, default=0, metavar="N", help="run the tests in N processes "
                                                                             "(pytest-xdist)")
    p.add_argument("--source", type=Path, metavar="DIR", help="the source checkout holding tests/ (default: the "
                                                              "one this build runs from)")
    p.add_argument("--requirements", type=Path, metavar="FILE", help="the checklist (default: "
                                                                     "$FORMTRAIL_REQUIREMENTS, docs/ or "
                                                                     "../shared/REQUIREMENTS.md of the checkout)")
    p.add_argument("--site", help="the site named on the cover (default: the site of the configured database)")
    p.set_defaults(handler=cmd_validation_report)


def _site(cli: Cli) -> str:
    """The configured site's name, read without creating or upgrading anything; the pack needs no database."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from app.runtime import open_database
    from app.services.core.errors import FormtrailError
    from app.services.site import setup

    url = cli.config.db_url
    if url.startswith("sqlite"):
        path = make_url(url).database
        if not path or not Path(path).is_file():
            return "(no site database on this workstation)"
    try:
        db = open_database(cli.config, migrate=False)
    except (FormtrailError, SQLAlchemyError, OSError):
        return "(site database not readable)"
    try:
        info = setup.site_info(db)
    except (FormtrailError, SQLAlchemyError):
        return "(site database not readable)"
    finally:
        db.engine.dispose()
    return info.label if info else "(no site set up)"


def cmd_validation_report(cli: Cli) -> int:
    from app.services.integrity import checklist, validation_pack, validation_report

    args = cli.args
    if args.workers < 0:
        raise CliError("--workers is 0 (one process) or more")
    source = validation_pack.require_source(args.source.resolve() if args.source else checklist.source_tree())
    path = checklist.locate(source, args.requirements)
    requirements, digest = checklist.load(path)
    cli.out(f"Checklist: {path} ({len(requirements)} requirements, SHA-256 {digest[:16]}…)")
    out: Path = args.out
    run = validation_pack.run(source, out, requirements=requirements, checklist=path, checklist_sha256=digest,
                              select=args.select, workers=args.workers, echo=cli.out)
    cli.out("Writing the validation report…")
    pdf, results = validation_report.write(run, out, site=args.site or _site(cli))
    passed = sum(r.status == validation_pack.PASSED for r in run.requirements)
    cli.out(f"{len(run.tests)} compliance tests: {run.count(validation_pack.PASSED)} passed, "
            f"{run.count(validation_pack.FAILED) + run.count(validation_pack.ERROR)} failed, "
            f"{run.count(validation_pack.SKIPPED) + run.count(validation_pack.XFAILED)} skipped; "
            f"{passed} of {len(requirements)} requirements proved by passing tests")
    missing = run.without_tests()
    if missing:
        cli.out(f"Requirements without tests: {', '.join(missing)}")
    cli.out(f"Wrote {pdf}, {results} and {out / 'junit.xml'}")
    if run.failed:
        cli.out("VALIDATION FAILED: see the failed tests in the report" if run.tests
                else f"VALIDATION FAILED: pytest exited with {run.pytest_exit} and ran no test")
        return 1
    return 0
