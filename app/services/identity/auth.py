"""Log-in, re-authentication for signatures and session resume, lockout, and the user's own password."""

from __future__ import annotations

import dataclasses
import enum

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import User, UserStatus
from app.services.core import audit
from app.services.core import setting_specs as settings  # not site.settings: identity sits below the site
from app.services.core.db import Actor, Database
from app.services.core.errors import AccountInactive, AccountLocked, AuthenticationError, ValidationError
from app.services.identity import dormant, passwords, workstations


class Purpose(enum.Enum):
    """Why credentials are checked; decides which events a success or a failure writes."""

    LOGIN = ("LOGIN_SUCCESS", "LOGIN_FAILURE")
    SIGN = (None, "SIGN_FAIL")
    RESUME = ("SESSION_RESUME", "LOGIN_FAILURE")
    PASSWORD_CHANGE = (None, "LOGIN_FAILURE")


@dataclasses.dataclass(frozen=True)
class LoginOutcome:
    actor: Actor
    # None, or why the password must be changed before anything else ("temporary", "expired").
    password_change: str | None


def actor_for(user: User) -> Actor:
    return Actor(user_id=user.id, username=user.username, full_name=user.full_name, roles=user.current_roles())


def authenticate(db: Database, *, username: str, password: str, purpose: Purpose = Purpose.LOGIN) -> LoginOutcome:
    """Check credentials. Failures are committed to the trail before the error is raised, count toward the
    lockout threshold whatever the purpose (log-in, signature, resume), and lock the account on the Nth.

    The password is checked outside the write transaction (argon2 takes a fifth of a second, and nobody
    else may write meanwhile), and an unknown user name costs the same check as a known one, so the time a
    refusal takes does not tell which user names exist."""
    success_action, failure_action = purpose.value
    if purpose in (Purpose.LOGIN, Purpose.RESUME):
        # An account unused for access.dormant_days is disabled before its log-in is looked at.
        dormant.disable_dormant_accounts(db, actor=Actor.system("dormant-account check"), username=username)
    with db.read() as session:
        stored = session.scalar(select(User.password_hash).where(User.username == username))
    matches = db.hasher.verify(stored if stored is not None else db.hasher.decoy(), password)
    # A hash written with weaker settings (the test profile, an older release) is strengthened at log-in.
    stronger = db.hasher.hash(password) if matches and purpose is Purpose.LOGIN and db.hasher.needs_rehash(
        stored or "") else None
    error: AuthenticationError | None = None
    outcome: LoginOutcome | None = None
    with db.write(Actor.claimed(username), check_actor=False) as session:
        if purpose is Purpose.LOGIN:
            workstations.note_seen(session, db)  # listed for an administrator to register (AC-08)
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            audit.record_event(session, failure_action, reason="unknown user name")
            error = AuthenticationError("wrong user name or password")
        else:
            audit.set_actor(session, actor_for(user))
            now = db.clock.now()
            if user.status is UserStatus.DEACTIVATED:
                audit.record_event(session, failure_action, reason="account deactivated")
                error = AccountInactive(f"the account {username!r} is deactivated and can no longer be used")
            elif user.status is UserStatus.LOCKED:
                audit.record_event(session, failure_action, reason="account locked")
                error = AccountLocked(
                    f"the account {username!r} is locked after repeated failures; an administrator must unlock it"
                )
            elif not (matches if user.password_hash == stored else db.hasher.verify(user.password_hash, password)):
                # (The hash changed meanwhile, e.g. strengthened by a log-in at the same moment: checked again.)
                error = _record_failure(session, user, failure_action)
            elif user.must_change_password and passwords.temporary_expired(session, user, now):
                audit.record_event(session, failure_action, entity="user", entity_id=user.username,
                                   reason="temporary password expired")
                error = AccountInactive(
                    f"the temporary password of {username!r} has expired; an administrator must set a new one "
                    "(Users → Reset password)")
            else:
                user.failed_logins = 0
                if purpose is Purpose.LOGIN:
                    user.last_login_at = now
                if stronger is not None and user.password_hash == stored:
                    with audit.reason(session, "password hash strengthened at log-in"):
                        user.password_hash = stronger
                if success_action:
                    audit.record_event(session, success_action)
                change = "temporary" if user.must_change_password else (
                    "expired" if passwords.is_expired(session, user, now) else None
                )
                outcome = LoginOutcome(actor=actor_for(user), password_change=change)
    if error is not None:
        raise error
    assert outcome is not None
    if purpose is Purpose.LOGIN and not workstations.this_station(db).may_act:
        outcome = dataclasses.replace(outcome, actor=dataclasses.replace(outcome.actor, station_may_act=False))
    return outcome


def _record_failure(session: Session, user: User, failure_action: str) -> AuthenticationError:
    limit = settings.get(session, "login.max_failures")
    user.failed_logins += 1
    audit.record_event(
        session, failure_action, entity="user", entity_id=user.username,
        reason=f"wrong password ({user.failed_logins} of {limit} consecutive failures)",
    )
    if user.failed_logins < limit:
        return AuthenticationError("wrong user name or password")
    with audit.reason(session, f"{limit} consecutive failed authentications"):
        user.status = UserStatus.LOCKED
        audit.record_event(session, "LOCKOUT", entity="user", entity_id=user.username)
    return AccountLocked(
        f"wrong password: the account {user.username!r} is now locked after {limit} consecutive failures; "
        "an administrator must unlock it"
    )


def logout(db: Database, actor: Actor) -> None:
    with db.write(actor, check_actor=False) as session:
        audit.record_event(session, "LOGOUT")


def lock_session(db: Database, actor: Actor, *, why: str = "idle timeout") -> None:
    with db.write(actor, check_actor=False) as session:
        audit.record_event(session, "SESSION_LOCK", reason=why)


def change_own_password(db: Database, actor: Actor, *, current_password: str, new_password: str) -> None:
    """The acting user sets a new password; the current one is asked again (and a wrong one counts)."""
    if current_password == new_password:
        raise ValidationError("the new password must differ from the current one")
    authenticate(db, username=actor.username, password=current_password, purpose=Purpose.PASSWORD_CHANGE)
    with db.write(actor, reason="password changed by its owner") as session:
        user = session.scalars(select(User).where(User.id == actor.user_id)).one()
        passwords.check_policy(session, db.hasher, user=user, password=new_password)
        passwords.store_new_password(
            session, db.hasher, user=user, password=new_password, temporary=False, now=db.clock.now()
        )
