"""PostgreSQL only: the server's own record of every row written to controlled data.

The application writes the audit trail itself (one mechanism for both engines, keyed with a key the database
never sees). On a PostgreSQL site the application role's password sits on every workstation, so the server
also notes, by trigger and in the same transaction, every INSERT and UPDATE of a controlled row: which
database role, which transaction, which acting user the application claimed (``SET LOCAL formtrail.actor``).
The table is written only by a SECURITY DEFINER function owned by the schema owner; the application role may
read it and nothing else. ``formtrail verify`` names every noted change whose transaction wrote no audit
event, or that no application user claimed: a change made from psql with the application role's password.

Used from migrations (the trigger set is part of the schema).
"""

from __future__ import annotations

from typing import Any

TABLE = "server_change"

# Controlled tables and the column that names a row. The serial counter is left out on purpose: restore moves
# it past the file store's high-water mark outside an audited transaction, and verify checks it against that
# mark instead. Migration 0006 installed the triggers on the tables of its time (``INSTALLED_BY_0006``); a table
# created later gets its own from the migration that creates it (``track``), and is listed in TRACKED.
INSTALLED_BY_0006: dict[str, str] = {
    "app_user": "id", "controlled_pdf": "id", "issuance": "id", "issued_form": "id",
    "password_history": "id", "record": "id", "record_entry": "id", "role_grant": "id", "scan_page": "id",
    "scan_source": "id", "setting": "key", "signature": "id", "site": "id", "stored_file": "sha256",
    "template": "id", "template_version": "id",
}
TRACKED: dict[str, str] = {**INSTALLED_BY_0006, "paper_finding": "id"}  # 0009
TRACKED.update(qualification="id", workstation="id")  # 0010 (issue 16 / identity)
TRACKED.update({t: "id" for t in ("retention_rule", "legal_hold", "disposal_request", "disposal_item",
                                   "disposed_file", "entry_invalidation")})  # 0012
TRACKED["incident"] = "id"  # 0011 (issue 16 / safety: the incident log)
TRACKED["form_page_addition"] = "id"  # 0013 (issue 16 / paper intake: extra pages)
TRACKED.update(config_change="id", periodic_review="id")  # 0015 (issue 16 / governance)
OPERATIONS = ("INSERT", "UPDATE")

_SCHEMA = f"""
CREATE TABLE {TABLE} (
    id bigserial PRIMARY KEY,
    txid bigint NOT NULL DEFAULT txid_current(),
    changed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    db_role text NOT NULL DEFAULT session_user,
    actor text,
    table_name text NOT NULL,
    operation text NOT NULL,
    row_id text
);
CREATE INDEX ix_{TABLE}_txid ON {TABLE} (txid);

CREATE FUNCTION formtrail_note_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  INSERT INTO {TABLE} (actor, table_name, operation, row_id)
  SELECT nullif(current_setting('formtrail.actor', true), ''), TG_TABLE_NAME, TG_OP, to_jsonb(n) ->> TG_ARGV[0]
  FROM new_rows n;
  RETURN NULL;
END $$;

-- One note per statement that appends to the trail: enough to know the transaction wrote audit events.
CREATE FUNCTION formtrail_note_audit() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  INSERT INTO {TABLE} (actor, table_name, operation, row_id)
  SELECT nullif(current_setting('formtrail.actor', true), ''), TG_TABLE_NAME, TG_OP, min(seq) || '-' || max(seq)
  FROM new_rows HAVING count(*) > 0;
  RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION formtrail_note_change() FROM PUBLIC;
REVOKE ALL ON FUNCTION formtrail_note_audit() FROM PUBLIC;
"""


def trigger_name(table: str, operation: str) -> str:
    return f"trg_{table}_server_{operation.lower()}"


def install() -> None:
    from alembic import op  # here: services import this module for its names, and Alembic costs ~0.1 s to load

    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite has one writer per file and no roles: the application's own trail is the mechanism
    op.execute(_SCHEMA)
    for table in INSTALLED_BY_0006:
        _note(op, table)
    op.execute(f"CREATE TRIGGER {trigger_name('audit_event', 'INSERT')} AFTER INSERT ON audit_event "
               f"REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION formtrail_note_audit()")
    for operation in ("UPDATE", "DELETE", "TRUNCATE"):
        scope = "STATEMENT" if operation == "TRUNCATE" else "ROW"
        op.execute(f"CREATE TRIGGER trg_{TABLE}_no_{operation.lower()} BEFORE {operation} ON {TABLE} "
                   f"FOR EACH {scope} EXECUTE FUNCTION formtrail_refuse('the server trail is append-only')")


def _note(op: Any, table: str) -> None:
    for operation in OPERATIONS:
        op.execute(f"CREATE TRIGGER {trigger_name(table, operation)} AFTER {operation} ON {table} "
                   f"REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
                   f"EXECUTE FUNCTION formtrail_note_change('{TRACKED[table]}')")


def track(table: str) -> None:
    """The noting triggers of a table created after 0006 (named in TRACKED), from the migration that creates it."""
    from alembic import op

    if op.get_bind().dialect.name == "postgresql":
        _note(op, table)


def untrack(table: str) -> None:
    from alembic import op

    if op.get_bind().dialect.name == "postgresql":
        for operation in OPERATIONS:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger_name(table, operation)} ON {table}")


def uninstall() -> None:
    from alembic import op

    if op.get_bind().dialect.name != "postgresql":
        return
    for table in INSTALLED_BY_0006:
        for operation in OPERATIONS:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger_name(table, operation)} ON {table}")
    op.execute(f"DROP TRIGGER IF EXISTS {trigger_name('audit_event', 'INSERT')} ON audit_event")
    op.execute(f"DROP TABLE IF EXISTS {TABLE}")
    op.execute("DROP FUNCTION IF EXISTS formtrail_note_change()")
    op.execute("DROP FUNCTION IF EXISTS formtrail_note_audit()")
