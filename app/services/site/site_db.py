"""PostgreSQL site mode: a schema owned by an owner role, workstations connecting as a least-privilege
application role that cannot change the schema, cannot delete or truncate anything, and cannot rewrite
the audit trail (AT-04, SE-04). The database's triggers refuse the same things once more."""

from __future__ import annotations

import dataclasses
import enum
import re
import secrets
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError

from app.models import server_trail
from app.models.engine import build_engine
from app.models.migrate import upgrade
from app.services.core import audit
from app.services.core.db import Actor, Database
from app.services.core.errors import DomainError, ValidationError
from app.services.core.ondisk import write_private
from app.services.identity.permissions import Permission, require

ROLE_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
APPEND_ONLY = ("audit_event",)


class AppPassword(enum.Enum):
    """What `db init` did with the application role's password (the one every workstation holds)."""

    CREATED = "created"  # a new role: the password given, or one generated here
    CONFIRMED = "confirmed"  # the role existed and the password given is its password
    KEPT = "kept"  # the role existed and no password was given: left as it is
    TO_ROTATE = "to-rotate"  # asked to change it: done by ``rotate_app_password`` (audited)


@dataclasses.dataclass(frozen=True)
class SiteDatabase:
    owner_role: str
    app_role: str
    app_url: str  # what workstations put in FORMTRAIL_DB (password hidden)
    revision: str | None
    password: AppPassword
    app_password: str | None = dataclasses.field(default=None, repr=False)  # known when created or confirmed

    def workstation_url(self, password: str | None = None) -> str:
        """The complete FORMTRAIL_DB value, password included (for a file only the administrator reads)."""
        secret = password or self.app_password
        if secret is None:
            raise ValueError("the application role's password is not known here")
        return make_url(self.app_url).set(password=secret).render_as_string(hide_password=False)


def new_app_password() -> str:
    """A password nobody has to invent: 32 URL-safe characters (about 190 bits), so it goes into a URL as is."""
    return secrets.token_urlsafe(24)


def _role(name: str) -> str:
    if not ROLE_RE.match(name):
        raise ValidationError(f"{name!r} is not a usable role name (lower-case letters, digits, _)")
    return name


def _exec(conn, sql: str, **params: object) -> None:  # noqa: ANN001
    conn.execute(text(sql), params)


