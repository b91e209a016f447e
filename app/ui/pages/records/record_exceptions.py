"""Review by exception of one record (RC-07, issue 15): only what needs a second look, not every value again —
the paper findings of its sheets (open ones, and resolved ones in grey), the boxes the scan reader could not
judge, the values out of limits, entered late or corrected, and the pages nothing was read on. A count summary
on top; the selected item's field cropped from its scan below; Resolve for QA in place of the list.

The paper side (findings, readings) is read in the background when the section is on screen; the values come
with the record's view."""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.enums import EntryKind, PaperFindingStatus
from app.forms.scan.readings import BoxState
from app.services.records.record_views import FieldView, RecordView
from app.services.scans import paper_views
from app.services.scans.paper_views import BoxReadingView, FormFindings, FormReadings, PaperFindingView
from app.textfmt import plural
from app.ui.kit import data_events, messages
from app.ui.kit.data_events import Topic
from app.ui.kit.flow_layout import FlowLayout
from app.ui.kit.operations import run_query
from app.ui.kit.side_panel import PanelStack, SidePanel
from app.ui.kit.widgets import hint
from app.ui.pages.registry import PageContext
from app.ui.pages.scans.scans_paper import (
    CLOSED_COLOUR,
    OPEN_COLOUR,
    ResolvePanel,
    SnippetView,
    report_resolved,
    status_text,
    where,
)

ITEM = Qt.ItemDataRole.UserRole  # what a row is: ("finding", view), ("box", page, box), ("value", field), ("page", n)


@dataclasses.dataclass(frozen=True)
class ValueException:
    field: FieldView
    out_of_limits: bool
    late: bool
    corrections: int
    text: str  # the value and every note on it

    @property
    def short(self) -> str:
        """ "Out of limits · late · corrected twice" """
        said = ["Out of limits" if self.out_of_limits else "", "entered late" if self.late else "",
                "" if not self.corrections else "corrected" if self.corrections == 1
                else f"corrected {self.corrections} times"]
        text = " · ".join(s for s in said if s)
        return text[:1].upper() + text[1:]


@dataclasses.dataclass(frozen=True)
class Exceptions:
    """What the section lists for one record, counted for its summary line."""

    findings: tuple[PaperFindingView, ...]  # open first, then resolved (superseded ones are history only)
    unclear: tuple[tuple[int, BoxReadingView], ...]  # (page, box)
    values: tuple[ValueException, ...]
    unread: tuple[tuple[int, str], ...]  # (page, why nothing was read on it)

    @property
    def open_findings(self) -> int:
        return sum(1 for f in self.findings if f.is_open)

    @property
    def count(self) -> int:
        """Everything still to look at (resolved findings are done)."""
        return self.open_findings + len(self.unclear) + len(self.values) + len(self.unread)

    def summary(self) -> str:
        """ "3 paper findings open · 1 unclear box · 2 values out of limits" (only what there is)."""
        parts = [plural(self.open_findings, "paper finding") + " open" if self.open_findings else "",
                 plural(len(self.unclear), "unclear box") if self.unclear else ""]
        for count, words in ((sum(v.out_of_limits for v in self.values), "value out of limits"),
                             (sum(v.late for v in self.values), "late entry"),
                             (sum(bool(v.corrections) for v in self.values), "value corrected")):
            if count:
                parts.append(plural(count, words, words.replace("value ", "values ", 1)))
        if self.unread:
            parts.append(plural(len(self.unread), "page") + " not read")
        return " · ".join(p for p in parts if p)


