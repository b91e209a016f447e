"""An insider's tools for the integrity tests: SQL behind the application's back, and what `verify` then says."""

from __future__ import annotations

from sqlalchemy import text

from app.services import integrity


def raw(db, *statements: str, **params: object) -> None:  # noqa: ANN001
    """SQL behind the application's back, with the protecting triggers out of the way."""
    with db.engine.begin() as conn:
        if db.dialect == "sqlite":
            for trigger in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars().all():
                conn.execute(text(f"DROP TRIGGER {trigger}"))
        else:
            conn.execute(text("SET session_replication_role = replica"))  # triggers off, as a superuser can
        for statement in statements:
            conn.execute(text(statement), params)


def findings(db, actor, area: str) -> list[integrity.Finding]:  # noqa: ANN001
    report = integrity.verify_everything(db, actor)
    assert not report.ok
    return [f for f in report.findings if f.area == area]
