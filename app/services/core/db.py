"""The database collaborator every service takes: sessions, the acting user, the clock, the workstation.

Writes happen only inside ``Database.write``: one transaction in which the audit mechanism
(``app.services.core.audit``) records every change to controlled data. A refused action (permission or GMP rule)
rolls the transaction back and is then itself written to the audit trail in a transaction of its own.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from typing import TYPE_CHECKING

from sqlalchemy import inspect, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.models import Role, Site, User, UserStatus
from app.models.stations import StationStatus, Workstation
from app.services.core import anchors, audit, limits, server_audit, stored
from app.services.core.clock import Clock
from app.services.core.errors import PermissionDenied, RuleViolation
from app.services.core.filestore import FileStore
from app.services.core.keys import KEYRING_KEY, KeyRing, KeysMissing, KeyStore

if TYPE_CHECKING:
    from app.services.identity.passwords import PasswordHasher


@dataclasses.dataclass(frozen=True)
class Actor:
    """Who is acting. ``user_id`` is None for the installer (before any user exists) and for a log-in
    attempt under a name that does not exist."""

    user_id: int | None
    username: str
    full_name: str
    roles: frozenset[Role] = frozenset()
    # AC-08: False when the session was opened at a workstation that is not registered (or retired): the
    # services refuse its signing, issuing and importing, and ``permissions.allowed`` answers no for them, so
    # the views (and the screens built from them) do not offer them.
    station_may_act: bool = True

    @classmethod
    def system(cls, what: str = "SYSTEM") -> Actor:
        return cls(user_id=None, username="SYSTEM", full_name=what)

    @classmethod
    def claimed(cls, username: str) -> Actor:
        """Someone who typed a user name that does not exist (failed log-in)."""
        return cls(user_id=None, username=username, full_name="(unknown user)")

    def has(self, role: Role) -> bool:
        return role in self.roles


@dataclasses.dataclass
class Database:
    engine: Engine
    clock: Clock
    workstation: str
    hasher: PasswordHasher
    files: FileStore
    display_url: str = ""
    keys: KeyStore | None = None  # where the site's key file is; None only for throwaway tools
    host: str = ""  # the computer's host name, beside the per-installation ``workstation`` id (AC-08)
    _read: sessionmaker[Session] = dataclasses.field(init=False, repr=False)
    _site_code: str | None = dataclasses.field(init=False, default=None, repr=False)
    _stations: bool = dataclasses.field(init=False, default=False, repr=False)  # the workstation table exists
    _write: sessionmaker[Session] = dataclasses.field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._write = sessionmaker(
            self.engine.execution_options(formtrail_write=True), expire_on_commit=False
        )
        audit.install(self._read)
        audit.install(self._write)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def site_code(self) -> str | None:
        if self._site_code is None:
            with self.engine.connect() as conn:
                self._site_code = conn.execute(select(Site.code)).scalar()
        return self._site_code

    def keyring(self) -> KeyRing:
        """The site's keys (KeysMissing if the key file is not there, or before the site is set up)."""
        code = self.site_code()
        if code is None or self.keys is None:
            raise KeysMissing("this database has no site (or no key folder) yet: set up the site first")
        return self.keys.ring(code)

    @contextlib.contextmanager
    def read(self, actor: Actor | None = None) -> Iterator[Session]:
        """A read-only session; flushing a change to controlled data in it is refused by the audit mechanism.
        With ``actor``, a refusal raised inside (a rule checked before a signature is asked for) is written to
        the audit trail like one raised in a write: every refusal is recorded, whatever session found it."""
        session = self._read()
        session.info[KEYRING_KEY] = self.keyring
        try:
            with stored.translated():
                yield session
        except (PermissionDenied, RuleViolation) as refusal:
            session.close()
            if actor is not None:
                self.record_refusal(actor, refusal)
            raise
        finally:
            # close() ends the transaction without expiring what was loaded (rollback() would).
            session.close()

    @contextlib.contextmanager
    def write(self, actor: Actor, *, reason: str | None = None, check_actor: bool = True,
              anchor: bool = False) -> Iterator[Session]:
        """One audited transaction on behalf of ``actor``; commits when the block ends without error. The
        chain head is then anchored in the file store if the last anchor is old, or always with ``anchor``."""
        limits.checked("reason", reason)  # every reason written to the trail, whichever service gave it
        session = self._write()
        session.info[KEYRING_KEY] = self.keyring
        context = audit.AuditContext(actor=actor, workstation=self.workstation, clock=self.clock, reason=reason)
        session.info[audit.CONTEXT_KEY] = context
        try:
            server_audit.claim(session, actor.username)
            if self._has_stations(session):
                context.workstation = station_label(session, self.workstation, self.host)
            with stored.translated():
                if check_actor and actor.user_id is not None:
                    _ensure_actor_can_act(session, actor)
                yield session
                session.commit()
            anchors.maybe_write(self, force=anchor)
        except (PermissionDenied, RuleViolation) as refusal:
            session.rollback()
            session.close()
            self.record_refusal(actor, refusal)
            raise
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def _has_stations(self, session: Session) -> bool:
        """A database still at a schema before registered workstations (being upgraded, or refusing to be) writes
        its few events under the bare station id; asked until the table is there, then never again."""
        if not self._stations:
            self._stations = inspect(session.connection()).has_table(Workstation.__tablename__)
        return self._stations

    def record_refusal(self, actor: Actor, refusal: PermissionDenied | RuleViolation) -> None:
        """Write a refused attempt to the trail (once, however many layers see the exception)."""
        if getattr(refusal, "recorded", False):
            return
        refusal.recorded = True  # type: ignore[union-attr]
        with self.write(actor, check_actor=False) as session:
            audit.record_event(session, refusal.audit_action, reason=str(refusal))


def station_label(session: Session, station_id: str, host: str) -> str:
    """What audit events record as the workstation (AC-08): the name an administrator registered this
    installation's id under, or "unregistered:<host>/<id prefix>" ("retired:<name>") for a station that may only
    read. Read in each write, so a registration made at another station applies at once."""
    row = session.execute(select(Workstation.name, Workstation.status)
                          .where(Workstation.station_id == station_id)).first()
    if row is not None and row.name and row.status is StationStatus.REGISTERED:
        return str(row.name)
    if row is not None and row.name and row.status is StationStatus.RETIRED:
        return f"retired:{row.name}"[:64]
    return f"unregistered:{(host or '?')[:120]}/{station_id[:8]}"


def _ensure_actor_can_act(session: Session, actor: Actor) -> None:
    status = session.scalar(select(User.status).where(User.id == actor.user_id))
    if status is not UserStatus.ACTIVE:
        state = "locked" if status is UserStatus.LOCKED else "deactivated"
        raise PermissionDenied(
            f"the account {actor.username!r} is {state}; log in again after an administrator has unlocked it"
        )
