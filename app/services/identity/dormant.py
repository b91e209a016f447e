"""Dormant accounts: an account not used for ``access.dormant_days`` (0 = never) is deactivated, with the reason
"dormant: no log-in since …" on the audit trail. Run by the headless schedule for every account and at each log-in
attempt for the account concerned, so a dormant account cannot log in. The last active administrator is never
disabled this way: someone must be able to manage the accounts.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.models import Role, User, UserStatus
from app.services.core import audit
from app.services.core import setting_specs as settings
from app.services.core.db import Actor, Database

USABLE = (UserStatus.ACTIVE, UserStatus.LOCKED)  # a locked account can be unlocked: it still counts as in use


def _last_used(user: User) -> dt.datetime:
    return user.last_login_at or user.created_at


def _dormant(session: Session, now: dt.datetime, username: str | None) -> list[User]:
    days = int(settings.get(session, "access.dormant_days"))
    if days <= 0:
        return []
    cutoff = now - dt.timedelta(days=days)
    query = select(User).options(selectinload(User.grants)).where(User.status.in_(USABLE))
    users = list(session.scalars(query))
    dormant = [u for u in users if _last_used(u) < cutoff and (username is None or u.username == username)]
    admins = [u for u in users if u.status is UserStatus.ACTIVE and Role.ADMINISTRATOR in u.current_roles()]
    if admins and all(a in dormant for a in admins):
        # Keep the most recently used administrator account (AC: never lock out the last active administrator).
        dormant.remove(max(admins, key=_last_used))
    return dormant


def disable_dormant_accounts(db: Database, *, actor: Actor, username: str | None = None) -> list[str]:
    """Deactivate every dormant account (or just ``username``'s); returns the user names disabled."""
    now = db.clock.now()
    with db.read() as session:
        if not _dormant(session, now, username):  # the usual case costs a read, not a write
            return []
    disabled = []
    with db.write(actor, reason="dormant accounts disabled") as session:
        for user in _dormant(session, now, username):
            why = (f"dormant: no log-in since {_last_used(user):%Y-%m-%d}" if user.last_login_at else
                   f"dormant: never logged in since the account was created on {user.created_at:%Y-%m-%d}")
            with audit.reason(session, why):
                user.status, user.deactivation_reason, user.deactivated_at = UserStatus.DEACTIVATED, why, now
            disabled.append(user.username)
    return disabled
