"""Verification by snippets: every value awaiting this person's second-person verification, each beside the piece
of the scan it was read from (label, snippet, the value large with its unit and limits). The verifier ticks the
values the paper agrees with and verifies exactly those, together, after one confirmation
(``records.verify_many``: each value as if verified on its own); a refused one is listed with why, and the values
left unticked stay to verify."""

from __future__ import annotations

import functools

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.services.identity.batch import BatchResult
from app.services.records.record_views import FieldView, RecordView
from app.services.scans.paper_snippets import Snippet
from app.textfmt import plural
from app.ui.kit.messages import describe
from app.ui.kit.operations import notify
from app.ui.kit.signature import batch_report
from app.ui.kit.style import set_role
from app.ui.kit.widgets import ErrorLine, hint
from app.ui.kit.workers import Task
from app.ui.pages.records.record_history import source_text
from app.ui.pages.records.record_snippets import SnippetImage, load_snippet, why_no_snippet
from app.ui.pages.records.record_verifying import verify_values
from app.ui.pages.registry import PageContext

ITEM_IMAGE_HEIGHT = 84
VALUE_WIDTH = 250
_OUT = "color: #b00020; font-weight: 600;"
_WITHIN = "color: #1b6e2d;"


class SnippetItem(QFrame):
    """One value to verify: the field's label and snippet on the left; the value, its limits, who entered it and
    the tick "The paper agrees" on the right."""

    def __init__(self, ctx: PageContext, field: FieldView, *, number: int, pages: dict[int, int]) -> None:
        super().__init__()
        self.field = field
        self.setObjectName("snippetitem")
        self.setStyleSheet("QFrame#snippetitem { border: 1px solid #d3d9e0; border-radius: 4px; background: white; }")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        left = QVBoxLayout()
        marks = " ◆" if field.critical else ""
        self.name_label = QLabel(f"{number}.  {field.label}{marks}")
        self.name_label.setWordWrap(True)
        self.name_label.setStyleSheet("font-weight: 600;")
        left.addWidget(self.name_label)
        self.image = SnippetImage(height=ITEM_IMAGE_HEIGHT)
        self.image.set_message("Reading the snippet…")
        left.addWidget(self.image)
        left.addStretch(1)
        layout.addLayout(left, 1)

        right = QVBoxLayout()
        entry = field.current
        value = QHBoxLayout()
        self.value_label = QLabel((entry.value or "") if entry is not None else "")
        self.value_label.setTextFormat(Qt.TextFormat.PlainText)
        self.value_label.setWordWrap(True)  # a long text value wraps inside its column
        self.value_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.value_label.setStyleSheet("font-size: 20pt; font-weight: 600; color: #1f2d3d;")
        value.addWidget(self.value_label)
        self.unit_label = QLabel(field.unit or "")
        self.unit_label.setStyleSheet("font-size: 13pt; color: #3c4b5c;")
        value.addWidget(self.unit_label, 0, Qt.AlignmentFlag.AlignBottom)
        value.addStretch(1)
        right.addLayout(value)
        self.limits_label = QLabel()
        self.limits_label.setWordWrap(True)
        if entry is not None and entry.out_of_limits:
            self.limits_label.setText(f"OUT OF LIMITS ({field.limits}) – justification: {entry.justification}")
            self.limits_label.setStyleSheet(_OUT)
        elif field.limits:
            self.limits_label.setText(f"within limits {field.limits}")
            self.limits_label.setStyleSheet(_WITHIN)
        self.limits_label.setVisible(bool(self.limits_label.text()))
        right.addWidget(self.limits_label)
        by = hint(f"Entered by {entry.entered_by}, {ctx.when(entry.entered_at, seconds=False)} · "
                  f"{source_text(entry, pages)}" if entry is not None else "")
        right.addWidget(by)
        self.check = QCheckBox("The paper agrees")
        self.check.setToolTip("Tick when the value above is what the snippet (the paper) shows")
        self.check.setAccessibleName(f"The paper agrees with {field.label}")
        right.addWidget(self.check)
        self.outcome = QLabel()
        self.outcome.setWordWrap(True)
        self.outcome.hide()
        right.addWidget(self.outcome)
        right.addStretch(1)
        holder = QWidget()
        holder.setLayout(right)
        holder.setFixedWidth(VALUE_WIDTH)
        layout.addWidget(holder)

    def show_snippet(self, snippet: Snippet | None, view: RecordView) -> None:
        if snippet is None:
            self.image.set_message(why_no_snippet(view, self.field.page))
        else:
            self.image.set_png(snippet.png)

    def snippet_failed(self, exc: BaseException) -> None:
        self.image.set_message(f"The snippet could not be made: {describe(exc)}")

    def verified(self, field: FieldView, when: str) -> None:
        entry = field.current
        self.check.setChecked(False)
        self.check.setEnabled(False)
        self.outcome.setText(f"✔ Verified by {entry.verified_by if entry else ''}, {when}")
        set_role(self.outcome, "ok")
        self.outcome.show()

    def refused(self, message: str) -> None:
        self.check.setChecked(False)
        self.outcome.setText(f"Not verified: {message}")
        set_role(self.outcome, "error")
        self.outcome.show()