def value_exceptions(view: RecordView) -> tuple[ValueException, ...]:
    """The record's current values that are out of limits, late, or corrected since first entered."""
    found = []
    for field in view.fields:
        current = field.current
        if current is None:
            continue
        corrections = [e for e in field.history if e.kind is not EntryKind.ORIGINAL]
        if not (current.out_of_limits or current.late or corrections):
            continue
        value = "N/A" if current.is_na else f"{current.value or ''} {field.unit or ''}".strip()
        notes = []
        if current.out_of_limits:
            notes.append(f"out of limits ({field.limits or 'see the template'}); justification: "
                         f"{current.justification or '—'}")
        if current.late:
            notes.append(f"entered late: {current.late_reason or '—'}")
        if corrections:
            notes.append(f"corrected {plural(len(corrections), 'time')}, last because: "
                         f"{corrections[-1].reason or '—'}")
        found.append(ValueException(field, current.out_of_limits, current.late, len(corrections),
                                    f"{value} — " + "; ".join(notes)))
    return tuple(found)


def exceptions_of(view: RecordView, findings: FormFindings | None, readings: FormReadings | None) -> Exceptions:
    """The exceptions of ``view`` (``findings`` and ``readings`` None while the paper side is not read)."""
    every = findings.findings if findings is not None else ()
    listed = (tuple(f for f in every if f.is_open)
              + tuple(f for f in every if f.status is PaperFindingStatus.RESOLVED))
    unclear = tuple((page.page, box) for page in (readings.pages if readings else ())
                    for box in page.boxes if box.state is BoxState.UNCLEAR)
    unread: list[tuple[int, str]] = []
    if readings is not None:
        scanned = {page.page: page for page in readings.pages}
        last = max([f.page for f in view.fields] + [s.page_no for s in view.scans] + [1])
        for number in range(1, last + 1):
            page = scanned.get(number)
            if page is None:
                unread.append((number, "no scan of this page is linked yet"))
            elif page.read_at is None:
                unread.append((number, "the scan reader has not read this page (scanned before paper review?): "
                                       "check it by eye"))
    return Exceptions(listed, unclear, value_exceptions(view), tuple(unread))


