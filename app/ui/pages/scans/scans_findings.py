"""The Paper findings tab of the Scans page (paper review by exception, RC-07): what the scan reader found wrong
on the returned sheets, each with the crop of its field and the whole page beside it, and QA's way to resolve
one or several with a reason or a deviation reference (a panel in place of the list, so the scan stays in
sight). The pieces a record's review shows too live in scans_paper.py."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (
    QComboBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.services.core.timefmt import local_text
from app.services.scans import paper_views
from app.services.scans.paper_views import PaperFindingView
from app.textfmt import plural
from app.ui.kit import data_events
from app.ui.kit.data_events import Topic
from app.ui.kit.flow_layout import FlowLayout, keep_together
from app.ui.kit.image_viewer import ImageViewer, ViewerPage, scan_page_loader
from app.ui.kit.list_model import ListTableModel
from app.ui.kit.operations import run_query
from app.ui.kit.side_panel import PanelStack, SidePanel
from app.ui.kit.widgets import hint, setup_table
from app.ui.pages.registry import PageContext, pages_for
from app.ui.pages.scans.scans_models import (
    allow_many,
    current_item,
    reselect,
    select_key,
    selected_items,
    selected_rows,
)
from app.ui.pages.scans.scans_paper import (
    CLOSED_COLOUR,
    OPEN_COLOUR,
    ResolvePanel,
    SnippetView,
    report_resolved,
    status_text,
    where,
)

SHOW = {"open": "Open findings", "all": "All findings (resolved and superseded too)"}


class FindingModel(ListTableModel[PaperFindingView]):
    """One row per finding; closed ones (resolved, superseded) in grey; the detail as every cell's tooltip."""

    COLUMNS = ("Form", "Page", "Field", "What is wrong", "Status", "Found")
    STATUS = 4
    KEY = "id"

    def text(self, row: PaperFindingView, column: int) -> str:
        if column == 0:
            return row.label
        if column == 1:
            return str(row.page)
        if column == 2:
            return where(row)
        if column == 3:
            return row.kind.title
        if column == self.STATUS:
            return status_text(row, short=True)
        return f"{local_text(row.opened_at, seconds=False)}, import by {row.opened_by}"

    def role_data(self, row: PaperFindingView, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{row.kind.title}: {row.detail}\n{status_text(row)}"
        if role == Qt.ItemDataRole.ForegroundRole:
            if not row.is_open:
                return QBrush(CLOSED_COLOUR)
            if column == 3:
                return QBrush(OPEN_COLOUR)
        return None


class FindingsPanel(QWidget):
    """The tab. ``changed`` is emitted after findings were resolved here (the page updates its counts)."""

    changed = Signal()

    def __init__(self, ctx: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.loaded = False
        self._shown: PaperFindingView | None = None
        self._can_resolve = ctx.allowed(paper_views.RESOLVER)
        # "Open the record" needs the main window and the Records page among this user's pages.
        self._can_open = ctx.window is not None and any(s.key == "records" for s in pages_for(ctx.actor))
        layout = QVBoxLayout(self)
        layout.addWidget(hint(
            "What the scan reader found wrong on the returned sheets (good documentation practice on paper): a "
            "required entry left blank, initials missing, options ticked wrongly, an empty signature block, a box "
            "it cannot read. Select one to see its field on the scan. QA resolves each with a reason or a deviation "
            "reference (several at once with Shift or Ctrl); a record is approved only once its findings are "
            "resolved."))
        bar = FlowLayout()
        self.show_combo = QComboBox()
        for key, text in SHOW.items():
            self.show_combo.addItem(text, key)
        self.show_combo.currentIndexChanged.connect(self.reload)
        show_label = QLabel("&Show:")
        show_label.setBuddy(self.show_combo)
        bar.addWidget(keep_together(show_label, self.show_combo))
        self.search = QLineEdit()
        self.search.setObjectName("search")  # Ctrl+F (Go menu) finds it
        self.search.setPlaceholderText("form, field or defect")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(200)
        self.search.textChanged.connect(self._apply_search)
        bar.addWidget(self.search)
        self.resolve_button = QPushButton("Resolve…")
        self.resolve_button.setToolTip("Resolve the selected findings with a reason or a deviation reference "
                                       "(audited)")
        self.resolve_button.clicked.connect(self.resolve)
        self.resolve_button.setVisible(self._can_resolve)
        self.open_button = QPushButton("Open the record")
        self.open_button.setToolTip("The form's record on the Records page, with its review by exception")
        self.open_button.clicked.connect(self.open_record)
        self.open_button.setVisible(self._can_open)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.reload)
        for button in (self.resolve_button, self.open_button, self.refresh_button):
            bar.addWidget(button)
        self.count_label = QLabel()
        bar.addWidget(self.count_label)
        layout.addLayout(bar)

        self._all: list[PaperFindingView] = []
        self.model = FindingModel(parent=self)
        self.table = allow_many(setup_table(QTableView()))
        self.table.setModel(self.model)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.selectionModel().selectionChanged.connect(self._selected)
        self.table.doubleClicked.connect(lambda _index: self.resolve())  # QA's act on a finding (only if offered)
        left = QWidget()
        column = QVBoxLayout(left)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.table, 1)
        self.details = QLabel()
        self.details.setWordWrap(True)
        self.details.setTextFormat(Qt.TextFormat.PlainText)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setMinimumHeight(72)
        column.addWidget(self.details)
        self.why_label = hint("")
        column.addWidget(self.why_label)
        self.panels = PanelStack(left, focus=self.table)

        right = QWidget()
        side = QVBoxLayout(right)
        side.setContentsMargins(0, 0, 0, 0)
        self.snippet = SnippetView(ctx)
        side.addWidget(self.snippet)
        self.viewer = ImageViewer(scan_page_loader(ctx.db, ctx.actor), self)
        side.addWidget(self.viewer, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.panels)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([3000, 2000])
        layout.addWidget(splitter, 1)
        data_events.listen(self, {Topic.PAPER, Topic.SCANS}, self.reload)
        self._update_buttons()

    # -- the list ------------------------------------------------------------------------------------------
    def reload(self) -> None:
        """Read the findings in the background (open ones, or all with the filter "All")."""
        ctx, every = self._ctx, self.show_combo.currentData() == "all"
        self.count_label.setText("Reading findings…")
        run_query(self, lambda: paper_views.open_findings(ctx.db, ctx.actor, include_closed=every), key="findings",
                  on_done=self._listed, on_failed=self._list_failed)

    def _list_failed(self, exc: BaseException) -> None:
        self.count_label.setText("")
        self._ctx.show_error(self, exc)

    def _listed(self, rows: list[PaperFindingView]) -> None:
        self._all = rows
        self.loaded = True
        # Only open findings listed: every status says "Open", so the column is left out.
        self.table.setColumnHidden(FindingModel.STATUS, self.show_combo.currentData() == "open")
        self._apply_search()

    def _apply_search(self) -> None:
        text = self.search.text().strip().lower()
        rows = [f for f in self._all if not text or text in
                f"{f.label} {f.serial} {f.field_label} {f.part_label} {f.kind.title} {f.detail}".lower()]
        chosen = selected_rows(self.table)
        keys = [self.model.row_at(r).id for r in chosen]
        self.model.set_rows(rows)
        still_open = sum(1 for f in self._all if f.is_open)
        if not self._all:
            self.count_label.setText("No open finding ✔" if self.show_combo.currentData() == "open"
                                     else "No finding yet")
        else:
            self.count_label.setText(f"{plural(still_open, 'open finding')}"
                                     + (f" · {len(rows)} shown" if len(rows) != len(self._all) else ""))
        reselect(self.table, self.model, keys, anchor=chosen[0] if chosen else 0)
        if not rows:
            self._show(None)
        self._update_buttons()

    @property
    def open_count(self) -> int:
        """Open findings as last read (the tab's title shows it)."""
        return sum(1 for f in self._all if f.is_open)

    def show_only(self, key: str) -> None:
        self.show_combo.setCurrentIndex(max(0, self.show_combo.findData(key)))

    def selected(self) -> PaperFindingView | None:
        return current_item(self.table, self.model)

    def selected_findings(self) -> list[PaperFindingView]:
        return selected_items(self.table, self.model)

    def select(self, finding_id: int) -> bool:
        return select_key(self.table, self.model, finding_id)

    # -- the finding shown ---------------------------------------------------------------------------------
    def _selected(self, *_selection: object) -> None:
        self._update_buttons()
        finding = self.selected()
        if finding is not None and finding == self._shown:
            return
        self._show(finding)

    def _show(self, finding: PaperFindingView | None) -> None:
        self._shown = finding
        if finding is None:
            self.details.setText("")
            self.snippet.clear("Select a finding to see its field on the scan.")
            self.viewer.set_pages([])
            return
        when = self._ctx.when
        lines = [f"{finding.label}, page {finding.page} · {where(finding)}",
                 f"{finding.kind.title}: {finding.detail}",
                 f"Found {when(finding.opened_at, seconds=False)} when {finding.opened_by}'s import read the page"]
        if not finding.is_open:
            lines.append(f"{status_text(finding)} ({when(finding.resolved_at, seconds=False)})")
        self.details.setText("\n".join(lines))
        self.snippet.show_field(finding.serial, finding.field,
                                caption=f"On the scan: {where(finding)} ({finding.label} p.{finding.page})")
        self.viewer.set_pages([ViewerPage(finding.scan_page_id, f"{finding.label} page {finding.page}")], 0)

    def _update_buttons(self) -> None:
        chosen = self.selected_findings()
        mine = [f for f in chosen if f.may_resolve]
        self.resolve_button.setEnabled(bool(mine) and self.panels.panel is None)
        self.resolve_button.setText("Resolve…" if len(chosen) <= 1 else f"Resolve {plural(len(mine), 'finding')}…")
        self.open_button.setEnabled(len(chosen) == 1)
        refused = next((f.why_not_resolve for f in chosen if not f.may_resolve and f.why_not_resolve), None)
        if chosen and not mine and refused:
            self.why_label.setText(f"Resolve is not offered: {refused}.")
        elif refused:
            self.why_label.setText(f"{plural(len(chosen) - len(mine), 'selected finding')} left out: {refused}.")
        else:
            self.why_label.setText("")

    # -- acts ----------------------------------------------------------------------------------------------
    @property
    def panel(self) -> SidePanel | None:
        """The resolve form open in place of the list, or None."""
        return self.panels.panel

    def resolve(self) -> None:
        chosen = self.selected_findings()
        mine = [f for f in chosen if f.may_resolve]
        if not mine or self.panel is not None:
            return
        panel = ResolvePanel(self._ctx, mine, left_out=[f for f in chosen if not f.may_resolve])

        def done(finished: SidePanel, ok: bool) -> None:
            if ok:
                report_resolved(self, finished.result_value)
                self.changed.emit()
            self.reload()  # a refusal (already resolved elsewhere) shows the finding as it is now
            self._update_buttons()
        self.panels.open(panel, done)
        self._update_buttons()

    def open_record(self) -> None:
        """The selected finding's record, on the Records page (its review lists the form's exceptions)."""
        finding = self.selected()
        if finding is None or not self._can_open:
            return
        self._ctx.navigate("records")
        widget = (getattr(self._ctx.window, "page_widgets", None) or {}).get("records")
        opener = getattr(widget, "open_record", None)
        if callable(opener):
            opener(finding.serial)
