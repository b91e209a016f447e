"""Item model of the templates page: one row per template (its newest version and its effective version)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QWidget

from app.models.enums import TemplateStatus
from app.services.templates import TemplateSummary

Index = QModelIndex | QPersistentModelIndex
USER_ROLE = Qt.ItemDataRole.UserRole
S = TemplateStatus

STATUS_TEXT = {S.DRAFT: "Draft", S.IN_REVIEW: "In review (waiting for QA)", S.EFFECTIVE: "Effective",
               S.SUPERSEDED: "Superseded", S.RETIRED: "Retired"}
STATUS_COLOUR = {S.DRAFT: QColor("#1d4f91"), S.IN_REVIEW: QColor("#9a5b00"), S.EFFECTIVE: QColor("#1b6e2d"),
                 S.SUPERSEDED: QColor("#777777"), S.RETIRED: QColor("#777777")}


def status_text(status: TemplateStatus) -> str:
    return STATUS_TEXT[status]


class TemplateTableModel(QAbstractTableModel):
    """Adapts a list of ``TemplateSummary``; ``UserRole`` gives the summary of a row."""

    COLUMNS = ("Code", "Title", "In use (issued)", "Newest version")
    WIDTHS = (105, 220, 150, 190)

    def __init__(self, rows: Sequence[TemplateSummary] = (), parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list[TemplateSummary] = list(rows)

    def set_templates(self, rows: Sequence[TemplateSummary]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def template_at(self, row: int) -> TemplateSummary:
        return self._rows[row]

    def row_of(self, code: str) -> int | None:
        return next((i for i, t in enumerate(self._rows) if t.code == code), None)

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
        summary = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(summary, column)
        if role == USER_ROLE:
            return summary
        if role == Qt.ItemDataRole.ForegroundRole and column == 3:
            return QBrush(STATUS_COLOUR[summary.status])
        if role == Qt.ItemDataRole.ForegroundRole and column == 2 and summary.effective_version is None:
            return QBrush(STATUS_COLOUR[S.RETIRED])
        if role == Qt.ItemDataRole.ToolTipRole and column == 1:
            return f"{summary.title} ({summary.department})"
        if role == Qt.ItemDataRole.ToolTipRole and column == 2:
            return ("No version is effective: this template cannot be issued." if summary.effective_version is None
                    else "Only this version is issued; older versions are superseded.")
        return None

    @staticmethod
    def _text(summary: TemplateSummary, column: int) -> str:
        if column == 0:
            return summary.code
        if column == 1:
            return summary.title
        if column == 2:
            if summary.effective_version is None:
                return "none"
            since = f" since {summary.effective_date.isoformat()}" if summary.effective_date else ""
            return f"v{summary.effective_version}{since}"
        if column == 3:
            return f"v{summary.version} · {STATUS_TEXT[summary.status]}"
        return ""
