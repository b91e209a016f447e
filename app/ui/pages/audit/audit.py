"""Audit trail page: filter, read (newest first, or in the order it happened), export (CSV/JSON/PDF) and verify
the hash chain (AT-03, AT-07). Every event is shown in the words of ``app.services.reports.wording``."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.services.core.errors import FormtrailError
from app.services.identity.permissions import Permission
from app.services.integrity import integrity
from app.services.reports import audit_log
from app.services.reports.audit_log import AuditEventView, AuditFilter, ExportResult
from app.textfmt import plural
from app.ui.kit.data_events import Topic
from app.ui.kit.flow_layout import FlowLayout, keep_together
from app.ui.kit.operations import notify, run_op
from app.ui.kit.style import set_role
from app.ui.kit.widgets import ask_export_path, day_of, hint, setup_table
from app.ui.kit.workers import Task
from app.ui.pages.audit.audit_model import AuditTableModel, event_details
from app.ui.pages.registry import PageContext, page

_EXPORT_FILTERS = {"CSV for spreadsheets (*.csv)": "csv", "JSON (*.json)": "json", "PDF report (*.pdf)": "pdf"}


def _day_start(day: QDate) -> dt.datetime:
    """Local midnight at the start of ``day``, as an aware datetime."""
    return dt.datetime.combine(day_of(day), dt.time()).astimezone()


class AuditPage(QWidget):
    def __init__(self, ctx: PageContext, *, page_size: int = 200) -> None:
        super().__init__()
        self._ctx = ctx
        self.task: Task | None = None  # the export or verification running now
        self._up_to: int | None = None  # the last event counted: the pages read stay put while events are added
        layout = QVBoxLayout(self)
        layout.addWidget(hint("Newest first: every change to controlled data with its old and new value and reason, "
                              "and every system event (log-ins, lockouts, exports…). Nothing here can be edited or "
                              "deleted. Select a row to read it in full below."))
        layout.addWidget(self._filters())

        self.model = AuditTableModel(self._count, self._fetch, page_size=page_size, parent=self)
        self.table = QTableView()
        self.table.setModel(self.model)
        setup_table(self.table)
        header = self.table.horizontalHeader()
        for column, width in enumerate((50, 230, 190, 110, 110, 110, 200, 130, 160, 220, 200)):
            header.resizeSection(column, width)
        self.table.selectionModel().currentRowChanged.connect(self._show_details)
        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        self.details.setPlaceholderText("Select an event to read all of it here: who, what, why, and every change "
                                        "as “Label: old → new”. Drag the bar above to make this taller.")
        self.details.setMinimumHeight(self.details.fontMetrics().lineSpacing() * 8)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.details)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setSizes([600, 400])
        layout.addWidget(self.splitter, 1)

        bar = FlowLayout()
        self.count_label = QLabel()
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Save the events matching the filter as CSV, JSON or PDF "
                                      "(recorded in the trail).")
        self.export_button.clicked.connect(self.export)
        self.export_button.setVisible(ctx.allowed(Permission.EXPORT_AUDIT))
        self.verify_button = QPushButton("Verify everything")
        self.verify_button.setToolTip("Recompute the keyed hash chain and check it against its anchors, replay the "
                                      "data against the trail, check every signature, the serials and every "
                                      "stored file (the same as `formtrail verify`; recorded in the trail).")
        self.verify_button.clicked.connect(self.verify)
        bar.addWidget(self.export_button)
        bar.addWidget(self.verify_button)
        bar.addWidget(self.count_label)
        layout.addLayout(bar)
        self.chain_label = QLabel()
        self.chain_label.setWordWrap(True)
        self.chain_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.chain_label.hide()
        layout.addWidget(self.chain_label)
        self.model.modelReset.connect(self._update_count)
        self.model.rowsInserted.connect(self._update_count)
        self._update_count()

    # -- filters ---------------------------------------------------------------------------------------
    def _filters(self) -> QGroupBox:
        box = QGroupBox("Filter")
        column = QVBoxLayout(box)
        self.user_combo, self.entity_combo, self.action_combo = QComboBox(), QComboBox(), QComboBox()
        for combo in (self.user_combo, self.entity_combo, self.action_combo):
            combo.setMinimumContentsLength(14)
        self.since_check, self.until_check = QCheckBox("&From"), QCheckBox("&To")
        self.since_date, self.until_date = QDateEdit(), QDateEdit()
        today = QDate.currentDate()
        for check, date in ((self.since_check, self.since_date), (self.until_check, self.until_date)):
            date.setCalendarPopup(True)
            date.setDisplayFormat("yyyy-MM-dd")
            date.setDate(today)
            date.setEnabled(False)
            check.toggled.connect(date.setEnabled)
        self.text_edit = QLineEdit()
        self.text_edit.setObjectName("search")  # Ctrl+F (Go menu) finds it
        self.text_edit.setPlaceholderText("text in values, reasons or ids")
        self.text_edit.returnPressed.connect(self.apply_filter)
        self.oldest_check = QCheckBox("&Oldest first")
        self.oldest_check.setToolTip("Show the events in the order they happened (the chain order) instead of the "
                                     "newest first.")
        self.oldest_check.toggled.connect(lambda _checked: self.apply_filter())
        self.apply_button, self.clear_button = QPushButton("&Apply filter"), QPushButton("&Clear")
        self.apply_button.setDefault(True)
        self.apply_button.clicked.connect(self.apply_filter)
        self.clear_button.clicked.connect(self.clear_filter)
        fields = FlowLayout(spacing=12)
        for text, widget in (("&User:", self.user_combo), ("&Entity:", self.entity_combo),
                             ("Ac&tion:", self.action_combo), ("Te&xt:", self.text_edit)):
            label = QLabel(text)
            label.setBuddy(widget)
            fields.addWidget(keep_together(label, widget))
        fields.addWidget(keep_together(self.since_check, self.since_date, self.until_check, self.until_date))
        fields.addWidget(keep_together(self.apply_button, self.clear_button))
        fields.addWidget(self.oldest_check)
        self.text_edit.setMinimumWidth(200)
        column.addLayout(fields)
        column.addWidget(hint("Dates are local days, both included."))
        self._load_choices()
        return box

    def _load_choices(self) -> None:
        try:
            choices = audit_log.filter_choices(self._ctx.db, self._ctx.actor)
        except FormtrailError as exc:
            self._ctx.show_error(self, exc)
            return
        for combo, everything, values in ((self.user_combo, "All users", choices.usernames),
                                          (self.entity_combo, "All entities", choices.entities),
                                          (self.action_combo, "All actions", choices.actions)):
            current = combo.currentData()
            combo.clear()
            combo.addItem(everything, None)
            for value, label in values:
                combo.addItem(label, value)
            combo.setCurrentIndex(max(0, combo.findData(current)) if current else 0)

    def current_filter(self) -> AuditFilter:
        return AuditFilter(
            username=self.user_combo.currentData(), entity=self.entity_combo.currentData(),
            action=self.action_combo.currentData(),
            since=_day_start(self.since_date.date()) if self.since_check.isChecked() else None,
            until=_day_start(self.until_date.date().addDays(1)) if self.until_check.isChecked() else None,
            text=self.text_edit.text().strip() or None,
        )

    def apply_filter(self) -> None:
        self.model.reload()
        self.details.clear()

    def clear_filter(self) -> None:
        for combo in (self.user_combo, self.entity_combo, self.action_combo):
            combo.setCurrentIndex(0)
        self.since_check.setChecked(False)
        self.until_check.setChecked(False)
        self.text_edit.clear()
        self.apply_filter()

    def page_shown(self) -> None:
        self._load_choices()
        self.model.reload()

    @property
    def newest_first(self) -> bool:
        return not self.oldest_check.isChecked()

    def _pinned(self) -> AuditFilter:
        return dataclasses.replace(self.current_filter(), up_to_seq=self._up_to)

    def _count(self) -> int:
        # Pinned to the last event now: newest first, events added meanwhile would shift every page read next.
        self._up_to = audit_log.latest_seq(self._ctx.db, self._ctx.actor)
        return audit_log.count_events(self._ctx.db, self._ctx.actor, self._pinned())

    def _fetch(self, offset: int, limit: int) -> list[AuditEventView]:
        return audit_log.fetch_events(self._ctx.db, self._ctx.actor, self._pinned(), offset=offset, limit=limit,
                                      newest_first=self.newest_first)

    def _update_count(self) -> None:
        total, loaded = self.model.total, self.model.loaded
        more = f" (showing the first {loaded}; scroll down for more)" if loaded < total else ""
        self.count_label.setText(f"{total} event{'s' if total != 1 else ''} match{'' if total != 1 else 'es'}{more}")

    def _show_details(self, current, _previous) -> None:  # noqa: ANN001 - QModelIndex
        if not current.isValid():
            self.details.clear()
            return
        self.details.setPlainText(event_details(self.model.row_at(current.row())))

    # -- export and verification --------------------------------------------------------------------------
    def _ask_export_path(self) -> tuple[Path, str] | None:
        """The file to export to and its format, or None when the user cancels."""
        return ask_export_path(self, "Export the audit trail", f"audit-trail-{self._ctx.site.code}.pdf",
                               _EXPORT_FILTERS, "PDF report (*.pdf)")

    def export(self) -> None:
        answer = self._ask_export_path()
        if answer is None:
            return
        path, fmt = answer
        db, actor, flt = self._ctx.db, self._ctx.actor, self.current_filter()
        self.task = run_op(self, lambda progress, cancelled: audit_log.export_events(db, actor, flt, fmt=fmt,
                                                                                    out=path),
                           title="Exporting the audit trail", label=f"Writing {path.name}…",
                           on_done=self._exported, on_failed=self._task_failed)
        self.export_button.setEnabled(False)

    def _exported(self, result: ExportResult) -> None:
        self.task = None
        self.export_button.setEnabled(True)
        self.model.reload()
        notify(self, f"Exported {plural(result.count, 'event')} to {result.path.name} (SHA-256 {result.sha256[:12]}…)",
               path=result.path)

    def _task_failed(self, exc: BaseException) -> None:
        self.task = None
        self.export_button.setEnabled(True)
        self.verify_button.setEnabled(True)
        self._ctx.show_error(self, exc)

    def verify(self) -> None:
        db, actor = self._ctx.db, self._ctx.actor
        self.task = run_op(self, lambda progress, cancelled: integrity.verify_everything(
            db, actor, progress=lambda _step, done, total: progress(done, total)),
            title="Checking integrity", label="Checking the audit trail, the data, signatures and files…",
            changes={Topic.SETTINGS},
            on_done=self._verified, on_failed=self._task_failed,
            serial=False)  # a long read: it must not hold up the write queue (imports, backups) meanwhile
        self.verify_button.setEnabled(False)
        self.chain_label.setText("Checking…")
        set_role(self.chain_label, "hint")
        self.chain_label.show()

    def _verified(self, report: integrity.IntegrityReport) -> None:
        self.task = None
        self.verify_button.setEnabled(True)
        self.model.reload()  # the check itself is an event of the trail
        chain = report.chain
        if report.ok:
            self.chain_label.setText(
                f"✔ Everything verifies: {plural(chain.count if chain else 0, 'event')} (chain head "
                f"{chain.head if chain else '—'}), {plural(report.anchors_checked, 'anchor')}, "
                f"{plural(report.signatures_checked, 'signature')}, {plural(report.codes_checked, 'linking QR code')}, "
                f"{plural(report.files_checked, 'stored file')}.")
            set_role(self.chain_label, "ok")
        else:
            errors = [f for f in report.findings if f.error]
            listed = "\n".join(f"• {f}" for f in errors[:8])
            more = f"\n… and {len(errors) - 8} more (formtrail verify lists them all)" if len(errors) > 8 else ""
            self.chain_label.setText(f"✘ INTEGRITY CHECK FAILED: {plural(len(errors), 'problem')}. Report this to QA: "
                                     f"it is a data-integrity incident.\n{listed}{more}")
            set_role(self.chain_label, "error")
        self.chain_label.show()


@page("audit")
def audit_page(ctx: PageContext) -> QWidget:
    return AuditPage(ctx)
