"""Extra pages for a form in use (BF-02): Document Control adds N pages with a reason to a copy still out. They
are further pages of the same serial ("Page 6 of 7"), in a controlled PDF of their own that is then released once
from the same dialog, like any issuance."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.services.core.errors import FormtrailError
from app.services.issuance import extra_pages
from app.services.issuance.extra_pages import ExtraPagesResult
from app.services.issuance.register import RegisterRow
from app.services.templates import templates
from app.textfmt import plural
from app.ui.kit.data_events import Topic
from app.ui.kit.operations import run_op
from app.ui.kit.style import set_role
from app.ui.kit.widgets import ErrorLine, hint, reason_field, title
from app.ui.kit.workers import Task
from app.ui.pages.issuance.issue_release import PdfToRelease, ReleasePanel
from app.ui.pages.issuance.issue_replace import form_text
from app.ui.pages.registry import PageContext


class AddPagesDialog(QDialog):
    """How many pages and why; then their PDF, ready to print (``result_value`` is the ExtraPagesResult)."""

    def __init__(self, ctx: PageContext, row: RegisterRow, *, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx, self.row = ctx, row
        self.result_value: ExtraPagesResult | None = None
        self.task: Task | None = None
        self.setWindowTitle("Add pages to a form in use")
        self.setMinimumWidth(560)
        column = QVBoxLayout(self)
        column.addWidget(title(f"Add pages to {row.printed_as}"))
        column.addWidget(hint(f"{form_text(row)}. It has {plural(row.pages, 'page')}. Extra pages are further pages "
                              "of the same serial, each with its own code: they must come back with the form, which "
                              "is complete only then. Pages already printed keep their “of” count."))
        form = QFormLayout()
        self.count = QSpinBox()
        self.count.setRange(1, extra_pages.MAX_AT_ONCE)
        self.count.valueChanged.connect(self._update)
        form.addRow("&Pages to add:", self.count)
        self.reason = reason_field("What are they for? e.g. 'step 7 needs more room for the weighings'")
        form.addRow("&Reason:", self.reason)
        column.addLayout(form)
        self.outcome = QLabel()
        self.outcome.setWordWrap(True)
        column.addWidget(self.outcome)
        self.error = ErrorLine()
        column.addWidget(self.error)
        self.release = ReleasePanel(ctx, self)
        self.release.hide()
        column.addWidget(self.release)
        buttons = QDialogButtonBox()
        self.add_button = QPushButton("Add pages")
        self.add_button.setDefault(True)
        buttons.addButton(self.add_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.close_button = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.add_button.clicked.connect(self.add)
        buttons.rejected.connect(self.reject)
        column.addWidget(buttons)
        self.reason.textChanged.connect(self._update)
        self._update()

    def _update(self) -> None:
        pages = self.row.pages + self.count.value()
        if self.result_value is None:
            self.outcome.setText(f"New pages: {self.row.pages + 1}–{pages} of {pages}" if self.count.value() > 1
                                 else f"New page: {pages} of {pages}")
        self.add_button.setEnabled(self.result_value is None and self.task is None and self.row.may_add_pages
                                   and bool(self.reason.toPlainText().strip()))

    def add(self) -> Task | None:
        reason, count, ctx, serial = self.reason.toPlainText().strip(), self.count.value(), self._ctx, self.row.serial
        if not reason:
            return None
        self.task = run_op(self, lambda _progress, _cancelled: extra_pages.add_pages(
            ctx.db, ctx.actor, serial=serial, count=count, reason=reason), title="Adding pages",
            label=f"Making the {plural(count, 'extra page')} of {self.row.printed_as}…", on_done=self._done,
            on_failed=self._failed, changes={Topic.ISSUANCE})
        self._update()
        return self.task

    def _failed(self, exc: BaseException) -> None:
        self.task = None
        self.error.show_text(f"No pages added: {exc}")
        self._update()

    def _done(self, result: ExtraPagesResult) -> None:
        self.task = None
        self.result_value = result
        for widget in (self.count, self.reason):
            widget.setEnabled(False)
        self.outcome.setText(f"✔ {result.label} now has {plural(result.last_page, 'page')}: pages "
                             f"{result.first_page}–{result.last_page} added (page x of {result.last_page}). Print "
                             "them and hand them out with the form.")
        set_role(self.outcome, "ok")
        try:
            paper = templates.get_version(self._ctx.db, self._ctx.actor, self.row.template,
                                          self.row.version).layout.paper.value
        except FormtrailError:
            paper = "A4"
        self.release.set_pdf(PdfToRelease(pdf_id=result.pdf_id, serials=result.serial, pages=result.pages, paper=paper,
                                          file_name=f"{self.row.template}-{result.serial}-pages-{result.first_page}-"
                                                    f"{result.last_page}.pdf", printed=result.label))
        self.release.show()
        self.add_button.hide()
        self.close_button.setText("Close")
        self._update()

    def reject(self) -> None:
        """Close (or Esc): accepted once pages were added, so the caller refreshes."""
        if self.task is not None or self.release.task is not None:
            return
        if self.result_value is not None:
            super().accept()
        else:
            super().reject()
