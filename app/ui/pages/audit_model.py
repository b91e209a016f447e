"""Item model of the audit trail viewer: pages of events loaded lazily as the user scrolls."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QWidget

from app.services.audit_log import AuditEventView
from app.services.timefmt import local_text

Index = QModelIndex | QPersistentModelIndex
USER_ROLE = Qt.ItemDataRole.UserRole
CountEvents = Callable[[], int]
FetchEvents = Callable[[int, int], list[AuditEventView]]
_SHOWN_CHARS = 160


def _short(value: str | None) -> str:
    if not value:
        return ""
    flat = " ".join(value.split())
    return flat if len(flat) <= _SHOWN_CHARS else flat[:_SHOWN_CHARS - 1] + "…"


def event_cells(ev: AuditEventView) -> tuple[str, ...]:
    """The full text of each column for one event (the table shows shortened values, the tooltip all)."""
    return (str(ev.seq), local_text(ev.occurred_at), f"{ev.full_name} ({ev.username})", ev.workstation, ev.action,
            ev.entity or "", ev.entity_id or "", ev.field or "", ev.old_value or "", ev.new_value or "",
            ev.reason or "")


class AuditTableModel(QAbstractTableModel):
    """Adapts the filtered trail. ``count()`` gives the number of matching events and ``fetch(offset, limit)``
    one page of them (``AuditEventView``, in chain order); only the pages scrolled to are loaded
    (``canFetchMore``/``fetchMore``). ``UserRole`` gives the AuditEventView of a row."""

    COLUMNS = ("#", "When", "User", "Workstation", "Action", "Entity", "Entity id", "Field", "Old value",
               "New value", "Reason")
    LONG_COLUMNS = frozenset({8, 9, 10})

    def __init__(self, count: CountEvents, fetch: FetchEvents, *, page_size: int = 200,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._count, self._fetch = count, fetch
        self.page_size = page_size
        self._rows: list[AuditEventView] = []
        self._total = 0
        self.reload()

    @property
    def total(self) -> int:
        """How many events match (loaded or not)."""
        return self._total

    @property
    def loaded(self) -> int:
        return len(self._rows)

    def set_source(self, count: CountEvents, fetch: FetchEvents) -> None:
        """New filter: forget what was loaded and count again."""
        self._count, self._fetch = count, fetch
        self.reload()

    def reload(self) -> None:
        self.beginResetModel()
        self._rows = []
        self._total = self._count()
        self.endResetModel()

    def event_at(self, row: int) -> AuditEventView:
        return self._rows[row]

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: N802, B008 - Qt API
        return not parent.isValid() and len(self._rows) < self._total

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: N802, B008 - Qt API
        if parent.isValid() or len(self._rows) >= self._total:
            return
        batch = self._fetch(len(self._rows), min(self.page_size, self._total - len(self._rows)))
        if not batch:  # fewer events than counted (cannot happen with an append-only trail, but never loop)
            self._total = len(self._rows)
            return
        start = len(self._rows)
        self.beginInsertRows(QModelIndex(), start, start + len(batch) - 1)
        self._rows.extend(batch)
        self.endInsertRows()

    def fetch_all(self) -> None:
        while self.canFetchMore():
            self.fetchMore()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008 - Qt API
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008 - Qt API
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal \
                and 0 <= section < len(self.COLUMNS):
            return self.COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not (0 <= index.row() < len(self._rows)) \
                or not (0 <= index.column() < len(self.COLUMNS)):
            return None
        ev = self._rows[index.row()]
        if role == USER_ROLE:
            return ev
        if role == Qt.ItemDataRole.DisplayRole:
            text = event_cells(ev)[index.column()]
            return _short(text) if index.column() in self.LONG_COLUMNS else text
        if role == Qt.ItemDataRole.ToolTipRole and index.column() in self.LONG_COLUMNS:
            text = event_cells(ev)[index.column()]
            return text if len(text) > _SHOWN_CHARS else None
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() == 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None
