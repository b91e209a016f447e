"""Reconcile page: account for every issued serial of an issuance, then QA closes it by e-signature.

Top: the issuances (open first, overdue in red, ready to close in green). Bottom: the selected issuance's forms
with their state, pages back and scans, a bar "n of N accounted for", and the actions: void, declare missing,
replace (QA), close (QA). Reports: the reconciliation report of the issuance, the accountability report of a
period. The acts live in reconcile_acts.py (the page's base), models and dialogs in reconcile_models.py and
reconcile_dialogs.py."""

from __future__ import annotations

import html
from collections import Counter
from pathlib import Path

from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.services.identity.permissions import Permission
from app.services.reconciliation import reconciliation
from app.services.reconciliation.reconciliation import IssuanceSummary, ReconciliationView, ReconFormRow
from app.ui.kit import data_events
from app.ui.kit.data_events import Topic
from app.ui.kit.flow_layout import FlowLayout, keep_together
from app.ui.kit.image_viewer import ImageViewerDialog
from app.ui.kit.operations import run_query
from app.ui.kit.style import set_role
from app.ui.kit.widgets import hint, setup_table
from app.ui.kit.workers import Task
from app.ui.pages.reconciliation.reconcile_acts import ReconcileActs
from app.ui.pages.reconciliation.reconcile_models import FILTERS, FormRowModel, IssuanceModel, matches, open_first
from app.ui.pages.registry import PageContext, page

P = Permission
_CLOSE_TIP = "QA: sign the reconciliation (meaning 'reconciled'); the issuance becomes read-only"


