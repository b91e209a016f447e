"""The rule that opens incidents (SE-03) from the audit events themselves, in the transaction that writes them.

Whatever code path writes a LOCKOUT, a CLOCK_ANOMALY, a BACKUP_FAILED, a failed VERIFY or a failed RESTORE_TEST
event (log-in, any save, a backup, `formtrail verify`, the scheduled run), the same transaction opens an incident
for it, or counts one more occurrence of the incident still open for the same kind and subject (one locked
account, one workstation's clock, the integrity of the site): no code path can forget to raise one, and a repeated
failure does not bury QA under a hundred rows. The audit writer (``audit._append``) hands each batch of rows it
chains to :func:`noted`; the incidents are written just before the transaction commits (:func:`open_noted`), as
controlled data, so their own audit events follow in the same transaction.

This module sits below ``audit`` (it imports nothing of it) so that the audit writer can call it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.incidents import TEXT_LIMIT, Incident, IncidentKind, IncidentStatus

PENDING_KEY = "formtrail.incidents.pending"
OPENED_BY = "SYSTEM"
# Events whose result says whether they failed: an incident only for a failure.
_FAILED_WHEN_NOT_OK = {"VERIFY": IncidentKind.VERIFY_FAILED, "RESTORE_TEST": IncidentKind.RESTORE_TEST_FAILED}
_ALWAYS = {"LOCKOUT": IncidentKind.LOCKOUT, "CLOCK_ANOMALY": IncidentKind.CLOCK_ANOMALY,
           "BACKUP_FAILED": IncidentKind.BACKUP_FAILED, "CRASH": IncidentKind.CRASH}
# The events that open incidents (tests and the documentation list them from here).
TRIGGERS = frozenset({*_FAILED_WHEN_NOT_OK, *_ALWAYS})


@dataclasses.dataclass(frozen=True)
class Occurrence:
    kind: IncidentKind
    subject: str
    detail: str
    seq: int
    at: dt.datetime


def occurrence_of(row: dict[str, Any]) -> Occurrence | None:
    """The incident an audit row (as the chain writer inserts it) calls for, or None."""
    action = row.get("action")
    kind = _ALWAYS.get(action or "")
    if kind is None and action in _FAILED_WHEN_NOT_OK:
        result = _result(row.get("new_value"))
        if result.get("ok") is not False:
            return None
        kind = _FAILED_WHEN_NOT_OK[action]
    if kind is None:
        return None
    return Occurrence(kind=kind, subject=_subject(kind, row), detail=_detail(row)[:TEXT_LIMIT],
                      seq=int(row["seq"]), at=row["occurred_at"])


def _result(value: str | None) -> dict[str, Any]:
    try:
        data = json.loads(value) if value else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _subject(kind: IncidentKind, row: dict[str, Any]) -> str:
    """What repeats of one incident share: the account, the workstation, the site's data, the backups."""
    if kind is IncidentKind.LOCKOUT:
        return f"user {row.get('entity_id') or row.get('username')}"
    if kind is IncidentKind.CLOCK_ANOMALY:
        return f"workstation {row.get('entity_id') or row.get('workstation')}"
    if kind is IncidentKind.VERIFY_FAILED:
        return "site data integrity"
    if kind is IncidentKind.CRASH:
        return f"workstation {row.get('workstation')}"
    return "scheduled backups" if kind is IncidentKind.BACKUP_FAILED else "test-restore of backups"


def _detail(row: dict[str, Any]) -> str:
    parts = [f"{row.get('action')} (audit event {row.get('seq')}, {row.get('workstation')})"]
    if row.get("entity"):
        parts.append(f"{row.get('entity')} {row.get('entity_id') or ''}".strip())
    if row.get("reason"):
        parts.append(str(row["reason"]))
    result = _result(row.get("new_value"))
    first = result.get("first") or result.get("error") or (result.get("problems") or [None])[0]
    if first:
        parts.append(str(first))
    elif row.get("new_value") and not result:
        parts.append(str(row["new_value"]))
    return ": ".join(parts)


def noted(session: Session, rows: Iterable[dict[str, Any]]) -> None:
    """Called by the audit writer with the rows it has just chained: remember those that call for an incident."""
    found = [o for o in (occurrence_of(row) for row in rows) if o is not None]
    if found:
        session.info.setdefault(PENDING_KEY, []).extend(found)


def open_noted(session: Session) -> None:
    """Before the transaction commits: open (or count again) the incidents its audit events called for."""
    pending: list[Occurrence] = session.info.pop(PENDING_KEY, [])
    for occurrence in pending:
        raise_incident(session, occurrence)


def raise_incident(session: Session, occurrence: Occurrence) -> Incident:
    """Open an incident, or count one more occurrence of the one still open for the same kind and subject."""
    incident = session.scalar(select(Incident).where(
        Incident.kind == occurrence.kind, Incident.subject == occurrence.subject,
        Incident.status == IncidentStatus.OPEN).order_by(Incident.id).limit(1))
    if incident is not None:
        incident.occurrences += 1
        incident.last_seen_at = max(incident.last_seen_at, occurrence.at)
        return incident
    incident = Incident(kind=occurrence.kind, subject=occurrence.subject[:200], detail=occurrence.detail,
                        status=IncidentStatus.OPEN, opened_at=occurrence.at, opened_by=OPENED_BY,
                        first_event_seq=occurrence.seq, occurrences=1, last_seen_at=occurrence.at)
    session.add(incident)
    session.flush()
    return incident
