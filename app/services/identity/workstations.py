"""Registered workstations (21 CFR 11.10(h), AC-08): only stations an administrator registered may sign, issue,
print controlled forms or import scans; any station may read.

A station is one installation of Formtrail, known by a random id created once and kept in the user's
configuration folder (app/runtime.py), beside the computer's host name. What that id can and cannot prove: it
tells installations apart and stays the same across restarts and host renames, so the audit trail names the
registered station an act came from. It is a file, not hardware: someone who copies it to another computer makes
that computer present the registered id (the copy *is* the registered station as far as Formtrail can tell; the
host name recorded when it is seen may differ and shows it). It is a device check beside, not instead of, the
person's own credentials, which every act still needs.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import AuditEvent
from app.models.stations import StationStatus, Workstation
from app.services.core import audit, limits
from app.services.core.db import Actor, Database, station_label
from app.services.core.error_codes import ErrorCode
from app.services.core.errors import NotFound, PermissionDenied, ValidationError
from app.services.identity.permissions import Permission, allowed, require, require_any

GENERATED_ID = re.compile(r"[0-9a-f]{32}")  # app/runtime.py station_id()
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$")


@dataclasses.dataclass(frozen=True)
class StationInfo:
    station_id: str
    host: str
    name: str | None
    status: StationStatus
    first_seen_at: dt.datetime
    last_seen_at: dt.datetime
    registered_at: dt.datetime | None
    registered_by: str | None
    retired_at: dt.datetime | None
    retired_by: str | None
    retire_reason: str | None
    # What the acting user may do to it (the acts below refuse the same; the Workstations page asks these).
    may_register: bool = False
    may_rename: bool = False
    may_retire: bool = False

    @property
    def status_text(self) -> str:
        return "seen, not registered" if self.status is StationStatus.SEEN else self.status.value


@dataclasses.dataclass(frozen=True)
class ThisStation:
    """The station this process runs on, as the GUI's banner and the CLI's `workstation whoami` show it."""

    station_id: str
    host: str
    label: str  # what audit events record for it
    registered: bool
    may_act: bool  # sign, issue, print controlled forms, import scans
    why_not: str | None


def _info(row: Workstation, actor: Actor | None) -> StationInfo:
    manage = actor is not None and allowed(actor, Permission.MANAGE_WORKSTATIONS)
    return StationInfo(
        station_id=row.station_id, host=row.host, name=row.name, status=row.status, first_seen_at=row.first_seen_at,
        last_seen_at=row.last_seen_at, registered_at=row.registered_at, registered_by=row.registered_by,
        retired_at=row.retired_at, retired_by=row.retired_by, retire_reason=row.retire_reason,
        may_register=manage and row.status is StationStatus.SEEN,
        may_rename=manage and row.status is StationStatus.REGISTERED,
        may_retire=manage and row.status is StationStatus.REGISTERED,
    )


def refusal_text(db: Database, label: str, registered_status: StationStatus | None, act: str) -> str:
    state = "retired" if registered_status is StationStatus.RETIRED else "not registered"
    return (f"this workstation ({label}) is {state}: it may read but not {act}. Ask an administrator to register "
            f"it (Admin → Workstations, or `formtrail workstation register {db.workstation[:8]}… --name NAME`)")


def _status(session: Session, db: Database) -> StationStatus | None:
    return session.scalar(select(Workstation.status).where(Workstation.station_id == db.workstation))


def this_station(db: Database) -> ThisStation:
    with db.read() as session:
        status = _status(session, db)
        label = station_label(session, db.workstation, db.host)
    registered = status is StationStatus.REGISTERED
    return ThisStation(station_id=db.workstation, host=db.host, label=label, registered=registered,
                       may_act=registered,
                       why_not=None if registered else refusal_text(db, label, status, "sign, issue, print or import"))


def station_refusal(session: Session, db: Database, act: str) -> PermissionDenied | None:
    """Why this station may not ``act`` (None: it is registered)."""
    status = _status(session, db)
    if status is StationStatus.REGISTERED:
        return None
    return PermissionDenied(refusal_text(db, station_label(session, db.workstation, db.host), status, act),
                            code=ErrorCode.WORKSTATION_NOT_REGISTERED)


def require_registered(db: Database, actor: Actor, act: str) -> None:
    """Refuse (and log) ``act`` (sign, issue, print controlled forms, import scans) at a station that is not
    registered, or is retired."""
    with db.read() as session:
        refusal = station_refusal(session, db, act)
    if refusal is not None:
        db.record_refusal(actor, refusal)
        raise refusal


def note_seen(session: Session, db: Database) -> None:
    """Inside a log-in attempt's write: a station seen for the first time is listed ("seen, not registered") for
    an administrator to register; a known one gets its last-seen time and current host name."""
    row = session.scalar(select(Workstation).where(Workstation.station_id == db.workstation))
    now = db.clock.now()
    if row is None:
        with audit.reason(session, "workstation seen for the first time"):
            session.add(Workstation(station_id=db.workstation[:64], host=(db.host or "?")[:255],
                                    status=StationStatus.SEEN, first_seen_at=now, last_seen_at=now))
    else:
        row.last_seen_at = now
        if db.host and row.host != db.host[:255]:
            with audit.reason(session, "workstation seen under another host name"):
                row.host = db.host[:255]


def own_station_name(session: Session, db: Database) -> str:
    """The name first-run set-up registers the station it runs on under: its host name (or its id when no host name
    is known). The set-up's events carry it from the start of its transaction, which registers it at the end."""
    # An id the administrator set (FORMTRAIL_WORKSTATION, e.g. "qc-lab-1") names the station; a generated one
    # (32 hex digits) does not: the host name does.
    generated = GENERATED_ID.fullmatch(db.workstation) is not None
    wanted = (db.host if generated and db.host else db.workstation)[:64].strip()
    name = _free_name(session, wanted or "first-station")
    session.info[audit.CONTEXT_KEY].workstation = name
    return name


