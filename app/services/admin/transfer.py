"""Moving every table between databases verbatim, and proving the copy: row counts, per-row hashes, chain.

Used by `db migrate` (SQLite workstation → PostgreSQL site server) and `restore`. Rows are copied with their
primary keys and column values unchanged and without the ORM, so the audit trail is carried over exactly as
it was written (never re-created), and its hash chain verifies on the target.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import hashlib
import json
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.engine import Connection, Engine

from app.models import Base
from app.services.core import server_audit, stored

BATCH = 2000
Progress = Callable[[str, int, int], None]


def tables() -> list[Table]:
    """Every table of the schema, parents before children (foreign keys)."""
    return list(Base.metadata.sorted_tables)


def plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat(timespec="microseconds")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    return value


def row_hash(row: dict[str, Any], columns: list[str]) -> str:
    canonical = json.dumps([plain(row[c]) for c in columns], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _ordered(table: Table) -> Any:
    return select(table).order_by(*table.primary_key.columns)


def iter_rows(conn: Connection, table: Table) -> Iterator[dict[str, Any]]:
    result = conn.execution_options(yield_per=BATCH).execute(_ordered(table))
    with stored.translated():  # a value Formtrail never writes ends a copy with its name, not a LookupError
        for row in result:
            yield dict(row._mapping)


@dataclasses.dataclass(frozen=True)
class TableCheck:
    table: str
    source_rows: int
    target_rows: int
    first_difference: str | None  # primary key of the first row that differs, or None

    @property
    def ok(self) -> bool:
        return self.source_rows == self.target_rows and self.first_difference is None


def digest_table(conn: Connection, table: Table) -> tuple[int, list[tuple[str, str]]]:
    """(row count, [(primary key, row hash)]) in primary-key order."""
    columns = [c.name for c in table.columns]
    keys = [c.name for c in table.primary_key.columns]
    out = []
    for row in iter_rows(conn, table):
        out.append((",".join(str(row[k]) for k in keys), row_hash(row, columns)))
    return len(out), out


def compare(source: Engine, target: Engine) -> list[TableCheck]:
    checks = []
    with source.connect() as src, target.connect() as dst:
        for table in tables():
            n_src, rows_src = digest_table(src, table)
            n_dst, rows_dst = digest_table(dst, table)
            difference = None
            for (key_a, hash_a), (key_b, hash_b) in zip(rows_src, rows_dst, strict=False):  # counts differ: see n_*
                if key_a != key_b or hash_a != hash_b:
                    difference = key_a
                    break
            if difference is None and n_src != n_dst:
                longer = rows_src if n_src > n_dst else rows_dst
                difference = longer[min(n_src, n_dst)][0]
            checks.append(TableCheck(table.name, n_src, n_dst, difference))
    return checks


def copy_all(source: Engine, target: Engine, *, progress: Progress | None = None) -> dict[str, int]:
    """Copy every row of every table from ``source`` into the empty ``target`` (one transaction)."""
    counts: dict[str, int] = {}
    with source.connect() as src, target.begin() as dst:
        server_audit.claim(dst, "SYSTEM")  # the copied trail is in this transaction, with every row it copies
        for table in tables():
            total = src.scalar(select(func.count()).select_from(table)) or 0
            done = 0
            batch: list[dict[str, Any]] = []
            for row in iter_rows(src, table):
                batch.append(row)
                if len(batch) >= BATCH:
                    dst.execute(insert(table), batch)
                    done += len(batch)
                    batch.clear()
                    if progress:
                        progress(table.name, done, total)
            if batch:
                dst.execute(insert(table), batch)
                done += len(batch)
            counts[table.name] = done
            if progress:
                progress(table.name, done, total)
        if dst.dialect.name == "postgresql":
            reset_sequences(dst)
    return counts


def reset_sequences(conn: Connection) -> None:
    """After inserting explicit ids, move each id sequence past the highest id."""
    for table in tables():
        for column in table.primary_key.columns:
            if column.autoincrement is True or (column.autoincrement == "auto" and column.type.python_type is int
                                                and len(table.primary_key.columns) == 1):
                seq = conn.scalar(text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": column.name})
                if seq:
                    conn.execute(text(f"SELECT setval('{seq}', COALESCE((SELECT max({column.name}) FROM "
                                      f"{table.name}), 0) + 1, false)"))


def row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t.name: conn.scalar(select(func.count()).select_from(t)) or 0 for t in tables()}


def is_empty(engine: Engine) -> bool:
    return all(n == 0 for n in row_counts(engine).values())
