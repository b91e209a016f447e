"""An insider's tools for the integrity tests: SQL behind the application's back, and what `verify` then says."""

from __future__ import annotations

import re
import sqlite3

from sqlalchemy import text

from app.services.integrity import integrity
from app.services.issuance.issuance import IssuanceResult
from tests.helpers.forms import effective_template, issue
from tests.helpers.records import fill
from tests.helpers.seed import Seed


def busy_site(seed: Seed) -> tuple[Seed, IssuanceResult]:
    """What the attacks change: an effective template, three issued forms, the first one's record filled in."""
    effective_template(seed)
    result = issue(seed, copies=3)
    fill(seed, result.serials[0])
    return seed, result


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


def without_check(db, table: str, constraint: str) -> None:  # noqa: ANN001
    """Drop a CHECK constraint the way an insider can: on SQLite by editing the table's stored definition
    (``PRAGMA writable_schema``) with the file in hand, on PostgreSQL as the tables' owner."""
    if db.dialect != "sqlite":
        with db.engine.begin() as conn:
            conn.execute(text(f"ALTER TABLE {table} DROP CONSTRAINT {constraint}"))
        return
    db.engine.dispose()
    conn = sqlite3.connect(db.engine.url.database, isolation_level=None)
    try:
        sql = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone()[0]
        edited = re.sub(rf",\s*CONSTRAINT {constraint} CHECK \((?:[^()]|\([^()]*\))*\)", "", sql)
        assert edited != sql, f"{constraint} not found in {table}"
        version = conn.execute("PRAGMA schema_version").fetchone()[0]
        conn.execute("PRAGMA writable_schema = ON")
        conn.execute("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?", (edited, table))
        conn.execute(f"PRAGMA schema_version = {version + 1}")
        conn.execute("PRAGMA writable_schema = OFF")
    finally:
        conn.close()
