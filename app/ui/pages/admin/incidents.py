"""The Incidents page (SE-03): the incident log the system keeps (integrity failures, failed backups and
test-restores, clock anomalies, lockouts). QA reads each incident and closes it with an assessment (root cause),
the action taken (CAPA), a closing reason and an e-signature. Whether Close is offered comes from the service's
``may_close``/``why_not_close``."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.services.admin import incident_log
from app.services.admin.incident_log import IncidentView
from app.services.core.timefmt import local_text
from app.services.identity.permissions import Permission
from app.ui.kit import data_events
from app.ui.kit.data_events import Topic
from app.ui.kit.dialogs import accepted, open_dialog
from app.ui.kit.flow_layout import FlowLayout
from app.ui.kit.list_model import ListTableModel
from app.ui.kit.operations import run_query
from app.ui.kit.widgets import hint, setup_table
from app.ui.pages.registry import PageContext, register_page


class IncidentTableModel(ListTableModel[IncidentView]):
    COLUMNS = ("Incident", "Kind", "About", "Status", "Opened", "Times", "Last seen")
    KEY = "id"

    def role_data(self, incident: IncidentView, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.ForegroundRole and incident.open:
            return QBrush(QColor("#b00020"))
        return None

    def text(self, incident: IncidentView, column: int) -> str:
        values = (incident.label, incident.kind_title, incident.subject, incident.status.capitalize(),
                  local_text(incident.opened_at, seconds=False), str(incident.occurrences),
                  local_text(incident.last_seen_at, seconds=False))
        return values[column]


def describe(incident: IncidentView) -> str:
    """The incident in full, as the detail pane shows it (plain text)."""
    lines = [f"{incident.label}: {incident.kind_title} — {incident.subject} ({incident.status})",
             f"Opened {local_text(incident.opened_at)} by {incident.opened_by}; seen {incident.occurrences} time(s), "
             f"last {local_text(incident.last_seen_at)}.", "", incident.detail]
    for name, text in (("Assessment", incident.assessment), ("CAPA", incident.capa),
                       ("Closing reason", incident.closing_reason)):
        if text:
            lines += ["", f"{name}: {text}"]
    if incident.closed_at is not None:
        lines += ["", f"Closed {local_text(incident.closed_at)} by {incident.closed_by}."]
    if incident.signature:
        lines.append(f"Signed: {incident.signature}")
    return "\n".join(lines)


class CloseIncidentDialog(QDialog):
    """Assessment, CAPA and reason; the service refuses a close without assessment or reason."""

    def __init__(self, parent: QWidget | None, incident: IncidentView) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Close {incident.label}")
        layout = QVBoxLayout(self)
        layout.addWidget(hint(f"{incident.kind_title}: {incident.subject}. Closing needs your assessment (what "
                              "happened, its root cause, its impact on the data), the action taken and a reason; "
                              "then your e-signature."))
        form = QFormLayout()
        self.assessment = QPlainTextEdit()
        self.capa = QPlainTextEdit()
        self.reason = QLineEdit()
        form.addRow("Assessment (root cause):", self.assessment)
        form.addRow("CAPA (action taken):", self.capa)
        form.addRow("Reason for closing:", self.reason)
        layout.addLayout(form)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Sign and close…")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def texts(self) -> tuple[str, str, str]:
        return self.assessment.toPlainText(), self.capa.toPlainText(), self.reason.text()


class IncidentsPage(QWidget):
    def __init__(self, ctx: PageContext) -> None:
        super().__init__()
        self._ctx = ctx
        self.dialog: QDialog | None = None
        layout = QVBoxLayout(self)
        layout.addWidget(hint("Incidents are opened by the system: failed integrity checks, failed backups and "
                              "test-restores, clock anomalies, lockouts. They are never deleted; QA closes each one "
                              "with an assessment, the action taken and an e-signature."))
        bar = FlowLayout()
        self.close_button = QPushButton("Close…")
        self.close_button.clicked.connect(self.close_selected)
        bar.addWidget(self.close_button)
        self.show_closed = QCheckBox("Show closed incidents too")
        self.show_closed.toggled.connect(lambda _on: self.reload())
        bar.addWidget(self.show_closed)
        layout.addLayout(bar)
        self.model = IncidentTableModel(parent=self)
        self.table = QTableView()
        self.table.setModel(self.model)
        setup_table(self.table)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.selectionModel().selectionChanged.connect(self._selected_changed)
        self.detail = QLabel()
        self.detail.setWordWrap(True)
        self.detail.setTextFormat(Qt.TextFormat.PlainText)
        self.detail.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(self.detail)
        layout.addWidget(split)
        data_events.listen(self, {Topic.SETTINGS, Topic.USERS}, self.reload)
        self._selected_changed()
        self.reload()

    def page_shown(self) -> None:
        self.reload()

    def show_filter(self, name: str) -> None:
        """Home's "open" list: the open incidents (another name: all of them)."""
        self.show_closed.setChecked(name != "open")
        self.reload()

    def reload(self) -> None:
        ctx, everything = self._ctx, self.show_closed.isChecked()
        run_query(self, lambda: incident_log.list_incidents(ctx.db, ctx.actor, include_closed=everything),
                  key="incidents", on_done=self._listed)

    def _listed(self, rows: list[IncidentView]) -> None:
        chosen = self.selected()
        self.model.set_rows(rows)
        if chosen is not None and (row := self.model.row_of(chosen.id)) is not None:
            self.table.selectRow(row)
        elif rows:
            self.table.selectRow(0)
        self._selected_changed()

    def selected(self) -> IncidentView | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        return self.model.row_at(rows[0].row()) if rows else None

    def _selected_changed(self, *_args: object) -> None:
        incident = self.selected()
        self.detail.setText(describe(incident) if incident else "No incident selected.")
        self.close_button.setVisible(self._ctx.allowed(Permission.CLOSE_INCIDENTS))
        self.close_button.setEnabled(incident is not None and incident.may_close)
        self.close_button.setToolTip("" if incident is None or incident.may_close else (incident.why_not_close or ""))

    def close_selected(self) -> None:
        incident = self.selected()
        if incident is None or not incident.may_close:
            return
        self.dialog = open_dialog(CloseIncidentDialog(self, incident),
                                  lambda dialog, result: self._close_asked(incident, dialog, result))

    def _close_asked(self, incident: IncidentView, dialog: CloseIncidentDialog, result: int) -> None:
        self.dialog = None
        if not accepted(result):
            return
        assessment, capa, reason = dialog.texts()
        ctx = self._ctx
        # Refused (and logged) before the password is asked for: a close without assessment or reason.
        run_query(self, lambda: incident_log.check_close(ctx.db, ctx.actor, incident.id, assessment=assessment,
                                                         capa=capa, reason=reason),
                  key="check-close", on_done=lambda _view: self._sign(incident, assessment, capa, reason))

    def _sign(self, incident: IncidentView, assessment: str, capa: str, reason: str) -> None:
        ctx = self._ctx
        closed = ctx.sign(self, summary=f"Close {incident.label} ({incident.kind_title}: {incident.subject})\n"
                                        f"Assessment: {assessment}\nCAPA: {capa or '—'}\nReason: {reason}",
                          meaning=incident_log.MEANING,
                          perform=lambda username, password: incident_log.close(
                              ctx.db, ctx.actor, incident.id, assessment=assessment, capa=capa, reason=reason,
                              username=username, password=password))
        if closed is not None:
            data_events.announce({Topic.SETTINGS})
            self.reload()


def incidents_page(ctx: PageContext) -> QWidget:
    return IncidentsPage(ctx)


register_page("incidents", incidents_page, title="Incidents", icon="audit",
              permissions=(Permission.CLOSE_INCIDENTS, Permission.VIEW_AUDIT), order=75,
              description="The incident log: integrity failures, failed backups and test-restores, clock anomalies "
                          "and lockouts; QA assesses and closes each with an e-signature.")
