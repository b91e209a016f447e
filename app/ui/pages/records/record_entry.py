"""The entry form of a record: its fields grouped by page of the sheet, the activity time written on the paper,
where values are read from (the scan page shown, or direct entry), what the paper reader saw in each field's
boxes (hints, suggestions only), and second-person verification (here, or "by snippets" in a dialog)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import cast

from PySide6.QtCore import QDateTime, Qt, Signal
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QGroupBox,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from app.services.identity.batch import BatchResult
from app.services.identity.permissions import Permission
from app.services.records.record_views import FieldView, RecordView
from app.services.scans.paper_hints import PaperHint
from app.services.site import settings
from app.textfmt import of_total
from app.ui.kit.flow_layout import FlowLayout, keep_together
from app.ui.kit.operations import notify
from app.ui.kit.signature import batch_report
from app.ui.kit.style import set_role
from app.ui.kit.widgets import ErrorLine, hint
from app.ui.kit.workers import Task
from app.ui.pages.records.record_field import FieldRow
from app.ui.pages.records.record_verifying import verify_values
from app.ui.pages.registry import PageContext

SHOW_ALL, SHOW_EMPTY, SHOW_VERIFY, SHOW_FLAGGED = range(4)
_SHOW = ("All fields", "Fields without a value", "Values awaiting verification",
         "Flagged values (out of limits, late, corrected, NA)")


def _flagged(field: FieldView) -> bool:
    e = field.current
    return e is not None and (e.out_of_limits or e.late or e.is_na or len(field.history) > 1)


def shown_by(choice: int, field: FieldView) -> bool:
    if choice == SHOW_EMPTY:
        return field.current is None
    if choice == SHOW_VERIFY:
        return field.needs_verification
    if choice == SHOW_FLAGGED:
        return _flagged(field)
    return True


class EntryForm(QWidget):
    """Fields of one record; every save goes straight to the service and comes back as ``changed``."""

    changed = Signal(object)  # RecordView after a save, a verification
    page_focused = Signal(int)  # the user moved to a field printed on this page
    field_focused = Signal(str)  # the user moved to another field (its name): the scan shows its row
    correction_requested = Signal(str)
    history_requested = Signal(str)
    invalidate_requested = Signal(str)
    verify_by_snippets_requested = Signal()

    def __init__(self, ctx: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.view: RecordView | None = None
        self.rows: dict[str, FieldRow] = {}
        self._groups: dict[int, QWidget] = {}  # a group box per page of the sheet; one plain box for one page
        self.current_field: str | None = None  # the field the keyboard is in, or was in last
        self._source_page: int | None = None
        self._memory: dict[str, str] = {}  # what the rows remember between saves (the late-entry reason)
        self.task: Task | None = None  # values being verified together
        self.last_result: BatchResult[str] | None = None
        # Which page the user works on follows the keyboard focus. One application signal, not an event filter
        # on every field: a Python event filter met events of widgets being destroyed (a crash under load).
        # A widget can only be built once the QApplication exists, so instance() is that QApplication.
        cast(QApplication, QApplication.instance()).focusChanged.connect(self._focus_moved)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)

        # The lines above the fields are kept short (explanations in tooltips): the fields get the height.
        self.source_label = QLabel()
        self.source_label.setWordWrap(True)
        set_role(self.source_label, "emphasis")
        layout.addWidget(self.source_label)
        activity = FlowLayout()
        self.activity_check = QCheckBox("&Activity date/time written on the sheet:")
        self.activity_edit = QDateTimeEdit()
        self.activity_edit.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.activity_edit.setCalendarPopup(True)
        self.activity_edit.setEnabled(False)
        self.activity_check.toggled.connect(self.activity_edit.setEnabled)
        activity.addWidget(keep_together(self.activity_check, self.activity_edit))
        layout.addLayout(activity)

        bar = FlowLayout()
        self.progress_label = QLabel()
        bar.addWidget(self.progress_label)
        self.show_combo = QComboBox()
        self.show_combo.addItems(_SHOW)
        self.show_combo.setMinimumContentsLength(22)
        self.show_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.show_combo.currentIndexChanged.connect(self._filter)
        show_label = QLabel("S&how:")
        show_label.setBuddy(self.show_combo)
        bar.addWidget(keep_together(show_label, self.show_combo))
        self.verify_all_button = QPushButton("Verify all shown…")
        self.verify_all_button.setToolTip("Verify every shown value that awaits your second-person verification "
                                          "(or only those ticked), after checking each against the sheet")
        self.verify_all_button.clicked.connect(self.verify_all_shown)
        self.verify_all_button.setVisible(ctx.allowed(Permission.VERIFY_DATA))
        bar.addWidget(self.verify_all_button)
        self.snippets_button = QPushButton("Verify by snippets…")
        self.snippets_button.setToolTip("Each value awaiting your verification beside the piece of the scan it "
                                        "was read from: tick those the paper agrees with, verify them together")
        self.snippets_button.clicked.connect(self.verify_by_snippets_requested)
        self.snippets_button.hide()
        bar.addWidget(self.snippets_button)
        layout.addLayout(bar)
        self.error = ErrorLine()
        layout.addWidget(self.error)

        self.scroll_area = QScrollArea()
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QScrollArea.Shape.NoFrame)
        self._body = QWidget()
        self._body_layout = QVBoxLayout(self._body)
        self._body_layout.addStretch(1)
        self.scroll_area.setWidget(self._body)
        layout.addWidget(self.scroll_area, 1)
        legend = hint("◆ critical · * required · Enter saves the value")
        legend.setWordWrap(False)
        legend.setToolTip("◆ critical: a second person verifies the value. * required. Each value is saved the "
                          "moment you press Enter or Save; a saved value changes only by a correction.")
        layout.addWidget(legend)

    # -- the record ----------------------------------------------------------------------------------
    @property
    def editable(self) -> bool:
        return self.view is not None and self.view.may_enter

    def set_view(self, view: RecordView) -> None:
        """Show ``view``; rows are rebuilt only for another serial, so typed, unsaved text is kept."""
        new_record = self.view is None or self.view.serial != view.serial
        self.view = view
        if new_record:
            self._build(view)
            self.activity_check.setChecked(False)
            self.activity_edit.setDateTime(QDateTime.fromSecsSinceEpoch(int(self._ctx.db.clock.now().timestamp())))
            hours = next((s.value for s in settings.list_settings(self._ctx.db)
                          if s.key == "records.late_entry_hours"), None)
            tip = (
                "When the work was done, as written on the paper; stored apart from the time you save the value. "
                "Optional; applies to each value saved while it is ticked. A value entered more than "
                f"{hours} h after the activity asks for the reason of the late entry and is flagged for review.")
            for widget in (self.activity_check, self.activity_edit):
                widget.setToolTip(tip)
        pages = {s.scan_page_id: s.page_no for s in view.scans}
        for field in view.fields:
            self.rows[field.name].set_field(field, editable=self.editable, pages=pages)
        # Offered only where the service says this person may verify a value now (its may_verify flags).
        self.snippets_button.setVisible(any(f.may_verify for f in view.fields))
        for widget in (self.activity_check, self.activity_edit):
            widget.setVisible(self.editable)
        self.activity_edit.setEnabled(self.activity_check.isChecked())
        self._update_progress()
        self._filter()
        self.set_source_page(self._source_page)

    def _build(self, view: RecordView) -> None:
        for row in self.rows.values():
            row.deleteLater()
        for group in self._groups.values():
            group.deleteLater()
        self.rows, self._groups, self._memory = {}, {}, {}
        self.current_field = None
        pages = sorted({f.page for f in view.fields})
        for page_no in pages:
            group = QGroupBox(f"Page {page_no} of the sheet") if len(pages) > 1 else QWidget()
            group_layout = QVBoxLayout(group)
            group_layout.setSpacing(3)
            if len(pages) == 1:
                group_layout.setContentsMargins(0, 0, 0, 0)
            for field in (f for f in view.fields if f.page == page_no):
                row = FieldRow(self._ctx, field, serial=view.serial, source_page=lambda: self._source_page,
                               activity_at=self.activity_at, number=view.fields.index(field) + 1,
                               memory=self._memory)
                row.saved.connect(self._row_saved)
                row.pick.toggled.connect(lambda _checked: self._update_verify_button())
                row.correction_requested.connect(self.correction_requested)
                row.history_requested.connect(self.history_requested)
                row.invalidate_requested.connect(self.invalidate_requested)
                group_layout.addWidget(row)
                self.rows[field.name] = row
            self._body_layout.insertWidget(self._body_layout.count() - 1, group)
            self._groups[page_no] = group

    def set_hints(self, serial: str, hints: Mapping[str, PaperHint]) -> None:
        """What the paper reader saw in the boxes of ``serial``'s fields (ignored if another record is shown)."""
        if self.view is None or self.view.serial != serial:
            return
        for name, row in self.rows.items():
            row.set_hint(hints.get(name))

    def _focus_moved(self, _old: QWidget | None, new: QWidget | None) -> None:
        if new is None or not isValid(self) or not self.isAncestorOf(new):
            return
        row = next((r for r in self.rows.values() if r.isAncestorOf(new)), None)
        if row is not None:
            self.page_focused.emit(row.field.page)
            if row.field.name != self.current_field:
                self.current_field = row.field.name
                self.field_focused.emit(row.field.name)

    def set_source_page(self, page_no: int | None) -> None:
        """The scan page shown beside the form: values saved now are recorded as read from it."""
        self._source_page = page_no or None
        if not self.editable:
            why = self.view.why_not_enter if self.view else None
            self.source_label.setText("Read-only: " + (f"{why}." if why else
                                                       "you may view this record but not enter data."))
            self.source_label.setToolTip("")
        elif self._source_page:
            self.source_label.setText(f"Transcribing from scan page {self._source_page} (shown on the left)")
            self.source_label.setToolTip("Each value you save now is recorded with that page as its source.")
        else:
            self.source_label.setText("No scan linked: values are saved as direct entries.")
            self.source_label.setToolTip("")

    def show_page_group(self, page_no: int) -> None:
        """Bring the fields printed on ``page_no`` into view, unless the user is already on one of them."""
        group = self._groups.get(page_no)
        focused = self.window().focusWidget()
        if group is None or len(self._groups) < 2 or (focused is not None and group.isAncestorOf(focused)):
            return
        self.scroll_area.ensureWidgetVisible(group, 0, 0)
        self.scroll_area.verticalScrollBar().setValue(group.y())

    def source_page(self) -> int | None:
        return self._source_page

    def set_activity(self, moment: dt.datetime | None) -> None:
        """Tick and set the activity time (None: untick)."""
        self.activity_check.setChecked(moment is not None)
        if moment is not None:
            self.activity_edit.setDateTime(QDateTime.fromSecsSinceEpoch(int(moment.timestamp())))

    def activity_at(self) -> dt.datetime | None:
        """The activity time ticked above, as an aware local time, or None."""
        if not self.activity_check.isChecked():
            return None
        # QDateTime.toPython() returns a datetime.datetime; the stubs type it as object.
        return cast(dt.datetime, self.activity_edit.dateTime().toPython()).astimezone()

    # -- after a save ---------------------------------------------------------------------------------
    def _row_saved(self, view: RecordView) -> None:
        row = self.sender()
        self.changed.emit(view)
        if isinstance(row, FieldRow) and row.field.current is not None:
            self._focus_next_empty(after=row.field.name)

    def _focus_next_empty(self, *, after: str) -> None:
        names = list(self.rows)
        start = names.index(after) + 1 if after in names else 0
        for name in names[start:] + names[:start]:
            row = self.rows[name]
            if row.field.current is None and not row.isHidden():
                row.input.setFocus(Qt.FocusReason.TabFocusReason)
                self.scroll_area.ensureWidgetVisible(row)
                return

    def _update_progress(self) -> None:
        view = self.view
        if view is None:
            return
        saved = sum(1 for f in view.fields if f.current is not None)
        waiting = sum(1 for f in view.fields if f.needs_verification)
        missing = sum(1 for f in view.fields if f.required and f.current is None)
        parts = [f"{of_total(saved, len(view.fields), 'value')} saved"]
        if missing:
            parts.append(f"{missing} required still empty")
        if waiting:
            parts.append(f"{waiting} awaiting verification")
        self.progress_label.setText(" · ".join(parts))
        self._update_verify_button()

    def _filter(self) -> None:
        choice = self.show_combo.currentIndex()
        for row in self.rows.values():
            row.setHidden(not shown_by(choice, row.field))
        for group in self._groups.values():
            rows = group.findChildren(FieldRow)
            group.setHidden(bool(rows) and all(r.isHidden() for r in rows))
        self._update_verify_button()

    # -- many values verified together ----------------------------------------------------------------
    def to_verify(self) -> list[str]:
        """The values "Verify…" acts on: those ticked, or else every shown one; only values the service says
        this user may verify now."""
        mine = {n: r for n, r in self.rows.items() if r.field.may_verify}
        picked = [n for n, r in mine.items() if r.pick.isChecked()]
        return picked or [n for n, r in mine.items() if not r.isHidden()]

    def _update_verify_button(self) -> None:
        picked = any(r.field.may_verify and r.pick.isChecked() for r in self.rows.values())
        count = len(self.to_verify())
        self.verify_all_button.setText(f"Verify {count} selected…" if picked else
                                       f"Verify all shown ({count})…" if count else "Verify all shown…")
        self.verify_all_button.setEnabled(count > 0 and self.task is None)
        self.snippets_button.setEnabled(self.task is None)

    def verify_all_shown(self) -> None:
        """Verify the ticked values, or every shown one awaiting this user's verification (after one
        confirmation), in the background; the service verifies each on its own and says which it refused, why."""
        if self.view is None or self.task is not None:
            return
        names = self.to_verify()
        if not names:
            return
        shown = [(n, f"{self.rows[n].field.label}: {self.rows[n].input.text()}") for n in names]
        self.task = verify_values(self, self._ctx, serial=self.view.serial, values=shown, against="the sheet",
                                  on_done=self._verified, on_failed=self._verify_failed)
        self._update_verify_button()

    def _verified(self, outcome: tuple[BatchResult[str], RecordView]) -> None:
        self.task = None
        result, view = outcome
        self.last_result = result
        labels = {f.name: f.label for f in view.fields}
        text, refusals = batch_report(result, done="value verified", done_plural="values verified",
                                      name=lambda name: labels.get(name, name))
        notify(self, text)
        self.error.show_text(f"{text}. {refusals}" if refusals else "")
        for row in self.rows.values():
            row.pick.setChecked(False)
        self.changed.emit(view)

    def _verify_failed(self, exc: BaseException) -> None:
        self.task = None
        self._update_verify_button()
        self._ctx.show_error(self, exc, title="Second-person verification")
