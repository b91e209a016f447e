"""Database-level refusals: the audit trail is append-only and controlled rows are never deleted.

Used from migrations, so every table that is created is protected in the same schema change.
"""

from __future__ import annotations

from alembic import op

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION formtrail_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'Formtrail: % on % is refused: %', TG_OP, TG_TABLE_NAME, TG_ARGV[0]
    USING ERRCODE = 'insufficient_privilege';
END $$;
"""


def _dialect() -> str:
    return op.get_bind().dialect.name


def install_functions() -> None:
    if _dialect() == "postgresql":
        op.execute(_PG_FUNCTION)


def refuse(table: str, operations: tuple[str, ...], why: str) -> None:
    """Install triggers on ``table`` that abort each of ``operations`` (UPDATE, DELETE, TRUNCATE)."""
    dialect = _dialect()
    for operation in operations:
        name = f"trg_{table}_no_{operation.lower()}"
        if dialect == "sqlite":
            if operation == "TRUNCATE":
                continue  # SQLite has no TRUNCATE; DELETE covers it
            op.execute(
                f"CREATE TRIGGER {name} BEFORE {operation} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'Formtrail: {operation} on {table} is refused: {why}'); END"
            )
        elif dialect == "postgresql":
            scope = "STATEMENT" if operation == "TRUNCATE" else "ROW"
            op.execute(
                f"CREATE TRIGGER {name} BEFORE {operation} ON {table} "
                f"FOR EACH {scope} EXECUTE FUNCTION formtrail_refuse('{why}')"
            )
        else:
            raise RuntimeError(f"no append-only protection for database dialect {dialect!r}")


def protect_controlled(table: str) -> None:
    refuse(table, ("DELETE", "TRUNCATE"), "controlled data is never deleted")


def protect_append_only(table: str) -> None:
    refuse(table, ("UPDATE", "DELETE", "TRUNCATE"), "the audit trail is append-only")
