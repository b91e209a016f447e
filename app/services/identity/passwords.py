"""Password hashing (argon2id) and the password policy."""

from __future__ import annotations

import datetime as dt

import argon2
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import PasswordHistory, User
from app.services.core import setting_specs as settings
from app.services.core.errors import ValidationError


class PasswordHasher:
    """argon2id with a salt per hash. ``profile='fast'`` lowers the cost for the test suite only; the
    parameters are stored in every hash, so verification works whichever profile wrote it."""

    def __init__(self, profile: str = "standard") -> None:
        self._decoy: str | None = None
        if profile == "fast":
            self._hasher = argon2.PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
        else:
            # RFC 9106 second recommended option (64 MiB, 3 passes), argon2-cffi's default.
            self._hasher = argon2.PasswordHasher()

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def decoy(self) -> str:
        """A hash of no one's password, checked for unknown user names so that they cost the same time."""
        if self._decoy is None:
            self._decoy = self._hasher.hash("formtrail: no such user")
        return self._decoy

    def needs_rehash(self, stored_hash: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(stored_hash)
        except argon2.exceptions.InvalidHashError:
            return True

    def verify(self, stored_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash, password)
        except (argon2.exceptions.VerifyMismatchError, argon2.exceptions.InvalidHashError):
            return False
        except argon2.exceptions.VerificationError:
            return False


def check_policy(session: Session, hasher: PasswordHasher, *, user: User | None, password: str) -> None:
    """Refuse a new password that is too short, too simple or among the last N of this user."""
    min_length = settings.get(session, "password.min_length")
    if len(password) < min_length:
        raise ValidationError(f"the password must have at least {min_length} characters")
    classes = sum((
        any(c.islower() for c in password), any(c.isupper() for c in password),
        any(c.isdigit() for c in password), any(not c.isalnum() for c in password),
    ))
    if classes < 3:
        raise ValidationError(
            "the password must mix at least three of: lower-case letters, capitals, digits, symbols"
        )
    if user is None:
        return
    if user.username.lower() in password.lower():
        raise ValidationError("the password must not contain the user name")
    keep = settings.get(session, "password.history")
    if keep <= 0:
        return
    recent = session.scalars(
        select(PasswordHistory.password_hash).where(PasswordHistory.user_id == user.id)
        .order_by(PasswordHistory.id.desc()).limit(keep)
    ).all()
    if any(hasher.verify(old, password) for old in recent):
        raise ValidationError(f"the password must differ from the last {keep} passwords of this account")


def temporary_expired(session: Session, user: User, now: dt.datetime) -> bool:
    """A temporary password (set by an administrator) not replaced by its user within the allowed time."""
    hours = settings.get(session, "password.temporary_hours")
    return bool(hours) and now - user.password_changed_at > dt.timedelta(hours=hours)


def is_expired(session: Session, user: User, now: dt.datetime) -> bool:
    days = settings.get(session, "password.expiry_days")
    return bool(days) and now - user.password_changed_at > dt.timedelta(days=days)


def store_new_password(
    session: Session, hasher: PasswordHasher, *, user: User, password: str, temporary: bool, now: dt.datetime
) -> None:
    user.password_hash = hasher.hash(password)
    user.password_changed_at = now
    user.must_change_password = temporary
    session.add(PasswordHistory(user=user, password_hash=user.password_hash, set_at=now))
