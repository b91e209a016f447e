"""The PostgreSQL server trail: the server itself notes every write to controlled data, so a psql session with the
application role's password (threat model 1 on a site server) is named by `verify` with its database role,
time and transaction, even when it claims to act for a user; the application role cannot write, switch off
or read around the trail; everyday work and a migration leave nothing to name."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError, ProgrammingError

from app.runtime import RuntimeConfig, open_database
from app.services.core import server_audit
from app.services.integrity import integrity
from tests.helpers.forms import effective_template, issue
from tests.helpers.records import fill
from tests.helpers.seed import seed_site


@pytest.fixture
def site(site_server, tmp_path):  # noqa: ANN001, ANN201
    url, app_url, info = site_server
    db = open_database(RuntimeConfig(home=tmp_path, db_url=app_url, workstation="WS-2", hasher_profile="fast"))
    seed = seed_site(db)
    effective_template(seed)
    result = issue(seed, copies=2)
    fill(seed, result.serials[0])
    yield seed, result, url, app_url, info
    db.engine.dispose()


def server_findings(seed) -> list[integrity.Finding]:  # noqa: ANN001
    return [f for f in integrity.verify_everything(seed.db, seed.qa).findings if f.area == "server"]


def test_everyday_work_is_noted_by_the_server_and_every_note_is_accounted_for(site):
    seed, result, _url, _app_url, info = site
    assert server_findings(seed) == []
    with seed.db.engine.connect() as conn:
        noted = conn.execute(text("SELECT table_name, actor, db_role FROM server_change")).all()
    tables = {row.table_name for row in noted}
    assert {"issuance", "issued_form", "record_entry", "audit_event"} <= tables
    assert {row.db_role for row in noted} == {info.app_role}
    assert "op" in {row.actor for row in noted if row.table_name == "record_entry"}


@pytest.mark.direct_sql
def test_a_psql_update_as_the_application_role_is_named_with_role_time_and_row(site):
    seed, result, _url, app_url, info = site
    psql = create_engine(app_url)
    with psql.begin() as conn:
        entry = conn.execute(text("SELECT id FROM record_entry ORDER BY id LIMIT 1")).scalar()
        conn.execute(text("UPDATE record_entry SET value = '99.9' WHERE id = :i"), {"i": entry})
    psql.dispose()
    found = server_findings(seed)
    assert [f.subject for f in found] == [f"record_entry {entry}"]
    assert f"database role {info.app_role!r}" in found[0].detail and "UPDATE at " in found[0].detail


@pytest.mark.direct_sql
def test_claiming_to_be_a_user_does_not_hide_a_change_that_wrote_no_audit_event(site):
    seed, result, _url, app_url, _info = site
    psql = create_engine(app_url)
    with psql.begin() as conn:  # the attacker has read the source code and passes an actor like the app does
        server_audit.claim(conn, "qa")
        conn.execute(text("UPDATE issued_form SET state = 'voided' WHERE serial = :s"), {"s": result.serials[1]})
        conn.execute(text("INSERT INTO setting (key, value, changed_at, changed_by) "
                          "VALUES ('sneaky', '1', now(), 'qa')"))
    psql.dispose()
    found = {f.subject: f.detail for f in server_findings(seed)}
    with seed.db.engine.connect() as conn:
        form_id = conn.execute(text("SELECT id FROM issued_form WHERE serial = :s"), {"s": result.serials[1]}).scalar()
    assert set(found) == {f"issued_form {form_id}", "setting sneaky"}
    assert all("claiming to act for 'qa'" in detail for detail in found.values())


def test_the_application_role_cannot_write_switch_off_or_empty_the_server_trail(site):
    seed, _result, _url, app_url, _info = site
    psql = create_engine(app_url)
    try:
        for statement in ("INSERT INTO server_change (txid, table_name, operation) VALUES (1, 'site', 'UPDATE')",
                          "UPDATE server_change SET actor = 'qa'", "DELETE FROM server_change",
                          "TRUNCATE server_change", "ALTER TABLE record_entry DISABLE TRIGGER USER",
                          "DROP TRIGGER trg_record_entry_server_update ON record_entry",
                          "CREATE OR REPLACE FUNCTION formtrail_note_change() RETURNS trigger LANGUAGE plpgsql "
                          "AS $$ BEGIN RETURN NULL; END $$",
                          "SELECT nextval('server_change_id_seq')"):
            with pytest.raises((ProgrammingError, DBAPIError)) as refused:
                with psql.begin() as conn:
                    conn.execute(text(statement))
            assert "permission denied" in str(refused.value) or "must be owner" in str(refused.value), statement
    finally:
        psql.dispose()
    assert server_findings(seed) == []


@pytest.mark.direct_sql
def test_a_noting_trigger_switched_off_by_the_owner_is_named(site):
    seed, _result, url, _app_url, info = site
    owner = create_engine(url)
    with owner.begin() as conn:
        conn.execute(text(f'SET ROLE "{info.owner_role}"'))
        conn.execute(text("ALTER TABLE record_entry DISABLE TRIGGER trg_record_entry_server_update"))
    owner.dispose()
    subjects = {f.subject for f in server_findings(seed)}
    assert subjects == {"trg_record_entry_server_update on record_entry"}
