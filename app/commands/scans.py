"""Scan commands: import, the exceptions queue, manual links, the hot folder, true copies, verify.

Paper review adds its commands to `scan` in app.commands.paper."""

from __future__ import annotations

import argparse
import json
import sys
import threading
from pathlib import Path

from app.commands.base import Cli, add_group
from app.commands.integrity import add_verify_options, cmd_verify
from app.enums import Disposition
from app.services.core.timefmt import local_text
from app.services.scans import hot_folder, intake, scans, true_copy
from app.textfmt import plural


def register(sub: argparse._SubParsersAction) -> None:
    group = add_group(sub.add_parser("scan", help="scanned paper"), dest="scan_command", metavar="ACTION",
                      required=True)
    p = group.add_parser("import", help="import scan files or folders (PDF, TIFF, PNG, JPEG)",
                         epilog="Exit status: 0 when every file was dealt with (pages linked or queued, a file "
                                "recorded as unreadable, an entry skipped with its reason); 3 when some file is "
                                "left unfinished (being imported elsewhere right now, or not stored): run the "
                                "same import again.")
    p.add_argument("paths", nargs="+", type=Path)
    p.add_argument("--json", action="store_true", help="one JSON object per page (JSON lines)")
    p.add_argument("--processes", type=int, help="decoder processes (default: one per core, at most 4)")
    p.set_defaults(handler=cmd_import)
    p = group.add_parser("exceptions", help="pages waiting for a person")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_exceptions)
    p = group.add_parser("link", help="link an exception page by hand (reason required)")
    p.add_argument("scan_id", type=int)
    p.add_argument("--serial", required=True)
    p.add_argument("--page", type=int, required=True)
    p.add_argument("--reason", required=True)
    p.set_defaults(handler=cmd_link)
    p = group.add_parser("not-controlled", help="set a page aside as not a controlled form")
    p.add_argument("scan_id", type=int)
    p.add_argument("--reason", required=True)
    p.set_defaults(handler=cmd_not_controlled)
    p = group.add_parser("retry", help="decode an exception page again, trying harder")
    p.add_argument("scan_id", type=int)
    p.set_defaults(handler=cmd_retry)
    p = group.add_parser("pages", help="the scans of one issued form")
    p.add_argument("serial")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_pages)
    p = group.add_parser("watch", help="watch a hot folder; imported files move to done/ or failed/")
    p.add_argument("folder", type=Path)
    p.add_argument("--settle", type=float, default=2.0, help="seconds a file must stay unchanged (default 2)")
    p.add_argument("--once", action="store_true", help="import what is complete now, then stop")
    p.set_defaults(handler=cmd_watch)
    p = group.add_parser("verify-copy", help="sign the scans of a returned form as verified true copies",
                         epilog="Each point of the checklist must be confirmed (SC-02), or nothing is signed.")
    p.add_argument("serial")
    for name, text in true_copy.ITEMS:
        p.add_argument(f"--{name.replace('_', '-')}", dest=name, action="store_true",
                       help=f"confirm: {text}, compared with the paper original")
    p.add_argument("--all-checked", action="store_true", help="confirm every point of the checklist at once")
    p.set_defaults(handler=cmd_verify_copy)
    p = group.add_parser("disposition", help="record what happened to a paper original")
    p.add_argument("serial")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--archived", metavar="LOCATION")
    where.add_argument("--destroyed", action="store_true", help="needs QA approval by e-signature")
    p.add_argument("--reason", required=True)
    p.set_defaults(handler=cmd_disposition)

    p = sub.add_parser("verify", help="check everything: audit chain and anchors, data against the trail, "
                                      "signatures, serials, stored files")
    add_verify_options(p)
    p.set_defaults(handler=cmd_verify)


def _print_report(cli: Cli, report: intake.ImportReport, as_json: bool) -> None:
    if as_json:
        for line in report.outcomes:
            print(json.dumps(line.as_dict(), ensure_ascii=False), flush=True)
        return
    for o in report.outcomes:
        where = f"{o.source}" + (f" p.{o.page}" if o.page else "")
        what = o.form_page if o.linked else f"{o.outcome}: {o.reason}"
        cli.out(f"{where}: {what}")
    extra = [f"{plural(n, what)} {how}" for n, what, how in ((report.skipped, "entry", "skipped"),
                                                              (report.unfinished, "file", "not finished")) if n]
    cli.out(f"{report.linked} linked, {report.exceptions} exceptions, {report.failed_files} unreadable files"
            + "".join(f", {e}" for e in extra) + (" (cancelled)" if report.cancelled else ""))


def cmd_import(cli: Cli) -> int:
    # The decoder processes start first and get ready while the database is opened and the user logs in.
    with intake.decoder_pool(cli.args.paths, cli.args.processes) as pool:
        report = intake.import_files(cli.db, cli.actor(), cli.args.paths, processes=cli.args.processes, pool=pool)
    _print_report(cli, report, cli.args.json)
    # 0 when every file was dealt with (linked, queued, recorded as unreadable, or skipped with a line);
    # 3 when some file is left to finish (another import has it now, or the store failed): run it again.
    return 3 if report.unfinished else 0


