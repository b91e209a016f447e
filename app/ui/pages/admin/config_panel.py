"""The Settings page's "Changes and approvals" tab (SE-02): the configuration changes waiting for QA, with
Approve… (e-signature) and Reject… (reason), and every version of the configuration, newest first."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QHeaderView, QLabel, QPushButton, QTableView, QVBoxLayout, QWidget

from app.enums import SignatureMeaning
from app.services.site import config_changes
from app.services.site.config_changes import ConfigChangeView
from app.ui.kit import data_events
from app.ui.kit.data_events import Topic
from app.ui.kit.dialogs import accepted, open_dialog
from app.ui.kit.list_model import ListTableModel
from app.ui.kit.operations import run_query
from app.ui.kit.reason import ReasonDialog
from app.ui.kit.widgets import hint, setup_table
from app.ui.pages.registry import PageContext


def value_text(value: Any) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


class ChangesModel(ListTableModel[ConfigChangeView]):
    """Configuration changes; ``UserRole`` gives the ConfigChangeView."""

    COLUMNS = ("Version", "Setting", "Old value", "New value", "Status", "Asked by", "Asked at", "Reason",
               "Decided by", "Decision")

    def __init__(self, ctx: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(parent=parent)
        self._ctx = ctx

    def text(self, item: ConfigChangeView, column: int) -> str:
        decision = item.decision_reason or item.signature or ""
        return (f"v{item.version}", item.title, value_text(item.old_value), value_text(item.new_value),
                item.status_text, item.requested_by, self._ctx.when(item.requested_at, seconds=False), item.reason,
                item.decided_by or "", decision)[column]

    def role_data(self, item: ConfigChangeView, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.ToolTipRole:
            return item.key if column == 1 else (item.why_not or None)
        return None


class ConfigChangesPanel(QWidget):
    def __init__(self, ctx: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.dialog: ReasonDialog | None = None
        layout = QVBoxLayout(self)
        layout.addWidget(hint("Every change of a setting is a numbered version of the configuration. A change to a "
                              "setting that protects GMP records waits for QA: it takes effect only once another "
                              "person approves it with an e-signature."))
        layout.addWidget(QLabel("<b>Waiting for QA approval</b>"))
        self.pending_model = ChangesModel(ctx, self)
        self.pending_table = self._table(self.pending_model)
        layout.addWidget(self.pending_table, 1)
        bar = QHBoxLayout()
        self.approve_button = QPushButton("Approve…")
        self.approve_button.clicked.connect(self.approve_selected)
        self.reject_button = QPushButton("Reject…")
        self.reject_button.clicked.connect(self.reject_selected)
        for button in (self.approve_button, self.reject_button):
            bar.addWidget(button)
        self.why_label = hint("")
        bar.addWidget(self.why_label, 1)
        layout.addLayout(bar)
        layout.addWidget(QLabel("<b>Version history</b> (newest first)"))
        self.history_model = ChangesModel(ctx, self)
        self.history_table = self._table(self.history_model)
        layout.addWidget(self.history_table, 2)
        self.pending_table.selectionModel().selectionChanged.connect(self._update_buttons)
        data_events.listen(self, {Topic.SETTINGS}, self.reload)
        self._update_buttons()

    def _table(self, model: ChangesModel) -> QTableView:
        table = QTableView()
        table.setModel(model)
        setup_table(table)
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        return table

    def reload(self) -> None:
        ctx = self._ctx
        run_query(self, lambda: (config_changes.pending(ctx.db, ctx.actor), config_changes.history(ctx.db, ctx.actor)),
                  key="changes", on_done=self._show)

    def _show(self, result: tuple[list[ConfigChangeView], list[ConfigChangeView]]) -> None:
        pending, history = result
        self.pending_model.set_rows(pending)
        self.history_model.set_rows(history)
        if pending:
            self.pending_table.selectRow(0)
        self._update_buttons()

    def selected(self) -> ConfigChangeView | None:
        rows = self.pending_table.selectionModel().selectedRows()
        return self.pending_model.row_at(rows[0].row()) if rows else None

    def _update_buttons(self) -> None:
        change = self.selected()
        may_decide = change is not None and change.may_reject
        self.approve_button.setVisible(may_decide)
        self.reject_button.setVisible(may_decide)
        self.approve_button.setEnabled(change is not None and change.may_approve)
        self.reject_button.setEnabled(may_decide)
        why = "" if change is None or change.may_approve else (change.why_not or "")
        self.approve_button.setToolTip(why)
        self.why_label.setText(f"Not now: {why}" if why and may_decide else "")

    def approve_selected(self) -> None:
        change = self.selected()
        if change is None or not change.may_approve:
            return
        ctx = self._ctx
        done = ctx.sign(self, summary=f"Approve configuration change v{change.version}: {change.title}\n"
                                      f"{value_text(change.old_value)} → {value_text(change.new_value)}\n"
                                      f"Asked by {change.requested_by}: {change.reason}\n"
                                      "It takes effect as soon as you sign.",
                        meaning=SignatureMeaning.APPROVED,
                        perform=lambda username, password: config_changes.approve(
                            ctx.db, ctx.actor, change_id=change.id, username=username, password=password))
        if done is not None:
            data_events.announce({Topic.SETTINGS})
            self.reload()

    def reject_selected(self) -> None:
        change = self.selected()
        if change is None or not change.may_reject:
            return
        ctx = self._ctx
        dialog = ReasonDialog(self, heading=f"Reject configuration change v{change.version}",
                              explanation=f"{change.title}: {value_text(change.old_value)} → "
                                          f"{value_text(change.new_value)} (asked by {change.requested_by}: "
                                          f"{change.reason}). A rejected change never takes effect.",
                              action_text="Reject change",
                              perform=lambda reason: config_changes.reject(ctx.db, ctx.actor, change_id=change.id,
                                                                           reason=reason),
                              placeholder="Why? e.g. 'not covered by an approved change request'")
        self.dialog = dialog

        def done(_dialog: ReasonDialog, result: int) -> None:
            self.dialog = None
            if accepted(result):
                data_events.announce({Topic.SETTINGS})
                self.reload()
        open_dialog(dialog, done)
