"""The correction form (GDP, RC-01): a saved value is replaced by a new entry with a reason; the original
stays in the record, struck through, with who, when and why. The reason is picked from the configured list
("records.correction_reasons") and explained in free text; both are required. It opens as a panel in place of the
entry form, beside the scan, which stays in sight while the correction is written."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QWidget,
)

from app.services.core.error_codes import ErrorCode
from app.services.core.errors import FormtrailError
from app.services.records import records
from app.services.records.record_views import FieldView, RecordView
from app.services.site import settings
from app.ui.kit.side_panel import ReasonBox, SidePanel
from app.ui.kit.style import set_role
from app.ui.kit.widgets import ErrorLine, hint
from app.ui.pages.records.record_history import value_text
from app.ui.pages.registry import PageContext

PICK = "Pick a reason…"


def correction_reasons(ctx: PageContext) -> list[str]:
    return next((list(s.value) for s in settings.list_settings(ctx.db) if s.key == "records.correction_reasons"), [])


class CorrectionPanel(SidePanel):
    """Asks for the new value and the reason, then calls ``records.correct_value``; ``result_view`` holds the
    RecordView after the correction. Service refusals are shown inline; nothing typed is lost."""

    def __init__(self, ctx: PageContext, field: FieldView, *, serial: str, source_page: int | None,
                 signed: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(f"Correct: {field.label}", parent)
        assert field.current is not None
        self._ctx, self.field, self.serial, self.source_page = ctx, field, serial, source_page
        self.result_view: RecordView | None = None
        current = field.current
        layout = self.body
        layout.addWidget(hint(f"Record {serial}. The current value is not overwritten: it stays in the record, "
                              "struck through, with your name, the time and your reason (good documentation "
                              "practice)."))
        if signed:
            warning = QLabel("This record is signed. A correction marks its signatures \"content changed after "
                             "signing\"; it must then be reviewed and signed again.")
            warning.setWordWrap(True)
            layout.addWidget(set_role(warning, "error"))

        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)  # the panel is narrower than a dialog was
        self.current_label = QLabel(value_text(current, field.unit)
                                    + (f" – {current.reason}" if current.is_na else ""))
        self.current_label.setStyleSheet("font-weight: 600;")
        form.addRow("Current value:", self.current_label)
        form.addRow("", hint(f"entered by {current.entered_by}, {ctx.when(current.entered_at)}"))

        value_line = QHBoxLayout()
        self.value_edit = QLineEdit()
        self.value_edit.setPlaceholderText("the correct value, as it should read")
        value_line.addWidget(self.value_edit, 1)
        if field.unit:
            value_line.addWidget(QLabel(field.unit))
        self.na_check = QCheckBox("NA (does not apply)")
        self.na_check.toggled.connect(self._na_toggled)
        value_line.addWidget(self.na_check)
        value_label = QLabel("&New value:")
        value_label.setBuddy(self.value_edit)
        form.addRow(value_label, value_line)
        if field.limits:
            form.addRow("", hint(f"limits {field.limits}"))
        self.na_edit = QLineEdit()
        self.na_edit.setPlaceholderText("why the field does not apply")
        self.na_label = QLabel("Why NA:")
        form.addRow(self.na_label, self.na_edit)

        self.reason_combo = QComboBox()
        self.reason_combo.addItem(PICK, None)
        for reason in correction_reasons(ctx):
            self.reason_combo.addItem(reason, reason)
        reason_label = QLabel("&Reason:")
        reason_label.setBuddy(self.reason_combo)
        form.addRow(reason_label, self.reason_combo)
        self.explanation = ReasonBox("Explain: what was wrong and how you know the new value is right "
                                     "(required)")
        self.explanation.submit_requested.connect(self.try_submit)
        explanation_label = QLabel("&Explanation:")
        explanation_label.setBuddy(self.explanation)
        form.addRow(explanation_label, self.explanation)

        self.paper_check = QCheckBox("Correction made by hand on the &paper")
        done_so = "(single strike-through, initials, date and reason on the sheet)"
        if source_page:
            self.paper_check.setToolTip(f"Captured from scan page {source_page}, the page shown beside the form.")
            paper_note = f"Tick it when the sheet itself shows the correction {done_so}: it is captured from " \
                         f"scan page {source_page}, shown beside the form."
        else:
            self.paper_check.setEnabled(False)
            paper_note = "A correction made on the paper is captured from its scan: none is linked yet."
        form.addRow("", self.paper_check)
        form.addRow("", hint(paper_note))
        self.justification_edit = QLineEdit()
        self.justification_edit.setPlaceholderText("why the out-of-limit value is recorded, e.g. deviation number")
        self.justification_label = QLabel("Justification:")
        form.addRow(self.justification_label, self.justification_edit)
        layout.addLayout(form)
        for widget in (self.na_edit, self.na_label, self.justification_edit, self.justification_label):
            widget.hide()

        self.error = ErrorLine()
        layout.addWidget(self.error)
        self.save_button = self.action_button
        self.save_button.setText("Save correction")
        for signal in (self.value_edit.textChanged, self.na_edit.textChanged, self.explanation.textChanged,
                       self.reason_combo.currentIndexChanged, self.na_check.toggled):
            signal.connect(self._update)
        self._update()
        self.first_focus = self.value_edit

    def _na_toggled(self, on: bool) -> None:
        self.value_edit.setEnabled(not on)
        self.na_edit.setVisible(on)
        self.na_label.setVisible(on)

    def reason(self) -> str | None:
        """"<picked>: <explanation>", or None while either is missing."""
        picked, text = self.reason_combo.currentData(), self.explanation.toPlainText().strip()
        return f"{picked}: {text}" if picked and text else None

    def _missing(self) -> str | None:
        if self.na_check.isChecked():
            if not self.na_edit.text().strip():
                return "Say why the field does not apply."
        elif not self.value_edit.text().strip():
            return "Type the new value."
        if self.reason_combo.currentData() is None:
            return "Pick a reason for the correction."
        if not self.explanation.toPlainText().strip():
            return "Explain the correction in your own words."
        return None

    def _update(self) -> None:
        missing = self._missing()
        self.save_button.setEnabled(missing is None)
        self.save_button.setToolTip(missing or "Save the correction (Enter)")

    def try_submit(self) -> None:
        """Enter with something missing says what (the button is disabled, so the base class would not)."""
        if self.ok is None:
            self.submit()

    def submit(self) -> None:
        reason = self.reason()
        if self._missing() is not None or reason is None:
            self.error.show_text(self._missing() or "")
            return
        paper = self.paper_check.isChecked()
        try:
            self.result_view = records.correct_value(
                self._ctx.db, self._ctx.actor, serial=self.serial, field=self.field.name,
                value=None if self.na_check.isChecked() else self.value_edit.text(), reason=reason,
                na_reason=self.na_edit.text().strip() if self.na_check.isChecked() else None, paper=paper,
                source_page=self.source_page, justification=self.justification_edit.text().strip() or None,
            )
        except FormtrailError as exc:
            self.error.show_text(str(exc))
            if exc.code == ErrorCode.JUSTIFICATION_REQUIRED:
                self.justification_edit.show()
                self.justification_label.show()
                self.justification_edit.setFocus()
            return
        self.finish(True)
