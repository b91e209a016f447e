"""Site operations: PostgreSQL site set-up, migration to it, backup, verify, restore."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path

from app.commands.base import Cli, CliError, group_of, parse_date
from app.models.engine import normalise_url
from app.runtime import RuntimeConfig, default_db_url, open_database
from app.services.admin import backup, migration, restore
from app.services.core.db import Actor, Database
from app.services.core.keys import KeyStore
from app.services.identity import auth
from app.services.reports import archive
from app.services.site import setup, site_db
from app.textfmt import plural


def register(sub: argparse._SubParsersAction) -> None:
    db_group = group_of(sub, "db")  # created by the administration commands
    p = db_group.add_parser("init", help="set up a PostgreSQL site database (owner role + application role)")
    p.add_argument("url", help="PostgreSQL URL of a role allowed to create roles (e.g. postgres)")
    p.add_argument("--owner-role", default="formtrail_owner")
    p.add_argument("--app-role", default="formtrail_app")
    p.add_argument("--env-file", type=Path, default=Path("formtrail-workstation.env"),
                   help="where to write the workstations' FORMTRAIL_DB line with the application role's password "
                        "(readable by you only; default: ./formtrail-workstation.env)")
    p.add_argument("--rotate-app-password", action="store_true",
                   help="give the application role a new password (audited: needs --user ADMIN and --reason once "
                        "the site is set up); every workstation then needs the new FORMTRAIL_DB line")
    p.add_argument("--reason", help="why the application role's password is changed (with --rotate-app-password)")
    p.set_defaults(handler=cmd_db_init)
    p = db_group.add_parser("migrate", help="move this workstation's SQLite data to a site server (verified)")
    p.add_argument("--from", dest="source", help="source SQLite URL (default: this workstation's database)")
    p.add_argument("--to", dest="target", required=True, help="PostgreSQL URL (the owner, after `db init`)")
    p.add_argument("--files-to", type=Path, help="the site's shared file store (default: keep the files here)")
    p.set_defaults(handler=cmd_db_migrate)

    b = sub.add_parser("backup", help="take a backup (`backup DEST`) or check one (`backup verify DEST`)",
                       usage="formtrail backup DEST | formtrail backup verify DEST [--json]")
    b.add_argument("words", nargs="+", metavar="DEST", help="a new folder to back up into; or: verify DEST")
    b.add_argument("--json", action="store_true")
    b.set_defaults(handler=cmd_backup)

    p = sub.add_parser("restore", help="restore a backup (administrator, reason required)")
    p.add_argument("path", type=Path)
    p.add_argument("--reason", required=True)
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--into", type=Path, help="a new data directory to restore into")
    where.add_argument("--in-place", action="store_true", help="replace this workstation's SQLite database")
    p.add_argument("--db-into", help="restore into this (empty) database URL instead of a new SQLite file")
    p.add_argument("--yes", action="store_true", help="confirm replacing the database in place")
    p.add_argument("--approver", metavar="USER",
                   help="the second person approving the restore (another administrator or QA; required in place): "
                        "they type their password when asked (FORMTRAIL_APPROVER_PASSWORD in scripts)")
    p.set_defaults(handler=cmd_restore)
    register_archive(sub)


def cmd_db_init(cli: Cli) -> int:
    args = cli.args
    given = os.environ.get("FORMTRAIL_APP_PASSWORD") or None
    info = site_db.init_site_database(args.url, owner_role=args.owner_role, app_role=args.app_role,
                                      app_password=given, rotate=args.rotate_app_password)
    cli.out(f"Site database ready at schema {info.revision}; tables owned by {info.owner_role}.")
    if info.password is site_db.AppPassword.KEPT:
        cli.out(f"The password of {info.app_role} is unchanged: workstations keep their FORMTRAIL_DB "
                "(add --rotate-app-password to change it).")
        return 0
    if info.password is site_db.AppPassword.TO_ROTATE:
        site = _site_database(cli, args.url)
        actor = cli.actor() if site.site_code() is not None else None
        password = site_db.rotate_app_password(site, actor, admin_url=args.url, app_role=info.app_role,
                                               new_password=given, reason=args.reason)
        url = info.workstation_url(password)
    else:
        url = info.workstation_url()
    path = site_db.write_workstation_env(args.env_file, url)
    what = {site_db.AppPassword.CREATED: "created", site_db.AppPassword.CONFIRMED: "confirmed",
            site_db.AppPassword.TO_ROTATE: "changed"}[info.password]
    cli.out(f"Application role {info.app_role}: password {what}. Workstations connect with the line written to "
            f"{path.resolve()} (readable by you only):")
    cli.out(f"  FORMTRAIL_DB={info.app_url}")
    if info.password is site_db.AppPassword.TO_ROTATE:
        cli.out("Every workstation needs this new line now: the old password no longer works.")
    return 0


def _site_database(cli: Cli, admin_url: str):  # noqa: ANN202 - Database
    """The site database opened with the administrator's URL (to log the acting administrator in and audit)."""
    cli._db = open_database(dataclasses.replace(cli.config, db_url=normalise_url(admin_url)), migrate=False)
    return cli._db


