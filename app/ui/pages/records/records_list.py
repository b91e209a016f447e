"""The forms to work on: returned (recently scanned first) and issued forms with the state of their record."""

from __future__ import annotations

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

from app.enums import RecordState
from app.services.core.db import Actor, Database
from app.services.core.timefmt import local_text
from app.services.records.worklist import WorkItem, Worklist, worklist
from app.services.reports import work
from app.textfmt import noun, plural
from app.ui.kit import data_events
from app.ui.kit.data_events import Topic
from app.ui.kit.flow_layout import FlowLayout, keep_together
from app.ui.kit.list_model import ListTableModel
from app.ui.kit.messages import describe
from app.ui.kit.operations import run_query
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


class WorkListModel(ListTableModel[WorkItem]):
    """Adapts a list of ``WorkItem``; ``UserRole`` gives the WorkItem."""

    COLUMNS = ("Serial", "Template", "Purpose", "Issued to", "Form", "Record", "Returned (scanned)")
    KEY = "serial"

    def text(self, item: WorkItem, column: int) -> str:
        # The serial as printed on the paper (its label); the search box finds a form by either.
        return (item.label or item.serial, item.template, item.purpose, item.issued_to,
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
        self.search.setObjectName("search")  # Ctrl+F (Go menu) finds it
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
        # The lists Home counts for this user (the service decides which, and which forms are in them).
        self._work_names: set[str] = set()
        for name, text in work.page_filters(actor, "records"):
            self.state_combo.addItem(text, name)
            self._work_names.add(name)
        self._members: frozenset[str] | None = None  # the serials of the chosen Home list, once read
        self.state_combo.currentIndexChanged.connect(self._filter_changed)
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
        data_events.listen(self, {Topic.RECORDS, Topic.SCANS, Topic.ISSUANCE}, self.reload)

    def reload(self) -> None:
        """Read the worklist in the background (with the serials of a Home list when one is chosen); the list
        shown stays usable meanwhile."""
        db, actor, name = self._db, self._actor, self._work_filter()

        def read() -> tuple[Worklist, frozenset[str] | None]:
            return worklist(db, actor), work.members(db, actor, page="records", name=name) if name else None
        run_query(self, read, key="worklist", on_done=lambda result: self._loaded(*result),
                  on_failed=lambda exc: self.error.show_text(describe(exc)))  # inline: the list stays usable

    def show_filter(self, name: str) -> None:
        """Show one of the lists Home counts (a name of ``work.page_filters``), or every form."""
        self.search.clear()
        self.state_combo.blockSignals(True)
        self.state_combo.setCurrentIndex(max(0, self.state_combo.findData(name)))
        self.state_combo.blockSignals(False)
        self._members = None
        self.reload()
        self._apply()  # nothing shown under the new filter until its forms are read

    def _work_filter(self) -> str | None:
        wanted = self.state_combo.currentData()
        return wanted if isinstance(wanted, str) and wanted in self._work_names else None

    def _filter_changed(self) -> None:
        if self._work_filter() is not None:
            self._members = None  # until the list's serials are read
            self.reload()
        self._apply()

    def _loaded(self, listed: Worklist, members: frozenset[str] | None = None) -> None:
        self._items = list(listed.items)
        self._members = members
        verify, review = listed.to_verify, listed.to_review
        self.error.clear_text()
        self.counts_label.setText(f"{plural(verify, 'record')} {noun(verify, 'awaits', 'await')} second-person "
                                  f"verification · {review} {noun(review, 'awaits', 'await')} review")
        self._apply()

    def _apply(self) -> None:
        wanted = self.state_combo.currentData()
        text = self.search.text()
        if self._work_filter() is not None:
            members = self._members or frozenset()
            rows = [i for i in self._items if i.matches(text) and i.serial in members]
        else:
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
            exact = next((i for i in self._items if i.label.casefold() == text.casefold()
                          or i.serial == text.rsplit("-", 1)[-1].zfill(6)), None)
            self.open_requested.emit(exact.serial if exact else text)
