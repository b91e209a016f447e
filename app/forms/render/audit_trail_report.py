"""The printed audit trail (an export of the filtered trail): the filter, then every event in chain order.

The service reads an :class:`AuditTrailReport` (plain data, one transaction) already worded for people: who by
full name and user name, what by its label and the name people know it by, each change as "Label: old → new"
(``app.services.reports.wording``). This lays it out; nothing is cut short (a long change wraps, and a row
taller than a page continues on the next).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import BinaryIO

from app.forms.render.report import KeyValues, Printed, Table, render_report


@dataclasses.dataclass(frozen=True)
class AuditLine:
    """One audit event as people read it."""

    seq: int
    when: str
    who: str  # "Otto Operator (op)"
    workstation: str
    action: str  # "Changed", "Signed"...
    what: str  # "Record value form 000123, Sample ID (entry 2)"
    changes: tuple[str, ...]  # "Label: old → new", one a line
    reason: str | None


@dataclasses.dataclass(frozen=True)
class AuditTrailReport:
    printed: Printed
    filter: tuple[tuple[str, str], ...]  # (label, value) of each condition; none: the complete trail
    events: tuple[AuditLine, ...]


def audit_table(events: tuple[AuditLine, ...], *, heading: str | None = None) -> Table:
    """The events as a table: one row each, its changes one a line."""
    return Table(columns=["#", "When", "Who / workstation", "Action", "What", "Change (old → new)", "Reason"],
                 rows=[[str(e.seq), e.when, f"{e.who}\n{e.workstation}", e.action, e.what, "\n".join(e.changes),
                        e.reason or ""] for e in events],
                 widths=[0.5, 1.3, 1.5, 0.9, 1.9, 4.6, 1.7], heading=heading)


def render_audit_trail_report(out: Path | BinaryIO, report: AuditTrailReport) -> None:
    conditions = list(report.filter) or [("Filter", "none (the complete trail)")]
    render_report(out, report.printed.meta("Audit trail"), [
        KeyValues([*conditions, ("Events", str(len(report.events)))], heading="Selection"),
        audit_table(report.events, heading="Events, in the order they happened"),
    ], wide=True)
