"""Issue page: numbered, QR-coded controlled copies of an effective template, made in the background, then
printed or saved exactly once."""

from __future__ import annotations

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QDateEdit,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.services.core.errors import FormtrailError
from app.services.identity.permissions import Permission
from app.services.issuance import issuance, issued_to, labels, register
from app.services.issuance.issuance import IssuanceResult
from app.services.issuance.issued_to import IssuedToChoices
from app.services.templates import templates
from app.services.templates.templates import TemplateSummary, TemplateVersionInfo
from app.textfmt import noun, plural
from app.ui.kit import messages, workers
from app.ui.kit.data_events import Topic, listen
from app.ui.kit.dialogs import open_dialog
from app.ui.kit.operations import run_op, run_query
from app.ui.kit.style import set_role
from app.ui.kit.widgets import ErrorLine, day_of, hint, main_action
from app.ui.pages.issuance.issue_release import PdfToRelease, ReleasePanel
from app.ui.pages.issuance.issue_replace import ReplaceDialog
from app.ui.pages.registry import PageContext, page

DUE_DAYS = 14


def serial_range(serials: tuple[str, ...]) -> str:
    return serials[0] if len(serials) == 1 else f"{serials[0]}–{serials[-1]}"


def printed_as(result: IssuanceResult) -> str:
    """" (printed BSL-01-000001 … BSL-01-000005)" when the site's serial format prints more than the number."""
    if not result.labels or result.labels == result.serials:
        return ""
    first, last = result.labels[0], result.labels[-1]
    return f" (printed {first})" if first == last else f" (printed {first} … {last})"