def cmd_db_migrate(cli: Cli) -> int:
    # dataclasses.replace: the other database is opened with this workstation's set-up (key folder included)
    source = cli.db if not cli.args.source else open_database(
        dataclasses.replace(cli.config, db_url=normalise_url(cli.args.source)))
    cli._db = source
    report = migration.migrate(source, cli.actor(), target_url=cli.args.target, target_files=cli.args.files_to,
                               progress=lambda table, done, total: None)
    for check in report.checks:
        mark = "ok" if check.ok else f"DIFFERS at row {check.first_difference}"
        cli.out(f"  {check.table:<18} {check.source_rows:>8} → {check.target_rows:<8} {mark}")
    cli.out(f"Audit chain: source {report.source_head}, target {report.target_head} "
            f"({'verified' if report.target_chain_ok else 'BROKEN'}); {plural(report.files_copied, 'file')} copied.")
    if report.files_missing:
        cli.out(f"Missing stored files: {', '.join(report.files_missing)}")
    cli.out("Migration verified." if report.ok else "MIGRATION NOT VERIFIED: do not switch workstations over.")
    return 0 if report.ok else 1


def cmd_backup(cli: Cli) -> int:
    words = cli.args.words
    if words[0] == "verify":
        if len(words) != 2:
            raise CliError("usage: formtrail backup verify DEST")
        return cmd_backup_verify(cli, Path(words[1]))
    if len(words) != 1:
        raise CliError("usage: formtrail backup DEST (a new folder)")
    result = backup.backup(cli.db, cli.actor(), Path(words[0]))
    cli.out(f"Backup written to {result.path}: {plural(result.files, 'file')}, {result.bytes / 1e6:.1f} MB, "
            f"chain head {result.chain_head}; manifest SHA-256 {result.manifest_sha256}")
    for problem in result.problems:
        cli.out(f"  warning: {problem}")
    return 0


def cmd_backup_verify(cli: Cli, path: Path) -> int:
    check = restore.verify_backup(path, keys=KeyStore(cli.config.key_folder))
    if cli.args.json:
        cli.json({"ok": check.ok, "problems": list(check.problems), "warnings": list(check.warnings),
                  "chain_head": check.chain_head, "row_counts": check.row_counts})
    else:
        for problem in check.problems:
            cli.out(f"PROBLEM: {problem}")
        for warning in check.warnings:
            cli.out(f"warning recorded at backup time: {warning}")
        cli.out(f"Backup verified: chain head {check.chain_head}, {sum(check.row_counts.values())} rows."
                if check.ok else "BACKUP DOES NOT VERIFY.")
    return 0 if check.ok else 1