class SnippetVerifyDialog(QDialog):
    """See the module docstring. ``changed`` carries the record as read after a verification."""

    changed = Signal(object)  # RecordView

    def __init__(self, ctx: PageContext, view: RecordView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx, self.view = ctx, view
        self.task: Task | None = None
        self.last_result: BatchResult[str] | None = None
        self.pending: set[str] = set()  # fields whose snippet is being read
        self.setWindowTitle(f"Verify by snippets – {view.label or view.serial}")
        layout = QVBoxLayout(self)
        mine = [f for f in view.fields if f.may_verify]
        layout.addWidget(hint(
            "Compare each value with the paper in its snippet, and tick those the paper agrees with. Only the "
            "ticked values are verified, each as if verified on its own; the others stay to verify (also one by "
            "one on the form)." if mine else "No value awaits your verification on this record."))
        self.scroll_area = QScrollArea()
        self.scroll_area.setWidgetResizable(True)
        body = QWidget()
        items = QVBoxLayout(body)
        items.setSpacing(6)
        pages = {s.scan_page_id: s.page_no for s in view.scans}
        self.items: dict[str, SnippetItem] = {}
        for field in mine:
            item = SnippetItem(ctx, field, number=view.fields.index(field) + 1, pages=pages)
            item.check.toggled.connect(self._update)
            items.addWidget(item)
            self.items[field.name] = item
        items.addStretch(1)
        self.scroll_area.setWidget(body)
        layout.addWidget(self.scroll_area, 1)
        self.done_label = QLabel()
        self.done_label.setWordWrap(True)
        set_role(self.done_label, "ok")
        self.done_label.hide()
        layout.addWidget(self.done_label)
        self.error = ErrorLine()
        layout.addWidget(self.error)
        buttons = QHBoxLayout()
        self.summary = QLabel()
        buttons.addWidget(self.summary, 1)
        self.verify_button = QPushButton()
        self.verify_button.setAutoDefault(False)
        self.verify_button.clicked.connect(self.verify)
        buttons.addWidget(self.verify_button)
        self.close_button = QPushButton("Close")
        self.close_button.setAutoDefault(False)
        self.close_button.clicked.connect(self.reject)
        buttons.addWidget(self.close_button)
        layout.addLayout(buttons)
        self.resize(980, 720)
        self._update()
        self._load_snippets()

    def _load_snippets(self) -> None:
        view = self.view
        for name, item in self.items.items():
            if not any(s.page_no == item.field.page for s in view.scans):
                item.show_snippet(None, view)
                continue
            self.pending.add(name)
            load_snippet(self._ctx, self, serial=view.serial, field=name, key=f"snippet:{name}",
                         on_done=functools.partial(self._snippet_read, name),
                         on_failed=functools.partial(self._snippet_failed, name))

    def _snippet_read(self, name: str, snippet: Snippet | None) -> None:
        self.pending.discard(name)
        self.items[name].show_snippet(snippet, self.view)

    def _snippet_failed(self, name: str, exc: BaseException) -> None:
        self.pending.discard(name)
        self.items[name].snippet_failed(exc)

    # -- verification ---------------------------------------------------------------------------------
    def ticked(self) -> list[str]:
        """The values ticked "the paper agrees", in the order of the form."""
        return [name for name, item in self.items.items() if item.check.isChecked() and item.check.isEnabled()]

    def _update(self) -> None:
        count = len(self.ticked())
        self.verify_button.setText(f"Verify {count} ticked" if count else "Verify ticked")
        self.verify_button.setEnabled(count > 0 and self.task is None)
        left = sum(1 for item in self.items.values() if item.check.isEnabled())
        self.summary.setText(f"{count} of {plural(left, 'value')} ticked" if left else "")

    def verify(self) -> None:
        """After one confirmation, verify exactly the ticked values in the background."""
        names = self.ticked()
        if not names or self.task is not None:
            return
        shown = [(n, f"{self.items[n].field.label}: {self.items[n].value_label.text()} "
                     f"{self.items[n].field.unit or ''}".rstrip()) for n in names]
        self.task = verify_values(self, self._ctx, serial=self.view.serial, values=shown, against="the paper",
                                  on_done=self._verified, on_failed=self._failed)
        if self.task is not None:
            self.error.clear_text()
        self._update()

    def _verified(self, outcome: tuple[BatchResult[str], RecordView]) -> None:
        self.task = None
        result, view = outcome
        self.view, self.last_result = view, result
        labels = {f.name: f.label for f in view.fields}
        for name in result.done:
            item = self.items.get(name)
            entry = view.field(name).current
            if item is not None:
                item.verified(view.field(name), self._ctx.when(entry.verified_at if entry else None, seconds=False))
        for name, _code, message in result.refused:
            if name in self.items:
                self.items[name].refused(message)
        text, refusals = batch_report(result, done="value verified", done_plural="values verified",
                                      name=lambda name: labels.get(name, name))
        notify(self, text)
        self.done_label.setText(text)
        self.done_label.setVisible(bool(result.done))
        self.error.show_text(refusals)
        self._update()
        self.changed.emit(view)

    def _failed(self, exc: BaseException) -> None:
        self.task = None
        self._update()
        self._ctx.show_error(self, exc, title="Second-person verification")
