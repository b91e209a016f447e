"""The forms to work on: returned (recently scanned first) and issued forms with the state of their record."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QComboBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.enums import FormState, RecordState, ScanOutcome
from app.services.core.db import Actor, Database
from app.services.core.timefmt import local_text
from app.services.issuance.register import RegisterFilter, fetch_forms
from app.services.records import records
from app.services.scans import scans
from app.textfmt import noun, plural
from app.ui.kit.flow_layout import FlowLayout, keep_together
from app.ui.kit.list_model import ListTableModel
from app.ui.kit.widgets import ErrorLine, hint, setup_table

NO_DATA = "no-data"  # filter value: forms with no value entered yet
FILTERS = (
    ("All forms", None), ("No value entered yet", NO_DATA), ("Transcription in progress", RecordState.OPEN),
    ("Awaiting verification", RecordState.TRANSCRIBED), ("Awaiting review", RecordState.VERIFIED),
    ("Awaiting approval", RecordState.REVIEWED), ("Approved", RecordState.APPROVED),
)
_RECORD_TEXT = {None: "no value yet", RecordState.OPEN: "transcription in progress",
                RecordState.TRANSCRIBED: "awaiting verification", RecordState.VERIFIED: "awaiting review",
                RecordState.REVIEWED: "awaiting approval", RecordState.APPROVED: "approved"}


@dataclasses.dataclass(frozen=True)
class WorkItem:
    serial: str
    template: str
    purpose: str
    issued_to: str
    form_state: FormState
    record_state: RecordState | None
    returned_at: dt.datetime | None  # when its latest linked scan was imported
    overdue: bool

    def matches(self, text: str) -> bool:
        needle = text.strip().casefold()
        return not needle or any(needle in value.casefold() for value in
                                 (self.serial, self.template, self.purpose, self.issued_to))


def load_work(db: Database, actor: Actor, *, limit: int = 1000) -> list[WorkItem]:
    """Returned and issued forms (the ones data can be entered for), recently returned first."""
    rows = [*fetch_forms(db, actor, RegisterFilter(state=FormState.RETURNED), limit=limit),
            *fetch_forms(db, actor, RegisterFilter(state=FormState.ISSUED), limit=limit)]
    states = {serial: state for serial, state, _at, _by in records.list_records(db, actor)}
    returned: dict[str, dt.datetime] = {}
    for page in scans.recent_pages(db, actor, limit=4 * limit):  # newest first
        if page.serial and page.outcome is ScanOutcome.LINKED:
            returned.setdefault(page.serial, page.imported_at)
    items = [WorkItem(serial=r.serial, template=r.template_label, purpose=r.purpose, issued_to=r.issued_to,
                      form_state=r.state, record_state=states.get(r.serial), returned_at=returned.get(r.serial),
                      overdue=r.overdue) for r in rows]
    return sorted(items, key=lambda i: (i.form_state is not FormState.RETURNED,
                                        -i.returned_at.timestamp() if i.returned_at else 0.0, -int(i.serial)))


class WorkListModel(ListTableModel[WorkItem]):
    """Adapts a list of ``WorkItem``; ``UserRole`` gives the WorkItem."""

    COLUMNS = ("Serial", "Template", "Purpose", "Issued to", "Form", "Record", "Returned (scanned)")
    KEY = "serial"

    def text(self, item: WorkItem, column: int) -> str:
        return (item.serial, item.template, item.purpose, item.issued_to,
                item.form_state.value + (" (overdue)" if item.overdue else ""),
                _RECORD_TEXT[item.record_state],
                local_text(item.returned_at, seconds=False) if item.returned_at else "")[column]

    def role_data(self, item: WorkItem, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.ForegroundRole and column == 5 \
                and item.record_state in (RecordState.TRANSCRIBED, RecordState.VERIFIED, RecordState.REVIEWED):
            return QBrush(QColor("#8a5a00"))
        return None


class RecordsList(QWidget):
    """Search and filter the forms; Enter or double-click opens one."""

    open_requested = Signal(str)  # serial

    def __init__(self, db: Database, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._db, self._actor = db, actor
        self._items: list[WorkItem] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(hint("Pick a form to transcribe, verify or review. Recently returned (scanned) forms come "
                              "first; type a serial and press Enter to open any form directly."))
        bar = FlowLayout()
        self.search = QLineEdit()
        self.search.setMinimumWidth(240)
        self.search.setPlaceholderText("Serial, template, purpose or person")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._apply)
        self.search.returnPressed.connect(self._search_entered)
        search_label = QLabel("&Find:")
        search_label.setBuddy(self.search)
        bar.addWidget(keep_together(search_label, self.search))
        self.state_combo = QComboBox()
        for text, value in FILTERS:
            self.state_combo.addItem(text, value)
        self.state_combo.currentIndexChanged.connect(self._apply)
        state_label = QLabel("&Record:")
        state_label.setBuddy(self.state_combo)
        bar.addWidget(keep_together(state_label, self.state_combo))
        self.open_button = QPushButton("&Open")
        self.open_button.setDefault(True)
        self.open_button.clicked.connect(self._open_selected)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.reload)
        bar.addWidget(self.open_button)
        bar.addWidget(self.refresh_button)
        self.extra_bar = bar  # the page adds the integrity report button here
        layout.addLayout(bar)
        self.counts_label = QLabel()
        layout.addWidget(self.counts_label)
        self.error = ErrorLine()
        layout.addWidget(self.error)
        self.model = WorkListModel(parent=self)
        self.table = setup_table(QTableView())
        self.table.setModel(self.model)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.doubleClicked.connect(self._open_index)
        self.table.activated.connect(self._open_index)
        layout.addWidget(self.table, 1)

    def reload(self) -> None:
        try:
            self._items = load_work(self._db, self._actor)
            verify, review = records.pending_counts(self._db, self._actor)
        except Exception as exc:  # noqa: BLE001 - shown inline; the list stays usable
            from app.ui.kit.messages import describe
            self.error.show_text(describe(exc))
            return
        self.error.clear_text()
        self.counts_label.setText(f"{plural(verify, 'record')} {noun(verify, 'awaits', 'await')} second-person "
                                  f"verification · {review} {noun(review, 'awaits', 'await')} review")
        self._apply()

    def _apply(self) -> None:
        wanted = self.state_combo.currentData()
        text = self.search.text()
        rows = [i for i in self._items if i.matches(text) and (
            wanted is None or (wanted == NO_DATA and i.record_state is None) or i.record_state is wanted)]
        chosen = self.selected()
        self.model.set_rows(rows)
        row = self.model.row_of(chosen.serial) if chosen else None
        self.table.selectRow(row if row is not None else 0)

    def _open_index(self, index: QModelIndex) -> None:
        self.open_requested.emit(self.model.row_at(index.row()).serial)

    def selected(self) -> WorkItem | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.row_at(rows[0].row()) if rows else None

    def _open_selected(self) -> None:
        item = self.selected()
        if item is not None:
            self.open_requested.emit(item.serial)
        elif self.search.text().strip():
            self.open_requested.emit(self.search.text().strip())

    def _search_entered(self) -> None:
        """Enter in the search box: the only match, or the typed serial itself (any form, even unlisted)."""
        text = self.search.text().strip()
        if not text:
            return
        if self.model.rowCount() == 1:
            self.open_requested.emit(self.model.row_at(0).serial)
        else:
            exact = next((i for i in self._items if i.serial == text.rsplit("-", 1)[-1].zfill(6)), None)
            self.open_requested.emit(exact.serial if exact else text)