def register_own_station(session: Session, db: Database, *, name: str, by: str) -> None:
    now = db.clock.now()
    session.add(Workstation(station_id=db.workstation[:64], host=(db.host or "?")[:255], name=name,
                            status=StationStatus.REGISTERED, first_seen_at=now, last_seen_at=now, registered_at=now,
                            registered_by=by))
    session.flush()


def _free_name(session: Session, wanted: str) -> str:
    name, n = wanted, 1
    while _name_used(session, name, station_id=None):
        n += 1
        name = f"{wanted[:60]}-{n}"
    return name


def _name_used(session: Session, name: str, *, station_id: str | None) -> bool:
    """A name belongs to one station for ever: held now by another station, or held once (renamed away), since
    old audit events record it."""
    holder = session.scalar(select(Workstation.station_id).where(Workstation.name == name))
    if holder is not None and holder != station_id:
        return True
    earlier = session.scalar(select(AuditEvent.entity_id).where(
        AuditEvent.entity == "workstation", AuditEvent.field == "name", AuditEvent.old_value == name).limit(1))
    return earlier is not None and earlier != station_id


def _checked_name(session: Session, name: str, *, station_id: str | None) -> str:
    name = (name or "").strip()
    if not NAME_RE.match(name):
        raise ValidationError("a workstation name is 1-64 letters, digits, spaces, '.', '_' or '-', starting with a "
                              "letter or digit, e.g. QC-LAB-PC3")
    if _name_used(session, name, station_id=station_id):
        raise ValidationError(f"the name {name!r} is (or was) another workstation's; names are never reused",
                              code=ErrorCode.WORKSTATION_NAME_TAKEN)
    return name


def _find(session: Session, key: str) -> Workstation:
    """A station by its name, its full id or an unambiguous prefix of its id (as `whoami` and lists show it)."""
    key = key.strip().rstrip("…")
    row = session.scalar(select(Workstation).where(Workstation.name == key)) or session.scalar(
        select(Workstation).where(Workstation.station_id == key))
    if row is None and key:
        rows = list(session.scalars(select(Workstation).where(Workstation.station_id.startswith(key, autoescape=True))))
        if len(rows) > 1:
            raise ValidationError(f"{key!r} matches {len(rows)} workstations; give more of the id")
        row = rows[0] if rows else None
    if row is None:
        raise NotFound(f"no workstation named or with the id {key!r}")
    return row


def list_stations(db: Database, actor: Actor) -> list[StationInfo]:
    require_any(db, actor, Permission.MANAGE_WORKSTATIONS, Permission.VIEW_AUDIT)
    with db.read() as session:
        rows = session.scalars(select(Workstation).order_by(Workstation.status, Workstation.name,
                                                            Workstation.first_seen_at))
        return [_info(r, actor) for r in rows]


def register(db: Database, actor: Actor, *, station: str, name: str) -> StationInfo:
    """Register a station seen connecting (or not yet seen, by its full id) under ``name``."""
    require(db, actor, Permission.MANAGE_WORKSTATIONS)
    with db.write(actor, reason="workstation registered") as session:
        try:
            row = _find(session, station)
        except NotFound:
            if not station.strip():
                raise
            now = db.clock.now()  # registered before it ever connected: by its full id (as `whoami` shows it)
            row = Workstation(station_id=station.strip()[:64], host="?", status=StationStatus.SEEN,
                              first_seen_at=now, last_seen_at=now)
            session.add(row)
        if row.status is not StationStatus.SEEN:
            raise ValidationError(f"the workstation {row.name or row.station_id} is already {row.status.value}")
        row.name = _checked_name(session, name, station_id=row.station_id)
        row.status, row.registered_at, row.registered_by = StationStatus.REGISTERED, db.clock.now(), actor.username
        session.flush()
        return _info(row, actor)


def rename(db: Database, actor: Actor, *, station: str, new_name: str, reason: str) -> StationInfo:
    require(db, actor, Permission.MANAGE_WORKSTATIONS)
    why = limits.checked("reason", reason, required="renaming a workstation needs a reason")
    with db.write(actor, reason=f"workstation renamed: {why}") as session:
        row = _find(session, station)
        if row.status is not StationStatus.REGISTERED:
            raise ValidationError(f"only a registered workstation is renamed; {row.name or row.station_id} is "
                                  f"{row.status.value}")
        row.name = _checked_name(session, new_name, station_id=row.station_id)
        session.flush()
        return _info(row, actor)


def retire(db: Database, actor: Actor, *, station: str, reason: str) -> StationInfo:
    """A retired station may read only; it keeps its name (old events record it) and is never registered again
    (a new installation gets a new id)."""
    require(db, actor, Permission.MANAGE_WORKSTATIONS)
    why = limits.checked("reason", reason, required="retiring a workstation needs a reason")
    with db.write(actor, reason=f"workstation retired: {why}") as session:
        row = _find(session, station)
        if row.status is not StationStatus.REGISTERED:
            raise ValidationError(f"the workstation {row.name or row.station_id} is not registered")
        row.status, row.retired_at, row.retired_by, row.retire_reason = (
            StationStatus.RETIRED, db.clock.now(), actor.username, why)
        session.flush()
        return _info(row, actor)