def init_site_database(admin_url: str, *, owner_role: str = "formtrail_owner", app_role: str = "formtrail_app",
                       app_password: str | None = None, rotate: bool = False) -> SiteDatabase:
    """Create the roles, the schema (as the owner) and the application role's grants. Idempotent: run it
    again after an upgrade to apply the migrations and refresh the grants.

    The application role's password is set only when the role is created (``app_password``, or a generated
    one). Run again, it is kept: a different ``app_password`` is refused, because changing it silently locks
    every workstation out; ``rotate`` leaves the change to ``rotate_app_password``, which audits it."""
    owner, app_name = _role(owner_role), _role(app_role)
    if app_password is not None and len(app_password) < 12:
        raise ValidationError("the application role's password must have at least 12 characters")
    admin = build_engine(admin_url, isolation_level="AUTOCOMMIT")
    if admin.dialect.name != "postgresql":
        raise ValidationError("`db init` sets up a PostgreSQL site server; the embedded SQLite database needs no "
                              "set-up")
    try:
        with admin.connect() as conn:
            database = conn.scalar(text("SELECT current_database()"))
            app_exists = bool(conn.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": app_name}))
            action, password = _password_plan(admin_url, app_name, app_exists, app_password, rotate)
            for role, login in ((owner, False), (app_name, True)):
                exists = conn.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role})
                if not exists:
                    _exec(conn, f'CREATE ROLE "{role}" {"LOGIN" if login else "NOLOGIN"}')
            _exec(conn, f'ALTER ROLE "{app_name}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT')
            if action is AppPassword.CREATED:
                assert password is not None
                conn.exec_driver_sql(_set_password(conn, app_name, password))  # its ':' are no parameters
            _exec(conn, f'GRANT "{owner}" TO CURRENT_USER')
            _exec(conn, f'GRANT CREATE, USAGE ON SCHEMA public TO "{owner}"')
            # Nobody but the owner creates objects (PostgreSQL 15 already does this for PUBLIC).
            _exec(conn, "REVOKE CREATE ON SCHEMA public FROM PUBLIC")
            _exec(conn, f'REVOKE ALL ON DATABASE "{database}" FROM PUBLIC')
            _exec(conn, f'GRANT CONNECT, TEMPORARY ON DATABASE "{database}" TO "{app_name}", "{owner}"')
            _exec(conn, f'GRANT USAGE ON SCHEMA public TO "{app_name}"')
        owner_engine = build_engine(admin_url)
        _run_migrations_as(owner_engine, owner)
        with admin.connect() as conn:
            _exec(conn, f'SET ROLE "{owner}"')
            _exec(conn, f'REVOKE ALL ON ALL TABLES IN SCHEMA public FROM "{app_name}"')
            _exec(conn, f'GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public TO "{app_name}"')
            for table in APPEND_ONLY:
                _exec(conn, f'REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM "{app_name}"')
            _exec(conn, f'REVOKE INSERT, UPDATE ON alembic_version FROM "{app_name}"')
            _exec(conn, f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "{app_name}"')
            # Only the owner's noting triggers write the server trail; the application role may read it.
            _exec(conn, f'REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON {server_trail.TABLE} FROM "{app_name}"')
            _exec(conn, f'REVOKE USAGE, SELECT ON SEQUENCE {server_trail.TABLE}_id_seq FROM "{app_name}"')
            _exec(conn, f'ALTER DEFAULT PRIVILEGES FOR ROLE "{owner}" IN SCHEMA public '
                        f'GRANT SELECT, INSERT, UPDATE ON TABLES TO "{app_name}"')
            _exec(conn, f'ALTER DEFAULT PRIVILEGES FOR ROLE "{owner}" IN SCHEMA public '
                        f'GRANT USAGE, SELECT ON SEQUENCES TO "{app_name}"')
            _exec(conn, "RESET ROLE")
            revision = conn.scalar(text("SELECT version_num FROM alembic_version"))
    finally:
        admin.dispose()
    app_url = make_url(admin_url).set(username=app_name, password=None)
    return SiteDatabase(owner_role=owner, app_role=app_name, revision=revision,
                        app_url=app_url.render_as_string(hide_password=True), password=action,
                        app_password=password)


def write_workstation_env(path: Path, url: str) -> Path:
    """The FORMTRAIL_DB line for workstations, in a file only its owner can read (it holds the password).
    Single quotes keep a URL with ``&`` usable by ``sh`` (``set -a; . FILE``) and by systemd's EnvironmentFile."""
    write_private(path, f"# Formtrail workstation settings written by `formtrail db init`: keep this file private\n"
                        f"FORMTRAIL_DB='{url}'\n".encode())
    return path


def _password_plan(admin_url: str, app_role: str, exists: bool, given: str | None,
                   rotate: bool) -> tuple[AppPassword, str | None]:
    if not exists:
        return AppPassword.CREATED, given or new_app_password()
    if rotate:
        return AppPassword.TO_ROTATE, None
    if given is None:
        return AppPassword.KEPT, None
    if not _password_works(admin_url, app_role, given):
        raise DomainError(
            f"the password given (FORMTRAIL_APP_PASSWORD) is not the current password of {app_role}; nothing was "
            "changed. Setting it would lock out every workstation that uses the current one. Run without "
            "FORMTRAIL_APP_PASSWORD to keep the password, or add --rotate-app-password to change it on purpose "
            "(then give every workstation the new FORMTRAIL_DB line).", code="app-password-differs")
    return AppPassword.CONFIRMED, given


def _password_works(admin_url: str, app_role: str, password: str) -> bool:
    """Whether the application role logs in with ``password`` (a server that trusts the connection accepts
    any password: then nothing can be told, and nothing is changed either)."""
    url = make_url(admin_url).set(username=app_role, password=password)
    engine = build_engine(url.render_as_string(hide_password=False), connect_args={"connect_timeout": 10})
    try:
        with engine.connect():
            return True
    except OperationalError as exc:
        if "password authentication failed" in str(exc.orig):
            return False
        raise
    finally:
        engine.dispose()


def rotate_app_password(db: Database | None, actor: Actor | None, *, admin_url: str, app_role: str = "formtrail_app",
                        new_password: str | None = None, reason: str | None = None) -> str:
    """Give the application role a new password and return it. ``db`` is the site database opened with the
    administrator's URL; on a site that is set up, an administrator (``actor``) gives a reason and the change
    is written to the audit trail in the same transaction as the ALTER ROLE (PostgreSQL runs both or
    neither). Before the site exists there is no trail to write to."""
    name = _role(app_role)
    password = new_password or new_app_password()
    if len(password) < 12:
        raise ValidationError("the application role's password must have at least 12 characters")
    if db is None or db.site_code() is None:
        admin = build_engine(admin_url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.exec_driver_sql(_set_password(conn, name, password))
        finally:
            admin.dispose()
        return password
    if actor is None or not (reason or "").strip():
        raise ValidationError("changing the application role's password of a site in use needs an administrator "
                              "(--user) and a reason (--reason)", code="reason-required")
    require(db, actor, Permission.MANAGE_SETTINGS)
    with db.write(actor, reason=reason) as session:
        connection = session.connection()
        connection.exec_driver_sql(_set_password(connection, name, password))
        audit.record_event(session, "APP_PASSWORD_ROTATED", entity="database", entity_id=name,
                           new={"role": name, "database": db.display_url})
    return password


def _run_migrations_as(engine: Engine, owner: str) -> None:
    """Apply the migrations with the owner as the current role, so the owner owns every table."""
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _as_owner(dbapi_conn, _record) -> None:  # noqa: ANN001
        with dbapi_conn.cursor() as cur:
            cur.execute(f'SET ROLE "{owner}"')
        dbapi_conn.commit()

    try:
        upgrade(engine)
    finally:
        engine.dispose()


def _set_password(conn, role: str, password: str) -> str:  # noqa: ANN001 - a SQLAlchemy Connection
    """ALTER ROLE with the password's SCRAM verifier computed here (libpq's PQencryptPasswordConn), so the
    password itself never reaches the server: not its statement log (log_statement = ddl is common on GMP
    servers), not pg_stat_activity."""
    pgconn = conn.connection.driver_connection.pgconn
    verifier = pgconn.encrypt_password(password.encode(), role.encode(), b"scram-sha-256").decode()
    return f"ALTER ROLE \"{role}\" PASSWORD '{_quote(verifier)}'"


def _quote(value: str) -> str:
    return value.replace("'", "''")
