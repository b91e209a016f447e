"""The history of record values: every entry, superseded ones struck through, with who, when, why and source."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QHeaderView, QTableView, QVBoxLayout, QWidget

from app.enums import EntryKind
from app.services.core.timefmt import local_text
from app.services.records.record_views import EntryInfo, FieldView
from app.ui.kit.list_model import ListTableModel
from app.ui.kit.widgets import hint, setup_table, title

SUPERSEDED = QColor("#7a7f87")
OUT_OF_LIMITS = QColor("#fde2cf")
MISSING = QColor("#b00020")
_KIND = {EntryKind.ORIGINAL: "Original entry", EntryKind.CORRECTION: "Correction",
         EntryKind.PAPER_CORRECTION: "Correction made on the paper"}


def value_text(entry: EntryInfo, unit: str | None = None) -> str:
    if entry.is_na:
        return "NA"
    return f"{entry.value} {unit}" if unit and entry.value else (entry.value or "")


def source_text(entry: EntryInfo, pages: Mapping[int, int]) -> str:
    """"Direct entry", or the page of the scan the value was read from (``pages``: scan page id -> page no)."""
    if entry.source != "scan" or entry.scan_page_id is None:
        return "Direct entry"
    page = pages.get(entry.scan_page_id)
    # An image replaced since (a rescan) is no longer among the form's pages: named so, never by its number.
    return f"Scan, page {page}" if page is not None else "Scan (an earlier image, since replaced)"


def notes_text(entry: EntryInfo) -> str:
    """Why the entry exists and what is special about it, in plain words."""
    notes = []
    if entry.is_na:
        notes.append(f"Does not apply: {entry.reason}")
    elif entry.kind is not EntryKind.ORIGINAL:
        notes.append(f"Why: {entry.reason}")
    if entry.out_of_limits:
        notes.append(f"OUT OF LIMITS – justification: {entry.justification}")
    if entry.late:
        notes.append(f"LATE ENTRY – {entry.late_reason}")
    if entry.superseded:
        notes.append("superseded by a later entry")
    return "; ".join(notes)


def verified_text(entry: EntryInfo, critical: bool) -> str:
    if entry.verified_at is not None:
        return f"{entry.verified_by}, {local_text(entry.verified_at, seconds=False)}"
    if critical and not entry.is_na and not entry.superseded:
        return "awaiting verification"
    return ""


HistoryRow = tuple[FieldView, EntryInfo | None]


class HistoryModel(ListTableModel[HistoryRow]):
    """Adapts a list of (FieldView, EntryInfo or None for a field without any value) pairs, oldest first per
    field. Superseded entries are struck through and grey (they stay part of the record); ``UserRole`` gives
    the EntryInfo."""

    COLUMNS = ("Field", "Value", "Kind", "Why / notes", "Entered by", "Entered at", "Source", "Verified by",
               "Activity (paper)")
    NOTES_WIDTH = 320

    def __init__(self, rows: Sequence[HistoryRow] = (), *, pages: Mapping[int, int] | None = None,
                 show_field: bool = True, parent: QWidget | None = None) -> None:
        super().__init__(rows, parent, columns=self.COLUMNS if show_field else self.COLUMNS[1:])
        self._pages = dict(pages or {})

    def set_rows(self, rows: Sequence[HistoryRow], *, pages: Mapping[int, int] | None = None) -> None:
        self._pages = dict(pages or {})  # only read by data(), which views call again after the reset
        super().set_rows(rows)

    def column_of(self, name: str) -> int:
        return self._columns.index(name)

    def user_value(self, row: HistoryRow) -> EntryInfo | None:
        return row[1]

    def text(self, row: HistoryRow, column: int) -> str:
        field, entry = row
        name = self._columns[column]
        if name == "Field":
            return field.label
        if entry is None:
            return {"Value": "(no value)", "Why / notes": "required: still empty" if field.required
                    else "optional: left empty"}.get(name, "")
        if name == "Value":
            return value_text(entry, field.unit)
        if name == "Kind":
            return _KIND[entry.kind]
        if name == "Entered by":
            return entry.entered_by
        if name == "Entered at":
            return local_text(entry.entered_at)
        if name == "Activity (paper)":
            return local_text(entry.activity_at, seconds=False) if entry.activity_at else ""
        if name == "Source":
            return source_text(entry, self._pages)
        if name == "Why / notes":
            return notes_text(entry)
        return verified_text(entry, field.critical)

    def role_data(self, row: HistoryRow, column: int, role: int) -> Any:
        field, entry = row
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.text(row, column)
        if entry is None:
            return QBrush(MISSING) if role == Qt.ItemDataRole.ForegroundRole and field.required else None
        if role == Qt.ItemDataRole.FontRole and entry.superseded and self._columns[column] != "Field":
            font = QFont()
            font.setStrikeOut(True)
            return font
        if role == Qt.ItemDataRole.ForegroundRole and entry.superseded:
            return QBrush(SUPERSEDED)
        if role == Qt.ItemDataRole.BackgroundRole and entry.out_of_limits and not entry.superseded:
            return QBrush(OUT_OF_LIMITS)
        return None


def field_rows(fields: Sequence[FieldView]) -> list[HistoryRow]:
    """Every entry of every field, oldest first; a field without any entry gets one row with None."""
    return [(f, e) for f in fields for e in (f.history or (None,))]


def history_table(model: HistoryModel) -> QTableView:
    """A table of entries: columns fit their contents, the notes wrap in a column of their own."""
    table = setup_table(QTableView())
    table.setModel(model)
    table.setWordWrap(True)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    notes = model.column_of("Why / notes")
    header.setSectionResizeMode(notes, QHeaderView.ResizeMode.Interactive)
    header.resizeSection(notes, HistoryModel.NOTES_WIDTH)
    header.setStretchLastSection(True)
    table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    return table


class HistoryDialog(QDialog):
    """Every entry of one field (non-modal: the scan and the form stay usable beside it)."""

    def __init__(self, field: FieldView, *, serial: str, pages: Mapping[int, int],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"History of {field.label} – {serial}")
        layout = QVBoxLayout(self)
        layout.addWidget(title(field.label))
        layout.addWidget(hint("Every value ever saved for this field, oldest first. A struck-through value was "
                              "replaced by the one below it; it stays part of the record with who changed it, "
                              "when and why. Nothing is ever deleted."))
        self.model = HistoryModel(field_rows([field]), pages=pages, show_field=False, parent=self)
        self.table = history_table(self.model)
        layout.addWidget(self.table)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(1200, min(720, 230 + 56 * max(2, len(field.history))))
