"""`formtrail release`: the one release of controlled copies not released yet — to a new file, or to a CUPS
printer. Issuing releases at once (`issue --out`); this is for copies whose release did not happen then (the
file could not be written, the program was stopped) and for replacements."""

from __future__ import annotations

import argparse
import shutil
import subprocess
from pathlib import Path

from app.commands.base import Cli, CliError
from app.services.issuance import printing
from app.textfmt import plural


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("release", help="release controlled copies not yet printed or saved (once)")
    p.add_argument("issuance", type=int, help="issuance number")
    p.add_argument("--pdf", type=int, help="which of the issuance's PDFs (when it has several: replacements)")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--out", type=Path, help="save the PDF to this new file")
    where.add_argument("--printer", help="send it to this CUPS printer (lp)")
    p.set_defaults(handler=cmd_release)


def _unreleased(cli: Cli, issuance_id: int, pdf_id: int | None) -> int:
    pdfs = printing.pdfs_of(cli.db, cli.actor(), issuance_id)
    waiting = [pdf for pdf in pdfs if not pdf.released]
    if pdf_id is not None:
        if pdf_id not in {pdf.pdf_id for pdf in pdfs}:
            raise CliError(f"issuance {issuance_id} has no PDF {pdf_id}")
        return pdf_id
    if not waiting:
        raise CliError(f"every PDF of issuance {issuance_id} is already released; controlled copies are never "
                       "printed twice (void a spoiled copy and replace it)")
    if len(waiting) > 1:
        listed = ", ".join(f"{pdf.pdf_id} ({pdf.printed})" for pdf in waiting)
        raise CliError(f"issuance {issuance_id} has {len(waiting)} PDFs not released: {listed}; choose one with --pdf")
    return waiting[0].pdf_id


def _which(released: printing.ReleasedPdf) -> str:
    """The copies released, as printed on them ("serials BSL-01-000001 – BSL-01-000003"); the audit trail
    keeps the bare numbers."""
    first, _, last = released.serials.partition("–")
    return f"{'serial' if first == last else 'serials'} {released.printed}"


def cmd_release(cli: Cli) -> int:
    a = cli.args
    pdf_id = _unreleased(cli, a.issuance, a.pdf)
    if a.out is not None:
        released = printing.save_to_file(cli.db, cli.actor(), pdf_id, out=a.out)
        cli.out(f"Released {_which(released)} ({plural(released.pages, 'page')}) to {a.out}. Print that "
                "file once: it is the only release of these copies.")
        return 0
    if shutil.which("lp") is None:
        raise CliError("no print system (lp) on this computer; release to a file with --out and print it")
    check = subprocess.run(["lpstat", "-p", a.printer], capture_output=True, text=True, check=False)
    if check.returncode != 0:  # before the one release is used up
        raise CliError(f"the printer {a.printer!r} is not available: {(check.stderr or check.stdout).strip()}")
    released = printing.release_to_printer(cli.db, cli.actor(), pdf_id, printer=a.printer)
    try:
        printing.send_to_cups(released.path, printer_name=a.printer, title=released.printed)
    except printing.PrintFailed as exc:
        raise CliError(f"the release of {released.printed} was recorded, but {exc}. These copies cannot be "
                       "printed again: void the copies that did not come out and ask QA to replace them.") from exc
    cli.out(f"Released {_which(released)} ({plural(released.pages, 'page')}) to printer {a.printer}.")
    return 0
