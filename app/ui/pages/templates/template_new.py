"""The "New template" dialog: code, title, department and the change reason; the service makes version 1 as a
draft (a starter layout), and the Templates page then opens the editor on it."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from app.forms.layout.layout import MAX_CODE, MAX_TITLE
from app.services.core.error_codes import ErrorCode
from app.services.core.errors import FormtrailError
from app.services.templates import templates
from app.services.templates.templates import TemplateVersionInfo
from app.ui.kit.widgets import ErrorLine, fit_to_contents, hint, reason_field, title
from app.ui.pages.registry import PageContext

# Refusals that are about the code: the dialog takes the author back to it.
_CODE_ERRORS = (ErrorCode.TEMPLATE_EXISTS, ErrorCode.TEMPLATE_CODE_INVALID)


class NewTemplateDialog(QDialog):
    """Accepted once the service created the draft (``result_value``); a refusal is shown under the form with
    everything typed kept, and ``error_code`` holds its code."""

    def __init__(self, ctx: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.result_value: TemplateVersionInfo | None = None
        self.error_code: str | None = None
        self.setWindowTitle("New template")
        column = QVBoxLayout(self)
        column.addWidget(title("New template"))
        column.addWidget(hint(
            "A new master form starts as version 1, a draft with one sample field and a \"performed by\" block. "
            "The editor opens next: add the fields, their types, limits and units, done-by/checked-by and the "
            "signature blocks, and check the preview. Nobody can issue it until QA approves it."))
        form = QFormLayout()
        self.code = QLineEdit()
        self.code.setMaxLength(MAX_CODE)
        self.code.setPlaceholderText("e.g. QC-WS-021 (capitals, digits, '-' and '.')")
        self.code.setToolTip("The template code is printed on every copy and never changes; a new code is a new "
                             "template.")
        self.code.textEdited.connect(self._upper)
        self.title_edit = QLineEdit()
        self.title_edit.setMaxLength(MAX_TITLE)
        self.title_edit.setPlaceholderText("e.g. pH meter calibration worksheet")
        self.department = QLineEdit()
        self.department.setMaxLength(MAX_TITLE)
        self.department.setPlaceholderText("e.g. Quality Control")
        self.reason = reason_field("e.g. CC-2026-031: new worksheet for the pH meter calibration (SOP-QC-012)")
        form.addRow("&Code:", self.code)
        form.addRow("&Title:", self.title_edit)
        form.addRow("&Department:", self.department)
        reason_label = QLabel("&Reason (required, recorded in the audit trail):")
        reason_label.setBuddy(self.reason)
        form.addRow(reason_label)
        form.addRow(self.reason)
        column.addLayout(form)
        self.error = ErrorLine()
        column.addWidget(self.error)
        buttons = QDialogButtonBox()
        self.create_button = buttons.addButton("Create and &edit…", QDialogButtonBox.ButtonRole.AcceptRole)
        self.create_button.setDefault(True)
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        column.addWidget(buttons)
        for line in (self.code, self.title_edit, self.department):
            line.textChanged.connect(self._update)
        self.reason.textChanged.connect(self._update)
        fit_to_contents(self, min_width=520)
        self._update()
        self.code.setFocus()

    def _upper(self, text: str) -> None:
        """Codes are capitals: typed lower case becomes upper case where the cursor is."""
        if text != text.upper():
            at = self.code.cursorPosition()
            self.code.setText(text.upper())
            self.code.setCursorPosition(at)

    def _update(self) -> None:
        complete = all(line.text().strip() for line in (self.code, self.title_edit, self.department))
        self.create_button.setEnabled(complete and bool(self.reason.toPlainText().strip()))

    def accept(self) -> None:
        if not self.create_button.isEnabled():
            return
        ctx = self._ctx
        try:
            self.result_value = templates.new_template(
                ctx.db, ctx.actor, code=self.code.text(), title=self.title_edit.text(),
                department=self.department.text(), reason=self.reason.toPlainText())
        except FormtrailError as exc:
            self.error_code = exc.code
            self.error.show_text(f"Not created: {exc}")
            if exc.code in _CODE_ERRORS:
                self.code.setFocus()
                self.code.selectAll()
            return
        super().accept()
