"""Item models of the Scans page: import results, the exceptions queue and returned forms (true copies)."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import QItemSelection, QItemSelectionModel, QSize, Qt
from PySide6.QtGui import QBrush, QColor, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QTableView, QWidget

from app.enums import ScanOutcome
from app.services.core.timefmt import local_text
from app.services.scans.intake import PageOutcome
from app.services.scans.intake_report import FAILED_OUTCOMES
from app.services.scans.scans import ScanPageInfo
from app.services.scans.true_copy import ReturnedForm
from app.ui.kit.list_model import ListTableModel

T = TypeVar("T")

OK_COLOUR = QColor("#1b6e2d")
PROBLEM_COLOUR = QColor("#8a4b00")
FAILED_COLOUR = QColor("#b00020")
THUMB_SIDE = 96

_FILE_OUTCOMES = {
    "unreadable-file": "File cannot be read",
    "too-large": "File too large for this site's limits",
    "unsupported-format": "Not a scan file format",
    "duplicate-source": "Already imported (same file)",
    "skipped": "Skipped (not a scan file)",
    "followed-symlink": "Symbolic link followed",
    "not-stored": "File could not be taken",
}


def outcome_title(code: str) -> str:
    """Readable title of an import outcome code (a ScanOutcome value or a file-level outcome)."""
    if code in _FILE_OUTCOMES:
        return _FILE_OUTCOMES[code]
    try:
        return ScanOutcome(code).title
    except ValueError:
        return code


class ImportResultModel(ListTableModel[PageOutcome]):
    """One row per page of an import (or per file that could not be used)."""

    COLUMNS = ("File", "Page", "Outcome", "Form and page, or reason")

    def text(self, row: PageOutcome, column: int) -> str:
        if column == 0:
            return Path(row.source).name
        if column == 1:
            return str(row.page) if row.page is not None else "—"
        if column == 2:
            return ("✔ " if row.linked else "⚠ ") + outcome_title(row.outcome)
        if row.linked:
            return row.form_page
        return row.reason or ""

    def role_data(self, row: PageOutcome, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.ForegroundRole and column == 2:
            if row.linked:
                return QBrush(OK_COLOUR)
            if row.page is None and row.outcome == "followed-symlink":
                return QBrush(OK_COLOUR)
            return QBrush(FAILED_COLOUR if row.page is None and row.outcome in FAILED_OUTCOMES else PROBLEM_COLOUR)
        if role == Qt.ItemDataRole.ToolTipRole:
            return row.source if column == 0 else (row.reason or None)
        return None


class ExceptionModel(ListTableModel[ScanPageInfo]):
    """The exceptions queue: one row per page waiting for a person, with a thumbnail in the first column
    (``set_thumbnail`` once it is loaded)."""

    COLUMNS = ("Page", "Problem", "Detail", "File and page", "Imported by", "Imported")
    KEY = "id"

    def __init__(self, rows: Sequence[ScanPageInfo] = (), parent: QWidget | None = None) -> None:
        super().__init__(rows, parent)
        self._thumbs: dict[int, QPixmap] = {}

    def set_thumbnail(self, scan_page_id: int, pixmap: QPixmap) -> None:
        self._thumbs[scan_page_id] = pixmap
        for i, row in enumerate(self._rows):
            if row.id == scan_page_id:
                index = self.index(i, 0)
                self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])

    def has_thumbnail(self, scan_page_id: int) -> bool:
        return scan_page_id in self._thumbs

    def text(self, row: ScanPageInfo, column: int) -> str:
        if column == 0:
            return "" if row.id in self._thumbs else "…"
        if column == 1:
            return row.outcome.title
        if column == 2:
            return row.reason or ""
        if column == 3:
            return row.location
        if column == 4:
            return row.imported_by
        return local_text(row.imported_at, seconds=False)

    def role_data(self, row: ScanPageInfo, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DecorationRole and column == 0:
            return self._thumbs.get(row.id)
        if role == Qt.ItemDataRole.SizeHintRole and column == 0:
            return QSize(THUMB_SIDE, THUMB_SIDE + 4)
        if role == Qt.ItemDataRole.ForegroundRole and column == 1:
            return QBrush(FAILED_COLOUR if row.outcome in (ScanOutcome.POSSIBLE_COPY, ScanOutcome.TAG_INVALID)
                          else PROBLEM_COLOUR)
        if role == Qt.ItemDataRole.ToolTipRole and column in (1, 2):
            return f"{row.outcome.title}\n{row.reason or ''}".strip()
        return None


def next_step(row: ReturnedForm) -> str:
    """What is still to do about a returned form, in words."""
    if row.verified_by is None:
        return "Verify the scans against the paper"
    if row.disposition is None:
        return "Record where the paper original is"
    return "Done"


class ReturnedFormModel(ListTableModel[ReturnedForm]):
    """Returned forms; "Serial" shows each as printed on the paper (its label), rows are keyed by the serial."""

    COLUMNS = ("Serial", "Template", "Purpose", "Issued to", "True copy", "Paper original", "Next step")
    KEY = "serial"

    def text(self, row: ReturnedForm, column: int) -> str:
        if column == 0:
            return row.printed_as
        if column == 1:
            return row.template
        if column == 2:
            return row.purpose
        if column == 3:
            return row.issued_to
        if column == 4:
            return f"verified by {row.verified_by}, {local_text(row.verified_at, seconds=False)}" \
                if row.verified_by and row.verified_at else "not verified"
        if column == 5:
            if row.disposition == "archived":
                return f"archived: {row.location}"
            return row.disposition or "kept until verified"
        return next_step(row)

    def role_data(self, row: ReturnedForm, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.ForegroundRole and column == 6:
            return QBrush(OK_COLOUR if next_step(row) == "Done" else PROBLEM_COLOUR)
        return None


# -- many rows selected at once (the batch acts: verify many true copies, set aside many pages) ------------
def allow_many(table: QTableView) -> QTableView:
    """Let the user select many rows (Shift/Ctrl-click, Ctrl+A) for an act repeated over each of them."""
    table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
    return table


def selected_rows(table: QTableView) -> list[int]:
    """The selected rows, top to bottom."""
    return sorted(index.row() for index in table.selectionModel().selectedRows())


def current_selected_row(table: QTableView) -> int | None:
    """The row the user last clicked, if it is selected; else the first selected one (None: nothing selected)."""
    rows = selected_rows(table)
    current = table.currentIndex().row()
    return current if current in rows else (rows[0] if rows else None)


def current_item(table: QTableView, model: ListTableModel[T]) -> T | None:
    """The item shown beside a list: the one last clicked of those selected."""
    row = current_selected_row(table)
    return model.row_at(row) if row is not None else None


def selected_items(table: QTableView, model: ListTableModel[T]) -> list[T]:
    """Every selected item, in list order."""
    return [model.row_at(r) for r in selected_rows(table)]


def select_key(table: QTableView, model: ListTableModel[Any], key: Hashable) -> bool:
    """Select the item with this key, if the list holds it."""
    row = model.row_of(key)
    if row is not None:
        table.selectRow(row)
    return row is not None


def select_rows(table: QTableView, rows: Sequence[int]) -> None:
    """Select exactly ``rows`` (none: clear), the first of them current and scrolled into view."""
    model, chooser = table.model(), table.selectionModel()
    rows = sorted(r for r in set(rows) if 0 <= r < model.rowCount())
    if not rows:
        chooser.clearSelection()
        return
    last = model.columnCount() - 1
    selection = QItemSelection()
    for row in rows:
        selection.select(model.index(row, 0), model.index(row, last))
    # Current first (without touching the selection), so the selection's handlers see the right current row.
    chooser.setCurrentIndex(model.index(rows[0], 0), QItemSelectionModel.SelectionFlag.NoUpdate)
    chooser.select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect
                   | QItemSelectionModel.SelectionFlag.Rows)
    table.scrollTo(model.index(rows[0], 0))


def reselect(table: QTableView, model: ListTableModel[Any], keys: Sequence[object], *, anchor: int = 0) -> None:
    """After the list was read again: select the rows of ``keys`` still shown; if none is, the row now at
    ``anchor`` (where the selection was: an act that took its rows out of the list moves on to the next), or the
    last row when the list got shorter."""
    rows = [row for row in (model.row_of(key) for key in keys) if row is not None]
    if not rows and model.rowCount():
        rows = [min(anchor, model.rowCount() - 1)]
    select_rows(table, rows)
