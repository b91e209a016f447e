"""BK-06: a workstation's SQLite data moved to a PostgreSQL site server, verified and audited."""

from __future__ import annotations

import json
import sqlite3
import uuid

import pytest
from sqlalchemy import create_engine, text

from app.runtime import RuntimeConfig, open_database
from app.services.admin import migration
from app.services.core import audit_chain
from app.services.core.errors import DomainError
from app.services.integrity import integrity
from app.services.issuance import register
from app.services.reports import audit_log
from tests.helpers.forms import effective_template, issue
from tests.helpers.records import fill
from tests.helpers.seed import seed_site
from tests.helpers.training import register_stations


@pytest.fixture
def workstation(tmp_path):
    db = open_database(RuntimeConfig(home=tmp_path / "ws", db_url=f"sqlite:///{tmp_path / 'ws.db'}",
                                     workstation="WS-1", hasher_profile="fast"))
    seed = seed_site(db)
    effective_template(seed)
    result = issue(seed, copies=4)
    fill(seed, result.serials[0])
    yield seed
    db.engine.dispose()


@pytest.fixture
def empty_pg(pg_server):
    name = f"mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(pg_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return pg_server.rsplit("/", 1)[0] + f"/{name}"


def test_bk06_migration_verifies_and_is_audited(workstation, empty_pg, tmp_path):
    seed = workstation
    report = migration.migrate(seed.db, seed.admin, target_url=empty_pg, target_files=tmp_path / "site-files")
    assert report.ok and report.files_copied == 1
    assert all(c.ok and c.source_rows == c.target_rows for c in report.checks)
    # The keys travel beside the data: workstations of the site server point FORMTRAIL_KEYS at them.
    site = open_database(RuntimeConfig(home=tmp_path / "site", db_url=empty_pg, workstation="WS-2",
                                       hasher_profile="fast", files_dir=tmp_path / "site-files",
                                       keys_dir=seed.db.keys.folder))
    try:
        assert audit_chain.verify_chain(site).ok
        assert register.count_forms(site, seed.viewer, register.RegisterFilter()) == 4
        [event] = audit_log.fetch_events(site, seed.admin, audit_log.AuditFilter(action="MIGRATION"))
        assert json.loads(event.new_value)["verified"] is True
        from tests.helpers.forms import issue as issue_more
        on_site = type(seed)(db=site, actors=seed.actors)
        register_stations(on_site, ["WS-2"])  # a new workstation of the site server: registered first (AC-08)
        more = issue_more(on_site, copies=1)  # sequences continue on the server
        assert more.serials == ("000005",)
        # The server noted the copy (one transaction with the trail it carries) and the work after it: all audited.
        assert integrity.verify_everything(site, seed.qa).ok
    finally:
        site.engine.dispose()
    assert audit_log.count_events(seed.db, seed.admin, audit_log.AuditFilter(action="MIGRATION")) == 1


def test_bk06_a_tampered_row_stops_the_migration(workstation, empty_pg, tmp_path):
    seed = workstation
    raw = sqlite3.connect(seed.db.engine.url.database)
    raw.execute("UPDATE record_entry SET value = '0.0999' WHERE field_name = 'sample_weight_1'")
    raw.commit()
    raw.close()
    with pytest.raises(DomainError, match="sample_weight_1.*not match|not match.*sample_weight_1") as refused:
        migration.migrate(seed.db, seed.admin, target_url=empty_pg, target_files=None)
    assert "0.0999" in str(refused.value)


def test_bk06_a_tampered_audit_row_stops_the_migration(workstation, empty_pg):
    seed = workstation
    raw = sqlite3.connect(seed.db.engine.url.database)
    raw.execute("DROP TRIGGER trg_audit_event_no_update")
    raw.execute("UPDATE audit_event SET reason = 'rewritten' WHERE seq = 20")
    raw.commit()
    raw.close()
    with pytest.raises(DomainError, match="audit row 20"):
        migration.migrate(seed.db, seed.admin, target_url=empty_pg, target_files=None)
