"""Set-up, users, settings, roles and schema commands."""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from sqlalchemy import text

from app.commands.base import Cli, CliError, add_group
from app.models import Role
from app.models.engine import build_engine
from app.models.migrate import needs_upgrade, upgrade
from app.services.core import audit
from app.services.core.error_codes import ErrorCode
from app.services.core.errors import ValidationError
from app.services.core.timefmt import local_text
from app.services.identity import auth, users
from app.services.identity.passwords import PasswordHasher
from app.services.identity.permissions import role_matrix
from app.services.site import settings, setup

ROLE_CHOICES = [r.value for r in Role]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("init", help="set up a new site and its first administrator")
    p.add_argument("--site", required=True, help="site code printed on forms and in QR codes, e.g. BSL-01")
    p.add_argument("--site-name", help="site name printed on every form beside the code, e.g. 'Basel QC "
                                       "laboratory' (asked for when run in a terminal)")
    p.add_argument("--admin", required=True, help="user name of the first administrator")
    p.add_argument("--full-name", help="the administrator's full name (default: the user name)")
    p.set_defaults(handler=cmd_init)

    p = sub.add_parser("gui", help="start the desktop application")
    p.add_argument("--smoke-test", action="store_true", help="quit once the first window is shown (checks)")
    p.set_defaults(handler=cmd_gui)

    user = sub.add_parser("user", help="user accounts").add_subparsers(dest="user_command", metavar="ACTION",
                                                                        required=True)
    p = user.add_parser("add", help="create a user with a temporary password (FORMTRAIL_NEW_PASSWORD or prompt)")
    p.add_argument("name")
    p.add_argument("--full-name", required=True)
    p.add_argument("--role", action="append", required=True, choices=ROLE_CHOICES)
    p.set_defaults(handler=cmd_user_add)
    p = user.add_parser("list", help="list users")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_user_list)
    p = user.add_parser("deactivate", help="deactivate a user (never deleted, name never reused)")
    p.add_argument("name")
    p.add_argument("--reason", required=True)
    p.set_defaults(handler=cmd_user_deactivate)
    p = user.add_parser("unlock", help="unlock an account locked by failed log-ins")
    p.add_argument("name")
    p.add_argument("--reason", required=True)
    p.set_defaults(handler=cmd_user_unlock)
    p = user.add_parser("reset", help="give a user a temporary password (FORMTRAIL_NEW_PASSWORD or prompt)")
    p.add_argument("name")
    p.add_argument("--reason", required=True)
    p.set_defaults(handler=cmd_user_reset)
    p = user.add_parser("roles", help="set a user's roles")
    p.add_argument("name")
    p.add_argument("--role", action="append", required=True, choices=ROLE_CHOICES)
    p.add_argument("--reason", required=True)
    p.set_defaults(handler=cmd_user_roles)
    p = user.add_parser("passwd", help="change your own password (new one from FORMTRAIL_NEW_PASSWORD or prompt)")
    p.set_defaults(handler=cmd_user_passwd)
    p = user.add_parser("authorized", help="who held which roles at a given time (AC-03)")
    p.add_argument("--as-of", required=True, help="YYYY-MM-DD or an ISO date-time")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_user_authorized)

    p = sub.add_parser("roles", help="print the role matrix")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_roles)

    # The `config` group: governance.py adds the approval commands (pending, approve, reject, history).
    config = add_group(sub.add_parser("config", help="settings"), dest="config_command", metavar="ACTION",
                       required=True)
    p = config.add_parser("list", help="list settings")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_config_list)
    p = config.add_parser("set", help="change a setting (administrators; audited, versioned; a GMP-relevant one "
                                      "waits for QA's approval)")
    p.add_argument("key")
    p.add_argument("value")
    p.add_argument("--reason", required=True)
    p.set_defaults(handler=cmd_config_set)

    dbp = add_group(sub.add_parser("db", help="database schema"), dest="db_command", metavar="ACTION", required=True)
    p = dbp.add_parser("upgrade", help="apply schema migrations")
    p.set_defaults(handler=cmd_db_upgrade)


