"""Settings page: the configurable rules, each change with a reason (audited, versioned); the changes waiting for
QA's approval and the version history (SE-02: administrators ask, QA approves the GMP-relevant ones); and this
workstation's set-up checks."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.services.admin import doctor
from app.services.core.errors import FormtrailError
from app.services.identity.permissions import Permission
from app.services.site import settings
from app.services.site.settings import SettingValue
from app.ui.kit import data_events, messages
from app.ui.kit.data_events import Topic
from app.ui.kit.dialogs import accepted, open_dialog
from app.ui.kit.list_model import USER_ROLE, ListTableModel
from app.ui.kit.widgets import fit_to_contents, hint, reason_field, setup_table, title
from app.ui.pages.admin.config_panel import ConfigChangesPanel
from app.ui.pages.admin.doctor_panel import ChecksPanel
from app.ui.pages.registry import PageContext, page

# When a change takes effect, for the settings where that is not immediately.
_EFFECT = {
    "session.idle_lock_minutes": "Takes effect at each user's next log-in.",
    "password.expiry_days": "Counted from each user's last password change.",
}


def _text(value: Any) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


class SettingsModel(ListTableModel[SettingValue]):
    """Adapts a list of ``SettingValue``; ``UserRole`` gives the SettingValue."""

    COLUMNS = ("Setting", "Value", "Default", "Last changed by", "Approval")

    def text(self, item: SettingValue, column: int) -> str:
        approval = (f"Pending: {_text(item.pending)}" if item.has_pending else
                    "QA approves changes" if item.gmp else "")
        return (item.title, _text(item.value), _text(item.default), item.changed_by or "(default)", approval)[column]

    def role_data(self, item: SettingValue, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{item.key}. {_EFFECT.get(item.key, 'Takes effect immediately.')}"
        return None


class ChangeSettingDialog(QDialog):
    def __init__(self, ctx: PageContext, item: SettingValue, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx, self._item = ctx, item
        spec = settings.SPECS[item.key]
        self.setWindowTitle(f"Change setting — {item.title}")
        layout = QVBoxLayout(self)
        layout.addWidget(title(item.title))
        effect = ("This rule protects GMP records: your change waits for QA's approval and takes effect when QA "
                  "approves it." if item.gmp else _EFFECT.get(item.key, "Takes effect immediately."))
        layout.addWidget(hint(f"Current value: {_text(item.value)} (default {_text(item.default)}). {effect} The "
                              "change gets a version number; the old and new value, your name and your reason go "
                              "into the audit trail."))
        form = QFormLayout()
        self.value: QSpinBox | QLineEdit
        if isinstance(spec.default, int):
            self.value = QSpinBox()
            self.value.setRange(int(spec.minimum if spec.minimum is not None else 0),
                                int(spec.maximum if spec.maximum is not None else 1_000_000))
            self.value.setValue(int(item.value))
        else:  # free text (the service checks and converts it)
            self.value = QLineEdit(_text(item.value))
        form.addRow("&New value:", self.value)
        layout.addLayout(form)
        label = QLabel("&Reason (required):")
        self.reason = reason_field("Why? e.g. 'change request CR-2026-007 approved by QA'")
        label.setBuddy(self.reason)
        layout.addWidget(label)
        layout.addWidget(self.reason)
        buttons = QDialogButtonBox()
        ok = buttons.addButton("Save setting", QDialogButtonBox.ButtonRole.AcceptRole)
        ok.setDefault(True)
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        fit_to_contents(self, min_width=460)
        self.value.setFocus()

    def _new_value(self) -> Any:
        return self.value.value() if isinstance(self.value, QSpinBox) else self.value.text()

    def accept(self) -> None:
        try:
            change = settings.change(self._ctx.db, self._ctx.actor, key=self._item.key, value=self._new_value(),
                                     reason=self.reason.toPlainText())
        except FormtrailError as exc:
            messages.show_exception(self, exc, title="Setting not changed")
            return
        if change is not None and change.is_pending:
            messages.info(self, f"Configuration change v{change.version} waits for QA's approval: "
                                f"{change.title} stays {_text(change.old_value)} until QA approves "
                                f"{_text(change.new_value)}.", title="Waiting for approval")
        super().accept()


class SettingsPage(QWidget):
    def __init__(self, ctx: PageContext) -> None:
        super().__init__()
        self._ctx = ctx
        self.dialog: ChangeSettingDialog | None = None
        outer = QVBoxLayout(self)
        self.tabs = QTabWidget()
        outer.addWidget(self.tabs)
        rules = QWidget()
        self.tabs.addTab(rules, "Site rules")
        self.changes = ConfigChangesPanel(ctx)
        self.tabs.addTab(self.changes, "Changes and approvals")
        self.checks = ChecksPanel(doctor.workstation_of(ctx.db))
        self.tabs.addTab(self.checks, "This workstation")
        layout = QVBoxLayout(rules)
        self._may_change = may_change = ctx.allowed(Permission.MANAGE_SETTINGS)
        layout.addWidget(hint("These rules apply to every user of this site. " + (
            "Select a setting and press Change… (or double-click it). A change to a rule marked \u201cQA approves "
            "changes\u201d waits for QA's approval." if may_change else
            "Administrators change them; QA approves the changes to the rules that protect GMP records "
            "(Changes and approvals).")))
        self.model = SettingsModel(parent=self)
        self.table = QTableView()
        self.table.setModel(self.model)
        setup_table(self.table)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.doubleClicked.connect(self.change)
        layout.addWidget(self.table)
        bar = QHBoxLayout()
        self.change_button = QPushButton("Change…")
        self.change_button.clicked.connect(self.change)
        self.change_button.setVisible(may_change)
        bar.addWidget(self.change_button)
        bar.addStretch(1)
        layout.addLayout(bar)
        if not may_change:  # QA comes here to approve: their tab first
            self.tabs.setCurrentWidget(self.changes)
        self.reload()

    def page_shown(self) -> None:
        self.reload()

    def reload(self) -> None:
        self.model.set_rows(settings.list_settings(self._ctx.db))
        if self.model.rowCount():
            self.table.selectRow(0)
        self.changes.reload()

    def change(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows or not self._may_change:
            return
        row = rows[0].row()
        dialog = ChangeSettingDialog(self._ctx, self.model.data(rows[0], USER_ROLE), self)
        self.dialog = dialog

        def done(_dialog: QDialog, result: int) -> None:
            self.dialog = None
            if accepted(result):
                data_events.announce({Topic.SETTINGS})
                self.reload()
                self.table.selectRow(row)
        open_dialog(dialog, done)


@page("settings", permissions=(Permission.MANAGE_SETTINGS, Permission.APPROVE_CONFIGURATION),
      description="Site rules (passwords, lockout, idle lock, clock tolerance...; every change needs a reason and is "
                  "versioned, QA approves the GMP-relevant ones) and this workstation's set-up checks.")
def settings_page(ctx: PageContext) -> QWidget:
    return SettingsPage(ctx)
