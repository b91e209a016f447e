"""Review and approval of a record: where it stands, its signatures (with their status), its exceptions (review
by exception: paper findings, unclear boxes, values out of limits; record_exceptions.py), all its values with
their history, its audit trail (audit-trail review is part of record review, AT-06), signing and exports."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QGroupBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.enums import RecordState, SignatureMeaning
from app.services.core.error_codes import ErrorCode
from app.services.identity.permissions import Permission
from app.services.records import records
from app.services.records.record_views import RecordView, SignatureView
from app.services.reports import record_export
from app.services.reports.audit_log import AuditEventView
from app.textfmt import noun, plural
from app.ui.kit import data_events, file_dialogs, messages
from app.ui.kit.data_events import Topic
from app.ui.kit.flow_layout import FlowLayout
from app.ui.kit.operations import notify, run_op, run_query
from app.ui.kit.style import set_role
from app.ui.kit.widgets import ErrorLine, hint, setup_table
from app.ui.kit.workers import Task
from app.ui.pages.audit.audit_model import AuditTableModel, event_details
from app.ui.pages.records.record_exceptions import ExceptionsSection
from app.ui.pages.records.record_history import HistoryModel, field_rows, history_table
from app.ui.pages.registry import PageContext

_VALID = "color: #1b6e2d;"
_BROKEN = "color: #b00020; font-weight: 600; background: #fdecea; border: 1px solid #e0a19b; padding: 4px;"


def next_step(view: RecordView) -> str:
    """What the record waits for, in plain words."""
    waiting = sum(1 for f in view.fields if f.needs_verification)
    empty = sum(1 for f in view.fields if f.required and f.current is None)
    state = view.state
    if state is RecordState.OPEN:
        return f"Transcription is not complete: {plural(empty, 'required value')} still empty."
    if state is RecordState.TRANSCRIBED:
        return (f"{plural(waiting, 'critical value')} {noun(waiting, 'awaits', 'await')} verification by a second "
                "person; review follows.")
    if state is RecordState.VERIFIED:
        return ("Ready for review: compare the values with the scans on the left, read the audit trail, then sign "
                "as reviewed.")
    if state is RecordState.REVIEWED:
        if not view.issuance_reconciled:
            return (f"Reviewed. Approval waits for QA to reconcile issuance {view.issuance_id} (Reconcile page): "
                    "every sheet of it must be accounted for.")
        return "Reviewed. Ready for approval by a person who did not enter, verify or review it."
    return "Approved."


def signature_text(sig: SignatureView) -> str:
    if sig.valid:
        return f"✔ {sig.info.manifestation()} — valid"
    return (f"⚠ {sig.info.manifestation()} — {sig.status.value.upper()}: the record was changed after this "
            "signature and must be signed again")


class ReviewPanel(QWidget):
    changed = Signal(object)  # RecordView after a signature

    def __init__(self, ctx: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.view: RecordView | None = None
        self.task: Task | None = None
        self.exported: Path | None = None
        self._trail: list[AuditEventView] = []
        self._trail_dirty = True
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.state_label = QLabel()
        set_role(self.state_label, "subtitle")
        layout.addWidget(self.state_label)
        self.facts_label = QLabel()
        self.facts_label.setWordWrap(True)
        self.facts_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.facts_label)
        self.next_label = QLabel()
        self.next_label.setWordWrap(True)
        set_role(self.next_label, "emphasis")
        layout.addWidget(self.next_label)
        self.exceptions_label = QLabel()  # the count summary of the review by exception, always in sight
        self.exceptions_label.setWordWrap(True)
        layout.addWidget(self.exceptions_label)

        self.signatures_box = QGroupBox("Signatures")
        self._signatures_layout = QVBoxLayout(self.signatures_box)
        self.signature_labels: list[QLabel] = []
        layout.addWidget(self.signatures_box)

        bar = FlowLayout()
        self.review_button = QPushButton("Sign as reviewed…")
        self.review_button.setToolTip("You reviewed the values against the scans and the audit trail of the record.")
        self.review_button.clicked.connect(lambda: self.sign(SignatureMeaning.REVIEWED))
        self.review_button.setVisible(ctx.allowed(Permission.REVIEW_RECORDS))
        self.approve_button = QPushButton("Sign as approved…")
        self.approve_button.clicked.connect(lambda: self.sign(SignatureMeaning.APPROVED))
        self.approve_button.setVisible(ctx.allowed(Permission.APPROVE_RECORDS))
        self.pdf_button = QPushButton("Export record PDF…")
        self.pdf_button.setToolTip("The complete record: values with full history, signatures, scans with their "
                                   "SHA-256, audit trail, chain head.")
        self.pdf_button.clicked.connect(lambda: self.export("pdf"))
        self.json_button = QPushButton("Export JSON…")
        self.json_button.clicked.connect(lambda: self.export("json"))
        for button in (self.review_button, self.approve_button, self.pdf_button, self.json_button):
            bar.addWidget(button)
        layout.addLayout(bar)
        self.approve_why = hint("")  # why "Sign as approved" is not offered now (the service's words)
        self.approve_why.setVisible(False)
        layout.addWidget(self.approve_why)
        self.error = ErrorLine()
        layout.addWidget(self.error)

        self.tabs = QTabWidget()
        self.exceptions = ExceptionsSection(ctx)
        self.exceptions.loaded.connect(self._exceptions_read)
        self.exceptions.resolved.connect(self.reload_view)
        self.tabs.addTab(self.exceptions, "Review by exception")
        self.data_model = HistoryModel(parent=self)
        self.data_table = history_table(self.data_model)
        self.tabs.addTab(self.data_table, "Values and their history")
        self.trail_model = AuditTableModel(lambda: len(self._trail), lambda o, n: self._trail[o:o + n], parent=self)
        self.trail_table = setup_table(QTableView())
        self.trail_table.setModel(self.trail_model)
        for column, width in enumerate((50, 230, 170, 100, 110, 90, 120, 120, 150, 190, 200)):
            self.trail_table.horizontalHeader().resizeSection(column, width)
        for column in (3, 5):  # workstation, entity: in the details below; the entity id says enough
            self.trail_table.setColumnHidden(column, True)
        self.trail_table.selectionModel().currentRowChanged.connect(self._show_event)
        self.trail_details = QPlainTextEdit()
        self.trail_details.setReadOnly(True)
        self.trail_details.setPlaceholderText("Select an event to read all of it here.")
        trail_split = QSplitter(Qt.Orientation.Vertical)
        trail_split.addWidget(self.trail_table)
        trail_split.addWidget(self.trail_details)
        trail_split.setStretchFactor(0, 4)
        trail_split.setStretchFactor(1, 1)
        trail_page = QWidget()
        trail_layout = QVBoxLayout(trail_page)
        trail_layout.setContentsMargins(0, 4, 0, 0)
        trail_layout.addWidget(hint("Every audit event about this record, its values, its signatures, its form and "
                                    "its scans, in the order they happened."))
        trail_layout.addWidget(trail_split, 1)
        self.trail_page = trail_page
        self.trail_visible = ctx.allowed(Permission.VIEW_AUDIT)
        if self.trail_visible:
            self.tabs.addTab(trail_page, "Audit trail of this record")
        layout.addWidget(self.tabs, 1)
        # Findings resolved elsewhere (the Scans page, a colleague) change what approval waits for.
        data_events.listen(self, {Topic.PAPER}, self.reload_view)

    # -- showing -------------------------------------------------------------------------------------
    def set_view(self, view: RecordView) -> None:
        self.view = view
        reconciled = "reconciled" if view.issuance_reconciled else "not reconciled yet"
        self.state_label.setText(f"Record state: {view.state.value.upper()}")
        created = f"{view.created_by}, {self._ctx.when(view.created_at)}" if view.created_at else "no value yet"
        self.facts_label.setText(
            f"Form {view.label or view.serial} ({view.form_state}) · issuance {view.issuance_id}, {reconciled} · "
            f"record created by {created} · {plural(len(view.scans), 'scan page')} · values changed after entry: "
            f"{view.changed_after_entry} · content SHA-256 {view.content_sha256[:16]}…")
        self.next_label.setText(next_step(view) + self._broken_note(view))
        self._show_signatures(view)
        self.review_button.setEnabled(view.may_review)  # the service asks the rules sign_record checks
        self.approve_button.setEnabled(view.may_approve)
        self.exceptions.set_record(view)
        self._show_approve_why()
        self.data_model.set_rows(field_rows(view.fields), pages={s.scan_page_id: s.page_no for s in view.scans})
        self._trail_dirty = True
        if self.isVisible():
            self.load_trail()

    # -- review by exception ---------------------------------------------------------------------------
    def _exceptions_read(self) -> None:
        found = self.exceptions.exceptions
        if found is None:
            return
        index = self.tabs.indexOf(self.exceptions)
        self.tabs.setTabText(index, f"Review by exception ({found.count})" if found.count else "Review by exception")
        if found.count:
            self.exceptions_label.setText(f"To look at: {found.summary()}")
            set_role(self.exceptions_label, "error" if found.open_findings else "emphasis")
        else:
            self.exceptions_label.setText("No exceptions: nothing on the paper or in the values needs a second look.")
            set_role(self.exceptions_label, "ok")
        self._show_approve_why()

    def _show_approve_why(self) -> None:
        """Why "Sign as approved" is not offered, for those who approve (the button stays in sight, disabled)."""
        view = self.view
        text = ""
        if view is not None and not view.may_approve and view.why_not_approve:
            found = self.exceptions.exceptions
            if view.approve_refused == ErrorCode.PAPER_FINDINGS_OPEN and found is not None and found.open_findings:
                text = (f"Approve: resolve the {plural(found.open_findings, 'open paper finding')} first (Review by "
                        "exception, below).")
            else:
                text = f"Approve is not offered: {view.why_not_approve}."
        self.approve_button.setToolTip(text or "Approve the reviewed record (a person who did not enter, verify or "
                                               "review it).")
        self.approve_why.setText(text)
        self.approve_why.setVisible(bool(text) and not self.approve_button.isHidden())

    def reload_view(self) -> None:
        """Read the record again in the background (findings resolved change whether it may be approved); the
        workspace shows the new view through ``changed``."""
        view, ctx = self.view, self._ctx
        if view is None:
            return
        serial = view.serial
        run_query(self, lambda: records.record_view(ctx.db, ctx.actor, serial), key="view",
                  on_done=lambda fresh: self.changed.emit(fresh) if self.view is not None
                  and self.view.serial == fresh.serial else None)

    @staticmethod
    def _broken_note(view: RecordView) -> str:
        broken = sum(1 for s in view.signatures if not s.valid)
        if not broken:
            return ""
        return (f"\n⚠ {plural(broken, 'signature')} no longer {noun(broken, 'matches', 'match')} the record "
                "(changed after signing).")

    def _show_signatures(self, view: RecordView) -> None:
        for label in self.signature_labels:
            label.deleteLater()
        self.signature_labels = []
        for sig in view.signatures or ():
            label = QLabel(signature_text(sig) + (f"\nStatement: {sig.info.comment}" if sig.info.comment else ""))
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setStyleSheet(_VALID if sig.valid else _BROKEN)
            label.setFrameShape(QFrame.Shape.NoFrame)
            self._signatures_layout.addWidget(label)
            self.signature_labels.append(label)
        if not view.signatures:
            label = hint("Not signed yet.")
            self._signatures_layout.addWidget(label)
            self.signature_labels.append(label)

    def showEvent(self, event) -> None:  # noqa: ANN001, N802 - Qt API
        super().showEvent(event)
        if self._trail_dirty:
            self.load_trail()

    def load_trail(self) -> None:
        if self.view is None or not self.trail_visible:
            return
        self._trail = record_export.record_trail(self._ctx.db, self.view.serial)
        self._trail_dirty = False
        self.trail_model.reload()
        self.trail_model.fetch_all()
        self.trail_details.clear()

    def _show_event(self, current, _previous) -> None:  # noqa: ANN001 - QModelIndex
        if not current.isValid():
            self.trail_details.clear()
            return
        self.trail_details.setPlainText(event_details(self.trail_model.row_at(current.row())))

    # -- signing -------------------------------------------------------------------------------------
    def sign(self, meaning: SignatureMeaning) -> None:
        view = self.view
        if view is None or not {SignatureMeaning.REVIEWED: view.may_review,
                                SignatureMeaning.APPROVED: view.may_approve}.get(meaning, False):
            return
        ctx = self._ctx
        self.error.clear_text()
        summary = (f"Record of form {view.label or view.serial} – {view.template} v{view.version} \"{view.title}\"\n"
                   f"{plural(len(view.fields), 'field')}, "
                   f"{plural(view.changed_after_entry, 'value')} changed after entry, "
                   f"{plural(len(view.scans), 'scan page')}; content SHA-256 {view.content_sha256}\n"
                   + ("Reviewed with its scans and its audit trail." if meaning is SignatureMeaning.REVIEWED
                      else "Approved after review and reconciliation."))

        def perform(username: str, password: str) -> RecordView:
            return records.sign_record(ctx.db, ctx.actor, serial=view.serial, meaning=meaning, username=username,
                                       password=password)
        result = ctx.sign(self, summary=summary, meaning=meaning, perform=perform)
        if result is not None:
            self.changed.emit(result)

    # -- exports -------------------------------------------------------------------------------------
    def ask_path(self, fmt: str) -> Path | None:
        """Where to save the export (a file dialog; tests replace this method)."""
        assert self.view is not None
        return file_dialogs.ask_save_as(self, f"Export record {self.view.serial}", purpose="exports",
                                        name=f"record-{self.view.serial}.{fmt}",
                                        filters={"pdf": "PDF report (*.pdf)", "json": "JSON (*.json)"}[fmt],
                                        suffixes=(f".{fmt}",))

    def export(self, fmt: str) -> None:
        if self.view is None:
            return
        path = self.ask_path(fmt)
        if path is None:
            return
        db, actor, serial = self._ctx.db, self._ctx.actor, self.view.serial

        def job(progress, cancelled) -> Path:  # noqa: ANN001 - see workers.Job
            if fmt == "pdf":
                return record_export.export_pdf(db, actor, serial, out=path)
            record_export.export_json(db, actor, serial, out=path)
            return path
        self.task = run_op(self, job, title="Exporting the record", label=f"Writing {path.name}…",
                           on_done=self._exported, on_failed=self._export_failed)
        for button in (self.pdf_button, self.json_button):
            button.setEnabled(False)

    def _exported(self, path: Path) -> None:
        self.task, self.exported = None, path
        for button in (self.pdf_button, self.json_button):
            button.setEnabled(True)
        self._trail_dirty = True
        if self.isVisible():
            self.load_trail()
        notify(self, f"Record exported to {path.name}", path=path)

    def _export_failed(self, exc: BaseException) -> None:
        self.task = None
        for button in (self.pdf_button, self.json_button):
            button.setEnabled(True)
        self.error.show_text(f"Not exported: {messages.describe(exc)}")
