"""The checks of `formtrail doctor` (see ``doctor``). Each returns (status, what was found, what to do)."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.models import AuditEvent, Site, StoredFile, server_trail
from app.models.migrate import needs_upgrade
from app.services.admin.doctor_base import CheckStatus, Context, connect
from app.services.core import anchors, setting_specs
from app.services.core.errors import FormtrailError
from app.services.core.filestore import FileStore
from app.services.core.keys import KeyStore
from app.services.core.ledger import LEDGER_DIR

Result = tuple[CheckStatus, str, str]
OK, WARN, FAIL = CheckStatus.OK, CheckStatus.WARN, CheckStatus.FAIL
BACKUP_WARN_AFTER = dt.timedelta(days=7)
VERIFY_WARN_AFTER = dt.timedelta(days=31)
RECENT_FILES = 20
ANCHORS_CHECKED = 500  # the newest anchors looked up (a year of activity writes tens of thousands)


def _pg(ctx: Context) -> bool:
    return ctx.engine is not None and ctx.engine.dialect.name == "postgresql"


def _conn(ctx: Context) -> Connection:
    assert ctx.engine is not None
    return ctx.engine.connect()


def database(ctx: Context) -> Result:
    where = ctx.workstation.display_url
    path = make_url(ctx.workstation.db_url).database if ctx.workstation.db_url.startswith("sqlite") else None
    if path and path != ":memory:" and not Path(path).is_file():
        # Connecting would create an empty file; the doctor changes nothing.
        return (FAIL, f"there is no database at {path} yet",
                "start Formtrail once on this workstation (its set-up wizard creates the database), or set "
                "FORMTRAIL_DB to the site server's address")
    engine = connect(ctx)
    try:
        with engine.connect() as conn:
            version = conn.scalar(text("SHOW server_version" if engine.dialect.name == "postgresql"
                                       else "SELECT sqlite_version()"))
    except SQLAlchemyError as exc:
        engine.dispose()
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        return (FAIL, f"cannot connect to {where}: {reason}",
                "check FORMTRAIL_DB (server, database name, user and password), that the server is running and "
                "that this workstation may reach it (firewall, pg_hba.conf)")
    ctx.engine = engine
    kind = "PostgreSQL" if engine.dialect.name == "postgresql" else "SQLite"
    return OK, f"{where} ({kind} {version})", ""


def tls(ctx: Context) -> Result:
    if not _pg(ctx):
        return OK, "embedded database on this workstation: no network connection to encrypt", ""
    with _conn(ctx) as conn:
        row = conn.execute(text("SELECT ssl, version, cipher FROM pg_stat_ssl WHERE pid = pg_backend_pid()")).first()
    if row is None or not row.ssl:
        return (FAIL, "the connection to the site server is not encrypted: passwords and GMP data cross the network "
                      "in clear text",
                "enable TLS on the server (ssl = on and a certificate in postgresql.conf) and add ?sslmode=require "
                "(or verify-full) to FORMTRAIL_DB")
    mode = make_url(ctx.workstation.db_url).query.get("sslmode")
    if mode not in ("require", "verify-ca", "verify-full"):
        return (WARN, f"encrypted now ({row.version}), but FORMTRAIL_DB does not require it (sslmode="
                      f"{mode or 'prefer, the default'}): a server or network that refuses TLS gets a clear-text "
                      "connection without a word",
                "add ?sslmode=require (or verify-full, which also checks the server's certificate) to FORMTRAIL_DB")
    checked = " and the server's certificate checked" if mode in ("verify-ca", "verify-full") else ""
    return OK, f"{row.version} ({row.cipher}), required by sslmode={mode}{checked}", ""


def schema(ctx: Context) -> Result:
    assert ctx.engine is not None
    current, newest = needs_upgrade(ctx.engine)
    if current is None:
        return (FAIL, "the database is empty (no Formtrail schema)",
                "on a site server run `formtrail db init` (see the README); on this workstation's own database "
                "start Formtrail once")
    if current != newest:
        return (FAIL, f"the schema is at revision {current}; this version of Formtrail needs {newest}",
                "an administrator takes a backup, then runs `formtrail db upgrade` (on a site server: `formtrail "
                "db init` again, as the server administrator); or this workstation runs an older Formtrail than "
                "the others: upgrade it")
    ctx.schema_current = True
    return OK, f"at revision {current}", ""


def site(ctx: Context) -> Result:
    with _conn(ctx) as conn:
        row = conn.execute(select(Site.code, Site.name)).first()
    if row is None:
        return (FAIL, "the database has no site yet",
                "run `formtrail init --site CODE --site-name NAME --admin NAME` once, on the first workstation (or "
                "start the desktop app there and follow the set-up wizard)")
    ctx.site_code = row.code
    return OK, f"{row.code} ({row.name})", ""


def privileges(ctx: Context) -> Result:
    if not _pg(ctx):
        return _sqlite_file_private(ctx)
    with _conn(ctx) as conn:
        role = conn.execute(text("SELECT current_user AS name, rolsuper, rolcreaterole, rolcreatedb FROM pg_roles "
                                 "WHERE rolname = current_user")).one()
        owned = conn.scalar(text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' "
                                 "AND tableowner = current_user"))
        too_much = [what for what, sql in (
            ("rewrite the audit trail", "has_table_privilege(current_user, 'audit_event', 'UPDATE')"),
            ("delete audit events", "has_table_privilege(current_user, 'audit_event', 'DELETE')"),
            ("delete issued forms", "has_table_privilege(current_user, 'issued_form', 'DELETE')"),
            ("write the server's own record", f"has_table_privilege(current_user, '{server_trail.TABLE}', "
                                              "'INSERT')"),
        ) if _table_exists(conn, sql) and conn.scalar(text(f"SELECT {sql}"))]
    problems = [*(["is a superuser"] if role.rolsuper else []), *(["may create roles"] if role.rolcreaterole else []),
                *(["may create databases"] if role.rolcreatedb else []),
                *([f"owns {owned} tables (it could drop the audit trail's protection)"] if owned else []),
                *[f"may {what}" for what in too_much]]
    if problems:
        return (FAIL, f"this workstation connects as {role.name}, which {', '.join(problems)}",
                "workstations connect as the application role that `formtrail db init` created (formtrail_app "
                "unless named otherwise); the owner and superuser roles are for the server administrator only")
    return OK, f"connected as {role.name}: insert, read and update only; the audit trail is append-only", ""


def _table_exists(conn: Connection, sql: str) -> bool:
    table = sql.split("'")[1]
    return bool(conn.scalar(text("SELECT to_regclass(:t) IS NOT NULL"), {"t": table}))


def _sqlite_file_private(ctx: Context) -> Result:
    path = make_url(ctx.workstation.db_url).database
    if not path:
        return OK, "in-memory database", ""
    mode = stat.S_IMODE(Path(path).stat().st_mode)
    if mode & 0o077:
        return (WARN, f"{path} can be read by other accounts on this computer (mode {mode:o})",
                f"chmod 600 {path} (Formtrail sets this itself when it created the file)")
    return OK, f"{path} is readable by its owner only", ""


def clock(ctx: Context) -> Result:
    if not _pg(ctx):
        return OK, "embedded database: this workstation's clock is the time source", ""
    with _conn(ctx) as conn:
        server_now = conn.scalar(text("SELECT now()"))
        key = "clock.tolerance_seconds"  # an empty database has no settings table yet: the default then
        stored = setting_specs.get(Session(bind=conn), key) if ctx.schema_current else setting_specs.SPECS[key].default
        if isinstance(stored, list):  # float() would refuse it as well; here it says which setting is wrong
            raise TypeError(f"the setting {key} holds {stored!r}, not a number of seconds")
        tolerance = float(stored)
    local = ctx.local_now()
    skew = (local - server_now).total_seconds()
    if abs(skew) > tolerance:
        ahead = "ahead of" if skew > 0 else "behind"
        return (FAIL, f"this workstation's clock is {abs(skew):.0f} s {ahead} the server's (tolerance "
                      f"{tolerance:.0f} s); events take the server's time, but the skew is recorded as CLOCK_SKEW",
                "set this workstation to synchronise its clock with the site's time server (NTP)")
    return OK, f"within {abs(skew):.1f} s of the server (tolerance {tolerance:.0f} s)", ""


def file_store(ctx: Context) -> Result:
    root, code = ctx.workstation.files_root, ctx.site_code
    assert code is not None
    fix_path = ("every workstation sets FORMTRAIL_FILES to the same shared folder (the site's file store); "
                "mount the share, or correct FORMTRAIL_FILES")
    if not root.is_dir():
        return FAIL, f"{root} does not exist or is not a folder", fix_path
    probe = root / f".doctor-{uuid.uuid4().hex}"
    try:
        probe.write_bytes(b"formtrail doctor write test\n")
        probe.unlink()
    except OSError as exc:
        return FAIL, f"{root} cannot be written to ({exc.strerror or exc})", \
            "give this workstation's account write access to the file store share"
    with _conn(ctx) as conn:
        # The path without creating the ledger folder (anchors.anchor_file would): the doctor changes nothing.
        mismatch = _anchor_mismatch(conn, root / LEDGER_DIR / anchors.anchor_name(code))
        recent = list(conn.scalars(select(StoredFile.sha256).order_by(StoredFile.stored_at.desc())
                                  .limit(RECENT_FILES)))
    if mismatch:
        return FAIL, f"{root} is not this database's file store: {mismatch}", fix_path
    store = FileStore(root)
    missing = [sha for sha in recent if not store.path_for(sha).is_file()]
    if missing:
        return (FAIL, f"{len(missing)} of the {len(recent)} newest files the database holds are not in {root}",
                fix_path + "; if this is the right folder, run `formtrail verify` and restore the files from a backup")
    return OK, f"{root}: writable, holds the site's anchor file and the newest stored files", ""


def _anchor_mismatch(conn: Connection, ledger: Path) -> str:
    """The store's anchor file doubles as its marker: its anchors name audit events of this database. A folder
    without it (a local folder where the share should be), or whose anchors name none of this database's
    events (another site's store), is not the store the other workstations use. Any matching anchor will
    do: after an older backup is restored, the newest anchors belong to the history the restore gave up."""
    events = conn.scalar(select(func.count()).select_from(AuditEvent))
    anchored: dict[int, str] = {}
    try:
        with ledger.open(encoding="utf-8") as fh:
            for line in fh:
                try:
                    data = json.loads(line)
                    anchored[int(data["seq"])] = str(data["hash"])
                except (ValueError, KeyError, TypeError):
                    continue
    except FileNotFoundError:
        return f"it has no anchor file of site {ledger.stem.removeprefix('anchors-')} ({ledger.name})" if events \
            else ""
    if not anchored:
        return f"its anchor file {ledger.name} holds no readable anchor"
    newest = sorted(anchored)[-ANCHORS_CHECKED:]
    held = dict(conn.execute(select(AuditEvent.seq, AuditEvent.hash).where(AuditEvent.seq.in_(newest))).all())
    if not any(held.get(seq) == anchored[seq] for seq in newest):
        return f"none of its {len(newest)} newest anchors names an event of this database's audit trail"
    return ""


def keys(ctx: Context) -> Result:
    folder, code = ctx.workstation.key_folder, ctx.site_code
    assert code is not None
    store = KeyStore(folder)
    try:
        ring = store.ring(code)
    except FormtrailError as exc:
        return FAIL, str(exc), ("on a site server every workstation sets FORMTRAIL_KEYS to the site's protected key "
                                "share; otherwise copy the key file back from its backup (a `formtrail keys "
                                "export` copy)")
    with _conn(ctx) as conn:
        used = conn.scalar(select(func.max(AuditEvent.key_version)))
    if used is not None and used not in ring.versions:
        return (FAIL, f"{store.path(code)} lacks key version {used}, which the audit trail uses (it has "
                      f"{', '.join(map(str, sorted(ring.versions)))})",
                "this key file is out of date: point FORMTRAIL_KEYS at the site's current key folder")
    path = store.path(code)
    if os.name == "posix" and stat.S_IMODE(path.stat().st_mode) & 0o077:
        return WARN, f"{path} can be read by other accounts", f"chmod 600 {path}"
    return OK, f"{path}: key versions {', '.join(map(str, sorted(ring.versions)))} (current {ring.current})", ""


def _last_event(ctx: Context, actions: tuple[str, ...]) -> tuple[str, dt.datetime, str | None] | None:
    with _conn(ctx) as conn:
        row = conn.execute(select(AuditEvent.action, AuditEvent.occurred_at, AuditEvent.new_value)
                           .where(AuditEvent.action.in_(actions)).order_by(AuditEvent.seq.desc()).limit(1)).first()
    return (row[0], row[1], row[2]) if row else None


def _age(ctx: Context, at: dt.datetime) -> dt.timedelta:
    return ctx.local_now() - at


def _days(delta: dt.timedelta) -> str:
    days = delta.days
    return "today" if days < 1 else ("yesterday" if days == 1 else f"{days} days ago")


def backup(ctx: Context) -> Result:
    last = _last_event(ctx, ("BACKUP", "BACKUP_FAILED"))
    how = ("an administrator takes one with `formtrail backup DEST`, or sets scheduled backups (Settings: "
           "Folder for scheduled backups)")
    if last is None:
        return WARN, "no backup has been taken yet", how
    action, at, _ = last
    if action == "BACKUP_FAILED":
        return WARN, f"the last backup failed ({_days(_age(ctx, at))})", "see the audit trail for why; " + how
    if _age(ctx, at) > BACKUP_WARN_AFTER:
        return WARN, f"the last backup was taken {_days(_age(ctx, at))}", how
    return OK, f"taken {_days(_age(ctx, at))} ({at:%Y-%m-%d %H:%M} UTC)", ""


def verify(ctx: Context) -> Result:
    last = _last_event(ctx, ("VERIFY",))
    how = "run `formtrail verify` (administrator or QA)"
    if last is None:
        return WARN, "the site's integrity has never been checked", how
    _, at, details = last
    found = json.loads(details or "{}")
    if not found.get("ok"):
        return FAIL, f"the last check ({_days(_age(ctx, at))}) found problems: {found.get('first') or 'see verify'}", \
            "QA investigates each finding of `formtrail verify`"
    if _age(ctx, at) > VERIFY_WARN_AFTER:
        return WARN, f"last checked {_days(_age(ctx, at))}", how
    return OK, f"all intact, checked {_days(_age(ctx, at))} ({at:%Y-%m-%d %H:%M} UTC)", ""


CHECKS: dict[str, Callable[[Context], Result]] = {
    "database": database, "tls": tls, "schema": schema, "site": site, "privileges": privileges, "clock": clock,
    "file-store": file_store, "keys": keys, "backup": backup, "verify": verify,
}
