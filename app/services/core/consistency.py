"""Does the data still say what the audit trail says it was changed to?

Replaying the trail (each CREATE snapshot, then every field change) gives the value every audited field of
every controlled row must have now. A row edited with raw SQL behind the application's back, or inserted
without its audit event, shows up as a mismatch naming the row and the field. The chain proves the trail
was not rewritten; this proves the data matches the trail.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from app.models import AuditEvent, Base, Controlled
from app.services.core.audit import REDACTED, entity_of, format_value
from app.services.core.db import Database

_UPDATES = ("UPDATE", "STATE_CHANGE", "CONFIG_CHANGE")


@dataclasses.dataclass(frozen=True)
class Mismatch:
    entity: str
    entity_id: str
    field: str | None
    expected: str | None
    actual: str | None

    def __str__(self) -> str:
        if self.field is None:
            return f"{self.entity} {self.entity_id}: {self.actual}"
        return (f"{self.entity} {self.entity_id} field {self.field}: the data holds {self.actual!r} but the audit "
                f"trail says {self.expected!r}")


def controlled_classes() -> Iterator[type[Controlled]]:
    for mapper in Base.registry.mappers:
        if issubclass(mapper.class_, Controlled):
            yield mapper.class_


def replay(session: Session) -> dict[tuple[str, str], dict[str, str | None]]:
    state: dict[tuple[str, str], dict[str, str | None]] = {}
    events = session.execute(
        select(AuditEvent.entity, AuditEvent.entity_id, AuditEvent.field, AuditEvent.new_value, AuditEvent.action)
        .where(AuditEvent.entity.is_not(None)).order_by(AuditEvent.seq).execution_options(yield_per=5000))
    for entity, entity_id, field, new_value, action in events:
        if entity is None or entity_id is None:  # not about a row (the query already leaves out most of these)
            continue
        key = (entity, entity_id)
        if field is None and new_value and new_value.startswith("{") and key not in state:
            try:
                snapshot = json.loads(new_value)
            except ValueError:
                continue
            if isinstance(snapshot, dict):
                state[key] = snapshot
        elif field is not None and action in _UPDATES and key in state:
            state[key][field] = new_value
    return state


def check_data(db: Database) -> list[Mismatch]:
    problems: list[Mismatch] = []
    with db.read() as session:
        expected = replay(session)
        for cls in controlled_classes():
            names = [a.key for a in inspect(cls).column_attrs]
            skip = set(cls.__audit_ignore__) | set(cls.__audit_redact__)
            for obj in session.scalars(select(cls)).yield_per(2000):
                entity, entity_id = entity_of(obj)
                wanted = expected.get((entity, entity_id))
                if wanted is None:
                    problems.append(Mismatch(entity, entity_id, None, None,
                                             "row exists without its CREATE audit event (inserted behind the trail)"))
                    continue
                for name in names:
                    if name in skip or name not in wanted or wanted[name] == REDACTED:
                        continue
                    actual = format_value(getattr(obj, name))
                    if actual != wanted[name]:
                        problems.append(Mismatch(entity, entity_id, name, wanted[name], actual))
    return problems
