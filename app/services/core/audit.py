"""The one audit mechanism: session events that write the hash-chained audit trail in the same transaction.

Every insert and update of a ``Controlled`` entity becomes audit events during the flush that writes it
(one CREATE event per new row, one event per changed field), so no service can change controlled data
without leaving a trace, and no audit call is scattered through the code. System events (log-in, lockout,
export, refusals) are written with ``record_event`` through the same chain writer.

Each row's ``hash`` is an HMAC, under the site's chain key (``app.services.core.keys``, kept outside the
database), of its content and its predecessor's hash: someone holding the database and the source code but
not the key can neither rewrite a row and recompute the chain, nor append a row that fits. Rows written
before keys left the database (``key_version`` NULL) keep their plain SHA-256; the first keyed row after them
seals them, and no unkeyed row may follow a keyed one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import decimal
import enum
import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import event, insert, inspect, select, text
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.attributes import get_history

from app.models import AuditEvent, Controlled
from app.services.core import incidents, keys
from app.services.core.clock import Clock
from app.services.core.errors import PermissionDenied

CONTEXT_KEY = "formtrail.audit"
_HEAD_KEY = "formtrail.audit.head"
GENESIS_HASH = "0" * 64
REDACTED = "[redacted]"
# Any constant works; it only has to be the same for every workstation of a site.
_PG_CHAIN_LOCK = 7_305_410_001

CHAIN_FIELDS = (
    "seq", "occurred_at", "user_id", "username", "full_name", "workstation", "action", "entity",
    "entity_id", "field", "old_value", "new_value", "reason", "prev_hash",
)
ROW_FIELDS = (*CHAIN_FIELDS, "key_version")
canonical_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


@dataclasses.dataclass
class AuditContext:
    actor: Any  # app.services.core.db.Actor (not imported: db imports this module)
    workstation: str
    clock: Clock
    reason: str | None = None


def install(sessions: sessionmaker[Session]) -> None:
    event.listen(sessions, "before_flush", _before_flush)
    event.listen(sessions, "after_flush", _after_flush)
    # The cached chain head is only valid inside the transaction (or savepoint) that read it.
    event.listen(sessions, "after_transaction_end", lambda session, _t: session.info.pop(_HEAD_KEY, None))
    # Issue 16 / safety: the incidents the events of a transaction call for, written before it commits (SE-03).
    event.listen(sessions, "before_commit", incidents.open_noted)


@contextlib.contextmanager
def reason(session: Session, text: str | None) -> Iterator[None]:
    """Give the changes made inside the block their own reason, then restore the previous one."""
    session.flush()
    ctx = _context(session)
    before, ctx.reason = ctx.reason, text
    try:
        yield
        session.flush()
    finally:
        ctx.reason = before


def set_actor(session: Session, actor: Any) -> None:
    """Attribute what follows to ``actor`` (used once a log-in attempt has named an existing account)."""
    session.flush()
    _context(session).actor = actor


def record_event(
    session: Session,
    action: str,
    *,
    entity: str | None = None,
    entity_id: str | None = None,
    field: str | None = None,
    old: Any = None,
    new: Any = None,
    reason: str | None = None,
) -> None:
    """Append a system event (log-in, lockout, export, print, refusal...) to the chain."""
    session.flush()
    ctx = _context(session)
    _append(session, [dict(
        action=action, entity=entity, entity_id=entity_id, field=field,
        old_value=format_value(old), new_value=format_value(new),
        reason=reason if reason is not None else ctx.reason,
    )])


def chain_head(session: Session) -> tuple[int, str]:
    """(number of events, hash of the last one): the anchor printed on reports."""
    row = session.execute(select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)).first()
    return (row.seq, row.hash) if row else (0, GENESIS_HASH)


def compute_hash(row: dict[str, Any], key: bytes | None = None) -> str:
    """The row's hash: HMAC-SHA256 under the chain key of the row's ``key_version`` (``key``), or, for a row
    written before keys existed (``key_version`` None), plain SHA-256."""
    when = row["occurred_at"]
    payload = [iso_utc(when) if isinstance(when, dt.datetime) else when,
               *(row[name] for name in CHAIN_FIELDS[2:])]
    payload.insert(0, row["seq"])
    version = row.get("key_version")
    if version is None:
        return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()
    if key is None:
        raise ValueError("a keyed audit row needs the chain key to be hashed")
    payload.append(version)
    return hmac.digest(key, canonical_json(payload).encode("utf-8"), "sha256").hex()


def iso_utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def format_value(value: Any) -> str | None:
    """How a value is written into the trail: stable text, so the same value always hashes the same."""
    if value is None:
        return None
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return iso_utc(value)
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (int, float, decimal.Decimal, str)):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        return "sha256:" + hashlib.sha256(value).hexdigest()
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def _context(session: Session) -> AuditContext:
    ctx = session.info.get(CONTEXT_KEY)
    if ctx is None:
        raise PermissionDenied(
            "controlled data can only be changed inside an audited unit of work (Database.write)"
        )
    return ctx


def _before_flush(session: Session, _flush_context: Any, _instances: Any) -> None:
    for obj in session.deleted:
        raise PermissionDenied(
            f"{type(obj).__name__} rows are never deleted: void, deactivate or supersede them instead"
        )
    if any(isinstance(obj, Controlled) for obj in (*session.new, *session.dirty)):
        _context(session)


def _after_flush(session: Session, _flush_context: Any) -> None:
    rows: list[dict[str, Any]] = []
    # New objects keep the order they were added in (a user before its role grants); dirty ones have none.
    for obj in session.new:
        if isinstance(obj, Controlled):
            rows.append(_create_event(obj))
    for obj in sorted((o for o in session.dirty if isinstance(o, Controlled)), key=_order_key):
        rows.extend(_update_events(obj))
    if rows:
        reason = _context(session).reason
        for row in rows:
            row.setdefault("reason", reason)
        _append(session, rows)


def _primary_key(obj: Any) -> tuple[Any, ...]:
    # After the INSERT but before the flush is finalised, the identity key is not set yet; the PK values are.
    return tuple(inspect(type(obj)).primary_key_from_instance(obj))


def _order_key(obj: Any) -> tuple[str, str]:
    return (type(obj).__name__, str(_primary_key(obj)))


def entity_of(obj: Controlled) -> tuple[str, str]:
    cls = type(obj)
    name = cls.__audit_entity__ or cls.__tablename__  # type: ignore[attr-defined]
    key = cls.__audit_key__
    if key is not None:
        return name, str(getattr(obj, key))
    return name, ",".join(str(part) for part in _primary_key(obj))


def _column_attrs(obj: Any) -> list[str]:
    return [attr.key for attr in inspect(type(obj)).column_attrs]


def _create_event(obj: Controlled) -> dict[str, Any]:
    cls = type(obj)
    entity, entity_id = entity_of(obj)
    snapshot = {
        name: (REDACTED if name in cls.__audit_redact__ else format_value(getattr(obj, name)))
        for name in _column_attrs(obj)
    }
    return dict(
        action=cls.__audit_create_action__, entity=entity, entity_id=entity_id, field=None,
        old_value=None, new_value=format_value(snapshot),
    )


def _update_events(obj: Controlled) -> list[dict[str, Any]]:
    cls = type(obj)
    entity, entity_id = entity_of(obj)
    events = []
    for name in _column_attrs(obj):
        if name in cls.__audit_ignore__:
            continue
        history = get_history(obj, name)
        if not history.has_changes():
            continue
        old = history.deleted[0] if history.deleted else None
        new = history.added[0] if history.added else None
        if format_value(old) == format_value(new):
            continue
        if name in cls.__audit_redact__:
            old, new = REDACTED, REDACTED
        action = "STATE_CHANGE" if name in cls.__audit_state_fields__ else cls.__audit_update_action__
        events.append(dict(
            action=action, entity=entity, entity_id=entity_id, field=name,
            old_value=format_value(old), new_value=format_value(new),
        ))
    return events


def _append(session: Session, rows: list[dict[str, Any]]) -> None:
    """Chain ``rows`` onto the trail, under the chain lock, on the session's own connection."""
    ctx = _context(session)
    conn = session.connection()
    head = session.info.get(_HEAD_KEY)
    if head is None:
        if conn.dialect.name == "postgresql":
            # Serialises chain writers of all workstations until this transaction ends (SQLite writers are
            # already serialised by BEGIN IMMEDIATE).
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_CHAIN_LOCK})
        last = conn.execute(
            select(AuditEvent.seq, AuditEvent.hash, AuditEvent.occurred_at).order_by(AuditEvent.seq.desc()).limit(1)
        ).first()
        head = (last.seq, last.hash, last.occurred_at) if last else (0, GENESIS_HASH, None)
    seq, prev_hash, last_time = head
    ring = keys.ring_of(session)
    version, key = ring.current, ring.key("chain")
    now = ctx.clock.now()
    actor = ctx.actor
    prefix: list[dict[str, Any]] = []
    skew = ctx.clock.take_skew_report()
    if skew is not None:
        prefix.append(dict(
            action="CLOCK_SKEW", entity="workstation", entity_id=ctx.workstation, field="clock_offset_s",
            old_value=None, new_value=f"{skew.total_seconds():+.1f}",
            reason="workstation clock differs from the database server clock beyond the tolerance",
        ))
    if last_time is not None and now < last_time:
        prefix.append(dict(
            action="CLOCK_ANOMALY", entity="workstation", entity_id=ctx.workstation, field="time",
            old_value=iso_utc(last_time), new_value=iso_utc(now),
            reason="the clock returned a time earlier than the previous audit event",
        ))
    batch = []
    for row in (*prefix, *rows):
        seq += 1
        full = dict(
            seq=seq, occurred_at=now, user_id=actor.user_id, username=actor.username,
            full_name=actor.full_name, workstation=ctx.workstation,
            action=row["action"], entity=row.get("entity"), entity_id=row.get("entity_id"),
            field=row.get("field"), old_value=row.get("old_value"), new_value=row.get("new_value"),
            reason=row.get("reason"), prev_hash=prev_hash, key_version=version,
        )
        full["hash"] = prev_hash = compute_hash(full, key)
        batch.append(full)
    conn.execute(insert(AuditEvent), batch)
    session.info[_HEAD_KEY] = (seq, prev_hash, max(now, last_time) if last_time else now)
    incidents.noted(session, batch)  # Issue 16 / safety: lockouts, clock anomalies, failures open incidents
