"""The printed audit trail (an export of the filtered trail): the filter, then every event in chain order.

The service reads an :class:`AuditTrailReport` (plain data, one transaction); this lays it out. Times arrive as
the text people read (local time with the zone).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import BinaryIO

from app.forms.render.report import Printed, Table, render_report


@dataclasses.dataclass(frozen=True)
class AuditLine:
    seq: int
    when: str
    full_name: str
    username: str
    workstation: str
    action: str
    entity: str | None
    entity_id: str | None
    field: str | None
    old_value: str | None
    new_value: str | None
    reason: str | None


@dataclasses.dataclass(frozen=True)
class AuditTrailReport:
    printed: Printed
    filter: tuple[tuple[str, str], ...]  # (name, value) of each condition; none: the complete trail
    events: tuple[AuditLine, ...]


def render_audit_trail_report(out: Path | BinaryIO, report: AuditTrailReport) -> None:
    conditions = ", ".join(f"{k}={v}" for k, v in report.filter) or "none (complete trail)"
    rows = [[str(e.seq), e.when, f"{e.full_name} ({e.username})\n{e.workstation}", e.action,
             f"{e.entity or ''} {e.entity_id or ''}".strip(), e.field or "", e.old_value or "", e.new_value or "",
             e.reason or ""] for e in report.events]
    render_report(out, report.printed.meta("Audit trail"), [
        Table(columns=["Filter", "Rows"], rows=[[conditions, str(len(report.events))]], widths=[6, 1]),
        Table(columns=["#", "When", "Who / workstation", "Action", "Entity", "Field", "Old value", "New value",
                       "Reason"], rows=rows, widths=[0.5, 1.5, 1.6, 1.1, 1.4, 0.9, 2.2, 2.2, 1.8]),
    ], wide=True)
