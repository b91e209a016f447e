"""The base of the pages' table models: a read-only table over a Python list of rows (frozen dataclasses)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

Index = QModelIndex | QPersistentModelIndex
USER_ROLE = Qt.ItemDataRole.UserRole
R = TypeVar("R")


class ListTableModel(QAbstractTableModel, Generic[R]):
    """One table row per item of a list, one column per name in ``COLUMNS``; ``UserRole`` gives the item.

    Subclasses implement ``text(row, column)`` (the DisplayRole) and may answer any other role in
    ``role_data(row, column, role)``; ``KEY`` names the attribute ``row_of`` finds a row by."""

    COLUMNS: tuple[str, ...] = ()
    KEY = ""

    def __init__(self, rows: Sequence[R] = (), parent: QObject | None = None, *,
                 columns: Sequence[str] | None = None) -> None:
        super().__init__(parent)
        self._rows: list[R] = list(rows)
        # ``columns``: a subset of COLUMNS for a model that hides some of them (the text hook maps them).
        self._columns: tuple[str, ...] = tuple(self.COLUMNS if columns is None else columns)

    @property
    def rows(self) -> list[R]:
        return list(self._rows)

    def set_rows(self, rows: Sequence[R]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def insert_rows(self, position: int, rows: Sequence[R]) -> None:
        if rows:
            self.beginInsertRows(QModelIndex(), position, position + len(rows) - 1)
            self._rows[position:position] = rows
            self.endInsertRows()

    def row_at(self, row: int) -> R:
        return self._rows[row]

    def row_of(self, key: object) -> int | None:
        """The first row whose ``KEY`` attribute equals ``key`` (None when no row has it)."""
        return next((i for i, r in enumerate(self._rows) if getattr(r, self.KEY) == key), None)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008 - Qt API
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008 - Qt API
        return 0 if parent.isValid() else len(self._columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal \
                and 0 <= section < len(self._columns):
            return self._columns[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not (0 <= index.row() < len(self._rows)) \
                or not (0 <= index.column() < len(self._columns)):
            return None
        row = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self.text(row, index.column())
        if role == USER_ROLE:
            return self.user_value(row)
        return self.role_data(row, index.column(), role)

    def text(self, row: R, column: int) -> str:
        raise NotImplementedError

    def role_data(self, row: R, column: int, role: int) -> Any:
        return None

    def user_value(self, row: R) -> Any:
        return row