def _page_dict(p: scans.ScanPageInfo) -> dict:
    return {"scan_id": p.id, "source": p.source_name, "sha256": p.source_sha256, "page": p.page_index + 1,
            "outcome": p.outcome.value, "reason": p.reason, "serial": p.serial, "page_no": p.page_no,
            "imported_at": p.imported_at.isoformat(), "imported_by": p.imported_by, "link_method": p.link_method,
            "resolution": p.resolution, "superseded": p.superseded, "dpi": p.dpi, "colour_mode": p.colour_mode,
            "scanner": p.device, "template": p.sheet_version}


def cmd_exceptions(cli: Cli) -> int:
    rows = scans.list_exceptions(cli.db, cli.actor())
    if cli.args.json:
        cli.json([_page_dict(p) for p in rows])
    else:
        cli.table(["scan", "file / page", "reason", "serial", "imported"],
                  [[p.id, p.location, f"{p.outcome.title}: {p.reason or ''}", p.serial or "",
                    f"{local_text(p.imported_at, seconds=False)} by {p.imported_by}"] for p in rows])
    return 0


def cmd_link(cli: Cli) -> int:
    a = cli.args
    info = scans.link_manually(cli.db, cli.actor(), scan_page_id=a.scan_id, serial=a.serial, page_no=a.page,
                               reason=a.reason)
    if info.form_state is None:  # a linked page always has its form
        raise RuntimeError(f"scan page {info.id} was linked but comes back without its form")
    cli.out(f"Scan page {info.id} linked to {info.serial} page {info.page_no} (form is {info.form_state.value}).")
    return 0


def cmd_not_controlled(cli: Cli) -> int:
    info = scans.mark_not_controlled(cli.db, cli.actor(), scan_page_id=cli.args.scan_id, reason=cli.args.reason)
    cli.out(f"Scan page {info.id} set aside: not a controlled form.")
    return 0


def cmd_retry(cli: Cli) -> int:
    info = scans.retry_decoding(cli.db, cli.actor(), scan_page_id=cli.args.scan_id)
    cli.out(f"Scan page {info.id}: {info.outcome.title}" + (f" ({info.reason})" if info.reason else ""))
    return 0 if info.outcome.value == "linked" else 1


def cmd_pages(cli: Cli) -> int:
    rows = scans.pages_of_form(cli.db, cli.actor(), cli.args.serial)
    if cli.args.json:
        cli.json([_page_dict(p) for p in rows])
    else:
        cli.table(["scan", "page", "outcome", "file / page", "template", "capture", "sha256"],
                  [[p.id, p.page_no, p.outcome.title + (" (superseded)" if p.superseded else ""), p.location,
                    p.sheet_version or "", p.capture, p.source_sha256[:16]] for p in rows])
    return 0


def cmd_watch(cli: Cli) -> int:
    folder = hot_folder.HotFolder(cli.db, cli.actor(), cli.args.folder, settle_s=cli.args.settle)

    def show(result: hot_folder.HotFolderResult) -> None:
        if result.report is not None:
            _print_report(cli, result.report, False)
        else:
            cli.out(f"{result.path.name}: {result.error}")
        print(f"  moved to {result.moved_to}", flush=True)

    def problem(exc: BaseException) -> None:
        print(f"formtrail: the hot folder cannot be read now ({exc}); trying again", file=sys.stderr, flush=True)

    if cli.args.once:
        import time
        try:
            for _ in range(2):  # see each file twice, settle_s apart, so only finished files are taken
                for result in folder.poll():
                    show(result)
                time.sleep(cli.args.settle)
            for result in folder.poll():
                show(result)
        finally:
            folder.close()
        return 0
    print(f"Watching {cli.args.folder} (Ctrl-C to stop)", flush=True)
    stop = threading.Event()
    try:
        folder.run(stop=stop.is_set, on_result=show, on_error=problem)
    except KeyboardInterrupt:
        cli.out("Stopped.")
    return 0


def cmd_verify_copy(cli: Cli) -> int:
    a = cli.args
    actor = cli.actor()
    checklist = true_copy.Checklist(**{name: bool(a.all_checked or getattr(a, name))
                                       for name, _text in true_copy.ITEMS})
    if (refusal := true_copy.checklist_refusal(checklist)) is not None:  # before the password is asked for
        with cli.db.read(actor) as _session:  # written to the audit trail, as every refusal
            raise refusal
    status = true_copy.verify_true_copy(cli.db, actor, serial=a.serial, username=actor.username,
                                        password=cli.sign_password("true-copy-verified"), checklist=checklist)
    cli.out(f"The scans of {status.serial} are verified true copies ({status.verified_by}; checked: "
            f"{(status.checklist or '').replace('; ', ', ')}).")
    return 0


def cmd_disposition(cli: Cli) -> int:
    a = cli.args
    actor = cli.actor()
    if a.destroyed:
        status = true_copy.record_disposition(cli.db, actor, serial=a.serial, disposition=Disposition.DESTROYED,
                                              location=None, reason=a.reason, username=actor.username,
                                              password=cli.sign_password("approved"))
    else:
        status = true_copy.record_disposition(cli.db, actor, serial=a.serial, disposition=Disposition.ARCHIVED,
                                              location=a.archived, reason=a.reason)
    cli.out(f"Paper original of {status.serial}: {status.disposition}" +
            (f" at {status.location}" if status.location else ""))
    return 0
