"""Reading the audit trail: filtered pages for the viewer, and exports to CSV, JSON and PDF (audited).

Each event read comes with its wording (``app.services.reports.wording``): what people read on the screen and
in the PDF. The CSV and JSON exports keep the stored values, for machines."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from app.forms.render.audit_trail_report import AuditLine, AuditTrailReport, render_audit_trail_report
from app.models import AuditEvent
from app.services.core import audit
from app.services.core.db import Actor, Database
from app.services.core.errors import ValidationError
from app.services.core.timefmt import local_text
from app.services.identity.permissions import Permission, require
from app.services.reports import wording
from app.services.reports.naming import names_for, people_in
from app.services.reports.printed import printed_in, seal
from app.services.reports.wording import EventWording


@dataclasses.dataclass(frozen=True)
class AuditFilter:
    username: str | None = None
    entity: str | None = None
    entity_id: str | None = None
    action: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None  # exclusive
    text: str | None = None
    # The last event a viewer counted: its pages stay the same while new events are appended meanwhile.
    up_to_seq: int | None = None


@dataclasses.dataclass(frozen=True)
class AuditEventView:
    seq: int
    occurred_at: dt.datetime
    username: str
    full_name: str
    workstation: str
    action: str
    entity: str | None
    entity_id: str | None
    field: str | None
    old_value: str | None
    new_value: str | None
    reason: str | None
    hash: str
    wording: EventWording  # the event as people read it (not part of the machine exports)

    def as_dict(self) -> dict[str, Any]:
        """The stored event, as the CSV and JSON exports write it."""
        data = {name: getattr(self, name) for name in STORED_FIELDS}
        data["occurred_at"] = audit.iso_utc(self.occurred_at)
        return data


STORED_FIELDS = ("seq", "occurred_at", "username", "full_name", "workstation", "action", "entity", "entity_id",
                 "field", "old_value", "new_value", "reason", "hash")


@dataclasses.dataclass(frozen=True)
class FilterChoices:
    """What each filter offers: (stored value, what people read) pairs."""

    usernames: tuple[tuple[str, str], ...]
    entities: tuple[tuple[str, str], ...]
    actions: tuple[tuple[str, str], ...]


@dataclasses.dataclass(frozen=True)
class ExportResult:
    path: Path
    count: int
    sha256: str


def _where(query: Select[Any], flt: AuditFilter) -> Select[Any]:
    if flt.username:
        query = query.where(AuditEvent.username == flt.username)
    if flt.entity:
        query = query.where(AuditEvent.entity == flt.entity)
    if flt.entity_id:
        query = query.where(AuditEvent.entity_id == flt.entity_id)
    if flt.action:
        query = query.where(AuditEvent.action == flt.action)
    if flt.since:
        query = query.where(AuditEvent.occurred_at >= flt.since)
    if flt.until:
        query = query.where(AuditEvent.occurred_at < flt.until)
    if flt.up_to_seq is not None:
        query = query.where(AuditEvent.seq <= flt.up_to_seq)
    if flt.text:
        like = f"%{flt.text}%"
        query = query.where(or_(
            AuditEvent.old_value.ilike(like), AuditEvent.new_value.ilike(like), AuditEvent.reason.ilike(like),
            AuditEvent.entity_id.ilike(like),
        ))
    return query


def event_views(session: Session, rows: list[AuditEvent]) -> list[AuditEventView]:
    """``rows`` with their wording, the names it needs read in ``session`` (the caller's one read)."""
    names = names_for(session, rows)
    return [AuditEventView(**{name: getattr(r, name) for name in STORED_FIELDS},
                           wording=wording.describe(r, names)) for r in rows]


def count_events(db: Database, actor: Actor, flt: AuditFilter) -> int:
    require(db, actor, Permission.VIEW_AUDIT)
    with db.read() as session:
        return session.scalar(_where(select(func.count()).select_from(AuditEvent), flt)) or 0


def latest_seq(db: Database, actor: Actor) -> int:
    """The number of the last event (0: none yet): a viewer pins its pages to it (``AuditFilter.up_to_seq``)."""
    require(db, actor, Permission.VIEW_AUDIT)
    with db.read() as session:
        return audit.chain_head(session)[0]


def fetch_events(db: Database, actor: Actor, flt: AuditFilter, *, offset: int = 0, limit: int = 500,
                 newest_first: bool = False) -> list[AuditEventView]:
    """One page of events, in chain order or ``newest_first`` (the viewer loads pages as the user scrolls; pin
    ``flt.up_to_seq`` so that events appended meanwhile do not shift the pages of the newest-first order)."""
    require(db, actor, Permission.VIEW_AUDIT)
    order = AuditEvent.seq.desc() if newest_first else AuditEvent.seq
    with db.read() as session:
        rows = list(session.scalars(_where(select(AuditEvent), flt).order_by(order).offset(offset).limit(limit)))
        return event_views(session, rows)


def filter_choices(db: Database, actor: Actor) -> FilterChoices:
    require(db, actor, Permission.VIEW_AUDIT)
    with db.read() as session:
        def values(column: Any) -> list[str]:
            return [v for v in session.scalars(select(column).distinct().order_by(column)) if v]
        people = {u: f for u, f in session.execute(select(AuditEvent.username, AuditEvent.full_name).distinct())}
        names = wording.Names(people=people)
        return FilterChoices(
            usernames=tuple((u, wording.person(u, names)) for u in values(AuditEvent.username)),
            entities=tuple(sorted(((e, wording.entity_label(e)) for e in values(AuditEvent.entity)),
                                  key=lambda pair: pair[1])),
            actions=tuple(sorted(((a, wording.action_label(a)) for a in values(AuditEvent.action)),
                                 key=lambda pair: pair[1])))


EXPORT_FORMATS = ("csv", "json", "pdf")


def export_events(db: Database, actor: Actor, flt: AuditFilter, *, fmt: str, out: Path) -> ExportResult:
    """Write the filtered trail to ``out`` and record the export (format, row count, file hash) in the trail."""
    require(db, actor, Permission.EXPORT_AUDIT)
    if fmt not in EXPORT_FORMATS:
        raise ValidationError(f"export format must be one of {', '.join(EXPORT_FORMATS)}, not {fmt!r}")
    with db.read() as session:  # everything the export shows, in one transaction
        printed = printed_in(session, db, actor)
        query = _where(select(AuditEvent), flt).order_by(AuditEvent.seq).execution_options(yield_per=2000)
        events = event_views(session, list(session.scalars(query)))
        conditions = _filter_words(flt, wording.Names(people=people_in(session)))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    if fmt == "csv":
        with tmp.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            names = list(STORED_FIELDS)
            writer.writerow(names)
            for ev in events:
                data = ev.as_dict()
                writer.writerow(["" if data[n] is None else data[n] for n in names])
    elif fmt == "json":
        payload = {"site": printed.site, "chain_head": printed.chain_head, "filter": _filter_dict(flt),
                   "events": [e.as_dict() for e in events]}
        tmp.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
    else:
        render_audit_trail_report(tmp, AuditTrailReport(printed=printed, filter=conditions,
                                                        events=tuple(audit_line(e) for e in events)))
        seal(db, tmp, reason="audit trail export")
    tmp.replace(out)
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    with db.write(actor, reason=f"audit trail export ({fmt})") as session:
        audit.record_event(session, "EXPORT", entity="audit_trail", new={
            "format": fmt, "file": out.name, "rows": len(events), "filter": _filter_dict(flt), "sha256": digest,
        })
    return ExportResult(path=out, count=len(events), sha256=digest)


def _filter_dict(flt: AuditFilter) -> dict[str, str]:
    return {k: (audit.iso_utc(v) if isinstance(v, dt.datetime) else v)
            for k, v in dataclasses.asdict(flt).items() if v}


def _filter_words(flt: AuditFilter, names: wording.Names) -> tuple[tuple[str, str], ...]:
    """The filter as people read it: ("User", "Otto Operator (op)"), ("Action", "Logged in")..."""
    words = (
        ("User", wording.person(flt.username, names)), ("Entity", wording.entity_label(flt.entity)),
        ("Which", wording.subject(flt.entity, flt.entity_id, names) or (flt.entity_id or "")),
        ("Action", wording.action_label(flt.action) if flt.action else ""),
        ("From", local_text(flt.since) if flt.since else ""), ("Before", local_text(flt.until) if flt.until else ""),
        ("Text", f"\u201c{flt.text}\u201d" if flt.text else ""),
        ("Up to event", str(flt.up_to_seq) if flt.up_to_seq is not None else ""),
    )
    return tuple((label, value) for label, value in words if value)


def audit_line(e: AuditEventView) -> AuditLine:
    """One event as the printed trails show it."""
    w = e.wording
    return AuditLine(seq=e.seq, when=local_text(e.occurred_at), who=w.who, workstation=e.workstation,
                     action=w.action, what=" ".join(x for x in (w.what, w.subject) if x), changes=w.changes,
                     reason=e.reason)