def cmd_init(cli: Cli) -> int:
    args = cli.args
    site_name = site_name_of(args.site_name, code=args.site)  # asked (or refused) before the password is typed
    password = cli.new_password(f"Password for {args.admin}")
    info = setup.initialise(
        cli.db, site_code=args.site, site_name=site_name, admin_username=args.admin,
        admin_full_name=args.full_name or args.admin, admin_password=password,
    )
    cli.out(f"Site {info.label} set up in {cli.db.display_url}; administrator {args.admin} can now log in.")
    return 0


def site_name_of(given: str | None, *, code: str) -> str:
    """The site name from --site-name, or typed at the terminal; without either, refused (a script that
    forgot it must not make a site whose forms print only a code)."""
    if given is None and not sys.stdin.isatty():
        raise ValidationError('the site needs a name, printed on every form beside its code: pass --site-name '
                              '"Basel QC laboratory" (or run `formtrail init` in a terminal to be asked)',
                              code=ErrorCode.SITE_NAME_REQUIRED)
    name = given
    if name is None:
        try:
            name = input("Site name, printed on every form beside the code (e.g. Basel QC laboratory): ")
        except EOFError:  # Ctrl-D at the prompt: no name, refused below
            name = ""
    return setup.checked_site_name(name, code=code)  # refused here, before the password is asked


def cmd_gui(cli: Cli) -> int:
    from app.ui.shell.launch import main as gui_main

    return gui_main(home=cli.args.home, db=cli.args.db, smoke_test=cli.args.smoke_test)


def _user_row(u: users.UserInfo) -> list[str]:
    return [u.username, u.full_name, u.role_titles, u.status.value, "yes" if u.must_change_password else "",
            local_text(u.created_at, seconds=False)]


def _user_dict(u: users.UserInfo) -> dict:
    return {"username": u.username, "full_name": u.full_name, "roles": [r.value for r in u.roles],
            "status": u.status.value, "must_change_password": u.must_change_password,
            "failed_logins": u.failed_logins, "created_at": u.created_at.isoformat(),
            "last_login_at": u.last_login_at.isoformat() if u.last_login_at else None,
            "deactivation_reason": u.deactivation_reason}


def cmd_user_add(cli: Cli) -> int:
    actor = cli.actor()
    info = users.create_user(
        cli.db, actor, username=cli.args.name, full_name=cli.args.full_name,
        roles=[Role(r) for r in cli.args.role], temporary_password=cli.new_password("Temporary password"),
    )
    cli.out(f"User {info.username} ({info.role_titles}) created; the temporary password must be changed at the "
            "first log-in.")
    return 0


def cmd_user_list(cli: Cli) -> int:
    rows = users.list_users(cli.db, cli.actor())
    if cli.args.json:
        cli.json([_user_dict(u) for u in rows])
    else:
        cli.table(["user", "full name", "roles", "status", "temp pw", "created"], [_user_row(u) for u in rows])
    return 0


def cmd_user_deactivate(cli: Cli) -> int:
    info = users.deactivate(cli.db, cli.actor(), username=cli.args.name, reason=cli.args.reason)
    cli.out(f"User {info.username} deactivated.")
    return 0


def cmd_user_unlock(cli: Cli) -> int:
    info = users.unlock(cli.db, cli.actor(), username=cli.args.name, reason=cli.args.reason)
    cli.out(f"User {info.username} unlocked.")
    return 0


def cmd_user_reset(cli: Cli) -> int:
    actor = cli.actor()
    info = users.reset_password(cli.db, actor, username=cli.args.name, reason=cli.args.reason,
                                temporary_password=cli.new_password("Temporary password"))
    cli.out(f"User {info.username} has a temporary password and must change it at the next log-in.")
    return 0


def cmd_user_roles(cli: Cli) -> int:
    info = users.set_roles(cli.db, cli.actor(), username=cli.args.name, roles=[Role(r) for r in cli.args.role],
                           reason=cli.args.reason)
    cli.out(f"User {info.username} now holds: {info.role_titles}.")
    return 0


def cmd_user_passwd(cli: Cli) -> int:
    actor = cli.actor(allow_password_change=True)
    current = cli.password()
    auth.change_own_password(cli.db, actor, current_password=current, new_password=cli.new_password())
    cli.out(f"Password of {actor.username} changed.")
    return 0


