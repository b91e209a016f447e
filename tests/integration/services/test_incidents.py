"""SE-03: the incident log. Incidents are opened by the audit events that call for them (lockout, clock anomaly,
failed verify, failed backup), counted instead of repeated, and closed only by QA with an assessment, a reason and
an e-signature; a closure forged with SQL is caught by `verify`."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models import AuditEvent
from app.models.incidents import Incident, IncidentKind, IncidentStatus
from app.services.admin import incident_log
from app.services.core.error_codes import ErrorCode
from app.services.core.errors import AuthenticationError, PermissionDenied, RuleViolation
from app.services.identity import auth
from app.services.integrity import integrity
from tests.helpers.insider import findings, raw
from tests.helpers.seed import PASSWORD


def _incidents(db) -> list[Incident]:  # noqa: ANN001
    with db.read() as session:
        rows = list(session.scalars(select(Incident).order_by(Incident.id)))
        session.expunge_all()
        return rows


def _verify_fails(seed) -> Incident:  # noqa: ANN001
    """Change a user's name behind the application's back, then run `verify`: it fails, an incident opens."""
    raw(seed.db, "UPDATE app_user SET full_name = 'Someone Else' WHERE username = 'op'")
    report = integrity.verify_everything(seed.db, seed.qa)
    assert not report.ok
    [incident] = [i for i in _incidents(seed.db) if i.kind is IncidentKind.VERIFY_FAILED]
    return incident


def _refused_codes(db) -> list[str | None]:  # noqa: ANN001
    with db.read() as session:
        return list(session.scalars(select(AuditEvent.reason).where(AuditEvent.action == "RULE_REFUSED")))


@pytest.mark.compliance
@pytest.mark.direct_sql
def test_se03_verify_failure_incident_cannot_close_without_assessment_and_signature(seed):
    incident = _verify_fails(seed)
    assert incident.status is IncidentStatus.OPEN and incident.opened_by == "SYSTEM"
    with seed.db.read() as session:  # opened in the same transaction as the failed VERIFY event, right after it
        verify_seq = session.scalar(select(AuditEvent.seq).where(AuditEvent.action == "VERIFY"))
        created = session.scalar(select(AuditEvent.seq).where(AuditEvent.entity == "incident",
                                                              AuditEvent.action == "CREATE"))
    assert incident.first_event_seq == verify_seq and created == verify_seq + 1

    for assessment, reason, code in ((None, "done", ErrorCode.INCIDENT_ASSESSMENT_REQUIRED),
                                     ("  ", "done", ErrorCode.INCIDENT_ASSESSMENT_REQUIRED),
                                     ("root cause: test", None, ErrorCode.INCIDENT_REASON_REQUIRED)):
        with pytest.raises(RuleViolation) as refused:
            incident_log.close(seed.db, seed.qa, incident.id, assessment=assessment, capa=None, reason=reason,
                               username="qa", password=PASSWORD)
        assert refused.value.code == code
    assert len(_refused_codes(seed.db)) == 3  # every refusal is on the trail
    # An assessment and a reason, but not the signer's password: still open.
    with pytest.raises(AuthenticationError):
        incident_log.close(seed.db, seed.qa, incident.id, assessment="root cause: test", capa="none",
                           reason="understood", username="qa", password="wrong")
    assert incident_log.get_incident(seed.db, seed.qa, incident.id).open

    view = incident_log.close(seed.db, seed.qa, incident.id, assessment="An insider test edited a name.",
                              capa="Restricted database access.", reason="Assessed; data corrected.",
                              username="qa", password=PASSWORD)
    assert not view.open and view.closed_by == "qa" and view.signature and "Quinn Müller (qa), Approved" in \
        view.signature
    assert view.assessment == "An insider test edited a name." and view.capa == "Restricted database access."
    with pytest.raises(RuleViolation) as again:
        incident_log.close(seed.db, seed.qa, incident.id, assessment="x", capa=None, reason="y", username="qa",
                           password=PASSWORD)
    assert again.value.code == ErrorCode.INCIDENT_NOT_OPEN


def test_se03_only_qa_closes_incidents_and_the_view_says_so(seed):
    for _ in range(5):
        with pytest.raises(AuthenticationError):
            auth.authenticate(seed.db, username="op2", password="nope")
    [incident] = incident_log.list_incidents(seed.db, seed.qa)
    assert incident.kind == IncidentKind.LOCKOUT.value and incident.subject == "user op2" and incident.may_close
    admin_view = incident_log.get_incident(seed.db, seed.admin, incident.id)
    assert not admin_view.may_close and admin_view.why_not_close
    with pytest.raises(PermissionDenied):
        incident_log.close(seed.db, seed.admin, incident.id, assessment="a", capa=None, reason="r",
                           username="admin", password=PASSWORD)
    with pytest.raises(PermissionDenied):
        incident_log.list_incidents(seed.db, seed.op)


@pytest.mark.compliance
def test_se03_tm03_clock_anomaly_opens_one_incident_and_repeats_are_counted(seed, clock):
    for _ in range(3):
        clock.advance(hours=-1)
        auth.logout(seed.db, seed.admin)  # any audited act after the clock went back
    [incident] = _incidents(seed.db)
    assert incident.kind is IncidentKind.CLOCK_ANOMALY and incident.subject == "workstation TEST-WS-01"
    assert incident.occurrences == 3
    assert incident_log.open_count(seed.db) == 1


@pytest.mark.compliance
@pytest.mark.direct_sql
def test_se03_a_closure_forged_with_sql_is_caught_by_verify(seed):
    incident = _verify_fails(seed)
    raw(seed.db, "UPDATE app_user SET full_name = 'Otto Operator' WHERE username = 'op'")  # put the name back
    raw(seed.db, f"UPDATE incident SET status = 'closed', closed_by = 'qa', assessment = 'fine', "
                 f"closing_reason = 'nothing' WHERE id = {incident.id}")
    data = findings(seed.db, seed.qa, "data")
    subjects = {f.subject for f in data}
    assert f"incident INC-{incident.id} field status" in subjects
    assert f"incident INC-{incident.id} field assessment" in subjects
    # ... and the failed check opens (or counts) the integrity incident again: it was never really closed.
    with seed.db.read() as session:
        [open_one] = session.scalars(select(Incident).where(Incident.kind == IncidentKind.VERIFY_FAILED,
                                                            Incident.status == IncidentStatus.OPEN)).all()
    assert open_one.id != incident.id
