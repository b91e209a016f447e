"""Item model of the audit trail viewer: pages of events loaded lazily as the user scrolls, each shown in the
words of ``app.services.reports.wording`` (labels, full names, form pages; never internal names)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QWidget

from app.services.core.timefmt import local_text
from app.services.reports.audit_log import AuditEventView
from app.ui.kit.list_model import Index, ListTableModel

CountEvents = Callable[[], int]
FetchEvents = Callable[[int, int], list[AuditEventView]]


def _flat(value: str) -> str:
    """One line for a table cell (the view elides what does not fit; the tooltip and the details show all)."""
    return " ".join(value.split())


def event_cells(ev: AuditEventView) -> tuple[str, ...]:
    """The text of each column for one event, as people read it."""
    w = ev.wording
    return (str(ev.seq), local_text(ev.occurred_at), w.who, ev.workstation, w.action, w.what, w.subject, w.field,
            w.old, w.new, ev.reason or "")


def event_details(ev: AuditEventView) -> str:
    """The whole event, labelled, one change a line ("Label: old → new"), nothing cut short."""
    w = ev.wording
    lines = [f"Event {ev.seq} · {local_text(ev.occurred_at)}",
             f"Who: {w.who}, at workstation {ev.workstation}",
             f"Action: {w.action}"]
    if w.what or w.subject:
        lines.append(f"What: {' '.join(x for x in (w.what, w.subject) if x)}")
    if ev.reason:
        lines.append(f"Reason: {ev.reason}")
    if w.changes:
        lines += ["", "Changes:" if ev.field else "Recorded:", *w.changes]
    lines += ["", f"Row hash: {ev.hash}"]
    return "\n".join(lines)


class AuditTableModel(ListTableModel[AuditEventView]):
    """Adapts the filtered trail. ``count()`` gives the number of matching events and ``fetch(offset, limit)``
    one page of them (``AuditEventView``, in the order the page asked for); only the pages scrolled to are
    loaded (``canFetchMore``/``fetchMore``). ``UserRole`` gives the AuditEventView of a row."""

    COLUMNS = ("#", "When", "User", "Workstation", "Action", "What", "Which", "Field", "Old value",
               "New value", "Reason")
    LONG_COLUMNS = frozenset({8, 9, 10})

    def __init__(self, count: CountEvents, fetch: FetchEvents, *, page_size: int = 200,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent=parent)
        self._count, self._fetch = count, fetch
        self.page_size = page_size
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

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: N802, B008 - Qt API
        return not parent.isValid() and len(self._rows) < self._total

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: N802, B008 - Qt API
        if parent.isValid() or len(self._rows) >= self._total:
            return
        batch = self._fetch(len(self._rows), min(self.page_size, self._total - len(self._rows)))
        if not batch:  # fewer events than counted (cannot happen with an append-only trail, but never loop)
            self._total = len(self._rows)
            return
        self.insert_rows(len(self._rows), batch)

    def fetch_all(self) -> None:
        while self.canFetchMore():
            self.fetchMore()

    def text(self, ev: AuditEventView, column: int) -> str:
        return _flat(event_cells(ev)[column])

    def role_data(self, ev: AuditEventView, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.ToolTipRole and column in self.LONG_COLUMNS:
            # A creation or a system event: what it recorded, one "Label: value" a line.
            text = "\n".join(ev.wording.changes) if column == 9 and not ev.field else event_cells(ev)[column]
            return text or None
        if role == Qt.ItemDataRole.TextAlignmentRole and column == 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None
