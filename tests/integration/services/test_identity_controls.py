"""Issue 16 / identity: qualification records gate signing and verifying (AC-07), registered workstations gate
signing, issuing, printing and importing (AC-08), dormant accounts are disabled. SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import select

from app.models import AuditEvent, Role, SignatureMeaning, UserStatus
from app.services.core.db import Actor, Database
from app.services.core.error_codes import ErrorCode
from app.services.core.errors import AccountInactive, PermissionDenied, RuleViolation, ValidationError
from app.services.identity import auth, dormant, signatures, training, users, workstations
from app.services.identity.training import QualificationKind, TrainedActivity
from app.services.issuance import issuance
from app.services.records import records
from tests.helpers.forms import effective_template
from tests.helpers.insider import findings, raw
from tests.helpers.seed import PASSWORD, TEMP_PASSWORD, Seed
from tests.helpers.training import set_dormant_days

SYSTEM = Actor.system("schedule")


def _new_user(seed: Seed, name: str, role: Role = Role.QA) -> Actor:
    users.create_user(seed.db, seed.admin, username=name, full_name=name.title(), roles=[role],
                      temporary_password=TEMP_PASSWORD)
    first = auth.authenticate(seed.db, username=name, password=TEMP_PASSWORD).actor
    auth.change_own_password(seed.db, first, current_password=TEMP_PASSWORD, new_password=PASSWORD)
    return auth.authenticate(seed.db, username=name, password=PASSWORD).actor


def _sign(seed: Seed, actor: Actor, what: str = "1", *, db: Database | None = None) -> signatures.SignatureInfo:
    return signatures.sign(db or seed.db, actor, username=actor.username, password=PASSWORD,
                           meaning=SignatureMeaning.REVIEWED, entity="note", entity_id=what, content={"n": what},
                           activity=f"note:{what}")


def _events(seed: Seed, action: str) -> list[AuditEvent]:
    with seed.db.read() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)))


@pytest.mark.compliance
def test_ac07_enable_signing_for_a_user_without_these_records_is_refused(seed):
    """AC-07 acceptance: a QA user without identity verification, accountability statement and training may not
    sign (refused with a stable code, logged); once QA records all three, the same user signs."""
    newbie = _new_user(seed, "nina")
    with pytest.raises(RuleViolation) as refused:
        _sign(seed, newbie)
    assert refused.value.code == ErrorCode.NOT_QUALIFIED
    assert _events(seed, "RULE_REFUSED")[-1].username == "nina"
    view = training.of_user(seed.db, seed.qa, "nina")
    assert not view.standing.may_sign and view.standing.why_not_sign == "no identity verification on record"
    assert not view.records and view.may_record

    done = dt.date(2026, 3, 1)
    for kind, activity in ((QualificationKind.IDENTITY_VERIFIED, None),
                           (QualificationKind.ACCOUNTABILITY_SIGNED, None)):
        training.record(seed.db, seed.qa, username="nina", kind=kind, activity=activity, reference="HR-7",
                        completed_on=done)
    assert training.of_user(seed.db, seed.qa, "nina").standing.why_not_sign == "no training for signing on record"
    with pytest.raises(RuleViolation) as still:
        _sign(seed, newbie)
    assert still.value.code == ErrorCode.NOT_QUALIFIED
    training.record(seed.db, seed.qa, username="nina", kind=QualificationKind.TRAINING,
                    activity=TrainedActivity.SIGNING, reference="TRN-ES-01", completed_on=done)
    standing = training.of_user(seed.db, seed.qa, "nina").standing
    assert standing.may_sign and not standing.may_verify and "verifying" in (standing.why_not_verify or "")
    assert _sign(seed, newbie).signer_username == "nina"
    created = [e for e in _events(seed, "CREATE") if e.entity == "qualification"]
    assert [e.entity_id.split("#")[0] for e in created[-3:]] == [
        "nina/identity-verified", "nina/accountability-statement", "nina/training:signing"]
    assert {e.username for e in created[-3:]} == {"qa"}


@pytest.mark.compliance
def test_ac07_expired_or_revoked_training_refuses_and_the_view_says_why(seed, clock):
    training.record(seed.db, seed.qa2, username="op", kind=QualificationKind.TRAINING,
                    activity=TrainedActivity.SIGNING, reference="TRN-ES-02", completed_on=dt.date(2026, 3, 1),
                    expires_on=dt.date(2026, 10, 1))
    current = [q for q in training.list_qualifications(seed.db, seed.qa) if q.reference == "TRN-ES-02"]
    assert current[0].current and current[0].status == "current (expires 2026-10-01)"
    # The seed's own signing training of op is revoked: only the expiring one is left.
    seeded = next(q for q in training.list_qualifications(seed.db, seed.qa, "op")
                  if q.activity is TrainedActivity.SIGNING and q.reference != "TRN-ES-02")
    revoked = training.revoke(seed.db, seed.qa, qualification_id=seeded.id, reason="retraining due")
    assert revoked.status == "revoked" and not revoked.current
    _sign(seed, seed.op, "a")  # the new one is current
    clock.moment = dt.datetime(2026, 10, 1, 8, 0, tzinfo=dt.UTC)
    standing = training.of_user(seed.db, seed.qa, "op").standing
    assert standing.why_not_sign == "training for signing expired on 2026-10-01" and standing.may_verify
    with pytest.raises(RuleViolation) as refused:
        _sign(seed, seed.op, "b")
    assert refused.value.code == ErrorCode.NOT_QUALIFIED and "expired on 2026-10-01" in str(refused.value)
    with pytest.raises(ValidationError) as twice:
        training.revoke(seed.db, seed.qa, qualification_id=seeded.id, reason="again")
    assert twice.value.code == ErrorCode.QUALIFICATION_NOT_CURRENT


@pytest.mark.compliance
def test_ac07_verifying_values_needs_verifying_training(seed):
    """records.verify_field / verify_many refuse before anything else when the verifier is not trained."""
    seeded = next(q for q in training.list_qualifications(seed.db, seed.qa, "op2")
                  if q.activity is TrainedActivity.VERIFYING)
    training.revoke(seed.db, seed.qa, qualification_id=seeded.id, reason="training record found invalid")
    for act in (lambda: records.verify_field(seed.db, seed.op2, serial="000001", field="x"),
                lambda: records.verify_many(seed.db, seed.op2, serial="000001", fields=["x"])):
        with pytest.raises(RuleViolation) as refused:
            act()
        assert refused.value.code == ErrorCode.NOT_QUALIFIED
    assert "verifying" in _events(seed, "RULE_REFUSED")[-1].reason


def test_ac07_who_records_qualifications(seed):
    """QA records them, never their own; an administrator (no RECORD_TRAINING) is refused."""
    with pytest.raises(PermissionDenied):
        training.record(seed.db, seed.admin, username="op", kind=QualificationKind.IDENTITY_VERIFIED,
                        reference="HR-1", completed_on=dt.date(2026, 3, 1))
    with pytest.raises(RuleViolation) as own:
        training.record(seed.db, seed.qa, username="qa", kind=QualificationKind.IDENTITY_VERIFIED,
                        reference="HR-1", completed_on=dt.date(2026, 3, 1))
    assert own.value.code == ErrorCode.SEPARATION_OF_DUTIES
    with pytest.raises(ValidationError):  # training names its activity
        training.record(seed.db, seed.qa, username="op", kind=QualificationKind.TRAINING, reference="T",
                        completed_on=dt.date(2026, 3, 1))
    with pytest.raises(ValidationError):
        training.record(seed.db, seed.qa, username="op", kind=QualificationKind.IDENTITY_VERIFIED, reference="T",
                        completed_on=dt.date(2026, 3, 1), expires_on=dt.date(2026, 2, 1))


@pytest.mark.compliance
def test_ac08_audit_rows_show_the_registered_station_and_an_unregistered_one_is_read_only(seed):
    """AC-08 acceptance: the station that ran the set-up is registered (audited) and every event names it; a
    second installation (another station id) may read but not sign, issue or import, refused and logged, and
    audit rows name it as unregistered. Once registered by an administrator it may act."""
    db = seed.db
    assert workstations.this_station(db).registered
    assert _events(seed, "LOGIN_SUCCESS")[-1].workstation == "TEST-WS-01"
    [own] = workstations.list_stations(db, seed.admin)
    assert (own.name, own.registered_by) == ("TEST-WS-01", "SYSTEM")
    effective_template(seed)
    other = dataclasses.replace(db, workstation="f00dcafe" * 4, host="lab-pc-9")
    dc = auth.authenticate(other, username="dc", password=PASSWORD).actor  # seen: listed for the administrator
    me = workstations.this_station(other)
    assert not me.may_act and me.label == "unregistered:lab-pc-9/f00dcafe"
    with pytest.raises(PermissionDenied) as refused:
        issuance.issue_forms(other, dc, code="QC-WS-014", copies=1, purpose="LOT 1", reference=None,
                             issued_to="Line 1", due=dt.date(2099, 1, 1))
    assert refused.value.code == ErrorCode.WORKSTATION_NOT_REGISTERED
    with pytest.raises(PermissionDenied) as unsigned:
        _sign(seed, auth.authenticate(other, username="qa", password=PASSWORD).actor, db=other)
    assert unsigned.value.code == ErrorCode.WORKSTATION_NOT_REGISTERED
    denied = _events(seed, "ACCESS_DENIED")
    assert denied[-1].workstation == "unregistered:lab-pc-9/f00dcafe" and "not registered" in denied[-1].reason
    seen = [s for s in workstations.list_stations(db, seed.admin) if s.station_id.startswith("f00dcafe")]
    assert seen[0].status_text == "seen, not registered" and seen[0].may_register

    with pytest.raises(PermissionDenied):
        workstations.register(db, seed.qa, station="f00dcafe", name="QC-LAB-PC9")
    with pytest.raises(ValidationError) as taken:
        workstations.register(db, seed.admin, station="f00dcafe", name="TEST-WS-01")
    assert taken.value.code == ErrorCode.WORKSTATION_NAME_TAKEN
    workstations.register(db, seed.admin, station="f00dcafe", name="QC-LAB-PC9")
    issued = issuance.issue_forms(other, dc, code="QC-WS-014", copies=1, purpose="LOT 1", reference=None,
                                  issued_to="Line 1", due=dt.date(2099, 1, 1))
    assert issued.serials
    assert _events(seed, "CREATE")[-1].workstation == "QC-LAB-PC9"

    workstations.rename(db, seed.admin, station="QC-LAB-PC9", new_name="STAB-PC1", reason="moved")
    with pytest.raises(ValidationError) as reused:  # old events name QC-LAB-PC9: never another station's
        workstations.rename(db, seed.admin, station="TEST-WS-01", new_name="QC-LAB-PC9", reason="tidy")
    assert reused.value.code == ErrorCode.WORKSTATION_NAME_TAKEN
    workstations.retire(db, seed.admin, station="STAB-PC1", reason="PC replaced")
    with pytest.raises(PermissionDenied) as retired:
        issuance.issue_forms(other, dc, code="QC-WS-014", copies=1, purpose="LOT 2", reference=None,
                             issued_to="Line 1", due=dt.date(2099, 1, 1))
    assert retired.value.code == ErrorCode.WORKSTATION_NOT_REGISTERED and "retired" in str(retired.value)


def test_ac08_a_copied_station_id_is_the_registered_station(seed):
    """What the id proves, honestly: it is a file. A second computer given a copy of it presents the registered
    id and is treated as that station (the audit rows name the registered station); only its host name, noted
    when it logs in, tells the two apart. The id separates installations; it does not authenticate hardware."""
    copy = dataclasses.replace(seed.db, host="somebody-elses-laptop")  # same station id, another host
    assert workstations.this_station(copy).may_act
    auth.authenticate(copy, username="qa", password=PASSWORD)
    [station] = workstations.list_stations(seed.db, seed.admin)
    assert station.host == "somebody-elses-laptop"
    changed = [e for e in _events(seed, "UPDATE") if e.entity == "workstation" and e.field == "host"]
    assert changed[-1].new_value == "somebody-elses-laptop" and changed[-1].workstation == "TEST-WS-01"


def test_dormant_accounts_are_disabled_but_never_the_last_administrator(seed, clock):
    set_dormant_days(seed.db, 90)  # the default (the seed turns it off)
    clock.advance(days=60)
    auth.authenticate(seed.db, username="qa", password=PASSWORD)  # used: stays
    clock.advance(days=31)
    disabled = dormant.disable_dormant_accounts(seed.db, actor=SYSTEM)
    assert "admin" not in disabled and "qa" not in disabled and {"op", "dc", "viewer"} <= set(disabled)
    with pytest.raises(AccountInactive):
        auth.authenticate(seed.db, username="op", password=PASSWORD)
    info = {u.username: u for u in users.list_users(seed.db, seed.qa)}
    assert info["op"].status is UserStatus.DEACTIVATED
    assert info["op"].deactivation_reason == "dormant: no log-in since 2026-03-04"
    assert info["admin"].status is UserStatus.ACTIVE  # the last active administrator is kept
    reasons = [e.reason for e in _events(seed, "STATE_CHANGE") if e.entity_id == "op"]
    assert reasons[-1] == "dormant: no log-in since 2026-03-04"


def test_a_dormant_account_cannot_log_in(seed, clock):
    """Checked at the log-in attempt itself, without waiting for the schedule; the only administrator stays."""
    set_dormant_days(seed.db, 90)
    clock.advance(days=91)
    with pytest.raises(AccountInactive):
        auth.authenticate(seed.db, username="dc", password=PASSWORD)
    failed = _events(seed, "LOGIN_FAILURE")[-1]
    assert (failed.username, failed.reason) == ("dc", "account deactivated")
    assert auth.authenticate(seed.db, username="admin", password=PASSWORD).actor.username == "admin"


@pytest.mark.compliance
@pytest.mark.direct_sql
def test_ac07_a_qualification_forged_by_sql_is_caught_by_verify(seed):
    """An insider inserts a signing qualification by SQL (triggers off): the gate would read it, but `verify`
    names the row that has no CREATE event on the audit trail (and, on PostgreSQL, the server trail's note of a
    write no application user claimed when triggers stay on)."""
    user_id = _new_user(seed, "mallory").user_id
    for kind, activity in (("identity-verified", None), ("accountability-statement", None),
                           ("training", "signing")):
        raw(seed.db, "INSERT INTO qualification (user_id, username, kind, activity, reference, completed_on, "
                     "recorded_at, recorded_by) VALUES (:u, 'mallory', :k, :a, 'FAKE', '2026-01-01', "
                     "'2026-01-02 00:00:00+00:00', 'qa')", u=user_id, k=kind, a=activity)
    forged = {f.subject for f in findings(seed.db, seed.qa, "data")}
    assert any(subject.startswith("qualification mallory/training:signing#") for subject in forged), forged
