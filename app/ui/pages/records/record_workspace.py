"""One record open for work: the scan on the left; on the right the entry form and the review panel, or the
correction form in their place (beside the scan, which stays in sight). The scan follows the field being typed
in: its page, zoomed to its row (where the template's renderer prints that row); under it, the snippet of that
field (the crop of its boxes) and what the paper reader saw there, read in the background."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.forms.render.field_places import FieldPlace, field_places
from app.services.core.errors import FormtrailError
from app.services.identity.permissions import Permission
from app.services.records import records
from app.services.records.record_views import RecordView, ScanRef
from app.services.scans.paper_hints import PaperHint, hints_of_form
from app.services.templates import templates
from app.ui.kit.dialogs import accepted, open_dialog
from app.ui.kit.operations import run_query
from app.ui.kit.side_panel import PanelStack, SidePanel
from app.ui.kit.style import set_role
from app.ui.kit.widgets import ErrorLine
from app.ui.pages.records.record_correction import CorrectionPanel
from app.ui.pages.records.record_entry import EntryForm
from app.ui.pages.records.record_history import HistoryDialog
from app.ui.pages.records.record_invalidate import invalidate_value
from app.ui.pages.records.record_review import ReviewPanel
from app.ui.pages.records.record_scan import ScanView
from app.ui.pages.records.record_snippets import SnippetPanel
from app.ui.pages.records.record_verify import SnippetVerifyDialog
from app.ui.pages.registry import PageContext

ENTRY_TAB, REVIEW_TAB = 0, 1


class RecordWorkspace(QWidget):
    back_requested = Signal()
    changed = Signal(object)  # RecordView after any change made here

    def __init__(self, ctx: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.view: RecordView | None = None
        self.dialog: QDialog | None = None  # the history dialog open now (tests, focus)
        self.places: dict[str, FieldPlace] = {}  # where each field's row is on the sheet
        self._places_of: tuple[str, int] | None = None  # the template version ``places`` belong to
        self._hints_of: tuple[str, tuple[ScanRef, ...]] | None = None  # the scans the hints were read for
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        header = QHBoxLayout()
        self.back_button = QPushButton("← All forms")
        self.back_button.clicked.connect(self.back_requested)
        header.addWidget(self.back_button)
        self.title_label = QLabel()
        self.title_label.setWordWrap(True)  # a long template title wraps instead of widening the page
        set_role(self.title_label, "title")
        header.addWidget(self.title_label, 1)
        self.state_label = QLabel()
        set_role(self.state_label, "subtitle")
        header.addWidget(self.state_label)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip("Read the record again (someone else may have verified or signed it).")
        self.refresh_button.clicked.connect(self.refresh)
        header.addWidget(self.refresh_button)
        layout.addLayout(header)
        self.error = ErrorLine()
        layout.addWidget(self.error)

        self.scan = ScanView(ctx)
        # The snippet under the scan, not above the fields: the fields keep their height (8 of 12 in sight at
        # 1280 × 800), and the scan it is cut from is right above it.
        self.snippets = SnippetPanel(ctx)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.scan, 1)
        left_layout.addWidget(self.snippets)
        self.entry = EntryForm(ctx)
        self.review = ReviewPanel(ctx)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.entry, "Values")
        self.tabs.addTab(self.review, "Review and sign")
        self.panels = PanelStack(self.tabs)  # the tabs, or the correction form in their place
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.panels)
        self.splitter.setStretchFactor(0, 5)
        self.splitter.setStretchFactor(1, 4)
        self.splitter.setChildrenCollapsible(False)
        self.tabs.setMinimumWidth(480)
        self._sized = False
        layout.addWidget(self.splitter, 1)

        self.scan.page_changed.connect(self.entry.set_source_page)
        self.scan.page_changed.connect(self.entry.show_page_group)
        self.entry.page_focused.connect(self.scan.show_page)
        self.entry.field_focused.connect(self._follow)
        self.entry.changed.connect(self.apply)
        self.entry.correction_requested.connect(self.correct)
        self.entry.history_requested.connect(self.history)
        self.entry.invalidate_requested.connect(self.invalidate)
        self.entry.verify_by_snippets_requested.connect(self.verify_by_snippets)
        self.snippets.show_requested.connect(self.show_on_page)
        self.review.changed.connect(self.apply)

    def showEvent(self, event) -> None:  # noqa: ANN001, N802 - Qt API
        super().showEvent(event)
        if not self._sized:  # the scan gets a little more than half the width, once; the user may drag
            self._sized = True
            width = self.splitter.width()
            self.splitter.setSizes([width * 11 // 20, width - width * 11 // 20])

    def open(self, serial: str) -> bool:
        """Load the record of ``serial`` (a record with no value yet shows its empty form)."""
        try:
            view = records.record_view(self._ctx.db, self._ctx.actor, serial)
        except FormtrailError as exc:
            self.error.show_text(str(exc))
            return False
        self.error.clear_text()
        self.view = None
        self.apply(view)
        reviewer = self._ctx.allowed(Permission.REVIEW_RECORDS) or self._ctx.allowed(Permission.APPROVE_RECORDS)
        self.tabs.setCurrentIndex(REVIEW_TAB if reviewer and not self.entry.editable else ENTRY_TAB)
        return True

    def refresh(self) -> None:
        """Read the record again, keeping the tab and the page shown."""
        if self.view is None:
            return
        try:
            view = records.record_view(self._ctx.db, self._ctx.actor, self.view.serial)
        except FormtrailError as exc:
            self.error.show_text(str(exc))
            return
        self._hints_of = None  # a page may have been read again meanwhile
        self.apply(view)

    def apply(self, view: RecordView) -> None:
        """Show the record as the service returned it after a change (or on opening)."""
        if self.view is None or self.view.serial != view.serial:
            if self.panel is not None:
                self.panel.close_panel()  # a correction of the record shown before
            self.scan.show_field(None)
        self._read_places(view)
        self.view = view
        # The form as printed on the sheet being transcribed (its label)
        self.title_label.setText(f"{view.label or view.serial} · {view.template} v{view.version} {view.title}")
        self.state_label.setText(f"Record: {view.state.value}")
        self.scan.set_scans(view.scans, pages=max((f.page for f in view.fields), default=1))
        self.entry.set_view(view)
        self.entry.set_source_page(self.scan.current_page())
        self.review.set_view(view)
        self.snippets.set_record(view)
        self._read_hints(view)
        self.changed.emit(view)

    # -- what the paper reader saw ------------------------------------------------------------------
    def _read_hints(self, view: RecordView) -> None:
        """The paper reader's hints for every field, read in the background when the record opens and when its
        scans change (a page linked or read again); they are suggestions only, shown beside the entries."""
        key = (view.serial, view.scans)
        if key == self._hints_of:
            return
        self._hints_of = key
        if not view.scans:
            self._hints_read((view.serial, {}))
            return
        ctx, serial = self._ctx, view.serial
        run_query(self, lambda: (serial, hints_of_form(ctx.db, ctx.actor, serial)), key="hints",
                  on_done=self._hints_read, on_failed=self._hints_failed)

    def _hints_read(self, result: tuple[str, dict[str, PaperHint]]) -> None:
        serial, hints = result
        self.entry.set_hints(serial, hints)
        if self.view is not None and self.view.serial == serial:
            self.snippets.set_hints(hints)

    def _hints_failed(self, _exc: BaseException) -> None:
        self._hints_of = None  # only an aid: the fields are transcribed without it; read again next time

    # -- the scan follows the field ----------------------------------------------------------------
    def _read_places(self, view: RecordView) -> None:
        """Where the template prints each field's row, measured in the background once per template version (a
        failure only means the scan does not zoom to the rows)."""
        version = (view.template, view.version)
        if version == self._places_of:
            return
        self._places_of, self.places = version, {}
        ctx = self._ctx
        run_query(self, lambda: field_places(templates.get_version(ctx.db, ctx.actor, *version).layout),
                  key="places", on_done=self._places_read, on_failed=self._places_failed)

    def _places_failed(self, _exc: BaseException) -> None:
        self._places_of = None  # read again with the record's next view

    def _places_read(self, places: dict[str, FieldPlace]) -> None:
        self.places = places
        if self.entry.current_field is not None:
            self._follow(self.entry.current_field)

    def _follow(self, name: str) -> None:
        self.scan.show_field(self.places.get(name))
        self.snippets.show_field(name)

    def show_on_page(self, name: str) -> None:
        """The whole page of the scan, ``name``'s row outlined on it (the view stops following the fields until
        "Whole page" is clicked again)."""
        if self.view is None:
            return
        place = self.places.get(name)
        if place is not None:
            self.scan.show_field(place)
        else:  # where the rows are is not known (yet): the field's page, whole
            self.scan.show_page(self.view.field(name).page)
        if not self.scan.whole_button.isChecked():
            self.scan.whole_button.click()

    # -- correction and history -------------------------------------------------------------------
    @property
    def panel(self) -> SidePanel | None:
        """The correction form open beside the scan, or None."""
        return self.panels.panel

    def correct(self, name: str) -> None:
        if self.view is None:
            return
        field = self.view.field(name)
        self.scan.show_field(self.places.get(name))  # the row being corrected, on its page: the source page
        self.snippets.show_field(name)  # and what the paper shows there
        panel = CorrectionPanel(self._ctx, field, serial=self.view.serial, source_page=self.scan.current_page(),
                                signed=any(s.valid for s in self.view.signatures))

        def done(finished: SidePanel, ok: bool) -> None:
            view = finished.result_view if isinstance(finished, CorrectionPanel) else None
            if ok and view is not None:
                self.apply(view)
        self.panels.open(panel, done)

    def invalidate(self, name: str) -> None:
        """RC-05: a reason, then the e-signature; the value stays shown, flagged VOID (record_invalidate)."""
        if self.view is not None:
            self.dialog = invalidate_value(self._ctx, self, self.view, name, self.apply)

    def history(self, name: str) -> None:
        if self.view is None:
            return
        dialog = HistoryDialog(self.view.field(name), serial=self.view.serial,
                               pages={s.scan_page_id: s.page_no for s in self.view.scans}, parent=self)
        self._open(dialog, modal=False)  # the scan and the form stay usable beside it

    def verify_by_snippets(self) -> None:
        """The values awaiting this person's verification, each beside its snippet (see record_verify.py)."""
        if self.view is None:
            return
        dialog = SnippetVerifyDialog(self._ctx, self.view, parent=self)
        dialog.changed.connect(self.apply)
        self._open(dialog)

    def _open(self, dialog: QDialog, *, modal: bool = True) -> None:
        if self.dialog is not None:
            self.dialog.close()
        self.dialog = dialog

        def done(dialog: QDialog, result: int) -> None:
            if self.dialog is dialog:
                self.dialog = None
            view = getattr(dialog, "result_view", None)
            if accepted(result) and view is not None:
                self.apply(view)
        open_dialog(dialog, done, modal=modal)
