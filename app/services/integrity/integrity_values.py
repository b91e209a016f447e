"""`formtrail verify`, area ``values``: every stored value the database's CHECK constraints should have refused.

The constraints make such values impossible through SQL on both engines, but not for someone who edits SQLite's
schema (``PRAGMA writable_schema``) or drops a constraint as PostgreSQL's owner. Each value is named with its
table, column and row, read as raw text so that an unknown enum value cannot stop the check itself.
"""

from __future__ import annotations

from sqlalchemy import text

from app.models import Base
from app.models.checks import column_checks
from app.services.core.db import Database

SHOWN_PER_COLUMN = 50  # rows named per column; more are counted in one line


def check(db: Database) -> list[tuple[str, str]]:
    """(subject, detail) of every refused value, e.g. ("issued_form 3 column state", "holds 'void', …")."""
    found: list[tuple[str, str]] = []
    with db.engine.connect() as conn:
        for rule in column_checks(Base.metadata):
            key = ", ".join(f'"{c.name}"' for c in Base.metadata.tables[rule.table].primary_key.columns)
            where = f'FROM "{rule.table}" WHERE {rule.violation}'
            rows = conn.execute(text(f'SELECT {key}, "{rule.column}" {where} ORDER BY {key} '
                                     f"LIMIT {SHOWN_PER_COLUMN}")).all()
            found.extend((f"{rule.table} {'/'.join(map(str, row[:-1]))} column {rule.column}",
                          f"{rule.problem(row[-1])}: written outside Formtrail") for row in rows)
            if len(rows) == SHOWN_PER_COLUMN:
                total = conn.execute(text(f"SELECT count(*) {where}")).scalar_one()
                if total > len(rows):
                    found.append((f"{rule.table} column {rule.column}", f"{total - len(rows):,} more such values"))
    return found