class ReconcilePage(ReconcileActs):
    """``show_filter(key)`` (a key of FILTERS) is how the home dashboard opens a filtered list."""

    def __init__(self, ctx: PageContext) -> None:
        super().__init__()
        self._ctx = ctx
        self.view: ReconciliationView | None = None
        self.dialog: QDialog | None = None
        self.viewer_dialog: ImageViewerDialog | None = None
        self.task: Task | None = None
        self.last_saved: Path | None = None
        self._issuances: list[IssuanceSummary] = []
        self._want_issuance: int | None = None  # to select when the list arrives (after an act, or from Home)
        self._want_form: str | None = None
        self._reading = False  # the selected issuance is being read: nothing may act on the one shown
        layout = QVBoxLayout(self)
        layout.addWidget(hint(
            "Every issued sheet must be accounted for: returned (scanned back), voided with a reason, or declared "
            "missing with a deviation. When nothing is outstanding, QA closes the issuance with an e-signature; it is "
            "then read-only. Select an issuance, then a form."))
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self._issuance_list())
        splitter.addWidget(self._issuance_detail())
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        layout.addWidget(splitter, 1)
        data_events.listen(self, {Topic.ISSUANCE, Topic.SCANS}, self.reload)
        self.reload()

    # -- layout --------------------------------------------------------------------------------------------
    def _issuance_list(self) -> QWidget:
        box = QWidget()
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        bar = FlowLayout()
        self.filter_combo = QComboBox()
        for key, text in FILTERS.items():
            self.filter_combo.addItem(text, key)
        self.filter_combo.currentIndexChanged.connect(lambda _i: self._listed(self._issuances))
        label = QLabel("&Show:")
        label.setBuddy(self.filter_combo)
        bar.addWidget(keep_together(label, self.filter_combo))
        self.list_count = QLabel()
        self.accountability_button = QPushButton("Accountability report…")
        self.accountability_button.setToolTip("PDF: forms issued in a period per template and per person — "
                                              "returned, voided, missing, replaced, still out")
        self.accountability_button.clicked.connect(self.accountability_report)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.reload)
        bar.addWidget(self.accountability_button)
        bar.addWidget(self.refresh_button)
        bar.addWidget(self.list_count)
        column.addLayout(bar)
        self.issuance_model = IssuanceModel(parent=self)
        self.issuances = setup_table(QTableView())
        self.issuances.setModel(self.issuance_model)
        header = self.issuances.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.setStretchLastSection(False)
        self.issuances.selectionModel().selectionChanged.connect(lambda *_: self._show_issuance())
        column.addWidget(self.issuances, 1)
        return box

    def _issuance_detail(self) -> QWidget:
        box = QGroupBox("Issuance")
        self.detail_box = box
        column = QVBoxLayout(box)
        self.heading = QLabel()
        self.heading.setWordWrap(True)
        self.heading.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        column.addWidget(self.heading)
        row = QHBoxLayout()
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setMinimumWidth(200)
        row.addWidget(self.progress)
        self.state_label = QLabel()
        self.state_label.setWordWrap(True)
        row.addWidget(self.state_label, 1)
        column.addLayout(row)
        self.outstanding_label = QLabel()
        self.outstanding_label.setWordWrap(True)
        self.outstanding_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        set_role(self.outstanding_label, "error")
        column.addWidget(self.outstanding_label)

        actions = FlowLayout()
        self.void_button = QPushButton("Void…")
        self.void_button.setToolTip("Spoiled or erroneous sheet: void it with a reason (the sheet itself should "
                                    "still come back and be scanned)")
        self.missing_button = QPushButton("Declare missing…")
        self.missing_button.setToolTip("A sheet that will not come back: reason and deviation reference")
        self.replace_button = QPushButton("Replace…")
        self.replace_button.setToolTip("QA: issue a new serial for this copy (reason and e-signature); the old "
                                       "serial can never be linked again")
        self.scans_button = QPushButton("View scans")
        self.scans_button.setToolTip("Open the scans of the selected form in the viewer (or double-click the row)")
        self.report_button = QPushButton("Reconciliation report…")
        self.report_button.setToolTip("Save the reconciliation report of this issuance as PDF (recorded in the "
                                      "audit trail)")
        self.close_button = QPushButton("Close reconciliation…")
        self.close_button.setToolTip(_CLOSE_TIP)
        for button, slot in ((self.void_button, self.void), (self.missing_button, self.declare_missing),
                             (self.replace_button, self.replace), (self.scans_button, self.open_scans),
                             (self.report_button, self.reconciliation_report),
                             (self.close_button, self.close_reconciliation)):
            button.clicked.connect(slot)
        for button in (self.void_button, self.missing_button, self.replace_button, self.scans_button):
            actions.addWidget(button)
        actions.addWidget(self.report_button)
        actions.addWidget(self.close_button)
        self.void_button.setVisible(self._ctx.allowed(P.RECONCILE))
        self.missing_button.setVisible(self._ctx.allowed(P.RECONCILE))
        self.replace_button.setVisible(self._ctx.allowed(P.REPLACE_FORMS))
        self.close_button.setVisible(self._ctx.allowed(P.CLOSE_RECONCILIATION))
        column.addLayout(actions)

        self.form_model = FormRowModel(parent=self)
        self.forms = setup_table(QTableView())
        self.forms.setModel(self.form_model)
        header = self.forms.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        header.setStretchLastSection(False)
        self.forms.selectionModel().selectionChanged.connect(lambda *_: self._update_actions())
        self.forms.doubleClicked.connect(lambda _index: self.open_scans())
        column.addWidget(self.forms, 1)
        self.signatures_label = QLabel()
        self.signatures_label.setWordWrap(True)
        self.signatures_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        column.addWidget(self.signatures_label)
        return box

    # -- the list of issuances ------------------------------------------------------------------------------
    def page_shown(self) -> None:
        self.reload()

    def show_filter(self, key: str) -> None:
        index = self.filter_combo.findData(key)
        if index >= 0 and index != self.filter_combo.currentIndex():
            self.filter_combo.setCurrentIndex(index)  # filters the list read last
            self.reload()
        else:
            self.reload()

    def reload(self, *, issuance: int | None = None, form: str | None = None) -> None:
        """Read the issuances again in the background, then show ``issuance`` (default: the selected one) with
        ``form`` (default: the selected form) selected."""
        chosen, chosen_form = self.selected_issuance(), self.selected_form()
        if issuance is not None or self._want_issuance is None:
            self._want_issuance = issuance if issuance is not None else chosen.issuance_id if chosen else None
        if form is not None or self._want_form is None:
            self._want_form = form if form is not None else chosen_form.serial if chosen_form else None
        self.list_count.setText("Reading issuances…")
        ctx = self._ctx
        run_query(self, lambda: reconciliation.list_issuances(ctx.db, ctx.actor), key="issuances",
                  on_done=self._listed, on_failed=self._list_failed)

    def _list_failed(self, exc: BaseException) -> None:
        self._ctx.show_error(self, exc)
        self._listed([])

    def _listed(self, everything: list[IssuanceSummary]) -> None:
        self._issuances = everything
        chosen = self.selected_issuance()
        want = self._want_issuance if self._want_issuance is not None else chosen.issuance_id if chosen else None
        self._want_issuance = None
        rows = open_first([i for i in everything if matches(i, self.filter_combo.currentData())])
        self.issuance_model.set_rows(rows)
        counts = Counter("overdue" if i.overdue else "ready" if i.ready else i.state.value for i in everything)
        self.list_count.setText(f"{len(rows)} shown · {counts['overdue']} overdue · {counts['ready']} ready to close")
        row = self.issuance_model.row_of(want) if want is not None else None
        if row is None and rows:
            row = 0
        blocker = QSignalBlocker(self.issuances.selectionModel())  # shown once below, whether the row moved or not
        if row is not None:
            self.issuances.selectRow(row)
        else:
            self.issuances.clearSelection()
        del blocker
        self._show_issuance()

    def selected_issuance(self) -> IssuanceSummary | None:
        rows = self.issuances.selectionModel().selectedRows()
        return self.issuance_model.row_at(rows[0].row()) if rows else None

    def select_issuance(self, issuance_id: int) -> bool:
        """Show ``issuance_id``, switching the list to all issuances when the filter hides it."""
        row = self.issuance_model.row_of(issuance_id)
        if row is None and any(i.issuance_id == issuance_id for i in self._issuances):
            self._want_issuance = issuance_id
            self.filter_combo.setCurrentIndex(self.filter_combo.findData("all"))  # lists it (_listed)
            row = self.issuance_model.row_of(issuance_id)
        if row is not None:
            self.issuances.selectRow(row)
        return row is not None

    # -- one issuance -----------------------------------------------------------------------------------
    def _show_issuance(self) -> None:
        """Read the selected issuance's reconciliation in the background (a large one takes a moment)."""
        summary, chosen = self.selected_issuance(), self.selected_form()
        if self._want_form is None and chosen is not None:
            self._want_form = chosen.serial
        if summary is None:
            self._reading = False
            self._draw(None)
            return
        self._reading = True
        self._update_actions()
        ctx, issuance_id = self._ctx, summary.issuance_id
        run_query(self, lambda: reconciliation.reconciliation(ctx.db, ctx.actor, issuance_id), key="issuance",
                  on_done=self._draw, on_failed=self._read_failed)

    def _read_failed(self, exc: BaseException) -> None:
        self._ctx.show_error(self, exc)
        self._draw(None)

    def _draw(self, view: ReconciliationView | None) -> None:
        self._reading = False
        self.view = view
        want, self._want_form = self._want_form, None
        self.detail_box.setEnabled(view is not None)
        if view is None:
            self.detail_box.setTitle("Issuance")
            self.heading.setText("Select an issuance above.")
            self.form_model.set_rows([])
            self.progress.setRange(0, 1)
            self.progress.setValue(0)
            self.progress.setFormat("")
            for label in (self.state_label, self.outstanding_label, self.signatures_label):
                label.setText("")
            self._update_actions()
            return
        self.detail_box.setTitle(f"Issuance {view.issuance_id} — {view.template} v{view.version} {view.title}")
        e = html.escape
        self.heading.setText(
            f"<b>{e(view.purpose)}</b>{f' / {e(view.reference)}' if view.reference else ''} · issued to "
            f"<b>{e(view.issued_to)}</b> by {e(view.issued_by_name)} ({e(view.issued_by)}), "
            f"{self._ctx.when(view.issued_at, seconds=False)} · return due <b>{view.due_date.isoformat()}</b>"
            + (" <span style='color:#b00020'><b>OVERDUE</b></span>" if view.overdue else ""))
        self.progress.setRange(0, max(1, view.total))
        self.progress.setValue(view.accounted)
        self.progress.setFormat(f"{view.accounted} of {view.total} accounted for")
        counts = Counter(f.state for f in view.forms)
        breakdown = ", ".join(f"{n} {s.value}" for s, n in sorted(counts.items(), key=lambda kv: kv[0].value))
        if view.closed:
            self.state_label.setText(f"✔ Reconciled and read-only ({breakdown}).")
            set_role(self.state_label, "ok")
        elif not view.outstanding:
            # The service's refusal is shown to whoever would sign; to others the label says who closes.
            refused = view.why_not_close if self._ctx.allowed(P.CLOSE_RECONCILIATION) else None
            self.state_label.setText(f"Everything is accounted for ({breakdown}). "
                                     + (f"Not closable now: {refused}." if refused
                                        else "QA can close the reconciliation.") + self._leaves_text(view))
            set_role(self.state_label, "emphasis" if refused or view.close_warnings else "ok")
        else:
            self.state_label.setText(f"{len(view.outstanding)} still to account for ({breakdown})."
                                     + self._leaves_text(view))
            set_role(self.state_label, "emphasis")
        self.outstanding_label.setText(self._outstanding_text(view) if view.outstanding else "")
        self.outstanding_label.setVisible(bool(view.outstanding))
        self.form_model.set_rows(view.forms)
        if view.signatures:
            self.signatures_label.setText("Signed: " + "; ".join(s.manifestation() for s in view.signatures))
            set_role(self.signatures_label, "ok")
        else:
            self.signatures_label.setText("Not signed yet.")
            set_role(self.signatures_label, "hint")
        row = self.form_model.row_of(want) if want else None
        self.forms.selectRow(row if row is not None else 0)
        self._update_actions()

    def selected_form(self) -> ReconFormRow | None:
        rows = self.forms.selectionModel().selectedRows()
        return self.form_model.row_at(rows[0].row()) if rows else None

    def select_form(self, serial: str) -> bool:
        row = self.form_model.row_of(serial)
        if row is not None:
            self.forms.selectRow(row)
        return row is not None

    def _update_actions(self) -> None:
        """Enable what the service says the actor may do with the selected sheet and issuance."""
        view, form = self.view, self.selected_form()
        idle = self.task is None and not self._reading
        self.void_button.setEnabled(idle and form is not None and form.may_void)
        self.missing_button.setEnabled(idle and form is not None and form.may_declare_missing)
        self.replace_button.setEnabled(idle and form is not None and form.may_replace)
        self.close_button.setEnabled(idle and view is not None and view.may_close)
        tip = _CLOSE_TIP
        if view is not None and view.why_not_close:
            tip += f"\n\nNot now: {view.why_not_close}"
        if view is not None and view.close_warnings:
            tip += "\n" + self._leaves_text(view)
        self.close_button.setToolTip(tip)
        self.scans_button.setEnabled(form is not None and bool(form.scans))
        self.report_button.setEnabled(view is not None and idle)
        self.accountability_button.setEnabled(idle)
        if view is not None and view.closed:
            for button in (self.void_button, self.missing_button, self.replace_button):
                button.setToolTip("This issuance is reconciled and read-only.")

    @property
    def read_only(self) -> bool:
        return self.view is not None and self.view.closed



@page("reconcile")
def reconcile_page(ctx: PageContext) -> QWidget:
    return ReconcilePage(ctx)