def cmd_restore(cli: Cli) -> int:
    a = cli.args
    if a.in_place:
        if not a.yes:
            if not sys.stdin.isatty():
                raise CliError("restoring in place replaces the current database: add --yes to confirm")
            if input(f"Replace {cli.db.display_url} with the backup {a.path}? Type YES: ").strip() != "YES":
                raise CliError("not confirmed; nothing was restored")
        actor: Actor | None = cli.actor()
        target_url, files = cli.config.db_url, cli.config.file_store_root
        current: Database | None = cli.db
    else:
        a.into.mkdir(parents=True, exist_ok=True)
        if any(a.into.iterdir()):
            raise CliError(f"{a.into} is not empty; restore into a new data directory")
        target_url = normalise_url(a.db_into) if a.db_into else default_db_url(a.into)
        files = a.into / "files"
        current = cli.db if setup.site_info(cli.db) else None
        actor = cli.actor() if current is not None else None

    def make_database(url: str, files_root: Path) -> Database:
        # Into a new data directory the key file travels with the data (its keys/); in place it stays where
        # this workstation keeps it (FORMTRAIL_KEYS).
        return open_database(dataclasses.replace(cli.config, home=a.into or cli.config.home, db_url=url,
                                                 files_dir=files_root,
                                                 keys_dir=None if a.into else cli.config.keys_dir))

    if actor is None:  # no database here to log in to (a disaster): the administrator logs in to the restored one
        actor = _restored_admin(cli, a.path)
    approval = None
    if a.approver and current is not None:  # BK-03: the second person re-authenticates at this moment
        approval = restore.approve_restore(current, actor, username=a.approver, password=cli.password(
            f"Password of {a.approver} (approving this restore): ", env="FORMTRAIL_APPROVER_PASSWORD"))
    result = restore.restore(a.path, actor, reason=a.reason, target_url=target_url, target_files=files,
                             keys=KeyStore(cli.config.key_folder),
                             current=current, in_place=a.in_place, workstation=cli.config.workstation,
                             make_database=make_database, approval=approval)
    cli._actor = None  # the session belonged to the replaced database
    cli.out(f"Restored into {result.db_url}: chain head {result.chain_head_after}; "
            f"{plural(result.files_copied, 'file')}.")
    if approval is not None:
        cli.out(f"Approved by {approval.full_name} ({approval.username}).")
    if result.chain_head_before:
        cli.out(f"The replaced database ended at {result.chain_head_before}; "
                f"{plural(result.events_lost, 'event')} recorded "
                "after the backup point are not in the restored data (see the RESTORE event).")
    if result.serials_after_backup:
        first, last = result.serials_after_backup
        cli.out(f"Serials {first}–{last} were issued after the backup point: their paper exists but they are not "
                "in the restored data. The serial counter was moved past them so they are never issued again; "
                "reconcile them by hand (see the RESTORE event).")
    if result.moved_aside:
        cli.out(f"The replaced database file was kept as {result.moved_aside}")
    return 0


def _restored_admin(cli: Cli, path: Path) -> Actor:
    """Authenticate against the users inside the backup itself, read-only."""
    check = restore.verify_backup(path, keys=KeyStore(cli.config.key_folder))
    if not check.ok:
        raise CliError("the backup does not verify: " + "; ".join(check.problems[:3]))
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        probe = open_database(RuntimeConfig(home=Path(tmp), db_url=default_db_url(Path(tmp)),
                                            workstation=cli.config.workstation,
                                            hasher_profile=cli.config.hasher_profile,
                                            keys_dir=cli.config.key_folder))
        try:
            restore.load_snapshot(path, check.manifest, probe.engine)
            outcome = auth.authenticate(probe, username=cli.username(), password=cli.password())
            from app.services.identity.permissions import Permission, allowed
            if not allowed(outcome.actor, Permission.RESTORE):
                raise CliError(f"{outcome.actor.username} is not an administrator in this backup")
            return outcome.actor
        finally:
            probe.engine.dispose()


def register_archive(sub: argparse._SubParsersAction) -> None:
    group = sub.add_parser("archive", help="archives readable without Formtrail").add_subparsers(
        dest="archive_command", metavar="ACTION", required=True)
    p = group.add_parser("export", help="export an issuance or a date range as a folder or .zip")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--issuance", type=int)
    which.add_argument("--from", dest="since")
    p.add_argument("--to", dest="until")
    p.add_argument("--out", type=Path, required=True)
    p.set_defaults(handler=cmd_archive_export)
    p = group.add_parser("verify", help="re-hash an archive, re-check the audit chain inside it and the site's "
                                        "signatures on its PDFs and manifest")
    p.add_argument("path", type=Path)
    p.set_defaults(handler=cmd_archive_verify)


def cmd_archive_export(cli: Cli) -> int:
    a = cli.args
    since = parse_date(a.since) if a.since else None
    until = parse_date(a.until) if a.until else None
    result = archive.export_archive(cli.db, cli.actor(), out=a.out, issuance_id=a.issuance, since=since, until=until)
    cli.out(f"Archive written to {result.path}: {plural(result.files, 'file')}, chain head {result.chain_head}")
    return 0


def cmd_archive_verify(cli: Cli) -> int:
    check = archive.verify_archive(cli.args.path, keys=KeyStore(cli.config.key_folder))
    for problem in check.problems:
        cli.out(f"PROBLEM: {problem}")
    cli.out(f"Signatures checked: {check.signatures}, against {check.trust}")
    cli.out(f"Archive verified: {plural(check.files, 'file')}, audit chain head {check.chain_head}" if check.ok
            else "ARCHIVE DOES NOT VERIFY.")
    return 0 if check.ok else 1
