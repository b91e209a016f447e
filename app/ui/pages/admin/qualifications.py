"""The selected user's qualifications on the Users page (AC-07): identity verified, accountability statement,
training per activity, with dates, expiry and status; QA records and revokes them. Whether the user may sign or
verify values, and why not, comes from the service."""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.services.core.errors import FormtrailError
from app.services.identity import training
from app.services.identity.permissions import Permission
from app.services.identity.training import QualificationInfo, QualificationKind, TrainedActivity, UserQualifications
from app.ui.kit import messages
from app.ui.kit.dialogs import accepted, open_dialog
from app.ui.kit.list_model import USER_ROLE, ListTableModel
from app.ui.kit.operations import run_query
from app.ui.kit.reason import ReasonDialog
from app.ui.kit.widgets import day_of, fit_to_contents, hint, setup_table, title
from app.ui.pages.registry import PageContext

_GREY = QColor("#777777")


class QualificationModel(ListTableModel[QualificationInfo]):
    COLUMNS = ("Qualification", "Reference", "Completed", "Expires", "Status", "Recorded by")
    KEY = "id"

    def text(self, q: QualificationInfo, column: int) -> str:
        values = (q.what, q.reference, q.completed_on.isoformat(), q.expires_on.isoformat() if q.expires_on else "",
                  q.status, q.recorded_by)
        return values[column] if 0 <= column < len(values) else ""

    def role_data(self, q: QualificationInfo, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.ForegroundRole and not q.current:
            return QBrush(_GREY)
        if role == Qt.ItemDataRole.ToolTipRole and q.revoke_reason:
            return f"Revoked by {q.revoked_by}: {q.revoke_reason}"
        return None


class QualificationsPanel(QGroupBox):
    """Follows the Users page's selection (``show_user``)."""

    def __init__(self, ctx: PageContext, parent: QWidget | None = None) -> None:
        super().__init__("Qualifications (identity, accountability statement, training)", parent)
        self._ctx = ctx
        self.username: str | None = None
        self.current: UserQualifications | None = None
        self.dialog: QDialog | None = None
        layout = QVBoxLayout(self)
        self.standing = QLabel()
        self.standing.setWordWrap(True)
        layout.addWidget(self.standing)
        bar = QHBoxLayout()
        self.record_button = QPushButton("Record training…")
        self.record_button.clicked.connect(self.record)
        self.revoke_button = QPushButton("Revoke…")
        self.revoke_button.clicked.connect(self.revoke)
        for button in (self.record_button, self.revoke_button):
            button.setVisible(ctx.allowed(Permission.RECORD_TRAINING))
            bar.addWidget(button)
        bar.addStretch(1)
        layout.addLayout(bar)
        self.model = QualificationModel(parent=self)
        self.table = QTableView()
        self.table.setModel(self.model)
        setup_table(self.table)
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        layout.addWidget(self.table)
        self.show_user(None)

    def show_user(self, username: str | None) -> None:
        self.username = username
        if username is None:
            self._shown(None)
            return
        ctx = self._ctx
        run_query(self, lambda: training.of_user(ctx.db, ctx.actor, username), key="qualifications",
                  on_done=self._shown)

    def _shown(self, found: UserQualifications | None) -> None:
        self.current = found
        self.model.set_rows(found.records if found else [])
        if found is None:
            self.standing.setText("Select a user to see their qualifications.")
        else:
            s = found.standing
            self.standing.setText(
                f"May sign: {'yes' if s.may_sign else 'no — ' + (s.why_not_sign or '')}\n"
                f"May verify values: {'yes' if s.may_verify else 'no — ' + (s.why_not_verify or '')}")
        self._update_buttons()

    def selected(self) -> QualificationInfo | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.data(rows[0], USER_ROLE) if rows else None

    def _update_buttons(self) -> None:
        chosen = self.selected()
        self.record_button.setEnabled(self.current is not None and self.current.may_record)
        self.revoke_button.setEnabled(chosen is not None and chosen.may_revoke)

    def _open(self, dialog: QDialog) -> None:
        self.dialog = dialog

        def done(_dialog: QDialog, result: int) -> None:
            self.dialog = None
            if accepted(result):
                self.show_user(self.username)
        open_dialog(dialog, done)

    def record(self) -> None:
        if self.username is not None:
            self._open(RecordTrainingDialog(self._ctx, self.username, self))

    def revoke(self) -> None:
        chosen = self.selected()
        if chosen is None:
            return
        ctx = self._ctx
        self._open(ReasonDialog(
            self, heading=f"Revoke {chosen.what} of {chosen.username}", action_text="Revoke",
            explanation="The record stays, marked revoked with your reason. If it was the user's only current "
                        "record of its kind, they may no longer sign (or verify values) until a new one is recorded.",
            perform=lambda reason: training.revoke(ctx.db, ctx.actor, qualification_id=chosen.id, reason=reason)))


class RecordTrainingDialog(QDialog):
    """Records one qualification on OK; an error keeps the dialog open with everything typed."""

    def __init__(self, ctx: PageContext, username: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx, self._username = ctx, username
        self.recorded: QualificationInfo | None = None
        self.setWindowTitle(f"Record a qualification of {username}")
        layout = QVBoxLayout(self)
        layout.addWidget(title(f"Qualification of {username}"))
        layout.addWidget(hint("Signing needs identity verification, the signed accountability statement (21 CFR "
                              "11.100(c)) and current training for signing; verifying values needs training for "
                              "verifying. Recorded in the audit trail with your name."))
        form = QFormLayout()
        self.kind = QComboBox()
        for kind in QualificationKind:
            self.kind.addItem(kind.title, kind)
        self.kind.setCurrentIndex(list(QualificationKind).index(QualificationKind.TRAINING))
        self.activity = QComboBox()
        for activity in TrainedActivity:
            self.activity.addItem(activity.title, activity)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.reference = QLineEdit()
        self.reference.setPlaceholderText("course, SOP or document id, e.g. TRN-SOP-QA-011 v3")
        today = ctx.db.clock.now().date()
        self.completed = QDateEdit(QDate(today.year, today.month, today.day))
        self.completed.setCalendarPopup(True)
        self.has_expiry = QCheckBox("Expires on")
        self.expires = QDateEdit(QDate(today.year + 1, today.month, min(today.day, 28)))
        self.expires.setCalendarPopup(True)
        self.expires.setEnabled(False)
        self.has_expiry.toggled.connect(self.expires.setEnabled)
        form.addRow("&Kind:", self.kind)
        form.addRow("&Activity:", self.activity)
        form.addRow("&Reference:", self.reference)
        form.addRow("&Completed on:", self.completed)
        form.addRow(self.has_expiry, self.expires)
        layout.addLayout(form)
        buttons = QDialogButtonBox()
        ok = buttons.addButton("Record", QDialogButtonBox.ButtonRole.AcceptRole)
        ok.setDefault(True)
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        fit_to_contents(self, min_width=480)
        self.reference.setFocus()

    def _kind_changed(self) -> None:
        self.activity.setEnabled(self.kind.currentData() is QualificationKind.TRAINING)

    def accept(self) -> None:
        kind: QualificationKind = self.kind.currentData()
        expires: dt.date | None = day_of(self.expires.date()) if self.has_expiry.isChecked() else None
        try:
            self.recorded = training.record(
                self._ctx.db, self._ctx.actor, username=self._username, kind=kind,
                activity=self.activity.currentData() if kind is QualificationKind.TRAINING else None,
                reference=self.reference.text(), completed_on=day_of(self.completed.date()), expires_on=expires)
        except FormtrailError as exc:
            messages.show_exception(self, exc, title="The qualification was not recorded")
            return
        super().accept()
