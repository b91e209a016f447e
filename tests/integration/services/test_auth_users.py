"""AC-01..AC-05: identities, roles, password policy, lockout."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from app.models import Role, User, UserStatus
from app.services.core.errors import (
    AccountInactive,
    AccountLocked,
    AuthenticationError,
    DomainError,
    PermissionDenied,
    ValidationError,
)
from app.services.identity import auth, users
from app.services.reports import audit_log
from tests.helpers.governance import set_setting
from tests.helpers.seed import PASSWORD, TEMP_PASSWORD


def count(db, admin, **flt):
    return audit_log.count_events(db, admin, audit_log.AuditFilter(**flt))


def test_ac01_deactivated_user_name_is_never_reused(seed):
    users.deactivate(seed.db, seed.admin, username="op2", reason="left the company")
    with pytest.raises(ValidationError, match="never reused"):
        users.create_user(seed.db, seed.admin, username="op2", full_name="Other Person", roles=[Role.OPERATOR],
                          temporary_password=TEMP_PASSWORD)
    with pytest.raises(AccountInactive):
        auth.authenticate(seed.db, username="op2", password=PASSWORD)


def test_ac02_administrator_cannot_hold_gmp_roles(seed):
    with pytest.raises(ValidationError, match="separate account"):
        users.create_user(seed.db, seed.admin, username="superuser", full_name="Super User",
                          roles=[Role.ADMINISTRATOR, Role.QA], temporary_password=TEMP_PASSWORD)


def test_ac02_non_admin_cannot_manage_users_and_refusal_is_logged(seed):
    with pytest.raises(PermissionDenied, match="may not manage users"):
        users.create_user(seed.db, seed.qa, username="sneaky", full_name="S", roles=[Role.QA],
                          temporary_password=TEMP_PASSWORD)
    assert count(seed.db, seed.admin, action="ACCESS_DENIED", username="qa") == 1


def test_ac03_authorized_users_as_of_a_date(seed, clock):
    d1 = clock.moment
    clock.advance(days=1)
    users.set_roles(seed.db, seed.admin, username="op", roles=[Role.OPERATOR, Role.QA], reason="CC-1 promotion")
    d2 = clock.moment + dt.timedelta(hours=1)
    clock.advance(days=1)
    users.set_roles(seed.db, seed.admin, username="op", roles=[Role.OPERATOR], reason="CC-2 back")
    d3 = clock.moment + dt.timedelta(hours=1)
    as_of = {when: {u.username: set(u.roles) for u in users.authorized_users(seed.db, seed.admin, as_of=when)}
             for when in (d1, d2, d3)}
    assert as_of[d1]["op"] == {Role.OPERATOR}
    assert as_of[d2]["op"] == {Role.OPERATOR, Role.QA}
    assert as_of[d3]["op"] == {Role.OPERATOR}
    grants = audit_log.fetch_events(seed.db, seed.admin, audit_log.AuditFilter(entity="role_grant"), limit=1000)
    assert any(e.reason == "CC-1 promotion" and e.username == "admin" for e in grants)
    assert any(e.reason == "CC-2 back" and e.field == "revoked_at" for e in grants)


def test_ac04_only_an_argon2id_hash_is_stored(seed):
    with seed.db.read() as s:
        stored = s.scalar(select(User.password_hash).where(User.username == "qa"))
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_ac04_temporary_password_forces_change(seed):
    users.reset_password(seed.db, seed.admin, username="op", temporary_password=TEMP_PASSWORD, reason="forgot")
    outcome = auth.authenticate(seed.db, username="op", password=TEMP_PASSWORD)
    assert outcome.password_change == "temporary"
    auth.change_own_password(seed.db, outcome.actor, current_password=TEMP_PASSWORD, new_password="Brand-N3w-pw!")
    assert auth.authenticate(seed.db, username="op", password="Brand-N3w-pw!").password_change is None


def test_ac04_reuse_of_recent_passwords_rejected(seed):
    actor = seed.op
    auth.change_own_password(seed.db, actor, current_password=PASSWORD, new_password="Second-Pw-22!")
    with pytest.raises(ValidationError, match="last 5 passwords"):
        auth.change_own_password(seed.db, actor, current_password="Second-Pw-22!", new_password=PASSWORD)


@pytest.mark.parametrize("weak, message", [
    ("Sh0rt!", "at least 10"), ("alllowercaseletters", "three of"), ("My-op-Passw0rd", "user name"),
])
def test_ac04_policy(seed, weak, message):
    with pytest.raises(ValidationError, match=message):
        auth.change_own_password(seed.db, seed.op, current_password=PASSWORD, new_password=weak)


def test_ac04_expired_password_forces_change(seed, clock):
    clock.advance(days=91)
    assert auth.authenticate(seed.db, username="qa", password=PASSWORD).password_change == "expired"


def test_ac05_lockout_after_configured_failures(seed):
    set_setting(seed, "login.max_failures", 3, reason="CC-7")  # approved by QA (SE-02)
    for _ in range(2):
        with pytest.raises(AuthenticationError):
            auth.authenticate(seed.db, username="qa", password="nope")
    with pytest.raises(AccountLocked, match="now locked after 3"):
        auth.authenticate(seed.db, username="qa", password="nope")
    with pytest.raises(AccountLocked):
        auth.authenticate(seed.db, username="qa", password=PASSWORD)
    [lockout] = audit_log.fetch_events(seed.db, seed.admin, audit_log.AuditFilter(action="LOCKOUT"))
    assert lockout.username == "qa" and lockout.workstation == "TEST-WS-01"
    with pytest.raises(ValidationError, match="reason"):
        users.unlock(seed.db, seed.admin, username="qa", reason=" ")
    users.unlock(seed.db, seed.admin, username="qa", reason="identity confirmed by phone")
    assert auth.authenticate(seed.db, username="qa", password=PASSWORD).actor.username == "qa"
    [unlock] = audit_log.fetch_events(seed.db, seed.admin, audit_log.AuditFilter(action="UNLOCK"))
    assert unlock.reason == "identity confirmed by phone" and unlock.username == "admin"


def test_successful_login_resets_the_failure_count(seed):
    for _ in range(4):
        with pytest.raises(AuthenticationError):
            auth.authenticate(seed.db, username="qa", password="nope")
    auth.authenticate(seed.db, username="qa", password=PASSWORD)
    for _ in range(4):
        with pytest.raises(AuthenticationError):
            auth.authenticate(seed.db, username="qa", password="nope")
    assert auth.authenticate(seed.db, username="qa", password=PASSWORD)


def test_locked_actor_cannot_keep_writing(seed):
    for _ in range(5):
        with pytest.raises(AuthenticationError):
            auth.authenticate(seed.db, username="admin", password="nope")
    with pytest.raises(PermissionDenied, match="locked"):
        users.deactivate(seed.db, seed.admin, username="viewer", reason="x")


def test_unknown_user_failure_is_logged_without_revealing(seed):
    with pytest.raises(AuthenticationError, match="wrong user name or password"):
        auth.authenticate(seed.db, username="ghost", password="x")
    [row] = audit_log.fetch_events(seed.db, seed.admin, audit_log.AuditFilter(action="LOGIN_FAILURE"))
    assert row.username == "ghost" and row.reason == "unknown user name"


def test_self_deactivation_refused(seed):
    with pytest.raises(DomainError):
        users.deactivate(seed.db, seed.admin, username="admin", reason="oops")


def test_user_list_dtos(seed):
    listed = {u.username: u for u in users.list_users(seed.db, seed.admin)}
    assert listed["qa"].roles == (Role.QA,) and listed["qa"].status is UserStatus.ACTIVE
    assert not listed["qa"].must_change_password
