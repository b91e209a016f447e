"""The PostgreSQL server trail (``app.models.server_trail``) as the application uses it.

Every audited transaction on PostgreSQL first tells the server who acts (``claim``); `verify` then reads back
what the server noted and names each change that no audited transaction accounts for.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from app.models import server_trail

_DIRECT = text(f"""
SELECT c.table_name, c.operation, c.row_id, c.changed_at, c.db_role, c.actor, c.txid
FROM {server_trail.TABLE} c
WHERE c.table_name <> 'audit_event'
  AND (c.actor IS NULL OR NOT EXISTS (SELECT 1 FROM {server_trail.TABLE} a
                                      WHERE a.txid = c.txid AND a.table_name = 'audit_event'))
ORDER BY c.id
""")


@dataclasses.dataclass(frozen=True)
class DirectChange:
    """A write to controlled data the server saw, which no audited transaction of the application made."""

    table: str
    operation: str
    row_id: str | None
    changed_at: dt.datetime
    db_role: str
    actor: str | None  # the acting user the writer claimed, if any
    transaction: int


def claim(target: Session | Connection, username: str) -> None:
    """Tell the server who acts for the rest of this transaction (PostgreSQL only; a no-op elsewhere)."""
    dialect = target.get_bind().dialect if isinstance(target, Session) else target.dialect
    if dialect.name == "postgresql":
        target.execute(text("SELECT set_config('formtrail.actor', :actor, true)"), {"actor": username})


def in_use(engine: Engine) -> bool:
    if engine.dialect.name != "postgresql":
        return False
    with engine.connect() as conn:
        return bool(conn.scalar(text("SELECT to_regclass(:t) IS NOT NULL"), {"t": server_trail.TABLE}))


def direct_changes(engine: Engine, *, limit: int = 1000) -> tuple[list[DirectChange], int]:
    """Up to ``limit`` direct changes, oldest first, and how many there are in all."""
    if not in_use(engine):
        return [], 0
    found: list[DirectChange] = []
    total = 0
    with engine.connect() as conn:
        for row in conn.execute(_DIRECT):
            total += 1
            if len(found) < limit:
                found.append(DirectChange(table=row.table_name, operation=row.operation, row_id=row.row_id,
                                          changed_at=row.changed_at, db_role=row.db_role, actor=row.actor,
                                          transaction=row.txid))
    return found, total


def switched_off(engine: Engine) -> list[str]:
    """The noting triggers that are missing or disabled (only the owner or a superuser can do either)."""
    if not in_use(engine):
        return []
    wanted = {server_trail.trigger_name(table, operation): table
              for table in server_trail.TRACKED for operation in server_trail.OPERATIONS}
    wanted[server_trail.trigger_name("audit_event", "INSERT")] = "audit_event"
    with engine.connect() as conn:
        enabled = set(conn.scalars(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgenabled <> 'D'")))
    return sorted(f"{name} on {table}" for name, table in wanted.items() if name not in enabled)
