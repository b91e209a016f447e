"""Apply Alembic migrations programmatically (on start and by `formtrail db upgrade`)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

if TYPE_CHECKING:  # Alembic is imported only to migrate: every start would otherwise pay ~0.1 s for it
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
# The newest migration's revision. Opening a database compares with this instead of reading the migration
# scripts; tests/integration/test_migrations.py checks it names Alembic's head (a new migration updates it).
HEAD = "0015"


def alembic_config() -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str | None:
    """The head as Alembic reads it from the scripts (slow; ``HEAD`` is the same and free)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The database's revision (None for an empty database), read as Alembic stores it."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.scalar(text("SELECT version_num FROM alembic_version"))


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str | None]:
    """Bring the schema to the newest revision (or to ``revision``: tests make older releases' databases);
    returns (before, after)."""
    from alembic import command

    before = current_revision(engine)
    with _migration(engine) as cfg:
        command.upgrade(cfg, revision)
    return before, current_revision(engine)


def downgrade(engine: Engine, revision: str) -> None:
    """Take the schema back to ``revision`` (tests and support: a database as an older release left it)."""
    from alembic import command

    with _migration(engine) as cfg:
        command.downgrade(cfg, revision)


@contextlib.contextmanager
def _migration(engine: Engine) -> Iterator[Config]:
    """One transaction for the whole migration. On SQLite foreign key enforcement is off around it: adding a
    constraint rebuilds a table (``checks_ddl``), and dropping a table others refer to is refused with it on;
    the pragma is ignored inside a transaction, so it is set before and restored after."""
    cfg = alembic_config()
    with engine.connect() as conn:
        _foreign_keys(conn, on=False)
        try:
            with conn.begin():
                cfg.attributes["connection"] = conn
                yield cfg
        finally:
            _foreign_keys(conn, on=True)


def _foreign_keys(conn: Connection, *, on: bool) -> None:
    if conn.dialect.name == "sqlite":
        # The DBAPI connection directly: through SQLAlchemy the statement would begin a transaction first.
        driver = conn.connection.driver_connection
        if driver is None:  # only after the connection was invalidated, which nothing here does
            raise RuntimeError("the SQLite connection was invalidated; foreign keys cannot be switched")
        driver.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def needs_upgrade(engine: Engine) -> tuple[str | None, str | None]:
    """(current, newest) revisions; equal when nothing is to do, current None for an empty database."""
    return current_revision(engine), HEAD
