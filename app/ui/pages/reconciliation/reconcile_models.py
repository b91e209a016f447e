"""Item models of the Reconcile page: the issuances, and the forms of one issuance."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont

from app.enums import FormState, IssuanceState
from app.services.core.timefmt import local_text
from app.services.reconciliation.reconciliation import IssuanceSummary, ReconFormRow
from app.ui.kit.list_model import ListTableModel

OVERDUE_FG, OVERDUE_BG = QColor("#b00020"), QColor("#fdecea")
READY_FG, READY_BG = QColor("#1b6e2d"), QColor("#e8f5ea")
CLOSED_FG = QColor("#5b6573")
OUTSTANDING_BG = QColor("#fff4d6")
OUTSTANDING_FG = QColor("#8a4b00")

FILTERS = {
    "all": "All issuances, open first",
    "open": "Open issuances",
    "outstanding": "With forms still out",
    "overdue": "Overdue (past the return date)",
    "ready": "Ready to close (all accounted for)",
    "reconciled": "Reconciled (closed)",
}

STATE_TEXT = {FormState.ISSUED: "Issued (still out)", FormState.RETURNED: "Returned", FormState.VOIDED: "Voided",
              FormState.MISSING: "Missing", FormState.REPLACED: "Replaced"}


def status_of(issuance: IssuanceSummary) -> str:
    if issuance.state is IssuanceState.RECONCILED:
        return "Reconciled"
    if issuance.ready:
        return "✔ Ready to close"
    if issuance.overdue:
        return "⚠ OVERDUE"
    return "Open"


def matches(issuance: IssuanceSummary, key: str) -> bool:
    """Whether an issuance belongs to the list filter ``key`` (see FILTERS)."""
    is_open = issuance.state is IssuanceState.OPEN
    return {
        "all": True, "open": is_open, "outstanding": is_open and issuance.accounted < issuance.total,
        "overdue": issuance.overdue, "ready": issuance.ready, "reconciled": not is_open,
    }.get(key, True)


def open_first(rows: list[IssuanceSummary]) -> list[IssuanceSummary]:
    """Open issuances first (overdue, then ready to close, then the others), newest first within each group."""
    def rank(i: IssuanceSummary) -> tuple[int, int]:
        group = 3 if i.state is IssuanceState.RECONCILED else 0 if i.overdue else 1 if i.ready else 2
        return group, -i.issuance_id
    return sorted(rows, key=rank)


class IssuanceModel(ListTableModel[IssuanceSummary]):
    COLUMNS = ("#", "Template", "Purpose / reference", "Issued to", "Issued by / on", "Return due", "Accounted",
               "Status")
    KEY = "issuance_id"

    def text(self, row: IssuanceSummary, column: int) -> str:
        if column == 0:
            return str(row.issuance_id)
        if column == 1:
            return row.template
        if column == 2:
            return f"{row.purpose} / {row.reference}" if row.reference else row.purpose
        if column == 3:
            return row.issued_to
        if column == 4:
            return f"{row.issued_by}, {local_text(row.issued_at, seconds=False)}"
        if column == 5:
            return row.due_date.isoformat()
        if column == 6:
            return f"{row.accounted} of {row.total}"
        return status_of(row)

    def role_data(self, row: IssuanceSummary, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.ForegroundRole:
            if row.state is IssuanceState.RECONCILED:
                return QBrush(CLOSED_FG)
            if row.overdue:
                return QBrush(OVERDUE_FG)
            if row.ready and column == 7:
                return QBrush(READY_FG)
        if role == Qt.ItemDataRole.BackgroundRole:
            if row.overdue:
                return QBrush(OVERDUE_BG)
            if row.ready:
                return QBrush(READY_BG)
        if role == Qt.ItemDataRole.FontRole and column == 7 and (row.overdue or row.ready):
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole and column == 7:
            if row.overdue:
                return f"Past its return date ({row.due_date.isoformat()}) with forms not accounted for."
            if row.ready:
                return "Every form is accounted for: QA can close the reconciliation."
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (0, 6):
            return int(Qt.AlignmentFlag.AlignCenter)
        return None


def form_notes(row: ReconFormRow) -> str:
    """Reason, deviation, replacement links and what is still expected, in one line."""
    parts = []
    if row.reason:
        parts.append(row.reason)
    if row.deviation_ref:
        parts.append(f"deviation {row.deviation_ref}")
    if row.replaces:
        parts.append(f"replaces {row.replaces_label or row.replaces}")
    if row.replaced_by:
        parts.append(f"replaced by {row.replaced_by_label or row.replaced_by}")
    if row.note:
        parts.append(row.note)
    return " · ".join(parts)


class FormRowModel(ListTableModel[ReconFormRow]):
    """The sheets of one issuance; the "Serial" column shows each serial as printed on the paper (its label),
    rows are still found by the bare serial (``row_of``)."""

    COLUMNS = ("Serial", "Copy", "State", "Pages back", "Scans", "Reason · deviation · links", "Changed by / on",
               "Accounted for")
    KEY = "serial"

    def text(self, row: ReconFormRow, column: int) -> str:
        if column == 0:
            return row.printed_as
        if column == 1:
            return str(row.copy_no)
        if column == 2:
            return STATE_TEXT.get(row.state, row.state.value)
        if column == 3:
            return f"{row.pages_back} of {row.pages}"
        if column == 4:
            count = len(row.scans)
            return f"{count} scan{'s' if count != 1 else ''} ▸" if count else "—"
        if column == 5:
            return form_notes(row)
        if column == 6:
            return f"{row.changed_by}, {local_text(row.changed_at, seconds=False)}" if row.changed_at else ""
        return "✔ yes" if row.accounted else "✘ not yet"

    def role_data(self, row: ReconFormRow, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.BackgroundRole and not row.accounted:
            return QBrush(OUTSTANDING_BG)
        if role == Qt.ItemDataRole.ForegroundRole and column == 7:
            return QBrush(READY_FG if row.accounted else OUTSTANDING_FG)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == 4 and row.scans:
                return "Double-click to open the scans in the viewer:\n" + "\n".join(
                    f"p.{s.page_no or '?'} {s.outcome}{' (superseded)' if s.superseded else ''} — {s.source_name}"
                    for s in row.scans)
            if column == 5:
                return form_notes(row) or None
        return None
