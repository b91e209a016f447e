"""One field of the entry form: label, unit, limits, markers; its value saved on confirmation (save-on-entry).

A field without a value takes one (Enter or Save), or "NA" with a reason. When the service asks for more
(a justification for an out-of-limit value, a reason for a late entry) the row opens a line for it right
below, keeps what was typed, and the next Enter saves. A field with a saved value is read-only: it changes
only through the correction dialog, and its history shows every earlier value.

What the paper reader saw in the field's boxes (a hint, ``set_hint``) is shown muted beside the value while the
field is empty: a box blank on paper pre-fills the reason of "NA…", a ticked option is put in the input as the
suggested value. Suggestions only: nothing is saved until the transcriber presses Enter or Save.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QCompleter,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.enums import EntryKind
from app.forms.layout.layout import FieldType
from app.services.core.error_codes import ErrorCode
from app.services.core.errors import FormtrailError
from app.services.records import records
from app.services.records.record_views import EntryInfo, FieldView
from app.services.scans.paper_hints import PaperHint
from app.ui.kit.widgets import ErrorLine
from app.ui.pages.records.record_history import source_text
from app.ui.pages.registry import PageContext

_PLACEHOLDER = {
    FieldType.NUMBER: "number, all decimals as written",
    FieldType.DATE: "YYYY-MM-DD",
    FieldType.TIME: "HH:MM (24 h)",
    FieldType.CHECKBOX: "yes / no",
    FieldType.INITIALS: "initials, 2–4 letters",
    FieldType.TEXT: "as written on the sheet",
}
# Left border and background of a row, by what its value needs.
_LOOK = {
    "empty": ("#c9d1db", "transparent"),
    "saved": ("#2e8540", "#f4faf5"),
    "verify": ("#d08a00", "#fffaf0"),
    "out": ("#c0392b", "#fdecea"),
    "na": ("#8a94a0", "#f3f4f6"),
}
_AMBER = "color: #8a5a00; font-weight: 600;"
_MUTED = "color: #5b6573;"
_SUGGESTED = "QLineEdit { color: #1a5fb4; font-style: italic; }"  # a value the reader offers, not yet confirmed
_RED = "color: #b00020; font-weight: 600;"


class _Extra(QWidget):
    """A labelled line under the value for what a save needs in addition (hidden until asked for)."""

    def __init__(self, label: str, placeholder: str) -> None:
        super().__init__()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel(label)
        self.edit = QLineEdit()
        self.edit.setPlaceholderText(placeholder)
        self.label.setBuddy(self.edit)
        layout.addWidget(self.label)
        layout.addWidget(self.edit, 1)
        self.hide()

    def ask(self) -> None:
        self.show()
        self.edit.setFocus(Qt.FocusReason.OtherFocusReason)

    def reset(self) -> None:
        self.edit.clear()
        self.hide()

    def text(self) -> str | None:
        parent = self.parentWidget()
        # Qt's isVisibleTo(nullptr) is isVisible(); the stubs do not accept None, so spell that case out.
        visible = self.isVisibleTo(parent) if parent is not None else self.isVisible()
        return self.edit.text().strip() or None if visible else None


class FieldRow(QFrame):
    """See the module docstring. Emits ``saved`` with the new RecordView after every successful service call."""

    saved = Signal(object)  # RecordView
    correction_requested = Signal(str)  # field name
    history_requested = Signal(str)
    invalidate_requested = Signal(str)  # RC-05: invalidate the current value (reason + e-signature)

    def __init__(self, ctx: PageContext, field: FieldView, *, serial: str, source_page: Callable[[], int | None],
                 activity_at: Callable[[], dt.datetime | None], number: int = 0,
                 memory: dict[str, str] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("fieldrow")
        self._ctx, self.serial, self.field = ctx, serial, field
        self._source_page, self._activity_at = source_page, activity_at
        self._memory = memory if memory is not None else {}  # shared by the rows of one form: last late reason
        self._pages: Mapping[int, int] = {}
        self._na_mode = False
        self._editable = False
        self.hint: PaperHint | None = None  # what the paper reader saw in the field's boxes
        self.suggested: str | None = None  # the reader's value put in the input, until confirmed or typed over
        self._offered = False  # the suggestion is offered once: text the user cleared is not put back
        # Compact: the label with its limits on one line, the value and its buttons on the next; what a field
        # means in full is in the tooltip, so that eight or more fields fit beside the scan on a laptop screen.
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 3, 6, 3)
        layout.setSpacing(2)
        tip = self._tooltip(field)
        heading = QHBoxLayout()
        heading.setSpacing(8)
        self.name_label = QLabel((f"{number}.  " if number else "") + self._title(field))
        self.name_label.setToolTip(tip)
        self.name_label.setWordWrap(True)
        self.name_label.setStyleSheet("font-weight: 600;")
        heading.addWidget(self.name_label, 1)
        self.help_label = QLabel(self._help(field))
        self.help_label.setStyleSheet("color: #5b6573;")
        self.help_label.setToolTip(tip)
        self.help_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        self.help_label.setVisible(bool(self.help_label.text()))
        heading.addWidget(self.help_label, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(heading)

        line = QHBoxLayout()
        self.input = QLineEdit()
        self.input.setPlaceholderText(_PLACEHOLDER.get(field.type, "") if field.type is not FieldType.CHOICE
                                      else "one of: " + ", ".join(field.choices))
        self.input.setAccessibleName(field.label)
        self.input.setToolTip(tip)
        self.name_label.setBuddy(self.input)
        choices = ["yes", "no"] if field.type is FieldType.CHECKBOX else list(field.choices)
        if choices:
            completer = QCompleter(choices, self.input)
            completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
            completer.setCompletionMode(QCompleter.CompletionMode.InlineCompletion)
            self.input.setCompleter(completer)
        self.input.returnPressed.connect(self.save)
        self.input.textEdited.connect(self._typed_over)
        line.addWidget(self.input, 1)
        self.unit_label = QLabel(field.unit or "")
        self.unit_label.setMinimumWidth(24)
        line.addWidget(self.unit_label)
        # Beside the value, not on a line of its own: a hint on every row must not push the rows apart.
        self.paper_label = QLabel()
        self.paper_label.hide()
        line.addWidget(self.paper_label)
        self.save_button = self._button("Save", "Save this value now (Enter)", self.save)
        self.na_button = self._button("NA…", "The field does not apply: mark it NA with a reason", self.toggle_na)
        self.correct_button = self._button("Correct…", "Change the saved value with a reason; the original stays "
                                                       "visible, struck through", self._ask_correction)
        self.history_button = self._button("History", "Every value saved for this field, with who, when and why",
                                           lambda: self.history_requested.emit(self.field.name))
        self.verify_button = self._button("Verify", "Confirm, as a second person, that the saved value matches "
                                                    "the sheet", self.verify)
        self.invalidate_button = self._button("Invalidate result…", "Take this result back (e.g. an invalid test): "
                                                                    "a reason and your e-signature; it stays shown, "
                                                                    "flagged VOID, and the field needs a new value",
                                              lambda: self.invalidate_requested.emit(self.field.name))
        # Picks the value for "Verify selected…" above the form (offered where Verify is: values one may verify).
        self.pick = QCheckBox()
        self.pick.setToolTip("Select this value to verify it together with the other selected ones")
        self.pick.setAccessibleName(f"Select {field.label} for verification")
        for button in (self.save_button, self.na_button, self.correct_button, self.history_button,
                       self.verify_button, self.invalidate_button):
            line.addWidget(button)
        line.addWidget(self.pick)
        layout.addLayout(line)

        self.na_extra = _Extra("Why NA:", "the reason this field does not apply (required)")
        self.justification_extra = _Extra("Justification:", "why the out-of-limit value is recorded as it is, "
                                                             "e.g. deviation number (required)")
        self.late_extra = _Extra("Reason for late entry:", "why the value is entered this long after the "
                                                           "activity (required)")
        for extra in (self.na_extra, self.justification_extra, self.late_extra):
            extra.edit.returnPressed.connect(self.save)
            layout.addWidget(extra)
        self.info_label = QLabel()
        self.info_label.setWordWrap(True)
        self.info_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.info_label)
        self.flags_label = QLabel()
        self.flags_label.setWordWrap(True)
        layout.addWidget(self.flags_label)
        self.error = ErrorLine()
        layout.addWidget(self.error)
        self.set_field(field, editable=False, pages={})

    def _button(self, text: str, tip: str, slot: Callable[[], None]) -> QPushButton:
        button = QPushButton(text)
        button.setToolTip(tip)
        button.setAutoDefault(False)
        button.clicked.connect(slot)
        return button

    @staticmethod
    def _title(field: FieldView) -> str:
        marks = (" ◆" if field.critical else "") + (" *" if field.required else "")
        return f"{field.label}{marks}"

    @staticmethod
    def _help(field: FieldView) -> str:
        """What one reads beside the label: the limits, and "optional" (the markers say the rest)."""
        parts = []
        if field.limits:
            parts.append(f"limits {field.limits}")
        if not field.required:
            parts.append("optional")
        return " · ".join(parts)

    @staticmethod
    def _tooltip(field: FieldView) -> str:
        lines = [field.label]
        if field.help:
            lines.append(field.help)
        if field.limits:
            lines.append(f"Limits {field.limits}")
        if field.critical:
            lines.append("◆ critical: a second person verifies it")
        lines.append("required" if field.required else "optional")
        lines.append("Numbered as in the No. column of the printed sheet.")
        return "\n".join(lines)

    # -- showing the field -------------------------------------------------------------------------
    def set_field(self, field: FieldView, *, editable: bool, pages: Mapping[int, int]) -> None:
        """Show the field as the service now sees it. Text typed into an unsaved field is kept."""
        shown_value = self.field.current is not None and field is not self.field
        self.field, self._pages, self._editable = field, pages, editable
        current = field.current
        has_value = current is not None
        if shown_value and not has_value:
            self.input.clear()  # its value was invalidated (RC-05): shown as VOID below, the input waits for a new one
        self.input.setReadOnly(has_value or not editable or self._na_mode)
        if current is not None:
            self._na_mode = False
            self.input.setText("NA" if current.is_na else (current.value or ""))
            for extra in (self.na_extra, self.justification_extra, self.late_extra):
                extra.reset()
        self.save_button.setVisible(editable and not has_value)
        self.na_button.setVisible(editable and not has_value)
        self.correct_button.setVisible(editable and has_value)
        self.history_button.setVisible(bool(field.history))
        self.history_button.setText(f"History ({len(field.history)})" if len(field.history) > 1 else "History")
        self.verify_button.setVisible(field.may_verify)
        self.invalidate_button.setVisible(field.may_invalidate)
        self.pick.setVisible(field.may_verify)
        if not field.may_verify:
            self.pick.setChecked(False)
        self.info_label.setText(self._info(current) if current else "")
        self.info_label.setVisible(has_value)
        self._show_flags(field)
        self._look("empty" if current is None else "out" if current.out_of_limits else "na" if current.is_na
                   else "verify" if field.needs_verification else "saved")
        self._show_hint()

    # -- what the paper reader saw ----------------------------------------------------------------------
    def set_hint(self, hint: PaperHint | None) -> None:
        """What the paper reader saw in this field's boxes (None: its page was not read)."""
        self.hint = hint
        self._show_hint()

    def _show_hint(self) -> None:
        hint = self.hint
        empty = self.field.current is None
        short = ""
        if hint is not None and empty:
            short = (f"ticked on paper: {hint.suggested}" if hint.suggested is not None else
                     "unclear on paper" if hint.unclear else "blank on paper" if hint.blank else "")
        self.paper_label.setText(short)
        self.paper_label.setToolTip(f"What the scan reader saw on the paper: {hint.say}" if hint and hint.say
                                    else "")
        self.paper_label.setStyleSheet(_AMBER if hint is not None and hint.unclear else _MUTED)
        self.paper_label.setVisible(bool(short))
        if not empty:
            self._drop_suggestion()
            return
        if hint is not None and hint.suggested is not None and not self._offered and self._editable \
                and not self._na_mode and not self.input.text():
            # Offered in the input, marked as the reader's: Enter or Save confirms it, typing replaces it.
            self._offered = True
            self.suggested = hint.suggested
            self.input.setText(hint.suggested)
            self.input.setStyleSheet(_SUGGESTED)
            self.input.setToolTip(f"{hint.say}\nPress Enter or Save to confirm it; type to replace it.")

    def _typed_over(self, _text: str) -> None:
        if self.suggested is not None:
            self._drop_suggestion()

    def _drop_suggestion(self) -> None:
        """The value in the input is the user's own now (typed, or saved): no longer shown as a suggestion."""
        if self.suggested is not None:
            self.suggested = None
            self.input.setStyleSheet("")
            self.input.setToolTip(self._tooltip(self.field))

    def _info(self, e: EntryInfo) -> str:
        verb = {EntryKind.ORIGINAL: "Saved", EntryKind.CORRECTION: "Corrected",
                EntryKind.PAPER_CORRECTION: "Correction from the paper captured"}[e.kind]
        text = f"{verb} by {e.entered_by}, {self._ctx.when(e.entered_at)} · {source_text(e, self._pages)}"
        if e.activity_at:
            text += f" · activity {self._ctx.when(e.activity_at, seconds=False)}"
        if e.is_na:
            text += f"\nNA – {e.reason}"
        elif e.kind is not EntryKind.ORIGINAL:
            text += f"\nWhy: {e.reason}"
        return text

    def _show_flags(self, field: FieldView) -> None:
        e = field.current
        lines, style = [], _AMBER
        for void in (v for v in field.history if v.invalidated and not v.superseded):
            # RC-05: a result taken back stays in sight, flagged, with who, when and why.
            lines.append(f"VOID: {'NA' if void.is_na else void.value} – invalidated by {void.invalidated_by}, "
                         f"{self._ctx.when(void.invalidated_at)}: {void.invalidation_reason}")
            style = _RED
        if e is not None and e.out_of_limits:
            lines.append(f"OUT OF LIMITS ({field.limits}) – justification: {e.justification}")
            style = _RED
        if e is not None and e.late:
            lines.append(f"LATE ENTRY – {e.late_reason}")
            style = _RED
        if field.needs_verification:
            lines.append("◆ Awaits verification by a second person"
                         + (" (not you: you entered it)" if field.verify_refused == ErrorCode.SELF_VERIFICATION
                            else ""))
        elif e is not None and e.verified_at is not None:
            lines.append(f"✔ Verified by {e.verified_by}, {self._ctx.when(e.verified_at)}")
        self.flags_label.setText("\n".join(lines))
        self.flags_label.setStyleSheet(style if lines and (style == _RED or field.needs_verification)
                                       else "color: #1b6e2d;")
        self.flags_label.setVisible(bool(lines))

    def _look(self, state: str) -> None:
        border, background = _LOOK[state]
        self.state = state
        self.setStyleSheet(f"QFrame#fieldrow {{ border-left: 4px solid {border}; background: {background}; "
                           "border-radius: 3px; }")

    # -- actions ------------------------------------------------------------------------------------
    def toggle_na(self) -> None:
        self._na_mode = not self._na_mode
        self.error.clear_text()
        if self._na_mode:
            self._typed = self.input.text()
            self.input.setText("NA")
            self.input.setReadOnly(True)
            self.input.setStyleSheet("")
            self.na_button.setText("Not NA")
            hint = self.hint
            if hint is not None and hint.blank and hint.na_reason and not self.na_extra.edit.text():
                # Left blank on paper: the reason is offered, to confirm with Enter or to rewrite.
                self.na_extra.edit.setText(hint.na_reason)
                self.na_extra.edit.selectAll()
            self.na_extra.ask()
        else:
            self.input.setText(getattr(self, "_typed", ""))
            self.input.setReadOnly(False)
            self.input.setStyleSheet(_SUGGESTED if self.suggested is not None else "")
            self.na_button.setText("NA…")
            self.na_extra.reset()
            self.input.setFocus()

    def save(self) -> None:
        """Save the value now (save-on-entry); on a refusal, say why inline and keep everything typed."""
        if self.field.current is not None or self.input.isReadOnly() and not self._na_mode:
            return
        try:
            view = records.enter_value(
                self._ctx.db, self._ctx.actor, serial=self.serial, field=self.field.name,
                value=None if self._na_mode else self.input.text(),
                na_reason=(self.na_extra.edit.text() if self._na_mode else None),
                source_page=self._source_page(), activity_at=self._activity_at(),
                justification=self.justification_extra.text(), late_reason=self.late_extra.text(),
            )
        except FormtrailError as exc:
            self.error.show_text(str(exc))
            # What the service asks for in addition, by its code (never by the wording of the message).
            extras: dict[str, _Extra] = {ErrorCode.JUSTIFICATION_REQUIRED: self.justification_extra,
                                         ErrorCode.LATE_REASON_REQUIRED: self.late_extra,
                                         ErrorCode.NA_REASON_REQUIRED: self.na_extra}
            extra = extras.get(exc.code)
            if extra is self.late_extra and not extra.edit.text() and self._memory.get("late_reason"):
                extra.edit.setText(self._memory["late_reason"])  # the sheet's reason, to confirm with Enter
                extra.edit.selectAll()
            if extra is not None:
                extra.ask()
            else:
                self.input.setFocus()
                self.input.selectAll()
            return
        self.error.clear_text()
        self.na_button.setText("NA…")
        if self.late_extra.text():
            self._memory["late_reason"] = self.late_extra.text() or ""
        self.saved.emit(view)

    def verify(self) -> None:
        try:
            view = records.verify_field(self._ctx.db, self._ctx.actor, serial=self.serial, field=self.field.name)
        except FormtrailError as exc:
            self.error.show_text(str(exc))
            return
        self.error.clear_text()
        self.saved.emit(view)

    def _ask_correction(self) -> None:
        self.error.clear_text()
        self.correction_requested.emit(self.field.name)
