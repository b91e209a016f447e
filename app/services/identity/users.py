"""User administration: accounts, roles, deactivation, unlock, temporary passwords (administrators only)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.models import Role, RoleGrant, User, UserStatus
from app.services.core import audit, limits
from app.services.core.db import Actor, Database
from app.services.core.errors import DomainError, NotFound, ValidationError
from app.services.identity import passwords
from app.services.identity.permissions import Permission, allowed, require

USERNAME_RE = re.compile(r"^[a-z][a-z0-9._-]{1,63}$")
# The administrator keeps the system running; holding a GMP role as well would let one account both
# configure the system and create or sign GMP data (Annex 11 segregation of duties).
_COMBINABLE_WITH_ADMIN = frozenset({Role.ADMINISTRATOR, Role.VIEWER})


@dataclasses.dataclass(frozen=True)
class UserInfo:
    id: int
    username: str
    full_name: str
    roles: tuple[Role, ...]
    status: UserStatus
    must_change_password: bool
    failed_logins: int
    created_at: dt.datetime
    last_login_at: dt.datetime | None
    deactivation_reason: str | None
    deactivated_at: dt.datetime | None
    # What the acting user may do to this account (the acts below refuse the same; the users page asks these).
    may_manage: bool = False  # change roles, reset the password
    may_deactivate: bool = False
    may_unlock: bool = False

    @property
    def role_titles(self) -> str:
        return ", ".join(r.title for r in self.roles)


@dataclasses.dataclass(frozen=True)
class AuthorizedUser:
    username: str
    full_name: str
    roles: tuple[Role, ...]


def _info(user: User, actor: Actor | None = None) -> UserInfo:
    manage = (actor is not None and allowed(actor, Permission.MANAGE_USERS)
              and user.status is not UserStatus.DEACTIVATED)
    return UserInfo(
        id=user.id, username=user.username, full_name=user.full_name,
        roles=tuple(sorted(user.current_roles(), key=lambda r: list(Role).index(r))),
        status=user.status, must_change_password=user.must_change_password,
        failed_logins=user.failed_logins, created_at=user.created_at, last_login_at=user.last_login_at,
        deactivation_reason=user.deactivation_reason, deactivated_at=user.deactivated_at,
        may_manage=manage, may_deactivate=manage and actor is not None and user.id != actor.user_id,
        may_unlock=manage and user.status is UserStatus.LOCKED,
    )


def validate_roles(roles: Iterable[Role]) -> frozenset[Role]:
    chosen = frozenset(roles)
    if not chosen:
        raise ValidationError("give the user at least one role")
    if Role.ADMINISTRATOR in chosen and not chosen <= _COMBINABLE_WITH_ADMIN:
        raise ValidationError(
            "an administrator account cannot also hold a GMP role (Document Control, Operator, QA); "
            "create a separate account for GMP work"
        )
    return chosen


def _require_reason(reason: str | None, what: str) -> str:
    if reason is None or not reason.strip():
        raise ValidationError(f"{what} needs a reason")
    return reason.strip()


def _load(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username).options(selectinload(User.grants)))
    if user is None:
        raise NotFound(f"no user named {username!r}")
    return user


def new_user(
    session: Session, hasher: passwords.PasswordHasher, *, username: str, full_name: str, roles: Iterable[Role],
    password: str, temporary: bool, granted_by: str, now: dt.datetime,
) -> User:
    """Create the account rows (shared by user administration and first-run set-up)."""
    username = username.strip()
    if not USERNAME_RE.match(username):
        raise ValidationError(
            "user names are 2-64 characters: lower-case letters, digits, '.', '_' or '-', starting with a letter"
        )
    limits.checked("full_name", full_name, required="the full name is printed in signature manifestations "
                                                     "and cannot be empty")
    chosen = validate_roles(roles)
    existing = session.scalar(select(User).where(User.username == username))
    if existing is not None:
        when = f" (deactivated {existing.deactivated_at:%Y-%m-%d})" if existing.deactivated_at else ""
        raise ValidationError(f"the user name {username!r} already exists{when}; user names are never reused")
    passwords.check_policy(session, hasher, user=None, password=password)
    if username.lower() in password.lower():
        raise ValidationError("the password must not contain the user name")
    user = User(
        username=username, full_name=full_name.strip(), password_hash="", password_changed_at=now,
        must_change_password=temporary, status=UserStatus.ACTIVE, failed_logins=0, created_at=now,
    )
    session.add(user)
    passwords.store_new_password(session, hasher, user=user, password=password, temporary=temporary, now=now)
    for role in sorted(chosen, key=lambda r: r.value):
        session.add(RoleGrant(user=user, role=role, granted_at=now, granted_by=granted_by))
    return user


def create_user(
    db: Database, actor: Actor, *, username: str, full_name: str, roles: Iterable[Role], temporary_password: str
) -> UserInfo:
    require(db, actor, Permission.MANAGE_USERS)
    with db.write(actor, reason="new user account") as session:
        user = new_user(
            session, db.hasher, username=username, full_name=full_name, roles=roles,
            password=temporary_password, temporary=True, granted_by=actor.username, now=db.clock.now(),
        )
        session.flush()
        return _info(user, actor)


def list_users(db: Database, actor: Actor) -> list[UserInfo]:
    require(db, actor, Permission.VIEW_AUDIT)
    with db.read() as session:
        users = session.scalars(select(User).options(selectinload(User.grants)).order_by(User.username))
        return [_info(u, actor) for u in users]


def set_roles(db: Database, actor: Actor, *, username: str, roles: Iterable[Role], reason: str) -> UserInfo:
    require(db, actor, Permission.MANAGE_USERS)
    reason = _require_reason(reason, "changing roles")
    wanted = validate_roles(roles)
    with db.write(actor, reason=reason) as session:
        user = _load(session, username)
        _refuse_if_deactivated(user)
        if user.id == actor.user_id and Role.ADMINISTRATOR not in wanted:
            raise DomainError("you cannot remove your own administrator role; ask another administrator")
        now = db.clock.now()
        for grant in user.grants:
            if grant.revoked_at is None and grant.role not in wanted:
                grant.revoked_at, grant.revoked_by = now, actor.username
        for role in sorted(wanted - user.current_roles(), key=lambda r: r.value):
            user.grants.append(RoleGrant(role=role, granted_at=now, granted_by=actor.username))
        session.flush()
        return _info(user, actor)


def deactivate(db: Database, actor: Actor, *, username: str, reason: str) -> UserInfo:
    require(db, actor, Permission.MANAGE_USERS)
    reason = _require_reason(reason, "deactivating an account")
    with db.write(actor, reason=reason) as session:
        user = _load(session, username)
        _refuse_if_deactivated(user)
        if user.id == actor.user_id:
            raise DomainError("you cannot deactivate your own account; ask another administrator")
        user.status = UserStatus.DEACTIVATED
        user.deactivation_reason = reason
        user.deactivated_at = db.clock.now()
        session.flush()
        return _info(user, actor)


def unlock(db: Database, actor: Actor, *, username: str, reason: str) -> UserInfo:
    require(db, actor, Permission.MANAGE_USERS)
    reason = _require_reason(reason, "unlocking an account")
    with db.write(actor, reason=reason) as session:
        user = _load(session, username)
        if user.status is not UserStatus.LOCKED:
            raise DomainError(f"the account {username!r} is {user.status.value}, not locked")
        user.status = UserStatus.ACTIVE
        user.failed_logins = 0
        audit.record_event(session, "UNLOCK", entity="user", entity_id=user.username)
        return _info(user, actor)


def reset_password(db: Database, actor: Actor, *, username: str, temporary_password: str, reason: str) -> UserInfo:
    """Give the user a temporary password they must change at the next log-in."""
    require(db, actor, Permission.MANAGE_USERS)
    reason = _require_reason(reason, "resetting a password")
    with db.write(actor, reason=reason) as session:
        user = _load(session, username)
        _refuse_if_deactivated(user)
        # History is not checked: a temporary password is replaced at the next log-in, where it is.
        passwords.check_policy(session, db.hasher, user=None, password=temporary_password)
        passwords.store_new_password(
            session, db.hasher, user=user, password=temporary_password, temporary=True, now=db.clock.now()
        )
        session.flush()
        return _info(user, actor)


def authorized_users(db: Database, actor: Actor, *, as_of: dt.datetime) -> list[AuthorizedUser]:
    """Who held which roles at ``as_of`` (AC-03), from the role grant periods."""
    require(db, actor, Permission.VIEW_AUDIT)
    with db.read() as session:
        users = session.scalars(select(User).options(selectinload(User.grants)).order_by(User.username)).all()
        result = []
        for user in users:
            if user.created_at > as_of or (user.deactivated_at is not None and user.deactivated_at <= as_of):
                continue
            roles = {
                g.role for g in user.grants
                if g.granted_at <= as_of and (g.revoked_at is None or g.revoked_at > as_of)
            }
            if roles:
                result.append(AuthorizedUser(
                    username=user.username, full_name=user.full_name,
                    roles=tuple(r for r in Role if r in roles),
                ))
        return result


def _refuse_if_deactivated(user: User) -> None:
    if user.status is UserStatus.DEACTIVATED:
        raise DomainError(f"the account {user.username!r} is deactivated; deactivation is final")
