"""Item model of the templates page: one row per template (its newest version and its effective version)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor

from app.enums import TemplateStatus
from app.services.templates.templates import TemplateSummary
from app.ui.kit.list_model import ListTableModel

S = TemplateStatus

STATUS_TEXT = {S.DRAFT: "Draft", S.IN_REVIEW: "In review (waiting for QA)", S.EFFECTIVE: "Effective",
               S.SUPERSEDED: "Superseded", S.RETIRED: "Retired"}
STATUS_COLOUR = {S.DRAFT: QColor("#1d4f91"), S.IN_REVIEW: QColor("#9a5b00"), S.EFFECTIVE: QColor("#1b6e2d"),
                 S.SUPERSEDED: QColor("#777777"), S.RETIRED: QColor("#777777")}


def status_text(status: TemplateStatus) -> str:
    return STATUS_TEXT[status]


class TemplateTableModel(ListTableModel[TemplateSummary]):
    """Adapts a list of ``TemplateSummary``; ``UserRole`` gives the summary of a row."""

    COLUMNS = ("Code", "Title", "In use (issued)", "Newest version")
    WIDTHS = (105, 220, 150, 190)
    KEY = "code"

    def role_data(self, summary: TemplateSummary, column: int, role: int) -> Any:
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

    def text(self, summary: TemplateSummary, column: int) -> str:
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
