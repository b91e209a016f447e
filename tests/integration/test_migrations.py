"""The schema comes only from migrations: the models match them, and every table is protected."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from app.models import AuditEvent, Base


def test_models_match_the_migrations(db, backend):
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == []


def test_every_table_refuses_delete_and_the_trail_refuses_update(db, backend):
    with db.engine.connect() as conn:
        if backend == "sqlite":
            triggers = set(conn.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")))
        else:
            triggers = set(conn.scalars(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")))
    for table in Base.metadata.tables:
        assert f"trg_{table}_no_delete" in triggers, table
    assert f"trg_{AuditEvent.__tablename__}_no_update" in triggers
