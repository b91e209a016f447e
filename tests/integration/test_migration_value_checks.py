"""Migration 0007 on a database an older release filled (schema 0006): the CHECK constraints are added on both
engines, and the rows, protection triggers, server-trail triggers, indexes and foreign keys are all still there;
over data that breaks a constraint the upgrade stops, changes nothing and names each row."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from app.models import Base
from app.models.checks import ValuesRefused
from app.models.engine import build_engine
from app.models.migrate import current_revision, downgrade, head_revision, upgrade
from app.runtime import RuntimeConfig, open_database
from app.services.integrity import integrity
from app.services.issuance import labels
from app.services.reconciliation import reconciliation
from tests.helpers.cli import CliRunner
from tests.helpers.clock import FakeClock
from tests.helpers.forms import effective_template, issue
from tests.helpers.records import fill
from tests.helpers.seed import PASSWORD, Seed, seed_site


@pytest.fixture
def pg_template() -> str:
    """PostgreSQL's empty template instead of the shared one (already at the newest revision): ``db_url`` is a
    database with no schema at all, which these tests take to 0006 themselves."""
    return "template0"


@pytest.fixture
def at_0006(db_url: str, tmp_path: Path) -> Iterator[tuple[Seed, list[str]]]:
    """A site used by the release before 0007: a template, an issuance, a filled record, a voided form. Filled
    by today's services (which read and write columns later migrations added), then taken back to 0006; its
    issuance has no serial format, as that release made them (0008 keeps the format of later ones)."""
    engine = build_engine(db_url)
    upgrade(engine)
    engine.dispose()
    config = RuntimeConfig(home=tmp_path / "home", db_url=db_url, workstation="OLD-WS", hasher_profile="fast")
    db = open_database(config, migrate=False, clock=FakeClock(dt.datetime.now(dt.timezone.utc)))
    seed = seed_site(db)
    effective_template(seed)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(labels, "current_format", lambda _session: None)
        serials = issue(seed, copies=3).serials
    fill(seed, serials[0])
    reconciliation.void_form(seed.db, seed.qa, serial=serials[2], reason="spoiled by a coffee stain")
    db.engine.dispose()
    back = build_engine(db_url)
    downgrade(back, "0006")
    back.dispose()
    yield seed, serials
    db.engine.dispose()


def test_an_upgrade_keeps_data_triggers_indexes_and_keys_and_adds_the_checks(at_0006, db_url):  # noqa: ANN001
    seed, serials = at_0006
    engine = seed.db.engine
    rows, schema, columns = _rows(engine), _schema(engine), _columns(engine)
    assert not _checks(engine)
    engine.dispose()

    assert upgrade(build_engine(db_url)) == ("0006", head_revision())

    assert current_revision(engine) == head_revision()
    assert _rows(engine, columns) == rows and _schema(engine, set(schema["foreign_keys"])) == schema
    # 0008: issuances made before the serial format setting print the bare number (their format is NULL).
    assert _scalar(engine, "SELECT count(*) FROM issuance WHERE serial_format IS NOT NULL") == 0
    assert _checks(engine) == {c.name for t in Base.metadata.tables.values() for c in t.constraints
                               if c.__class__.__name__ == "CheckConstraint"}
    with pytest.raises(DBAPIError, match="(?i)check constraint"):
        _sql(engine, f"UPDATE issued_form SET state = 'void' WHERE serial = '{serials[1]}'")
    with pytest.raises(DBAPIError, match="refused"):  # the protection triggers came back with their tables
        _sql(engine, "DELETE FROM issued_form")
    with pytest.raises(DBAPIError, match="append-only"):
        _sql(engine, "UPDATE audit_event SET reason = 'rewritten'")
    report = integrity.verify_everything(seed.db, seed.qa)  # chain, data replay, signatures, server trail
    assert report.ok, report.findings


@pytest.mark.direct_sql
def test_an_upgrade_over_values_no_service_writes_stops_and_names_them(at_0006, db_url, tmp_path):  # noqa: ANN001
    seed, serials = at_0006
    engine = seed.db.engine
    _sql(engine, f"UPDATE issued_form SET state = 'void' WHERE serial = '{serials[1]}'",
         f"UPDATE issuance SET purpose = '{'p' * 400}'")
    if seed.db.dialect == "sqlite":  # PostgreSQL's varchar(20) refuses this already
        _sql(engine, "UPDATE issued_form SET serial = 'S-000000000000000001' || serial WHERE id = 1")
    rows = _rows(engine)
    engine.dispose()

    with pytest.raises(ValuesRefused) as refused:
        upgrade(build_engine(db_url))
    message = str(refused.value)
    form_id = _scalar(engine, f"SELECT id FROM issued_form WHERE serial = '{serials[1]}'")
    assert f"issued_form row {form_id}, column state: holds 'void', which Formtrail never writes" in message
    assert "issuance row 1, column purpose: is 400 characters long; at most 300 are allowed" in message
    assert ("issued_form row 1, column serial: is 26 characters long" in message) == (seed.db.dialect == "sqlite")
    assert "nothing was changed" in message
    assert current_revision(engine) == "0006" and _rows(engine) == rows and not _checks(engine)

    cli = CliRunner(tmp_path / "home", db_url=db_url)
    done = cli.run("db", "upgrade", user="admin", password=PASSWORD, check=False)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("formtrail: error: the schema was not upgraded (nothing was changed)")
    assert f"issued_form row {form_id}, column state: holds 'void'" in done.stderr
    assert current_revision(engine) == "0006"


def _sql(engine: Engine, *statements: str) -> None:
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))


def _scalar(engine: Engine, statement: str) -> object:
    with engine.connect() as conn:
        return conn.execute(text(statement)).scalar_one()


def _rows(engine: Engine, columns: dict[str, list[str]] | None = None) -> dict[str, list[tuple]]:
    """Every row of every table but Alembic's own, in a stable order; ``columns``: only these tables and columns
    (those an older schema had, the upgrade adding others)."""
    with engine.connect() as conn:
        tables = columns or {t: ["*"] for t in inspect(conn).get_table_names() if t != "alembic_version"}
        return {table: [tuple(r) for r in conn.execute(text(
                    f'SELECT {", ".join(c if c == "*" else f"{chr(34)}{c}{chr(34)}" for c in names)} '
                    f'FROM "{table}" ORDER BY 1'))]
                for table, names in tables.items()}


def _columns(engine: Engine) -> dict[str, list[str]]:
    with engine.connect() as conn:
        inspector = inspect(conn)
        return {t: [c["name"] for c in inspector.get_columns(t)] for t in inspector.get_table_names()
                if t != "alembic_version"}


def _schema(engine: Engine, tables: set[str] | None = None) -> dict[str, object]:
    """Triggers (enabled or not), indexes and foreign keys, as the database reports them; ``tables``: only those
    of these tables (the ones an older schema had, the upgrade adding others)."""
    with engine.connect() as conn:
        inspector = inspect(conn)
        keys = {t: inspector.get_foreign_keys(t) for t in inspector.get_table_names() if tables is None or t in tables}
        if conn.dialect.name == "sqlite":
            objects = {o for o in conn.execute(text("SELECT type, name, tbl_name, sql FROM sqlite_master "
                                                    "WHERE type IN ('index', 'trigger')")).all()
                       if tables is None or o[2] in tables}
        else:
            objects = set(conn.execute(text("SELECT tgname, tgrelid::regclass::text, tgenabled FROM pg_trigger "
                                            "WHERE NOT tgisinternal")).all())
            objects |= set(conn.execute(text("SELECT indexname, tablename, indexdef FROM pg_indexes "
                                             "WHERE schemaname = 'public'")).all())
            objects = {o for o in objects if tables is None or o[1] in tables}
    assert any("_no_delete" in str(o) for o in objects) and any("_no_update" in str(o) for o in objects)
    return {"objects": objects, "foreign_keys": keys}


def _checks(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        inspector = inspect(conn)
        return {c["name"] for t in inspector.get_table_names() for c in inspector.get_check_constraints(t)}