class ExceptionsSection(QWidget):
    """``loaded`` after the paper side was read (the review panel shows the summary and Approve's reason);
    ``resolved`` after findings were resolved here (the record is read again: Approve may now be offered)."""

    loaded = Signal()
    resolved = Signal()

    def __init__(self, ctx: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.view: RecordView | None = None
        self.findings: FormFindings | None = None
        self.readings: FormReadings | None = None
        self.exceptions: Exceptions | None = None  # None until the paper side is read
        self._dirty = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        self.summary_label = hint("")  # how the list was read, or why it could not be
        top = QWidget()
        column = QVBoxLayout(top)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.summary_label)
        bar = FlowLayout()
        self.resolve_button = QPushButton("Resolve…")
        self.resolve_button.setToolTip("Resolve the selected paper findings with a reason or a deviation reference "
                                       "(audited)")
        self.resolve_button.clicked.connect(self.resolve)
        self.resolve_button.setVisible(ctx.allowed(paper_views.RESOLVER))
        bar.addWidget(self.resolve_button)
        self.why_label = hint("")
        self.why_label.setWordWrap(False)
        bar.addWidget(self.why_label)
        column.addLayout(bar)
        self.tree = QTreeWidget()
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels(["Where", "What"])
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.tree.setAlternatingRowColors(True)
        self.tree.setWordWrap(True)
        self.tree.setUniformRowHeights(False)
        self.tree.header().resizeSection(0, 300)
        self.tree.itemSelectionChanged.connect(self._selected)
        self.tree.itemDoubleClicked.connect(lambda *_: self.resolve())  # a finding QA may resolve; else nothing
        column.addWidget(self.tree, 1)
        self.details = QLabel()
        self.details.setWordWrap(True)
        self.details.setTextFormat(Qt.TextFormat.PlainText)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        column.addWidget(self.details)
        self.panels = PanelStack(top, focus=self.tree)
        self.snippet = SnippetView(ctx)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.panels)
        splitter.addWidget(self.snippet)
        splitter.setStretchFactor(0, 4)
        splitter.setStretchFactor(1, 1)
        layout.addWidget(splitter, 1)
        data_events.listen(self, {Topic.PAPER, Topic.SCANS}, self.load)
        self._update_buttons()

    # -- reading -------------------------------------------------------------------------------------------
    def set_record(self, view: RecordView) -> None:
        """Show the exceptions of ``view``: its values at once, the paper side read again in the background."""
        if self.view is None or self.view.serial != view.serial:
            self.findings = self.readings = None
            if self.panel is not None:
                self.panel.close_panel()
        self.view = view
        self._fill()
        self._dirty = True
        if self.isVisible():
            self.load()

    def showEvent(self, event) -> None:  # noqa: ANN001, N802 - Qt API
        super().showEvent(event)
        if self._dirty:
            self.load()

    def load(self) -> None:
        view, ctx = self.view, self._ctx
        if view is None:
            return
        self._dirty = False
        serial = view.serial

        def read() -> tuple[FormFindings, FormReadings]:
            return (paper_views.findings_of_record(ctx.db, ctx.actor, serial),
                    paper_views.readings_of_form(ctx.db, ctx.actor, serial))
        run_query(self, read, key="paper", on_done=lambda result: self._read(serial, *result),
                  on_failed=self._failed)

    def _read(self, serial: str, findings: FormFindings, readings: FormReadings) -> None:
        if self.view is None or self.view.serial != serial:
            return  # another record was opened meanwhile
        self.findings, self.readings = findings, readings
        self._fill()
        self.loaded.emit()

    def _failed(self, exc: BaseException) -> None:
        self.summary_label.setText(f"The paper review of this form could not be read: {messages.describe(exc)}")

    # -- the list --------------------------------------------------------------------------------------------
    def _fill(self) -> None:
        view = self.view
        if view is None:
            return
        paper_read = self.findings is not None
        found = exceptions_of(view, self.findings, self.readings)
        self.exceptions = found if paper_read else None
        chosen = {self._key(item) for item in self.tree.selectedItems()}
        self.tree.clear()
        resolved = len(found.findings) - found.open_findings
        if found.findings:
            group = self._group(f"Paper findings — {found.open_findings} open"
                                + (f", {resolved} resolved" if resolved else ""))
            for finding in found.findings:
                item = self._item(group, f"p.{finding.page} · {where(finding)}",
                                  finding.kind.title if finding.is_open else status_text(finding),
                                  f"{finding.kind.title}: {finding.detail}"
                                  + ("" if finding.is_open else f"\n{status_text(finding)}"), ("finding", finding))
                item.setForeground(1, QBrush(OPEN_COLOUR if finding.is_open else CLOSED_COLOUR))
                if not finding.is_open:
                    item.setForeground(0, QBrush(CLOSED_COLOUR))
        if found.unclear:
            group = self._group(f"Boxes read unclear — {len(found.unclear)}")
            for page, box in found.unclear:
                self._item(group, f"p.{page} · {box.field_label} · {box.part_label}",
                           f"Unclear{f': {box.note}' if box.note else ''}",
                           f"The reader cannot tell what is in this box (confidence {box.confidence:.0%})"
                           + (f": {box.note}" if box.note else "") + ". Look at the scan.", ("box", page, box))
        if found.values:
            group = self._group(f"Values — {len(found.values)} to look at")
            for value in found.values:
                self._item(group, value.field.label, value.short, value.text, ("value", value.field))
        if found.unread:
            group = self._group(f"Pages not read — {len(found.unread)}")
            for page, why in found.unread:
                self._item(group, f"page {page}", "Not read", f"Page {page}: {why}.", ("page", page))
        if not paper_read:
            self.summary_label.setText("Reading what the scans show…")
        elif found.count or found.findings:
            self.summary_label.setText("Only what needs a second look. Select a row to see its field on the scan "
                                       "below; QA resolves each paper finding with a reason or a deviation "
                                       "reference, and the record is approved once none is open.")
        else:
            self.summary_label.setText("No exceptions: nothing on the paper or in the values needs a second look.")
        self.tree.expandAll()
        for item in self._items():
            item.setSelected(self._key(item) in chosen)
        self._selected()

    def _group(self, text: str) -> QTreeWidgetItem:
        group = QTreeWidgetItem(self.tree, [text])
        font = QFont(group.font(0))
        font.setBold(True)
        group.setFont(0, font)
        group.setFirstColumnSpanned(True)
        group.setFlags(Qt.ItemFlag.ItemIsEnabled)
        return group

    @staticmethod
    def _item(group: QTreeWidgetItem, where_text: str, short: str, full: str,
              data: tuple[object, ...]) -> QTreeWidgetItem:
        """A row: where, what in a few words; ``full`` in its tooltip and below the list when selected."""
        item = QTreeWidgetItem(group, [where_text, short])
        item.setData(0, ITEM, data)
        item.setData(1, ITEM, full)
        for column in (0, 1):
            item.setToolTip(column, full)
        return item

    def _items(self) -> list[QTreeWidgetItem]:
        groups = [self.tree.topLevelItem(g) for g in range(self.tree.topLevelItemCount())]
        return [item for group in groups if group is not None
                for item in (group.child(c) for c in range(group.childCount())) if item is not None]

    @staticmethod
    def _key(item: QTreeWidgetItem) -> object:
        data = item.data(0, ITEM)
        if not data:
            return None
        if data[0] == "finding":
            return ("finding", data[1].id)
        if data[0] == "box":
            return ("box", data[1], data[2].field, data[2].part)
        if data[0] == "value":
            return ("value", data[1].name)
        return tuple(data)

    def rows(self) -> list[tuple[str, str, str]]:
        """(kind of row, where, what in full) of every row listed: what a reviewer reads (tests compare it)."""
        return [(item.data(0, ITEM)[0], item.text(0), item.data(1, ITEM)) for item in self._items()]

    def selected_findings(self) -> list[PaperFindingView]:
        return [item.data(0, ITEM)[1] for item in self.tree.selectedItems()
                if item.data(0, ITEM) and item.data(0, ITEM)[0] == "finding"]

    def select_finding(self, finding_id: int) -> bool:
        for item in self._items():
            if self._key(item) == ("finding", finding_id):
                self.tree.setCurrentItem(item)
                return True
        return False

    def _selected(self) -> None:
        self._update_buttons()
        view, items = self.view, self.tree.selectedItems()
        data = items[-1].data(0, ITEM) if items else None
        self.details.setText(items[-1].data(1, ITEM) or "" if items else "")
        if view is None or not data:
            self.snippet.clear("Select an exception to see its field on the scan.")
            return
        kind = data[0]
        if kind == "finding":
            finding: PaperFindingView = data[1]
            self.snippet.show_field(view.serial, finding.field, caption=f"On the scan: {where(finding)} "
                                                                        f"(page {finding.page})")
        elif kind == "box":
            box: BoxReadingView = data[2]
            self.snippet.show_field(view.serial, box.field, caption=f"On the scan: {box.field_label} "
                                                                    f"(page {data[1]})")
        elif kind == "value":
            field: FieldView = data[1]
            self.snippet.show_field(view.serial, field.name, caption=f"On the scan: {field.label} "
                                                                     f"(page {field.page})")
        else:
            self.snippet.clear(f"Page {data[1]}: read it on the scan beside.")

    def _update_buttons(self) -> None:
        chosen = self.selected_findings()
        mine = [f for f in chosen if f.may_resolve]
        self.resolve_button.setEnabled(bool(mine) and self.panel is None)
        self.resolve_button.setText("Resolve…" if len(chosen) <= 1 else f"Resolve {plural(len(mine), 'finding')}…")
        refused = next((f.why_not_resolve for f in chosen if not f.may_resolve and f.why_not_resolve), None)
        self.why_label.setText(f"Resolve is not offered: {refused}." if chosen and not mine and refused else "")

    # -- resolving -------------------------------------------------------------------------------------------
    @property
    def panel(self) -> SidePanel | None:
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
                self.resolved.emit()
            self.load()
            self._update_buttons()
        self.panels.open(panel, done)
        self._update_buttons()
