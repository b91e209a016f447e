"""The database itself refuses a value no service writes (an unknown state, an over-long text), on SQLite and on
PostgreSQL; a value that still gets in (an insider editing SQLite's schema) is named, never a traceback."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from app.models import Base
from app.services.core.errors import DamagedData, ValidationError
from app.services.issuance import register
from app.services.issuance.register import RegisterFilter
from app.services.reconciliation import reconciliation
from tests.helpers.cli import CliRunner
from tests.helpers.clock import FakeClock
from tests.helpers.insider import busy_site, findings, raw, without_check
from tests.helpers.seed import PASSWORD


@pytest.fixture
def clock() -> FakeClock:
    """Today: the CLI in a child process reads the real clock, and a password set in March would be expired."""
    return FakeClock(dt.datetime.now(dt.timezone.utc))


@pytest.fixture
def busy(seed):  # noqa: ANN001, ANN201
    return busy_site(seed)


def test_the_schema_has_every_check_the_models_declare(db):  # noqa: ANN001
    """Migration 0007 (a snapshot) and the models (app.models.checks) name the same constraints, table by table."""
    inspector = inspect(db.engine)
    for table in Base.metadata.sorted_tables:
        declared = {c.name for c in table.constraints if c.__class__.__name__ == "CheckConstraint"}
        present = {c["name"] for c in inspector.get_check_constraints(table.name)}
        assert present == declared, table.name
    [states] = [c for c in inspector.get_check_constraints("issued_form") if c["name"] == "ck_issued_form_state_value"]
    assert "'voided'" in states["sqltext"]


@pytest.mark.direct_sql
@pytest.mark.parametrize("statement", [
    "UPDATE issued_form SET state = 'void'",  # an enum column
    "UPDATE role_grant SET role = 'superuser'",  # another enum column
    "UPDATE record_entry SET source = 'fax'",  # a String column whose values are a closed set
    "UPDATE stored_file SET kind = 'backup'",
    "UPDATE issued_form SET serial = '000000000000000000001'",  # String(20), 21 characters
    "UPDATE issuance SET purpose = :long",  # Text limited by the services to 300 characters
    "UPDATE audit_event SET username = :long",  # the trail too, with its triggers out of the way
])
def test_the_database_refuses_a_value_no_service_writes(busy, statement):  # noqa: ANN001
    seed, _result = busy
    with pytest.raises(DBAPIError, match=r"(?i)check constraint|value too long"):
        raw(seed.db, statement, long="x" * 301)


def test_a_text_the_database_refuses_is_a_named_validation_error(busy):  # noqa: ANN001
    """No service limit catches an over-long deviation reference: the database does, on both engines, and the
    service reports it (code text-too-long) instead of a driver error."""
    seed, result = busy
    with pytest.raises(ValidationError) as refused:
        reconciliation.declare_missing(seed.db, seed.qa, serial=result.serials[1], reason="lost on the line",
                                       deviation="DEV-" + "9" * 117)
    assert refused.value.code == "text-too-long"


@pytest.mark.sqlite_only
@pytest.mark.direct_sql
def test_an_unknown_state_behind_a_removed_check_is_named_not_a_traceback(busy, db_url, tmp_path):  # noqa: ANN001
    """The insider edits SQLite's stored schema (writable_schema) to drop the check, then sets state='void' and
    writes an over-long purpose: reading the register names the value and says what to do, and verify names
    both rows in the values area."""
    seed, result = busy
    without_check(seed.db, "issued_form", "ck_issued_form_state_value")
    without_check(seed.db, "issuance", "ck_issuance_purpose_length")
    raw(seed.db, f"UPDATE issued_form SET state = 'void' WHERE serial = '{result.serials[1]}'",
        f"UPDATE issuance SET purpose = '{'p' * 400}'")

    with pytest.raises(DamagedData) as damaged:
        register.fetch_forms(seed.db, seed.dc, RegisterFilter())
    assert damaged.value.code == "unknown-stored-value"
    assert (damaged.value.table, damaged.value.column, damaged.value.value) == ("issued_form", "state", "void")

    cli = CliRunner(tmp_path / "home", db_url=db_url)
    listed = cli.run("register", user="dc", password=PASSWORD, check=False)
    assert listed.returncode == 1 and "Traceback" not in listed.stderr
    [line] = listed.stderr.strip().splitlines()
    assert "issued_form.state is 'void'" in line and "formtrail verify" in line and "backup" in line

    verified = cli.run("verify", "--json", user="qa", password=PASSWORD, check=False)
    assert verified.returncode == 1 and "Traceback" not in verified.stderr
    values = [f for f in json.loads(verified.stdout)["findings"] if f["area"] == "values"]
    form_id = _id_of(seed, result.serials[1])
    assert [(f["subject"], "'void'" in f["detail"]) for f in values if "issued_form" in f["subject"]] == [
        (f"issued_form {form_id} column state", True)]
    assert any(f["subject"].startswith("issuance ") and "400 characters" in f["detail"] for f in values)


def _id_of(seed, serial: str) -> int:  # noqa: ANN001
    with seed.db.engine.connect() as conn:
        return conn.execute(text("SELECT id FROM issued_form WHERE serial = :s"), {"s": serial}).scalar_one()


@pytest.mark.direct_sql
def test_an_unknown_value_is_named_by_the_services_and_verify_goes_on(busy):  # noqa: ANN001
    """With the check dropped (PostgreSQL: by the tables' owner), reading the value is a named service error, and
    verify names it; the data replay, which reads rows as the application does, says where it stopped."""
    seed, result = busy
    without_check(seed.db, "issued_form", "ck_issued_form_state_value")
    raw(seed.db, f"UPDATE issued_form SET state = 'void' WHERE serial = '{result.serials[0]}'")
    with pytest.raises(DamagedData, match=r"issued_form\.state is 'void'"):
        register.fetch_forms(seed.db, seed.dc, RegisterFilter())
    [value] = findings(seed.db, seed.qa, "values")
    assert value.subject == f"issued_form {_id_of(seed, result.serials[0])} column state"
    assert [f.subject for f in findings(seed.db, seed.qa, "data")] == ["check not completed"]
