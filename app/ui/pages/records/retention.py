"""The Retention page (BK-05), for QA and document control: every issuance and where it stands in its retention
(due for disposal, kept, on hold), the legal holds, and the disposal requests. Actions: Place hold…, Release…,
Request disposal…, Approve… (QA's e-signature) and Open certificate. What is offered comes from the views'
``may_*`` fields; every refusal is the service's."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QHeaderView,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.enums import SignatureMeaning
from app.services.admin import disposal, retention
from app.services.admin.disposal import DisposalView
from app.services.admin.retention import HoldView, IssuanceRetention
from app.services.core.timefmt import local_text
from app.services.identity.permissions import Permission
from app.ui.kit import data_events
from app.ui.kit.data_events import Topic
from app.ui.kit.dialogs import accepted, open_dialog
from app.ui.kit.flow_layout import FlowLayout
from app.ui.kit.list_model import ListTableModel
from app.ui.kit.operations import notify, run_query
from app.ui.kit.reason import ReasonDialog
from app.ui.kit.widgets import hint, setup_table
from app.ui.pages.records.retention_dialogs import HoldDialog
from app.ui.pages.registry import PageContext, register_page

ISSUANCES_TAB, HOLDS_TAB, REQUESTS_TAB = 0, 1, 2


def _when(moment: Any) -> str:
    return local_text(moment, seconds=False) if moment is not None else ""


class IssuanceModel(ListTableModel[IssuanceRetention]):
    COLUMNS = ("Issuance", "Template", "Forms", "Kept", "Since", "Until", "Status")
    KEY = "issuance_id"

    def text(self, i: IssuanceRetention, column: int) -> str:
        holds = f" (#{', #'.join(map(str, i.holds))})" if i.holds else ""
        return (str(i.issuance_id), i.template_code, ", ".join(i.serials), f"{i.years} years ({i.basis})",
                _when(i.start), _when(i.expires_at), i.status + holds)[column]


class HoldModel(ListTableModel[HoldView]):
    COLUMNS = ("Hold", "On", "Reason", "Placed", "By", "Released")
    KEY = "id"

    def text(self, h: HoldView, column: int) -> str:
        released = "" if h.active else f"{_when(h.released_at)} by {h.released_by}: {h.release_reason}"
        return (f"#{h.id}", h.subject, h.reason, _when(h.placed_at), h.placed_by, released)[column]


class RequestModel(ListTableModel[DisposalView]):
    COLUMNS = ("Request", "Status", "Issuances", "Files", "Reason", "Requested", "Approved")
    KEY = "id"

    def text(self, r: DisposalView, column: int) -> str:
        return (str(r.id), r.status.value, ", ".join(str(i.issuance_id) for i in r.items), str(len(r.files)),
                r.reason, f"{_when(r.requested_at)} by {r.requested_by}", r.approval or "")[column]


@dataclasses.dataclass(frozen=True)
class Overview:
    issuances: list[IssuanceRetention]
    holds: list[HoldView]
    requests: list[DisposalView]


def _table(model: ListTableModel[Any], *, many: bool = False) -> QTableView:
    table = QTableView()
    table.setModel(model)
    setup_table(table)
    if many:
        table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    return table


class RetentionPage(QWidget):
    def __init__(self, ctx: PageContext) -> None:
        super().__init__()
        self._ctx = ctx
        self.dialog: QDialog | None = None
        self.opened: Path | None = None  # the certificate opened last (tests)
        layout = QVBoxLayout(self)
        layout.addWidget(hint("Records are kept for their template's retention period (or the site default) after "
                              "their issuance is reconciled. A legal hold stops their disposal. A disposal is "
                              "requested, then approved by QA with an e-signature: only then are the stored files "
                              "destroyed; the rows, the signatures and the audit trail stay, with a certificate."))
        self.tabs = QTabWidget()
        layout.addWidget(self.tabs, 1)

        self.issuances = IssuanceModel(parent=self)
        self.issuance_table = _table(self.issuances, many=True)
        self.due_only = QCheckBox("Only those due for disposal")
        self.due_only.toggled.connect(lambda _on: self.reload())
        self.hold_button = QPushButton("Place hold…")
        self.hold_button.clicked.connect(self.place_hold)
        self.request_button = QPushButton("Request disposal…")
        self.request_button.clicked.connect(self.request_disposal)
        self.tabs.addTab(self._tab(self.issuance_table, self.due_only, self.hold_button, self.request_button),
                         "Issuances")

        self.holds = HoldModel(parent=self)
        self.hold_table = _table(self.holds)
        self.show_released = QCheckBox("Show released holds too")
        self.show_released.toggled.connect(lambda _on: self.reload())
        self.place_button = QPushButton("Place hold…")
        self.place_button.clicked.connect(lambda: self.place_hold(free=True))
        self.release_button = QPushButton("Release…")
        self.release_button.clicked.connect(self.release_hold)
        self.tabs.addTab(self._tab(self.hold_table, self.show_released, self.place_button, self.release_button),
                         "Legal holds")

        self.requests = RequestModel(parent=self)
        self.request_table = _table(self.requests)
        self.approve_button = QPushButton("Approve…")
        self.approve_button.clicked.connect(self.approve)
        self.certificate_button = QPushButton("Open certificate")
        self.certificate_button.clicked.connect(self.open_certificate)
        self.tabs.addTab(self._tab(self.request_table, self.approve_button, self.certificate_button),
                         "Disposal requests")

        for table in (self.issuance_table, self.hold_table, self.request_table):
            table.selectionModel().selectionChanged.connect(self._update_buttons)
        data_events.listen(self, {Topic.ISSUANCE, Topic.RECORDS, Topic.SETTINGS}, self.reload)
        self._update_buttons()
        self.reload()

    @staticmethod
    def _tab(table: QTableView, *widgets: QWidget) -> QWidget:
        tab = QWidget()
        layout = QVBoxLayout(tab)
        bar = FlowLayout()
        for widget in widgets:
            bar.addWidget(widget)
        layout.addLayout(bar)
        layout.addWidget(table, 1)
        return tab

    def page_shown(self) -> None:
        self.reload()

    def reload(self) -> None:
        ctx, due_only, released = self._ctx, self.due_only.isChecked(), self.show_released.isChecked()

        def read() -> Overview:
            items = disposal.due(ctx.db, ctx.actor, include_held=True) if due_only else \
                disposal.overview(ctx.db, ctx.actor)
            return Overview(items, retention.holds(ctx.db, ctx.actor, include_released=released),
                            disposal.requests(ctx.db, ctx.actor))
        run_query(self, read, key="retention", on_done=self._listed)

    def _listed(self, overview: Overview) -> None:
        self.issuances.set_rows(overview.issuances)
        self.holds.set_rows(overview.holds)
        self.requests.set_rows(overview.requests)
        self._update_buttons()

    # -- what is selected, and what it offers -------------------------------------------------------------
    @staticmethod
    def _picked(table: QTableView, model: ListTableModel[Any]) -> list[Any]:
        selection = table.selectionModel()
        return [model.row_at(i.row()) for i in selection.selectedRows()] if selection else []

    def selected_issuances(self) -> list[IssuanceRetention]:
        return self._picked(self.issuance_table, self.issuances)

    def selected_hold(self) -> HoldView | None:
        found = self._picked(self.hold_table, self.holds)
        return found[0] if found else None

    def selected_request(self) -> DisposalView | None:
        found = self._picked(self.request_table, self.requests)
        return found[0] if found else None

    def _update_buttons(self, *_args: object) -> None:
        ctx = self._ctx
        may_hold = ctx.allowed(Permission.PLACE_LEGAL_HOLD)
        picked = self.selected_issuances()
        self.hold_button.setVisible(may_hold)
        self.place_button.setVisible(may_hold)
        self.hold_button.setEnabled(len(picked) == 1)
        self.request_button.setVisible(ctx.allowed(Permission.REQUEST_DISPOSAL))
        self.request_button.setEnabled(bool(picked) and all(i.may_request for i in picked))
        refused = next((retention.refusal(i) for i in picked if not i.may_request), None)
        self.request_button.setToolTip(str(refused) if refused is not None else "")
        hold = self.selected_hold()
        self.release_button.setVisible(may_hold)
        self.release_button.setEnabled(hold is not None and hold.may_release)
        request = self.selected_request()
        self.approve_button.setVisible(ctx.allowed(Permission.APPROVE_DISPOSAL))
        self.approve_button.setEnabled(request is not None and request.may_approve)
        self.approve_button.setToolTip("" if request is None or request.may_approve else request.why_not_approve or "")
        self.certificate_button.setEnabled(request is not None and request.certificate_sha256 is not None)

    # -- acts ---------------------------------------------------------------------------------------
    def _open(self, dialog: QDialog, then: Any = None) -> None:
        self.dialog = dialog

        def done(finished: QDialog, result: int) -> None:
            self.dialog = None
            if accepted(result):
                if then is not None:
                    then(finished)
                self.reload()
        open_dialog(dialog, done)

    def place_hold(self, *, free: bool = False) -> None:
        picked = [] if free else self.selected_issuances()
        target = str(picked[0].issuance_id) if len(picked) == 1 else ""
        self._open(HoldDialog(self._ctx, self, issuance=target))

    def release_hold(self) -> None:
        hold = self.selected_hold()
        if hold is None or not hold.may_release:
            return
        ctx = self._ctx
        self._open(ReasonDialog(
            self, heading=f"Release legal hold #{hold.id} on {hold.subject}", action_text="Release hold",
            explanation=f"Placed by {hold.placed_by}: {hold.reason}. Once released, what it covered may be "
                        "disposed of when its retention has expired. The hold stays listed.",
            placeholder="Why is the hold no longer needed? e.g. 'litigation settled, legal memo LM-12'",
            perform=lambda reason: retention.release_hold(ctx.db, ctx.actor, hold.id, reason=reason)))

    def request_disposal(self) -> None:
        picked = self.selected_issuances()
        if not picked or not all(i.may_request for i in picked):
            return
        ctx, ids = self._ctx, [i.issuance_id for i in picked]
        serials = sum(len(i.serials) for i in picked)
        self._open(ReasonDialog(
            self, heading=f"Request disposal of {len(ids)} issuance(s)", action_text="Request disposal",
            explanation=f"Issuance(s) {', '.join(map(str, ids))}: {serials} form(s) past their retention. QA "
                        "approves the request with an e-signature; only then are their stored files destroyed.",
            placeholder="Why now? e.g. 'retention expired, annual disposal per SOP-QA-020'",
            perform=lambda reason: disposal.request(ctx.db, ctx.actor, issuance_ids=ids, reason=reason)),
            then=lambda _dialog: self.tabs.setCurrentIndex(REQUESTS_TAB))

    def approve(self) -> None:
        request = self.selected_request()
        if request is None or not request.may_approve:
            return
        ctx = self._ctx
        files = "\n".join(f"  {f.name} ({f.kind}) {f.sha256}" for f in request.files) or "  (no stored files)"
        issuances = ", ".join(str(i.issuance_id) for i in request.items)
        done = ctx.sign(self, summary=f"Approve disposal request {request.id} by {request.requested_by}: "
                                      f"{request.reason}\nIssuances {issuances}; these stored files are "
                                      f"destroyed:\n{files}",
                        meaning=SignatureMeaning.APPROVED,
                        perform=lambda username, password: disposal.approve(ctx.db, ctx.actor, request.id,
                                                                            username=username, password=password))
        if done is not None:
            notify(self, f"Disposal {done.id} approved: {len(done.files)} stored file(s) destroyed")
            data_events.announce({Topic.ISSUANCE})
            self.reload()

    def open_certificate(self) -> None:
        request = self.selected_request()
        if request is None or request.certificate_sha256 is None:
            return
        ctx = self._ctx
        run_query(self, lambda: disposal.certificate_path(ctx.db, ctx.actor, request.id), key="certificate",
                  on_done=self._open_file)

    def _open_file(self, path: Path) -> None:
        self.opened = path
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))


def retention_page(ctx: PageContext) -> QWidget:
    return RetentionPage(ctx)


register_page("retention", retention_page, title="Retention", icon="register",
              permissions=(Permission.PLACE_LEGAL_HOLD, Permission.REQUEST_DISPOSAL, Permission.APPROVE_DISPOSAL),
              order=65, description="Retention of records, legal holds and disposal (QA e-signature, certificate).")
