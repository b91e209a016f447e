"""TM-01/TM-03 against the database: anomalies and skew are written to the trail."""

from __future__ import annotations

import datetime as dt

import pytest

from app.runtime import open_database
from app.services.core.clock import ServerClock
from app.services.reports import audit_log
from app.services.site import settings


def test_tm03_clock_going_back_is_flagged_and_the_change_still_saved(seed, clock):
    clock.advance(hours=-1)
    settings.change(seed.db, seed.admin, key="issuance.due_soon_days", value=7, reason="after clock change")
    [anomaly] = audit_log.fetch_events(seed.db, seed.admin, audit_log.AuditFilter(action="CLOCK_ANOMALY"))
    assert anomaly.new_value < anomaly.old_value
    saved = audit_log.fetch_events(seed.db, seed.admin, audit_log.AuditFilter(entity="setting"))
    assert saved and saved[-1].reason == "after clock change"


def test_workstation_skew_is_recorded(seed, clock):
    clock.skew_report = dt.timedelta(minutes=-5)
    settings.change(seed.db, seed.admin, key="password.history", value=7, reason="x")
    [row] = audit_log.fetch_events(seed.db, seed.admin, audit_log.AuditFilter(action="CLOCK_SKEW"))
    assert row.new_value == "-300.0" and row.entity_id == "TEST-WS-01"


def test_tm01_postgres_uses_the_server_clock(runtime_config, backend):
    if backend != "postgres":
        pytest.skip("server time applies to PostgreSQL")
    database = open_database(runtime_config)
    try:
        assert isinstance(database.clock, ServerClock)
        with database.engine.connect() as conn:
            server_now = conn.exec_driver_sql("SELECT clock_timestamp()").scalar_one()
        assert abs(database.clock.now() - server_now) < dt.timedelta(seconds=5)
    finally:
        database.engine.dispose()
