"""Commands for the site's signing certificate (issue 16): `formtrail certificate show|import|export|check`."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from app.commands.base import Cli
from app.services.core import pdfsign
from app.services.core.timefmt import local_text
from app.services.site import key_setup

P12_PASSWORD_ENV = "FORMTRAIL_CERT_PASSWORD"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("certificate", help="the site's signing certificate (seal on reports and released PDFs)")
    group = p.add_subparsers(dest="certificate_command", metavar="ACTION", required=True)
    c = group.add_parser("show", help="the certificate the site signs its PDFs and archives with")
    c.add_argument("--pem", action="store_true", help="print the certificate itself (PEM), to give to readers")
    c.set_defaults(handler=cmd_show)
    c = group.add_parser("import", help="replace it with the site's own certificate and key (PKCS#12; audited)")
    c.add_argument("file", type=Path, help="a .p12/.pfx file holding the private key and its certificate")
    c.add_argument("--reason", required=True)
    c.set_defaults(handler=cmd_import)
    c = group.add_parser("export", help="the signing key and certificate as a password-protected PKCS#12 file "
                                        "(its backup; keep it apart from the data backups)")
    c.add_argument("out", type=Path)
    c.add_argument("--reason", required=True)
    c.set_defaults(handler=cmd_export)
    c = group.add_parser("check", help="check a PDF's signatures against the site certificate")
    c.add_argument("file", type=Path)
    c.set_defaults(handler=cmd_check)


def _describe(cli: Cli, info: pdfsign.CertificateInfo, indent: str = "") -> None:
    cli.out(f"{indent}Subject:  {info.subject}")
    cli.out(f"{indent}Issuer:   {info.issuer}{' (self-signed)' if info.self_signed else ''}")
    cli.out(f"{indent}Valid:    {local_text(info.not_before)} to {local_text(info.not_after)}")
    cli.out(f"{indent}SHA-256:  {info.sha256}")


def cmd_show(cli: Cli) -> int:
    view = key_setup.certificate(cli.db, cli.actor())
    if cli.args.pem:
        cli.out(view.cert_path.read_text(encoding="ascii").rstrip())
        return 0
    cli.out(f"Signing certificate of site {view.site} ({view.cert_path}; key {view.key_path}):")
    _describe(cli, view.info, "  ")
    for retired in view.retired:
        cli.out("Replaced earlier (still trusted for what it signed):")
        _describe(cli, retired, "  ")
    return 0


def cmd_import(cli: Cli) -> int:
    actor = cli.actor()
    password = os.environ.get(P12_PASSWORD_ENV)
    if password is None:
        password = cli.password("Password of the PKCS#12 file (empty: none): ", env=P12_PASSWORD_ENV)
    view = key_setup.import_certificate(cli.db, actor, cli.args.file, password=password or None,
                                        reason=cli.args.reason)
    cli.out(f"Site {view.site} now signs with:")
    _describe(cli, view.info, "  ")
    return 0


def cmd_export(cli: Cli) -> int:
    actor = cli.actor()
    out = key_setup.export_certificate(cli.db, actor, cli.args.out, reason=cli.args.reason,
                                       password=cli.new_password("Password to protect the exported key"))
    cli.out(f"Signing key and certificate written to {out} (readable by you only). Keep it apart from the data "
            "backups; `formtrail certificate import` installs it again.")
    return 0


def cmd_check(cli: Cli) -> int:
    check = key_setup.check_pdf(cli.db, cli.actor(), cli.args.file)
    for problem in check.problems:
        cli.out(f"PROBLEM: {problem}")
    if check.ok:
        cli.out(f"{cli.args.file.name}: {check.signatures} signature(s), intact, by the certificate of site "
                f"{cli.db.keyring().site}.")
    else:
        cli.out(f"{cli.args.file.name}: DOES NOT VERIFY.")
    return 0 if check.ok else 1
