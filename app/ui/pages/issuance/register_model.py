"""Item model of the issuance register: the matching issued forms, counted by the service and loaded a page at a
time as the user scrolls; sorting asks the service again (never sorts in memory)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QWidget

from app.enums import FormState
from app.services.core.timefmt import local_text
from app.services.issuance.register import RegisterRow
from app.ui.kit.list_model import Index, ListTableModel

CountForms = Callable[[], int]
FetchForms = Callable[[str, bool, int, int], list[RegisterRow]]  # (sort, descending, offset, limit)

STATE_TEXT = {FormState.ISSUED: "issued (out)", FormState.RETURNED: "returned", FormState.VOIDED: "voided",
              FormState.MISSING: "missing", FormState.REPLACED: "replaced"}
OVERDUE_BACKGROUND = QColor("#fdecea")
OVERDUE_TEXT = QColor("#b00020")
FADED = QColor("#777777")


def state_text(row: RegisterRow) -> str:
    return "OVERDUE" if row.overdue else STATE_TEXT[row.state]


def row_cells(row: RegisterRow) -> tuple[str, ...]:
    """The cells of a row; serials as printed on the paper (the label: typing its bare number finds it too)."""
    return (row.printed_as, row.template_label, f"{row.copy_no} of {row.copies}", state_text(row),
            row.due_date.isoformat(), row.issued_to, row.purpose, row.reference or "",
            local_text(row.issued_at, seconds=False), row.issued_by, row.replaces_label or row.replaces or "")


class RegisterTableModel(ListTableModel[RegisterRow]):
    """Adapts the filtered register. ``count()`` gives how many forms match and ``fetch(sort, descending, offset,
    limit)`` one page of ``RegisterRow``; ``UserRole`` gives the row. ``sorted_by`` is emitted with the
    (column, order) really in effect after a sort request (columns the service cannot sort by are refused)."""

    COLUMNS = ("Serial", "Template", "Copy", "State", "Due back", "Issued to", "Purpose", "Reference", "Issued on",
               "Issued by", "Replaces")
    WIDTHS = (130, 120, 90, 100, 100, 130, 200, 110, 200, 80, 130)
    SORT_KEYS: tuple[str | None, ...] = ("serial", "template", None, "state", "due_date", "issued_to", "purpose",
                                         None, "issued_at", "issued_by", None)
    KEY = "serial"
    STATE, DUE = 3, 4
    sorted_by = Signal(int, object)  # (column, Qt.SortOrder)

    def __init__(self, count: CountForms, fetch: FetchForms, *, page_size: int = 200,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent=parent)
        self._count, self._fetch = count, fetch
        self.page_size = page_size
        self.sort_column, self.sort_order = 0, Qt.SortOrder.DescendingOrder  # newest serial first
        self._total = 0
        self.reload()

    @property
    def total(self) -> int:
        return self._total

    @property
    def loaded(self) -> int:
        return len(self._rows)

    def reload(self) -> None:
        """Count again and forget the loaded rows (after a filter change or an action on a form)."""
        self.beginResetModel()
        self._rows = []
        self._total = self._count()
        self.endResetModel()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if 0 <= column < len(self.SORT_KEYS) and self.SORT_KEYS[column] is not None:
            self.sort_column, self.sort_order = column, order
            self.reload()
        self.sorted_by.emit(self.sort_column, self.sort_order)

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: N802, B008 - Qt API
        return not parent.isValid() and len(self._rows) < self._total

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: N802, B008 - Qt API
        if parent.isValid() or len(self._rows) >= self._total:
            return
        key = self.SORT_KEYS[self.sort_column] or "serial"
        batch = self._fetch(key, self.sort_order == Qt.SortOrder.DescendingOrder, len(self._rows),
                            min(self.page_size, self._total - len(self._rows)))
        if not batch:  # fewer rows than counted (forms cannot disappear, but never loop)
            self._total = len(self._rows)
            return
        self.insert_rows(len(self._rows), batch)

    def fetch_all(self) -> None:
        while self.canFetchMore():
            self.fetchMore()

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if role == Qt.ItemDataRole.ToolTipRole and orientation == Qt.Orientation.Horizontal \
                and 0 <= section < len(self.COLUMNS):
            return "Click to sort" if self.SORT_KEYS[section] else "This column cannot be sorted"
        return super().headerData(section, orientation, role)

    def text(self, row: RegisterRow, column: int) -> str:
        return row_cells(row)[column]

    def role_data(self, row: RegisterRow, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.BackgroundRole and row.overdue:
            return QBrush(OVERDUE_BACKGROUND)
        if role == Qt.ItemDataRole.ForegroundRole:
            if row.overdue and column in (self.STATE, self.DUE):
                return QBrush(OVERDUE_TEXT)
            if row.state in (FormState.REPLACED, FormState.VOIDED):
                return QBrush(FADED)
        if role == Qt.ItemDataRole.FontRole and row.overdue and column in (self.STATE, self.DUE):
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole:
            if row.overdue:
                return f"Overdue: due back on {row.due_date.isoformat()} and not returned yet."
            if row.replaces:
                return f"Replacement copy of serial {row.replaces_label or row.replaces}."
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (0, 2):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None
