"""Replacing a spoiled or lost controlled copy (QA): a new serial with a reason and an e-signature, never a reprint.

The new copy's PDF is made inside the signature step (one copy: a fraction of a second), so a wrong password is
answered in the signature dialog itself. It is then released like any issuance, by someone allowed to print.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.enums import SignatureMeaning
from app.services.core.errors import FormtrailError
from app.services.identity.permissions import Permission
from app.services.issuance import register, replacement
from app.services.issuance.register import RegisterRow
from app.services.issuance.replacement import ReplacementResult
from app.services.templates import templates
from app.ui.kit.style import set_role
from app.ui.kit.widgets import ErrorLine, hint, reason_field, title
from app.ui.pages.issuance.issue_release import PdfToRelease, ReleasePanel
from app.ui.pages.registry import PageContext


def form_text(row: RegisterRow) -> str:
    return (f"{row.template_label}, copy {row.copy_no} of {row.copies}, issued to {row.issued_to} for "
            f"“{row.purpose}”{f' ({row.reference})' if row.reference else ''}; state: {row.state.value}")


class ReplaceDialog(QDialog):
    """Serial, reason, signature; then the new copy, ready to print (``result_value`` is the
    ReplacementResult)."""

    def __init__(self, ctx: PageContext, *, serial: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.result_value: ReplacementResult | None = None
        self.row: RegisterRow | None = None
        self.setWindowTitle("Replace a controlled copy")
        self.setMinimumWidth(560)
        column = QVBoxLayout(self)
        column.addWidget(title("Replace a spoiled or lost copy"))
        column.addWidget(hint("A controlled copy is never printed twice. The copy is replaced by a new one with a new "
                              "serial number; the old serial is marked “replaced”. Its paper must still come back, or "
                              "be declared missing in Reconcile. QA signs the replacement."))
        form = QFormLayout()
        self.serial = QLineEdit(serial)
        self.serial.setPlaceholderText("as printed beside the QR code, e.g. 000123")
        self.serial.textChanged.connect(self._look_up)
        form.addRow("&Serial to replace:", self.serial)
        self.found = QLabel()
        self.found.setWordWrap(True)
        form.addRow("", self.found)
        self.reason = reason_field("Why can the copy not be used? e.g. 'coffee spilled on page 1, sheet kept'")
        form.addRow("&Reason:", self.reason)
        column.addLayout(form)
        self.error = ErrorLine()
        column.addWidget(self.error)
        self.result_label = QLabel()
        self.result_label.setWordWrap(True)
        self.result_label.hide()
        column.addWidget(self.result_label)
        # QA, who approves the replacement, may also release its PDF (app.services.issuance.printing._release).
        self.release = ReleasePanel(ctx, self, release_permissions=(Permission.ISSUE_FORMS, Permission.REPLACE_FORMS))
        self.release.hide()
        column.addWidget(self.release)
        buttons = QDialogButtonBox()
        self.replace_button = QPushButton("Replace — sign…")
        self.replace_button.setDefault(True)
        buttons.addButton(self.replace_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.close_button = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.replace_button.clicked.connect(self.replace)
        buttons.rejected.connect(self.reject)
        column.addWidget(buttons)
        self.reason.textChanged.connect(self._update)
        self._look_up()

    def _look_up(self) -> None:
        text = self.serial.text().strip()
        self.row = register.find_form(self._ctx.db, self._ctx.actor, text) if text else None
        if not text:
            self.found.setText("")
        elif self.row is None:
            self.found.setText("No issued form has this serial.")
            set_role(self.found, "error")
        elif not self.row.may_replace:
            self.found.setText(f"{form_text(self.row)}. Not replaceable: {self.row.why_not_replace}.")
            set_role(self.found, "error")
        else:
            self.found.setText(form_text(self.row))
            set_role(self.found, "hint")
        self._update()

    def _update(self) -> None:
        ready = (self.result_value is None and self.row is not None and self.row.may_replace
                 and bool(self.reason.toPlainText().strip()))
        self.replace_button.setEnabled(ready)

    def replace(self) -> None:
        row, reason, ctx = self.row, self.reason.toPlainText().strip(), self._ctx
        if row is None or not reason:
            return
        summary = (f"Replace serial {row.serial} ({row.template_label}, copy {row.copy_no} of {row.copies}, issued "
                   f"to {row.issued_to}) by a new copy with a new serial.\nReason: {reason}")
        result = ctx.sign(self, summary=summary, meaning=SignatureMeaning.APPROVED,
                          perform=lambda username, password: replacement.replace_form(
                              ctx.db, ctx.actor, serial=row.serial, reason=reason, username=username,
                              password=password))
        if result is None:
            return
        self.result_value = result
        self._show_result(result, row)

    def _show_result(self, result: ReplacementResult, row: RegisterRow) -> None:
        for widget in (self.serial, self.reason):
            widget.setEnabled(False)
        self.error.clear_text()
        self.result_label.setText(f"✔ Serial {result.old_serial} is replaced by the new serial {result.new_serial} "
                                  f"(copy {row.copy_no} of {row.copies}, {result.pages} page"
                                  f"{'s' if result.pages != 1 else ''}).")
        set_role(self.result_label, "ok")
        self.result_label.show()
        try:
            paper = templates.get_version(self._ctx.db, self._ctx.actor, row.template, row.version).layout.paper.value
        except FormtrailError:
            paper = "A4"
        self.release.set_pdf(PdfToRelease(pdf_id=result.pdf_id, serials=result.new_serial, pages=result.pages,
                                          paper=paper, file_name=f"{row.template}-{result.new_serial}.pdf",
                                          printed=result.new_label))
        self.release.show()
        self.replace_button.hide()
        self.close_button.setText("Close")
        self._update()

    def reject(self) -> None:
        """Close (or Esc): accepted once a replacement was made, so the caller refreshes."""
        if self.release.task is not None:
            return  # the print job is still being sent
        if self.result_value is not None:
            super().accept()
        else:
            super().reject()
