"""ES-01..ES-06: re-authentication, manifestation, binding to content, distinct signers."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from app.models import Signature, SignatureMeaning
from app.services.core.error_codes import ErrorCode
from app.services.core.errors import AccountLocked, AuthenticationError, PermissionDenied, RuleViolation
from app.services.identity import signatures
from app.services.reports import audit_log
from tests.helpers.seed import PASSWORD

CONTENT = {"field": "pH", "value": "7.2"}


def sign(seed, who, meaning=SignatureMeaning.REVIEWED, *, password=PASSWORD, content=CONTENT, entity_id="R-1",
         **kw):
    actor = seed.actors[who]
    return signatures.sign(seed.db, actor, username=kw.pop("username", actor.username), password=password,
                           meaning=meaning, entity="record", entity_id=entity_id, content=content,
                           activity=f"record:{entity_id}", **kw)


def test_es01_manifestation_has_name_id_meaning_local_time_and_offset(seed, clock):
    clock.moment = dt.datetime(2025, 3, 4, 13, 7, 11, 999000, tzinfo=dt.timezone.utc)
    info = sign(seed, "qa")
    text_ = info.manifestation(ZoneInfo("Europe/Zurich"))
    assert text_ == "Quinn Müller (qa), Reviewed, 2025-03-04 14:07:12 CET (UTC+01:00)"


def test_es02_correct_credentials_sign_and_are_audited(seed):
    info = sign(seed, "qa")
    assert info.signer_username == "qa" and len(info.content_hash) == 64
    [row] = audit_log.fetch_events(seed.db, seed.admin, audit_log.AuditFilter(action="SIGN"))
    assert row.username == "qa" and '"meaning":"reviewed"' in row.new_value


def test_es02_wrong_password_does_not_sign(seed):
    with pytest.raises(AuthenticationError):
        sign(seed, "qa", password="wrong")
    with seed.db.read() as s:
        assert s.scalars(select(Signature)).all() == []


def test_es02_signing_under_another_name_is_refused(seed):
    with pytest.raises(AuthenticationError, match="your own user name"):
        sign(seed, "qa", username="qa2")
    assert audit_log.count_events(seed.db, seed.admin, audit_log.AuditFilter(action="SIGN_FAIL")) == 1


def test_es03_failed_signing_attempts_count_toward_lockout(seed):
    for _ in range(4):
        with pytest.raises(AuthenticationError):
            sign(seed, "qa", password="wrong")
    with pytest.raises(AccountLocked):
        sign(seed, "qa", password="wrong")
    flt = audit_log.AuditFilter
    assert audit_log.count_events(seed.db, seed.admin, flt(action="SIGN_FAIL")) == 5
    assert audit_log.count_events(seed.db, seed.admin, flt(action="LOCKOUT")) == 1


def test_es04_es05_signature_shows_changed_content(seed):
    info = sign(seed, "qa")
    assert signatures.status(info, CONTENT) is signatures.SignatureStatus.VALID
    changed = dict(CONTENT, value="7.3")
    assert signatures.status(info, changed) is signatures.SignatureStatus.CHANGED
    assert signatures.SignatureStatus.CHANGED.value == "content changed after signing"


def test_es04_signature_copied_to_another_record_does_not_verify(seed):
    sign(seed, "qa", entity_id="R-1")
    with seed.db.engine.begin() as conn:  # an attacker re-points the signature at another record
        if seed.db.dialect == "postgresql":
            conn.execute(text("ALTER TABLE signature DISABLE TRIGGER USER"))
        conn.execute(text("UPDATE signature SET entity_id = 'R-2', activity = 'record:R-2'"))
    with seed.db.read() as s:
        [copied] = signatures.signatures_of(s, "record", "R-2")
    assert signatures.status(copied, CONTENT) is signatures.SignatureStatus.NOT_GENUINE


def test_es04_a_signature_moved_with_its_content_hash_recomputed_is_not_genuine(seed):
    """With the source code, the content hash can be recomputed for the other record; the keyed binding
    cannot (the key is not in the database)."""
    sign(seed, "qa", entity_id="R-1")
    forged = signatures.content_hash("record", "R-2", CONTENT)
    with seed.db.engine.begin() as conn:
        if seed.db.dialect == "postgresql":
            conn.execute(text("ALTER TABLE signature DISABLE TRIGGER USER"))
        conn.execute(text("UPDATE signature SET entity_id = 'R-2', activity = 'record:R-2', content_hash = :h"),
                     {"h": forged})
    with seed.db.read() as s:
        [moved] = signatures.signatures_of(s, "record", "R-2")
    assert not moved.genuine
    assert signatures.status(moved, CONTENT) is signatures.SignatureStatus.NOT_GENUINE


def test_es06_same_person_cannot_sign_two_roles(seed):
    sign(seed, "qa", SignatureMeaning.REVIEWED)
    with pytest.raises(RuleViolation) as refused:
        sign(seed, "qa", SignatureMeaning.APPROVED)
    assert refused.value.code == ErrorCode.SEPARATION_OF_DUTIES
    assert audit_log.count_events(seed.db, seed.admin, audit_log.AuditFilter(action="RULE_REFUSED")) == 1
    sign(seed, "qa2", SignatureMeaning.APPROVED)


def test_es06_other_roles_are_excluded_too(seed):
    with pytest.raises(RuleViolation) as refused:
        sign(seed, "qa", SignatureMeaning.APPROVED, other_roles={seed.qa.user_id: "author"})
    assert refused.value.code == ErrorCode.SEPARATION_OF_DUTIES


def test_ac02_administrator_cannot_sign(seed):
    with pytest.raises(PermissionDenied, match="may not sign"):
        sign(seed, "admin")