class IssuePage(QWidget):
    def __init__(self, ctx: PageContext) -> None:
        super().__init__()
        self._ctx = ctx
        self.task: workers.Task | None = None  # the issuance being made
        self.version: TemplateVersionInfo | None = None  # the effective version chosen
        self.result: IssuanceResult | None = None
        self.progress_seen: tuple[int, int] | None = None
        self.dialog: QDialog | None = None
        self._summaries: dict[str, TemplateSummary] = {}
        self.recipients: IssuedToChoices | None = None  # what "Issued to" offers, read in the background
        layout = QVBoxLayout(self)
        layout.addWidget(hint("One issuance is a set of copies of one approved form, for one purpose (a batch, a "
                              "study, a piece of equipment), given to one person or area, to be returned by a date. "
                              "Every copy gets its own serial number and QR code and must come back or be accounted "
                              "for."))
        row = QHBoxLayout()
        row.addWidget(self._form(), 1)
        row.addWidget(self._result_box(), 1)
        layout.addLayout(row)
        layout.addStretch(1)
        listen(self, {Topic.USERS, Topic.SETTINGS}, self.load_recipients)  # new users or a changed list
        self.reload()

    # -- the request ---------------------------------------------------------------------------------------
    def _form(self) -> QGroupBox:
        box = QGroupBox("1. What to issue")
        column = QVBoxLayout(box)
        form = QFormLayout()
        self.template_combo = QComboBox()
        self.template_combo.setMinimumContentsLength(30)
        self.template_combo.currentIndexChanged.connect(lambda *_: self._template_chosen())
        form.addRow("&Form (template):", self.template_combo)
        self.template_info = hint("")
        form.addRow("", self.template_info)
        self.copies = QSpinBox()
        self.copies.setRange(1, issuance.MAX_COPIES)
        self.copies.setValue(1)
        self.copies.setSuffix(" copy")
        self.copies.valueChanged.connect(lambda *_: self._update())
        form.addRow("&Number of copies:", self.copies)
        self.purpose = QLineEdit()
        self.purpose.setPlaceholderText("e.g. Batch 24-0117 dispensing, stability study ST-26-03")
        form.addRow("&Purpose:", self.purpose)
        self.reference = QLineEdit()
        self.reference.setPlaceholderText("optional: batch or lot number, study or equipment ID")
        form.addRow("&Reference:", self.reference)
        self.issued_to = QComboBox()
        self.issued_to.setMinimumContentsLength(30)
        self.issued_to.setPlaceholderText("a person or an area, e.g. Otto Operator or QC lab 2")
        self._set_typing(True)  # until the site's choices arrive: typed, as most sites do
        self.issued_to.currentTextChanged.connect(lambda *_: self._update())
        form.addRow("Issued &to:", self.issued_to)
        self.issued_to_hint = hint("")
        self.issued_to_hint.hide()
        form.addRow("", self.issued_to_hint)
        self.due = QDateEdit()
        self.due.setCalendarPopup(True)
        self.due.setDisplayFormat("yyyy-MM-dd")
        form.addRow("Return &due by:", self.due)
        self.purpose.textChanged.connect(lambda *_: self._update())
        column.addLayout(form)
        self.error = ErrorLine()
        column.addWidget(self.error)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.issue_button = QPushButton("Issue…")
        self.issue_button.setDefault(True)
        self.issue_button.clicked.connect(self.issue)
        main_action(self, self.issue_button)  # Enter in any field issues, once the form is complete
        buttons.addWidget(self.issue_button)
        column.addLayout(buttons)
        column.addWidget(hint("A printed copy that is spoiled or lost is never printed again: QA replaces it with a "
                              "new serial (Register → select the serial → Replace…)."))
        self.replace_button = QPushButton("Replace a copy…")
        self.replace_button.setVisible(self._ctx.allowed(Permission.REPLACE_FORMS))
        self.replace_button.clicked.connect(lambda: self.open_replace())
        column.addWidget(self.replace_button, 0, Qt.AlignmentFlag.AlignLeft)
        column.addStretch(1)
        return box

    def _result_box(self) -> QGroupBox:
        box = QGroupBox("2. Print or save — once")
        column = QVBoxLayout(box)
        self.result_title = set_role(QLabel("Nothing issued yet in this session."), "subtitle")
        self.result_title.setWordWrap(True)
        column.addWidget(self.result_title)
        self.result_text = hint("After issuing, the copies appear here. Print them or save the PDF: this can be done "
                                "once only, because every printed sheet is a controlled copy.")
        self.result_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        column.addWidget(self.result_text)
        self.release = ReleasePanel(self._ctx, self)
        self.release.released.connect(lambda _target: self._update())
        column.addWidget(self.release)
        self.again_button = QPushButton("Issue more copies")
        self.again_button.setToolTip("Clear the purpose and reference to issue the next set.")
        self.again_button.clicked.connect(self.start_again)
        self.again_button.hide()
        column.addWidget(self.again_button, 0, Qt.AlignmentFlag.AlignLeft)
        column.addStretch(1)
        return box

    def page_shown(self) -> None:
        self.reload()

    def reload(self) -> None:
        """The templates that can be issued (an effective version) and the default due date."""
        chosen = self.template_combo.currentData()
        today = register.today(self._ctx.db)
        try:
            rows = [t for t in templates.list_templates(self._ctx.db, self._ctx.actor)
                    if t.effective_version is not None]
        except FormtrailError as exc:
            self._ctx.show_error(self, exc)
            rows = []
        self.template_combo.blockSignals(True)
        self.template_combo.clear()
        for summary in rows:
            self.template_combo.addItem(f"{summary.code} — {summary.title}", summary.code)
        index = self.template_combo.findData(chosen) if chosen else -1
        self.template_combo.setCurrentIndex(max(0, index) if rows else -1)
        self.template_combo.blockSignals(False)
        self._summaries = {t.code: t for t in rows}
        first = QDate(today.year, today.month, today.day)
        self.due.setMinimumDate(first)
        if self.due.date() <= first or not self.purpose.text():
            self.due.setDate(first.addDays(DUE_DAYS))
        self._template_chosen()
        self.load_recipients()

    # -- whom to issue to ----------------------------------------------------------------------------------
    def load_recipients(self) -> None:
        """What "Issued to" offers (the site's setting, its users and its list), read in the background."""
        db, actor = self._ctx.db, self._ctx.actor
        run_query(self, lambda: issued_to.issued_to_choices(db, actor), key="issued_to",
                  on_done=self._recipients_loaded)

    def _recipients_loaded(self, offered: IssuedToChoices) -> None:
        self.recipients = offered
        before = self.issued_to.currentText()
        self.issued_to.blockSignals(True)
        self.issued_to.clear()
        self._set_typing(offered.may_type_free_text)
        self.issued_to.addItems(list(offered.texts))
        self.issued_to.setCurrentIndex(self.issued_to.findText(before))  # a choice made earlier stays
        if offered.may_type_free_text:
            self.issued_to.setEditText(before)  # and so does what was typed
        self.issued_to.blockSignals(False)
        self.issued_to_hint.setText(offered.hint)
        self.issued_to_hint.setVisible(bool(offered.choices) or not offered.may_type_free_text)
        self._update()

    def _set_typing(self, allowed: bool) -> None:
        """Typing allowed: an editable combo whose list only suggests (it never completes the text by itself,
        so "Line 3" is not silently issued to "Line 3 east"); otherwise a pick from the list only."""
        self.issued_to.setEditable(allowed)
        line, completer = self.issued_to.lineEdit(), self.issued_to.completer()
        if not allowed or line is None or completer is None:
            return
        self.issued_to.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        line.setPlaceholderText(self.issued_to.placeholderText())
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)

    def issued_to_text(self) -> str:
        return self.issued_to.currentText().strip()

    def _template_chosen(self) -> None:
        code = self.template_combo.currentData()
        summary = self._summaries.get(code) if code else None
        self.version = None
        if summary is None:
            self.template_info.setText("No form can be issued yet: a template must first be approved by QA "
                                       "(Templates page).")
        else:
            try:
                self.version = templates.get_version(self._ctx.db, self._ctx.actor, code, summary.effective_version)
            except FormtrailError as exc:
                self._ctx.show_error(self, exc)
        self._update()

    def _update(self) -> None:
        version, copies = self.version, self.copies.value()
        if version is not None:
            pages = version.layout.pages
            since = version.effective_date.isoformat() if version.effective_date else ""
            self.template_info.setText(
                f"Version {version.version}, effective since {since} · {plural(pages, 'page')} per copy, "
                f"{version.layout.paper.value} · {plural(copies, 'copy')} = {plural(copies * pages, 'page')} to print")
        self.copies.setSuffix(f" {noun(copies, 'copy')}")
        locked = self.task is not None or self.result is not None  # one request, one result on screen
        for widget in (self.template_combo, self.copies, self.purpose, self.reference, self.issued_to, self.due):
            widget.setEnabled(not locked)
        ready = (version is not None and not locked and bool(self.purpose.text().strip())
                 and bool(self.issued_to_text()))
        self.issue_button.setEnabled(ready)
        self.issue_button.setText(f"Issue {plural(copies, 'copy')}…")
        if self.result is not None:
            self.issue_button.setToolTip("These copies are issued. Use “Issue more copies” for the next set.")
        elif not ready and version is not None and self.task is None:
            missing = [name for name, text in (("purpose", self.purpose.text()), ("issued to", self.issued_to_text()))
                       if not text.strip()]
            self.issue_button.setToolTip(f"Fill in: {', '.join(missing)}." if missing else "")
        else:
            self.issue_button.setToolTip("")

    # -- issuing ---------------------------------------------------------------------------------------------
    def issue(self) -> workers.Task | None:
        """Ask for confirmation, then number and render the copies in the background (progress, Cancel)."""
        version = self.version
        if version is None or self.task is not None:
            return None
        copies, purpose = self.copies.value(), self.purpose.text().strip()
        reference, recipient = self.reference.text().strip() or None, self.issued_to_text()
        due = day_of(self.due.date())
        if not messages.confirm(
                self, f"Issue {plural(copies, 'controlled copy')} of {version.code} version "
                      f"{version.version} ({version.title})?\n\nTo: {recipient}\nFor: {purpose}"
                      f"{f' ({reference})' if reference else ''}\nReturn due by: {due.isoformat()}\n\n"
                      "Each copy gets its own serial number for good: every copy must come back or be accounted for.",
                title="Issue controlled copies", ok_text=f"Issue {plural(copies, 'copy')}"):
            return None
        db, actor, code = self._ctx.db, self._ctx.actor, version.code

        def job(progress: workers.Progress, cancelled: workers.IsCancelled) -> IssuanceResult:
            try:
                return issuance.issue_forms(db, actor, code=code, copies=copies, purpose=purpose, reference=reference,
                                            issued_to=recipient, due=due, progress=progress, cancelled=cancelled)
            except issuance.IssueCancelled:
                raise workers.Cancelled() from None
        self.error.clear_text()
        self.progress_seen = None
        self.task = run_op(self, job, title="Issuing controlled copies", changes={Topic.ISSUANCE},
                           label=f"Numbering {plural(copies, 'copy')} of {code} and making the PDF…",
                           cancellable=True, on_done=self._issued, on_failed=self._failed,
                           on_cancelled=self._cancelled)
        self.task.progressed.connect(self._progressed)
        self._update()
        return self.task

    def _progressed(self, done: int, total: int) -> None:
        self.progress_seen = (done, total)

    def _issued(self, result: IssuanceResult) -> None:
        self.task = None
        self.result = result
        version = self.version
        paper = version.layout.paper.value if version else "A4"
        copies = len(result.serials)
        self.result_title.setText(f"✔ Issued {plural(copies, 'copy')} of {result.template} "
                                  f"version {result.version}")
        set_role(self.result_title, "ok")
        self.result_text.setText(
            f"{noun(copies, 'Serial')} {serial_range(result.serials)}{printed_as(result)} · "
            f"{plural(result.pages, 'page')} in one PDF · issuance #{result.issuance_id}\n"
            f"To {self.issued_to_text()} for “{self.purpose.text().strip()}”; "
            f"return due by {self.due.date().toString('yyyy-MM-dd')}.")
        printed = labels.span(result.labels[0], result.labels[-1]) if result.labels else ""
        self.release.set_pdf(PdfToRelease(pdf_id=result.pdf_id, serials=serial_range(result.serials),
                                          pages=result.pages, paper=paper, printed=printed,
                                          file_name=f"{result.template}-{serial_range(result.serials)}.pdf"
                                          .replace("–", "-")))
        self.again_button.show()
        self._update()

    def _failed(self, exc: BaseException) -> None:
        self.task = None
        self.error.show_text(f"Nothing was issued: {messages.describe(exc)}")
        self._update()

    def _cancelled(self) -> None:
        self.task = None
        self.error.show_text("Issuing was cancelled: nothing was issued and no serial number was used.")
        self._update()

    def start_again(self) -> None:
        if self.release.pdf is not None and not self.release.done and not messages.confirm(
                self, "The last copies are not printed or saved yet. They stay issued; Document Control can print "
                      "them later from the Register. Start a new issuance anyway?", title="Issue more copies",
                ok_text="Start a new issuance"):
            return
        self.purpose.clear()
        self.reference.clear()
        self.copies.setValue(1)
        self.result = None
        self.result_title.setText("Nothing issued yet in this session.")
        set_role(self.result_title, "subtitle")
        self.result_text.setText("After issuing, the copies appear here.")
        self.release.set_pdf(None)
        self.again_button.hide()
        self.reload()
        self.purpose.setFocus()

    def open_replace(self, serial: str = "") -> ReplaceDialog:
        dialog = ReplaceDialog(self._ctx, serial=serial, parent=self)
        self.dialog = dialog

        def finished(_dialog: ReplaceDialog, _result: int) -> None:
            self.dialog = None
        return open_dialog(dialog, finished)


@page("issue")
def issue_page(ctx: PageContext) -> QWidget:
    return IssuePage(ctx)
