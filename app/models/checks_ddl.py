"""Adding and dropping the CHECK constraints of ``app.models.checks`` in a migration, on both engines.

Used from migrations (like ``protect``). Existing rows are checked first: a value the constraint would refuse
stops the migration with :class:`ValuesRefused` naming table, column, row and value, before anything changes.

PostgreSQL adds a constraint with ALTER TABLE. SQLite cannot: the table is rebuilt the way SQLite documents
(create the new table from the stored CREATE text plus the constraints, copy the rows, drop the old table,
rename the new one, re-create its indexes and triggers from their stored text). The rebuild needs foreign key
enforcement off, a pragma SQLite ignores inside a transaction, so ``app.models.migrate`` switches it off around
the migration transaction; the rebuild refuses to run otherwise, and checks every foreign key before commit.
Everything happens in the migration's one transaction: the audit trail's refusal triggers are back before
anyone can write, or the whole upgrade is rolled back.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable

from alembic import op
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from app.models.checks import ColumnCheck, ValuesRefused

_SHOWN = 20  # problems named in the message; the rest are counted
_REBUILT = "_formtrail_rebuild"


def add(checks: Iterable[ColumnCheck]) -> None:
    """Add ``checks``; raises ValuesRefused (nothing changed) when existing rows break any of them."""
    by_table = _by_table(checks)
    bind = op.get_bind()
    refuse_violations(bind, by_table)
    if bind.dialect.name == "sqlite":
        for table, table_checks in by_table.items():
            _rebuild(bind, table, functools.partial(_with_checks, checks=table_checks))
        _check_foreign_keys(bind)
        return
    for table, table_checks in by_table.items():  # one statement a table: its rows are read once for all
        op.execute(f'ALTER TABLE "{table}" ' + ", ".join(f'ADD CONSTRAINT "{c.name}" CHECK ({c.condition})'
                                                         for c in table_checks))


def drop(checks: Iterable[ColumnCheck]) -> None:
    by_table = _by_table(checks)
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for table, table_checks in by_table.items():
            _rebuild(bind, table, functools.partial(_without_checks, checks=table_checks))
        _check_foreign_keys(bind)
        return
    for table, table_checks in by_table.items():
        op.execute(f'ALTER TABLE "{table}" ' + ", ".join(f'DROP CONSTRAINT IF EXISTS "{c.name}"'
                                                         for c in table_checks))


def _by_table(checks: Iterable[ColumnCheck]) -> dict[str, list[ColumnCheck]]:
    by_table: dict[str, list[ColumnCheck]] = {}
    for check in checks:
        by_table.setdefault(check.table, []).append(check)
    return by_table


def refuse_violations(bind: Connection, by_table: dict[str, list[ColumnCheck]]) -> None:
    """Every existing row a check would refuse, named; raises ValuesRefused when there is any."""
    problems: list[str] = []
    total = 0
    inspector = inspect(bind)
    for table, table_checks in by_table.items():
        # One look per table first: a new database, and a sound one, costs a query per table, not per column.
        if not bind.execute(text(f'SELECT 1 FROM "{table}" WHERE ' +
                                 " OR ".join(f"({c.violation})" for c in table_checks) + " LIMIT 1")).first():
            continue
        key = ", ".join(f'"{c}"' for c in inspector.get_pk_constraint(table)["constrained_columns"])
        for check in table_checks:
            total += bind.execute(text(f'SELECT count(*) FROM "{table}" WHERE {check.violation}')).scalar_one()
            rows = bind.execute(text(f'SELECT {key}, "{check.column}" FROM "{table}" WHERE {check.violation} '
                                     f"ORDER BY {key} LIMIT {_SHOWN}")).all()
            problems.extend(f"{table} row {', '.join(map(str, row[:-1]))}, column {check.column}: "
                            f"{check.problem(row[-1])}" for row in rows)
    if total:
        raise ValuesRefused(problems[:_SHOWN], total)


def _with_checks(sql: str, checks: list[ColumnCheck]) -> str:
    body = sql.rstrip()
    if not body.endswith(")"):
        raise RuntimeError(f"unexpected table definition, not rebuilt: {sql[:80]!r}")
    return body[:-1].rstrip() + "".join(_clause(c) for c in checks) + "\n)"


def _without_checks(sql: str, checks: list[ColumnCheck]) -> str:
    for check in checks:
        if _clause(check) not in sql:
            raise RuntimeError(f"constraint {check.name} is not where the migration put it; not rebuilt")
        sql = sql.replace(_clause(check), "")
    return sql


def _clause(check: ColumnCheck) -> str:
    return f",\n\tCONSTRAINT {check.name} CHECK ({check.condition})"


def _rebuild(bind: Connection, table: str, change: Callable[[str], str]) -> None:
    """SQLite's documented table rebuild, keeping the table's text, rows, indexes and triggers."""
    if bind.exec_driver_sql("PRAGMA foreign_keys").scalar():
        raise RuntimeError("SQLite tables are rebuilt with foreign keys off: run migrations through "
                           "app.models.migrate, which switches them off around the migration")
    sql = bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
                               (table,)).scalar_one()
    extras = bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE tbl_name = ? AND type IN ('index', "
                                  "'trigger') AND sql IS NOT NULL ORDER BY type, name", (table,)).scalars().all()
    renamed, count = re.subn(rf'^CREATE TABLE\s+(?:"{table}"|{table})\s*\(', f'CREATE TABLE "{_REBUILT}" (',
                             change(sql), count=1)
    if count != 1:
        raise RuntimeError(f"unexpected definition of table {table}, not rebuilt: {sql[:80]!r}")
    bind.exec_driver_sql(renamed)
    bind.exec_driver_sql(f'INSERT INTO "{_REBUILT}" SELECT * FROM "{table}"')
    bind.exec_driver_sql(f'DROP TABLE "{table}"')  # its indexes and triggers go with it, and come back below
    bind.exec_driver_sql(f'ALTER TABLE "{_REBUILT}" RENAME TO "{table}"')
    for statement in extras:
        bind.exec_driver_sql(statement)


def _check_foreign_keys(bind: Connection) -> None:
    broken = bind.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        raise ValuesRefused([f"{row[0]} row {row[1]} refers to a missing row of {row[2]}" for row in broken[:_SHOWN]],
                            len(broken))

