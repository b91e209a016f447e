"""PostgreSQL site mode: a schema owned by an owner role, workstations connecting as a least-privilege
application role that cannot change the schema, cannot delete or truncate anything, and cannot rewrite
the audit trail (AT-04, SE-04). The database's triggers refuse the same things once more."""

from __future__ import annotations

import dataclasses
import re

from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

from app.models import server_trail
from app.models.engine import build_engine
from app.models.migrate import upgrade
from app.services.errors import ValidationError

ROLE_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
APPEND_ONLY = ("audit_event",)


@dataclasses.dataclass(frozen=True)
class SiteDatabase:
    owner_role: str
    app_role: str
    app_url: str  # what workstations put in FORMTRAIL_DB (password hidden)
    revision: str | None


def _role(name: str) -> str:
    if not ROLE_RE.match(name):
        raise ValidationError(f"{name!r} is not a usable role name (lower-case letters, digits, _)")
    return name


def _exec(conn, sql: str, **params: object) -> None:  # noqa: ANN001
    conn.execute(text(sql), params)


def init_site_database(admin_url: str, *, owner_role: str = "formtrail_owner", app_role: str = "formtrail_app",
                       app_password: str) -> SiteDatabase:
    """Create the roles, the schema (as the owner) and the application role's grants. Idempotent: run it
    again after an upgrade to refresh the grants."""
    owner, app_name = _role(owner_role), _role(app_role)
    if len(app_password) < 12:
        raise ValidationError("the application role's password must have at least 12 characters")
    admin = build_engine(admin_url, isolation_level="AUTOCOMMIT")
    if admin.dialect.name != "postgresql":
        raise ValidationError("`db init` sets up a PostgreSQL site server; the embedded SQLite database needs no "
                              "set-up")
    try:
        with admin.connect() as conn:
            database = conn.scalar(text("SELECT current_database()"))
            for role, login in ((owner, False), (app_name, True)):
                exists = conn.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role})
                if not exists:
                    _exec(conn, f'CREATE ROLE "{role}" {"LOGIN" if login else "NOLOGIN"}')
            _exec(conn, f"ALTER ROLE \"{app_name}\" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT "
                        f"PASSWORD '{_quote(app_password)}'")
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
                        app_url=app_url.render_as_string(hide_password=True))


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


def _quote(value: str) -> str:
    return value.replace("'", "''")
