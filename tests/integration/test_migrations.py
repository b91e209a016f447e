"""The schema comes only from migrations: the models match them, and every table is protected."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from app.models import AuditEvent, Base, server_trail


def test_models_match_the_migrations(db, backend):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_name": _not_server_only})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def _not_server_only(name, type_, _parent) -> bool:  # noqa: ANN001
    # The server trail is PostgreSQL's own table, written only by triggers: no model maps it.
    return not (type_ == "table" and name == server_trail.TABLE)


def test_every_table_refuses_delete_and_the_trail_refuses_update(db, backend):
    with db.engine.connect() as conn:
        if backend == "sqlite":
            triggers = set(conn.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")))
        else:
            triggers = set(conn.scalars(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")))
    for table in Base.metadata.tables:
        assert f"trg_{table}_no_delete" in triggers, table
    assert f"trg_{AuditEvent.__tablename__}_no_update" in triggers


def test_the_head_constant_names_alembics_head() -> None:
    """Opening a database compares with migrate.HEAD (reading the scripts would slow every start): a new
    migration must update it."""
    from app.models.migrate import HEAD, head_revision
    assert HEAD == head_revision()
