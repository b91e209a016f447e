"""Admin → Workstations (AC-08): the stations registered, retired, and seen connecting but not registered; the
administrator registers, renames and retires them. Only a registered station may sign, issue, print controlled
forms or import scans (the services refuse; the main window shows a banner on any other station)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.services.core.errors import FormtrailError
from app.services.identity import workstations
from app.services.identity.permissions import Permission
from app.services.identity.workstations import StationInfo, ThisStation
from app.ui.kit import messages
from app.ui.kit.dialogs import accepted, open_dialog
from app.ui.kit.flow_layout import FlowLayout
from app.ui.kit.list_model import USER_ROLE, ListTableModel
from app.ui.kit.operations import run_query
from app.ui.kit.reason import ReasonDialog
from app.ui.kit.widgets import fit_to_contents, hint, reason_field, setup_table, title
from app.ui.pages.registry import PageContext, register_page

_GREY = QColor("#777777")
_ALERT = QColor("#b00020")


class StationModel(ListTableModel[StationInfo]):
    COLUMNS = ("Name", "Status", "Host", "Workstation id", "Last seen", "Registered by")
    KEY = "station_id"

    def text(self, s: StationInfo, column: int) -> str:
        values = (s.name or "", s.status_text, s.host, s.station_id, self.when(s.last_seen_at),
                  s.registered_by or "")
        return values[column] if 0 <= column < len(values) else ""

    @staticmethod
    def when(moment: Any) -> str:
        return PageContext.when(moment, seconds=False)

    def role_data(self, s: StationInfo, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.ForegroundRole:
            return QBrush(_ALERT) if s.may_register else (QBrush(_GREY) if s.retire_reason else None)
        if role == Qt.ItemDataRole.ToolTipRole and s.retire_reason:
            return f"Retired by {s.retired_by}: {s.retire_reason}"
        return None


class WorkstationsPage(QWidget):
    def __init__(self, ctx: PageContext) -> None:
        super().__init__()
        self._ctx = ctx
        self.dialog: QDialog | None = None
        layout = QVBoxLayout(self)
        layout.addWidget(hint("A workstation is one installation of Formtrail, known by an id it keeps in the "
                              "user's settings folder. Only registered workstations may sign, issue, print "
                              "controlled forms or import scans; the others read only. Stations that connected "
                              "are listed as “seen, not registered” until you register them."))
        self.this_station = QLabel()
        self.this_station.setWordWrap(True)
        layout.addWidget(self.this_station)
        bar = FlowLayout()
        self.register_button = QPushButton("Register…")
        self.rename_button = QPushButton("Rename…")
        self.retire_button = QPushButton("Retire…")
        for button, slot in ((self.register_button, self.register), (self.rename_button, self.rename),
                             (self.retire_button, self.retire)):
            button.clicked.connect(slot)
            button.setVisible(ctx.allowed(Permission.MANAGE_WORKSTATIONS))
            bar.addWidget(button)
        layout.addLayout(bar)
        self.model = StationModel(parent=self)
        self.table = QTableView()
        self.table.setModel(self.model)
        setup_table(self.table)
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        layout.addWidget(self.table)
        self.reload()

    def page_shown(self) -> None:
        self.reload()

    def reload(self) -> None:
        ctx = self._ctx
        run_query(self, lambda: (workstations.this_station(ctx.db), workstations.list_stations(ctx.db, ctx.actor)),
                  key="stations", on_done=self._listed)

    def _listed(self, found: tuple[ThisStation, list[StationInfo]]) -> None:
        me, rows = found
        state = "registered" if me.registered else "NOT registered (read-only)"
        self.this_station.setText(f"This workstation: {me.label} — id {me.station_id}, host {me.host or '?'}: "
                                  f"{state}")
        chosen = self.selected()
        self.model.set_rows(rows)
        if chosen is not None:
            row = self.model.row_of(chosen.station_id)
            if row is not None:
                self.table.selectRow(row)
        self._update_buttons()

    def selected(self) -> StationInfo | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.data(rows[0], USER_ROLE) if rows else None

    def select(self, station_id: str) -> None:
        row = self.model.row_of(station_id)
        if row is not None:
            self.table.selectRow(row)

    def _update_buttons(self) -> None:
        s = self.selected()
        self.register_button.setEnabled(s is not None and s.may_register)
        self.rename_button.setEnabled(s is not None and s.may_rename)
        self.retire_button.setEnabled(s is not None and s.may_retire)

    def _open(self, dialog: QDialog) -> None:
        self.dialog = dialog

        def done(_dialog: QDialog, result: int) -> None:
            self.dialog = None
            if accepted(result):
                self.reload()
        open_dialog(dialog, done)

    def register(self) -> None:
        s = self.selected()
        if s is not None:
            self._open(StationNameDialog(self._ctx, s, rename=False, parent=self))

    def rename(self) -> None:
        s = self.selected()
        if s is not None:
            self._open(StationNameDialog(self._ctx, s, rename=True, parent=self))

    def retire(self) -> None:
        s = self.selected()
        if s is None:
            return
        ctx = self._ctx
        self._open(ReasonDialog(
            self, heading=f"Retire workstation {s.name}", action_text="Retire",
            explanation="A retired workstation may only read from now on. It keeps its name, which old audit events "
                        "record; a reinstalled computer gets a new id and is registered anew.",
            perform=lambda reason: workstations.retire(ctx.db, ctx.actor, station=s.station_id, reason=reason)))


class StationNameDialog(QDialog):
    """Registers a seen station under a name, or renames a registered one (with a reason)."""

    def __init__(self, ctx: PageContext, station: StationInfo, *, rename: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx, self._station, self._rename = ctx, station, rename
        self.setWindowTitle("Rename workstation" if rename else "Register workstation")
        layout = QVBoxLayout(self)
        layout.addWidget(title(f"Workstation {station.station_id[:8]}… on host {station.host}"))
        layout.addWidget(hint("Audit events record the name given here. Names are never reused."))
        form = QFormLayout()
        self.name = QLineEdit(station.name or "")
        self.name.setPlaceholderText("e.g. QC-LAB-PC3")
        form.addRow("&Name:", self.name)
        self.reason = reason_field("Why? e.g. 'PC moved to the stability lab, CR-2026-031'")
        if rename:
            form.addRow("&Reason:", self.reason)
        layout.addLayout(form)
        buttons = QDialogButtonBox()
        ok = buttons.addButton("Rename" if rename else "Register", QDialogButtonBox.ButtonRole.AcceptRole)
        ok.setDefault(True)
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        fit_to_contents(self, min_width=440)
        self.name.setFocus()

    def accept(self) -> None:
        ctx, key = self._ctx, self._station.station_id
        try:
            if self._rename:
                workstations.rename(ctx.db, ctx.actor, station=key, new_name=self.name.text(),
                                    reason=self.reason.toPlainText())
            else:
                workstations.register(ctx.db, ctx.actor, station=key, name=self.name.text())
        except FormtrailError as exc:
            messages.show_exception(self, exc, title=self.windowTitle())
            return
        super().accept()


def workstations_page(ctx: PageContext) -> QWidget:
    return WorkstationsPage(ctx)


register_page("workstations", workstations_page, title="Workstations", icon="settings",
              permissions=(Permission.MANAGE_WORKSTATIONS,), order=85,
              description="Registered workstations: only they may sign, issue, print controlled forms or import "
                          "scans. Register the ones seen connecting, rename or retire them.")
