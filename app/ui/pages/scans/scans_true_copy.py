"""The True copies tab of the Scans page: a second person compares a returned form's scans with the paper and
signs "true copy verified"; then the paper original is archived (with its location) or destroyed (QA)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.enums import ScanOutcome, SignatureMeaning
from app.services.core.errors import FormtrailError
from app.services.identity.batch import BatchResult
from app.services.identity.permissions import Permission
from app.services.scans import scans, true_copy
from app.services.scans.scans import ScanPageInfo
from app.services.scans.true_copy import ReturnedForm
from app.textfmt import noun, plural
from app.ui.kit import messages
from app.ui.kit.data_events import Topic
from app.ui.kit.dialogs import accepted, open_dialog
from app.ui.kit.flow_layout import FlowLayout, keep_together
from app.ui.kit.image_viewer import ImageViewer, ViewerPage, scan_page_loader
from app.ui.kit.operations import notify, run_query
from app.ui.kit.signature import batch_report, batch_summary
from app.ui.kit.widgets import hint, main_action, setup_table
from app.ui.kit.workers import Progress
from app.ui.pages.registry import PageContext
from app.ui.pages.scans.scans_checklist import ChecklistDialog
from app.ui.pages.scans.scans_dialogs import DispositionDialog
from app.ui.pages.scans.scans_models import (
    ReturnedFormModel,
    allow_many,
    current_item,
    reselect,
    select_key,
    selected_items,
    selected_rows,
)

SHOW = {"to-verify": "Waiting for true-copy verification",
        "for-me": "Waiting for you to verify",  # what Home counts for the user: the service's may_verify
        "to-file": "Waiting for the paper original's disposition", "all": "All returned forms"}
_LIMIT = 500
_VERIFY_TIP = "Sign that every scanned page is a complete and accurate copy of the paper"


def current_pages(pages: list[ScanPageInfo]) -> list[ScanPageInfo]:
    """The scans a true-copy signature covers: linked, not superseded by a rescan, in page order."""
    return sorted((p for p in pages if p.outcome is ScanOutcome.LINKED and not p.superseded),
                  key=lambda p: p.page_no or 0)


class TrueCopyPanel(QWidget):
    changed = Signal()
    loaded = Signal()

    def __init__(self, ctx: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.dialog: QDialog | None = None
        self.last_result: BatchResult[str] | None = None  # of the last batch signed here
        self._all: list[ReturnedForm] = []
        self._pages: list[ScanPageInfo] = []
        self.status: true_copy.TrueCopyStatus | None = None  # of the selected form, for this actor
        # What to select when the list is read again: these serials if still shown, else the row at the anchor.
        self._want: list[str] = []
        self._anchor = 0
        self._shown: ReturnedForm | None = None  # the form whose details and scans are shown below the list
        layout = QVBoxLayout(self)
        layout.addWidget(hint(
            "For each returned form, a second person — not the one who imported its scans — compares every scanned "
            "page with the paper sheet and signs “true copy verified”. Only then can the paper original be archived, "
            "or destroyed with QA approval. Select several forms (Shift or Ctrl) to sign them with one password: "
            "each gets its own signature."))
        bar = FlowLayout()
        self.show_combo = QComboBox()
        for key, text in SHOW.items():
            self.show_combo.addItem(text, key)
        self.show_combo.currentIndexChanged.connect(self._apply_filter)
        self.search = QLineEdit()
        self.search.setObjectName("search")  # Ctrl+F (Go menu) finds it
        self.search.setPlaceholderText("serial, template or purpose")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._apply_filter)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.reload)
        show_label = QLabel("&Show:")
        show_label.setBuddy(self.show_combo)
        bar.addWidget(keep_together(show_label, self.show_combo))
        self.search.setMinimumWidth(220)
        bar.addWidget(self.search)
        bar.addWidget(self.refresh_button)
        layout.addLayout(bar)

        self.model = ReturnedFormModel(parent=self)
        self.table = allow_many(setup_table(QTableView()))
        self.table.setModel(self.model)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.selectionModel().selectionChanged.connect(self._selected)
        self.count_label = QLabel()

        info = QGroupBox("The issued form")
        form = QFormLayout(info)
        self.fields: dict[str, QLabel] = {}
        for key, text in (("serial", "Serial"), ("template", "Template"), ("purpose", "Purpose / reference"),
                          ("copy", "Copy"), ("issued", "Issued to / on"), ("pages", "Scanned pages"),
                          ("importers", "Scans imported by"), ("true_copy", "True copy"), ("paper", "Paper original")):
            label = QLabel("—")
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            form.addRow(f"{text}:", label)
            self.fields[key] = label
        buttons = QHBoxLayout()
        self.verify_button = QPushButton("Verify true copy…")
        self.verify_button.setToolTip(_VERIFY_TIP)
        self.verify_button.clicked.connect(self.verify)
        self.verify_button.setVisible(ctx.allowed(Permission.VERIFY_TRUE_COPY))
        main_action(self, self.verify_button)  # Enter verifies what is selected (the signature dialog asks first)
        self.disposition_button = QPushButton("Record paper original…")
        self.disposition_button.setToolTip("Archived (where) or destroyed (QA approval), after verification")
        self.disposition_button.clicked.connect(self.record_disposition)
        self.disposition_button.setVisible(ctx.allowed(Permission.RECORD_DISPOSITION))
        buttons.addWidget(self.verify_button)
        buttons.addWidget(self.disposition_button)
        buttons.addStretch(1)
        form.addRow(buttons)
        self.next_step = QLabel()
        self.next_step.setWordWrap(True)
        form.addRow(self.next_step)

        left = QWidget()
        column = QVBoxLayout(left)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.table, 3)
        column.addWidget(self.count_label)
        column.addWidget(info, 2)
        self.viewer = ImageViewer(scan_page_loader(ctx.db, ctx.actor), self)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(self.viewer)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([1000, 1000])
        layout.addWidget(splitter, 1)
        self._show_form(None)

    # -- list --------------------------------------------------------------------------------------------
    def reload(self, select: str | None = None) -> None:
        """Read the returned forms in the background; ``select`` a serial when they are there (by default the
        selection is kept, or moves to the row now where it was)."""
        if select is not None:
            self._want = [select]
        elif not self._want:
            self._keep_selection()
        ctx = self._ctx
        self.count_label.setText("Reading returned forms…")
        run_query(self, lambda: true_copy.returned_forms(ctx.db, ctx.actor, limit=_LIMIT), key="returned",
                  on_done=self._loaded, on_failed=self._load_failed)

    def _loaded(self, rows: list[ReturnedForm]) -> None:
        self._all = rows
        self._apply_filter()
        self.loaded.emit()

    def _load_failed(self, exc: BaseException) -> None:
        self.count_label.setText("")
        self._ctx.show_error(self, exc)

    def show_only(self, key: str) -> None:
        self.show_combo.setCurrentIndex(max(0, self.show_combo.findData(key)))

    def _apply_filter(self) -> None:
        key, text = self.show_combo.currentData(), self.search.text().strip().lower()
        rows = [r for r in self._all
                if (key == "all" or (key == "to-verify" and r.verified_by is None)
                    or (key == "for-me" and r.status.may_verify)
                    or (key == "to-file" and r.verified_by is not None and r.disposition is None))
                and (not text or text in f"{r.serial} {r.label} {r.template} {r.purpose} {r.reference or ''}".lower())]
        if not self._want:
            self._keep_selection(anchor=False)  # another filter or search: the first row if none stays shown
        want, anchor = self._want, self._anchor
        self.model.set_rows(rows)
        self.count_label.setText(f"{len(rows)} of {len(self._all)} returned forms shown"
                                 + (f" (the newest {_LIMIT})" if len(self._all) >= _LIMIT else ""))
        self._want, self._anchor = [], 0
        reselect(self.table, self.model, want, anchor=anchor)
        if not rows:
            self._show_form(None)

    def _keep_selection(self, *, anchor: bool = True) -> None:
        """Remember the selection for the next list; with ``anchor``, also where it was (after an act, the form
        now in the place of those that left the list is selected: the next one to work on)."""
        rows = selected_rows(self.table)
        self._want = [self.model.row_at(r).serial for r in rows]
        self._anchor = rows[0] if rows and anchor else 0

    def selected(self) -> ReturnedForm | None:
        """The form shown below the list: the one last clicked of those selected."""
        return current_item(self.table, self.model)

    def selected_forms(self) -> list[ReturnedForm]:
        """Every selected form, in list order."""
        return selected_items(self.table, self.model)

    def select(self, serial: str) -> bool:
        return select_key(self.table, self.model, serial)

    # -- the selected form ---------------------------------------------------------------------------------
    def _selected(self, *_selection: object) -> None:
        form = self.selected()
        if form is not None and form is self._shown:  # the selection grew or shrank around the form shown
            self._update_buttons()
            return
        self._show_form(form)

    def _show_form(self, form: ReturnedForm | None) -> None:
        self._shown = form
        if form is None:
            for label in self.fields.values():
                label.setText("—")
            self._pages = []
            self.viewer.set_pages([])
            self.status = None
            self.verify_button.setEnabled(False)
            self.disposition_button.setEnabled(False)
            self.next_step.setText("Select a returned form.")
            return
        try:
            self._pages = current_pages(scans.pages_of_form(self._ctx.db, self._ctx.actor, form.serial))
        except FormtrailError as exc:
            self._ctx.show_error(self, exc)
            self._pages = []
        when = self._ctx.when
        importers = sorted({p.imported_by for p in self._pages})
        if form.disposition == "archived":
            paper = f"archived: {form.location}"
        elif form.disposition:
            paper = form.disposition
        else:
            paper = "not recorded yet" if form.verified_by else "keep the paper until the scans are verified"
        values = {
            "serial": form.printed_as, "template": form.template,
            "purpose": f"{form.purpose} / {form.reference or '—'}", "copy": form.copy,
            "issued": f"{form.issued_to} / {when(form.issued_at, seconds=False)}",
            "pages": ", ".join(f"p.{p.page_no}: {p.location}" for p in self._pages) or "none",
            "importers": ", ".join(importers) or "—",
            "true_copy": f"verified by {form.verified_by}, {when(form.verified_at)}"
            + (f" (checked: {form.status.checklist.replace('; ', ', ')})" if form.status.checklist else "")
            if form.verified_by else "not verified yet",
            "paper": paper,
        }
        for key, label in self.fields.items():
            label.setText(values[key])
        self.viewer.set_pages([ViewerPage(p.id, f"{form.printed_as} page {p.page_no} — {p.location}")
                               for p in self._pages])
        status = self.status = form.status  # read with the list, in the background
        self._update_buttons()
        if form.verified_by is None:
            step = (f"Not by you: {status.why_not_verify}." if status is not None and status.why_not_verify else
                    "Compare each page in the viewer with the paper sheet, then sign.")
        elif form.disposition is None:
            step = "Record where the paper original is kept (or its destruction, with QA approval)."
        else:
            step = "Nothing more to do for this form."
        self.next_step.setText(step)

    def _update_buttons(self) -> None:
        """One form: "Verify true copy…"; several: "Verify N true copies…", counting those the service says this
        user may verify now (the others are left out, and the tooltip says so). The paper original's disposition
        is recorded one form at a time."""
        forms = self.selected_forms()
        status = self.status
        self.disposition_button.setEnabled(len(forms) == 1 and status is not None and status.may_record_disposition)
        if len(forms) <= 1:
            self.verify_button.setText("Verify true copy…")
            self.verify_button.setEnabled(status is not None and status.may_verify)
            self.verify_button.setToolTip(_VERIFY_TIP + (f"\n\nNot now: {status.why_not_verify}"
                                                         if status is not None and status.why_not_verify else ""))
            return
        signable = [f for f in forms if f.status.may_verify]
        self.verify_button.setText(f"Verify {plural(len(signable), 'true copy', 'true copies')}…")
        self.verify_button.setEnabled(bool(signable))
        left_out = len(forms) - len(signable)
        self.verify_button.setToolTip(
            f"{_VERIFY_TIP}, for each selected form (one password, one signature per form)"
            + (f"\n\n{plural(left_out, 'selected form')} you may not verify now {noun(left_out, 'is')} "
               "left out" if left_out else ""))

    # -- actions -----------------------------------------------------------------------------------------
    def verify(self) -> None:
        if len(self.selected_forms()) > 1:
            self.verify_many()
            return
        form = self.selected()
        if form is None or self.status is None or not self.status.may_verify:
            return
        dialog = ChecklistDialog(what=f"Form {form.printed_as} ({form.template}, {form.purpose}): "
                                      f"{plural(len(self._pages), 'scanned page')}", parent=self)
        self.dialog = dialog

        def checked(dialog: ChecklistDialog, result: int) -> None:
            self.dialog = None
            if accepted(result):
                self._sign_one(form, dialog.checklist())
        open_dialog(dialog, checked)

    def _sign_one(self, form: ReturnedForm, checklist: true_copy.Checklist) -> None:
        ctx = self._ctx
        pages = "\n".join(f"  page {p.page_no}: {p.location}, SHA-256 {p.source_sha256[:16]}…" for p in self._pages)
        summary = (f"Form {form.printed_as} ({form.template}, {form.purpose}): I compared the "
                   f"{plural(len(self._pages), 'scanned page')} with the paper original; they are complete and "
                   f"accurate copies (checked: {checklist.text.replace('; ', ', ')}).\n{pages}")
        done = ctx.sign(self, summary=summary, meaning=SignatureMeaning.TRUE_COPY_VERIFIED,
                        perform=lambda username, password: true_copy.verify_true_copy(
                            ctx.db, ctx.actor, serial=form.serial, username=username, password=password,
                            checklist=checklist))
        if done is not None:
            self.verify_button.setEnabled(False)  # until the list is read again with the new status
            # The same filter: a form that leaves it (verified) hands the selection to the one now in its place.
            self.reload()
            self.changed.emit()

    def verify_many(self) -> None:
        """Sign every selected form this user may verify, with one password entry: the service signs each form
        on its own (its own signature and manifestation); afterwards a summary of what was signed and refused."""
        forms = self.selected_forms()
        signable = [f for f in forms if f.status.may_verify]
        if not signable:
            return
        dialog = ChecklistDialog(what=f"{plural(len(signable), 'returned form')}, each compared with its paper "
                                      "original", parent=self)
        self.dialog = dialog

        def checked(dialog: ChecklistDialog, result: int) -> None:
            self.dialog = None
            if accepted(result):
                self._sign_many(forms, signable, dialog.checklist())
        open_dialog(dialog, checked)

    def _sign_many(self, forms: list[ReturnedForm], signable: list[ReturnedForm],
                   checklist: true_copy.Checklist) -> None:
        left_out = [(f.printed_as, f.status.why_not_verify or "already verified") for f in forms
                    if not f.status.may_verify]
        ctx = self._ctx
        serials = [f.serial for f in signable]
        statement = (f"I compared the scanned pages of each of these {plural(len(signable), 'returned form')} with "
                     f"its paper original; they are complete and accurate copies (checked: "
                     f"{checklist.text.replace('; ', ', ')}). Each form is signed on its own (its own signature, "
                     "bound to its own pages).")
        summary = batch_summary(statement, [f"{f.printed_as}  {f.template}, {f.purpose} ({f.copy})" for f in signable],
                                left_out=left_out)

        def perform(username: str, password: str, progress: Progress) -> BatchResult[str]:
            return true_copy.verify_many(ctx.db, ctx.actor, serials=serials, username=username, password=password,
                                         checklist=checklist, progress=progress)
        result = ctx.sign_many(self, summary=summary, meaning=SignatureMeaning.TRUE_COPY_VERIFIED, perform=perform,
                               progress_label=f"Signing {plural(len(serials), 'true copy', 'true copies')}…",
                               changes={Topic.SCANS})
        if result is None:
            return
        self.last_result = result
        printed = {f.serial: f.printed_as for f in signable}  # the forms named as on their paper
        text, refusals = batch_report(result, done="true copy verified", done_plural="true copies verified",
                                      name=lambda serial: printed.get(serial, serial))
        notify(self, text)
        if refusals:
            messages.info(self, f"{text}\n\n{refusals}", title="True copies — not all signed")
        self.verify_button.setEnabled(False)  # until the list is read again with the new statuses
        self.reload()
        self.changed.emit()

    def record_disposition(self) -> None:
        form = self.selected()
        if form is None or self.status is None or not self.status.may_record_disposition:
            return
        dialog = DispositionDialog(self._ctx, form.serial, self, label=form.printed_as)
        self.dialog = dialog

        def done(_dialog: QDialog, result: int) -> None:
            self.dialog = None
            if accepted(result):
                self.disposition_button.setEnabled(False)
                self.reload()
                self.changed.emit()
        open_dialog(dialog, done)
