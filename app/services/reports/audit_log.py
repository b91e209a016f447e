"""Reading the audit trail: filtered pages for the viewer, and exports to CSV, JSON and PDF (audited)."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

from sqlalchemy import Select, func, or_, select

from app.forms.render.audit_trail_report import AuditLine, AuditTrailReport, render_audit_trail_report
from app.models import AuditEvent
from app.services.core import audit
from app.services.core.db import Actor, Database
from app.services.core.errors import ValidationError
from app.services.core.timefmt import local_text
from app.services.identity.permissions import Permission, require
from app.services.reports.printed import printed_in


@dataclasses.dataclass(frozen=True)
class AuditFilter:
    username: str | None = None
    entity: str | None = None
    entity_id: str | None = None
    action: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None  # exclusive
    text: str | None = None


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

    def as_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["occurred_at"] = audit.iso_utc(self.occurred_at)
        return data


@dataclasses.dataclass(frozen=True)
class FilterChoices:
    usernames: tuple[str, ...]
    entities: tuple[str, ...]
    actions: tuple[str, ...]


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
    if flt.text:
        like = f"%{flt.text}%"
        query = query.where(or_(
            AuditEvent.old_value.ilike(like), AuditEvent.new_value.ilike(like), AuditEvent.reason.ilike(like),
            AuditEvent.entity_id.ilike(like),
        ))
    return query


def event_view(row: AuditEvent) -> AuditEventView:
    return AuditEventView(**{f.name: getattr(row, f.name) for f in dataclasses.fields(AuditEventView)})


def count_events(db: Database, actor: Actor, flt: AuditFilter) -> int:
    require(db, actor, Permission.VIEW_AUDIT)
    with db.read() as session:
        return session.scalar(_where(select(func.count()).select_from(AuditEvent), flt)) or 0


def fetch_events(db: Database, actor: Actor, flt: AuditFilter, *, offset: int = 0,
                 limit: int = 500) -> list[AuditEventView]:
    """One page of events in chain order (the viewer loads pages as the user scrolls)."""
    require(db, actor, Permission.VIEW_AUDIT)
    with db.read() as session:
        rows = session.scalars(_where(select(AuditEvent), flt).order_by(AuditEvent.seq).offset(offset).limit(limit))
        return [event_view(r) for r in rows]


def filter_choices(db: Database, actor: Actor) -> FilterChoices:
    require(db, actor, Permission.VIEW_AUDIT)
    with db.read() as session:
        def values(column: Any) -> tuple[str, ...]:
            return tuple(v for v in session.scalars(select(column).distinct().order_by(column)) if v)
        return FilterChoices(values(AuditEvent.username), values(AuditEvent.entity), values(AuditEvent.action))


EXPORT_FORMATS = ("csv", "json", "pdf")


def export_events(db: Database, actor: Actor, flt: AuditFilter, *, fmt: str, out: Path) -> ExportResult:
    """Write the filtered trail to ``out`` and record the export (format, row count, file hash) in the trail."""
    require(db, actor, Permission.EXPORT_AUDIT)
    if fmt not in EXPORT_FORMATS:
        raise ValidationError(f"export format must be one of {', '.join(EXPORT_FORMATS)}, not {fmt!r}")
    with db.read() as session:  # everything the export shows, in one transaction
        printed = printed_in(session, db, actor)
        query = _where(select(AuditEvent), flt).order_by(AuditEvent.seq).execution_options(yield_per=2000)
        events = [event_view(r) for r in session.scalars(query)]
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    if fmt == "csv":
        with tmp.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            names = [f.name for f in dataclasses.fields(AuditEventView)]
            writer.writerow(names)
            for ev in events:
                data = ev.as_dict()
                writer.writerow(["" if data[n] is None else data[n] for n in names])
    elif fmt == "json":
        payload = {"site": printed.site, "chain_head": printed.chain_head, "filter": _filter_dict(flt),
                   "events": [e.as_dict() for e in events]}
        tmp.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
    else:
        render_audit_trail_report(tmp, AuditTrailReport(
            printed=printed, filter=tuple(_filter_dict(flt).items()), events=tuple(_line(e) for e in events)))
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


def _line(e: AuditEventView) -> AuditLine:
    return AuditLine(seq=e.seq, when=local_text(e.occurred_at), full_name=e.full_name, username=e.username,
                     workstation=e.workstation, action=e.action, entity=e.entity, entity_id=e.entity_id,
                     field=e.field, old_value=e.old_value, new_value=e.new_value, reason=e.reason)