def _parse_moment(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.astimezone()  # a date typed at the workstation means local time
    if len(text) == 10:
        moment += dt.timedelta(days=1) - dt.timedelta(microseconds=1)  # "as of a date" = end of that day
    return moment


def cmd_user_authorized(cli: Cli) -> int:
    as_of = _parse_moment(cli.args.as_of)
    rows = users.authorized_users(cli.db, cli.actor(), as_of=as_of)
    if cli.args.json:
        cli.json({"as_of": as_of.isoformat(), "users": [
            {"username": u.username, "full_name": u.full_name, "roles": [r.value for r in u.roles]} for u in rows]})
    else:
        cli.out(f"Authorised users as of {local_text(as_of)}")
        cli.table(["user", "full name", "roles"], [[u.username, u.full_name, ", ".join(r.title for r in u.roles)]
                                                   for u in rows])
    return 0


def cmd_roles(cli: Cli) -> int:
    matrix = role_matrix()
    if cli.args.json:
        cli.json(matrix)
    else:
        for role, perms in matrix.items():
            cli.out(f"{role}: {', '.join(perms)}")
    return 0


def cmd_config_list(cli: Cli) -> int:
    cli.actor()
    values = settings.list_settings(cli.db)
    if cli.args.json:
        cli.json([{"key": v.key, "title": v.title, "value": v.value, "default": v.default, "qa_approval": v.gmp,
                   "pending": v.pending if v.has_pending else None} for v in values])
    else:
        cli.table(["key", "value", "default", "approval", "meaning"],
                  [[v.key, v.value, v.default, (f"pending: {v.pending}" if v.has_pending else "QA" if v.gmp else ""),
                    v.title] for v in values])
    return 0


def cmd_config_set(cli: Cli) -> int:
    change = settings.change(cli.db, cli.actor(), key=cli.args.key, value=cli.args.value, reason=cli.args.reason)
    if change is None:
        cli.out(f"{cli.args.key} is {cli.args.value} already: nothing changed.")
    elif change.is_pending:
        cli.out(f"Configuration change v{change.version} (ID {change.id}): {change.key} {change.old_value} -> "
                f"{change.new_value} is PENDING QA approval; the old value stays in effect until QA approves it "
                f"(`formtrail config approve {change.id}`).")
    else:
        cli.out(f"{change.key} = {change.new_value} (configuration version {change.version}, in effect now)")
    return 0


def cmd_db_upgrade(cli: Cli) -> int:
    """An administrator's act: the credentials are checked against the database as it is (its schema may
    be too old for the application to log in normally), then the schema is upgraded and the act recorded."""
    engine = build_engine(cli.config.db_url)
    try:
        before, newest = needs_upgrade(engine)
        if before is not None:
            _administrator_of(engine, cli)
        if before != newest:
            upgrade(engine)
    finally:
        engine.dispose()
    if before == newest:
        cli.out(f"Schema already at {newest}.")
        return 0
    cli.out(f"Schema upgraded from {before or 'empty'} to {newest}.")
    if before is not None:  # record who upgraded, now that the application can write to it
        # The same credentials, not asked again; the command's own log-in, logged out when it ends.
        with cli.db.write(cli.actor(allow_password_change=True), reason="schema upgrade") as session:
            audit.record_event(session, "DB_UPGRADE", entity="schema", old=before, new=newest)
    return 0


def _administrator_of(engine, cli: Cli) -> None:  # noqa: ANN001 - Engine
    """Raw SQL on the tables every revision has: the name, password and roles of an administrator."""
    username, password = cli.username(), cli.password()
    with engine.connect() as conn:
        row = conn.execute(text("SELECT id, password_hash, status FROM app_user WHERE username = :u"),
                           {"u": username}).first()
        roles = set(conn.execute(text("SELECT role FROM role_grant WHERE user_id = :i AND revoked_at IS NULL"),
                                 {"i": row.id}).scalars()) if row else set()
    hasher = PasswordHasher(cli.config.hasher_profile)
    if row is None or not hasher.verify(row.password_hash, password) or row.status != "active":
        raise CliError("wrong user name or password: the schema was not upgraded")
    if Role.ADMINISTRATOR.value not in roles:
        raise CliError(f"{username} is not an administrator: only an administrator upgrades the schema")
