"""SE-01 (Part 11 §11.10(a), Annex 11 §4): a database tampered with while Formtrail was closed is found when it is
opened again and checked: `verify` names the row, the failed check is on the trail, an incident is opened and the
result is what Home shows. The desktop application runs this check by itself as it starts
(``schedule.check_at_start``, in the system's name; tests/ui/test_check_at_start.py shows the banner), and
`formtrail schedule run` runs it every ``schedule.verify_hours``."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from app.models import AuditEvent
from app.models.incidents import Incident, IncidentKind, IncidentStatus
from app.runtime import open_database
from app.services.integrity import integrity, schedule
from tests.helpers.insider import busy_site, raw


@pytest.mark.direct_sql
def test_se01_a_database_tampered_while_closed_fails_verify_opens_an_incident_and_home_says_so(
        seed, runtime_config, clock) -> None:  # noqa: ANN001
    busy_site(seed)
    assert integrity.verify_everything(seed.db, seed.qa).ok  # intact before
    with seed.db.read() as session:
        target = session.scalar(select(AuditEvent.seq).where(AuditEvent.entity == "record_entry")
                                .order_by(AuditEvent.seq).limit(1))
    seed.db.engine.dispose()  # Formtrail closed
    closed = open_database(runtime_config, clock=clock)
    try:
        raw(closed, "UPDATE audit_event SET new_value = '7.9' WHERE seq = :s", s=target)
    finally:
        closed.engine.dispose()

    started = open_database(runtime_config, clock=clock)  # the next start
    try:
        report = schedule.check_at_start(started)  # what the application runs as it starts, as the system
        assert not report.ok
        assert any(f.area == "chain" and f"audit row {target}" in f.subject for f in report.findings), report.findings
        with started.read() as session:
            event = session.scalar(select(AuditEvent).where(AuditEvent.action == "VERIFY")
                                   .order_by(AuditEvent.seq.desc()).limit(1))
            assert json.loads(event.new_value)["ok"] is False
            [incident] = session.scalars(select(Incident).where(Incident.kind == IncidentKind.VERIFY_FAILED)).all()
            assert incident.status is IncidentStatus.OPEN and incident.first_event_seq == event.seq
        last = integrity.last_check(started)  # what Home shows, in red
        assert last is not None and not last.ok and f"audit row {target}" in (last.first_problem or "")
    finally:
        started.engine.dispose()
