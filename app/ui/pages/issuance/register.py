"""Issuance register page: every issued form by serial, filtered and sorted by the database, loaded as the user
scrolls; overdue copies stand out; export; replacement (QA) and the release of PDFs not printed yet."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.enums import FormState
from app.services.core.errors import FormtrailError
from app.services.identity.permissions import Permission
from app.services.issuance import printing as print_service
from app.services.issuance import register
from app.services.issuance.register import RegisterFilter, RegisterRow
from app.services.templates import templates
from app.textfmt import plural
from app.ui.kit.dialogs import accepted, open_dialog
from app.ui.kit.operations import notify, run_op
from app.ui.kit.style import set_role
from app.ui.kit.widgets import ask_export_path, hint, setup_table
from app.ui.kit.workers import Task
from app.ui.pages.issuance.add_pages import AddPagesDialog
from app.ui.pages.issuance.issue_release import PdfToRelease, ReleasePanel
from app.ui.pages.issuance.issue_replace import ReplaceDialog, form_text
from app.ui.pages.issuance.register_model import STATE_TEXT, RegisterTableModel
from app.ui.pages.registry import PageContext, page

TYPING_DELAY_MS = 300
_EXPORT_FILTERS = {"CSV for spreadsheets (*.csv)": "csv", "PDF report (*.pdf)": "pdf"}


class RegisterPage(QWidget):
    def __init__(self, ctx: PageContext, *, page_size: int = 200) -> None:
        super().__init__()
        self._ctx = ctx
        self.task: Task | None = None  # the export running now
        self.dialog: QDialog | None = None
        self.issuance_id: int | None = None  # "this issuance only"
        layout = QVBoxLayout(self)
        layout.addWidget(hint("Every issued controlled copy, newest first. Overdue copies (still out after their "
                              "return date) are shown in red. Click a column title to sort; select a row for the "
                              "copy's issuance, its PDFs and what can be done with it."))
        layout.addWidget(self._filters())
        self._typing = QTimer(self)
        self._typing.setSingleShot(True)
        self._typing.setInterval(TYPING_DELAY_MS)
        self._typing.timeout.connect(self.apply_filter)

        self.model = RegisterTableModel(self._count, self._fetch, page_size=page_size, parent=self)
        self.table = QTableView()
        self.table.setModel(self.model)
        setup_table(self.table)
        header = self.table.horizontalHeader()
        for column, width in enumerate(RegisterTableModel.WIDTHS):
            header.resizeSection(column, width)
        self.table.setSortingEnabled(True)
        header.setSortIndicator(self.model.sort_column, self.model.sort_order)
        self.model.sorted_by.connect(self._sorted_by)
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._show_selected())
        self.overdue_count = 0
        self.model.modelReset.connect(self._count_overdue)
        self.model.rowsInserted.connect(self._update_counts)
        self.model.modelReset.connect(self._show_selected)

        layout.addWidget(self.table, 1)
        layout.addWidget(self._details())
        bar = QHBoxLayout()
        self.count_label = QLabel()
        bar.addWidget(self.count_label, 1)
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Save the forms matching the filter as CSV or PDF (recorded in the audit trail).")
        self.export_button.clicked.connect(lambda: self.export())
        bar.addWidget(self.export_button)
        layout.addLayout(bar)
        self._count_overdue()
        self._show_selected()

    # -- filters ---------------------------------------------------------------------------------------
    def _filters(self) -> QGroupBox:
        box = QGroupBox("Filter")
        grid = QGridLayout(box)
        self.state_combo = QComboBox()
        self.state_combo.addItem("All states", None)
        for state, text in STATE_TEXT.items():
            self.state_combo.addItem(text.capitalize(), state)
        self.overdue_check = QCheckBox("&Overdue only")
        self.overdue_check.setToolTip("Copies still out after their return-due date")
        self.template_combo = QComboBox()
        self.template_combo.setMinimumContentsLength(12)
        self.person_edit = QLineEdit()
        self.person_edit.setPlaceholderText("issued to or by")
        self.text_edit = QLineEdit()
        self.text_edit.setObjectName("search")  # Ctrl+F (Go menu) finds it
        self.text_edit.setPlaceholderText("serial, purpose or reference")
        self.clear_button = QPushButton("&Clear filter")
        self.clear_button.clicked.connect(self.clear_filter)
        self.issuance_chip = QPushButton()
        self.issuance_chip.setToolTip("Click to show every issuance again")
        self.issuance_chip.clicked.connect(lambda: self.show_issuance(None))
        self.issuance_chip.hide()
        for col, (text, widget) in enumerate((("&State:", self.state_combo), ("&Template:", self.template_combo),
                                             ("&Person:", self.person_edit), ("Te&xt:", self.text_edit))):
            label = QLabel(text)
            label.setBuddy(widget)
            grid.addWidget(label, 0, 2 * col)
            grid.addWidget(widget, 0, 2 * col + 1)
        grid.addWidget(self.overdue_check, 0, 8)
        grid.addWidget(self.issuance_chip, 0, 9)
        grid.addWidget(self.clear_button, 0, 10)
        grid.setColumnStretch(5, 1)
        grid.setColumnStretch(7, 1)
        self.state_combo.currentIndexChanged.connect(lambda *_: self.apply_filter())
        self.template_combo.currentIndexChanged.connect(lambda *_: self.apply_filter())
        self.overdue_check.toggled.connect(lambda *_: self.apply_filter())
        for line in (self.person_edit, self.text_edit):
            line.textEdited.connect(lambda *_: self._typing.start())
            line.returnPressed.connect(self.apply_filter)
        self._load_templates()
        return box

    def _load_templates(self) -> None:
        try:
            codes = register.template_codes(self._ctx.db, self._ctx.actor)
        except FormtrailError as exc:
            self._ctx.show_error(self, exc)
            codes = []
        current = self.template_combo.currentData()
        self.template_combo.blockSignals(True)
        self.template_combo.clear()
        self.template_combo.addItem("All templates", None)
        for code in codes:
            self.template_combo.addItem(code, code)
        self.template_combo.setCurrentIndex(max(0, self.template_combo.findData(current)) if current else 0)
        self.template_combo.blockSignals(False)

    def current_filter(self) -> RegisterFilter:
        return RegisterFilter(
            state=self.state_combo.currentData(), overdue=self.overdue_check.isChecked(),
            template=self.template_combo.currentData(), person=self.person_edit.text().strip() or None,
            text=self.text_edit.text().strip() or None, issuance_id=self.issuance_id)

    def apply_filter(self) -> None:
        self._typing.stop()
        self.model.reload()
        if self.model.canFetchMore():
            self.model.fetchMore()

    def clear_filter(self) -> None:
        for widget in (self.state_combo, self.template_combo, self.overdue_check):
            widget.blockSignals(True)
        self.state_combo.setCurrentIndex(0)
        self.template_combo.setCurrentIndex(0)
        self.overdue_check.setChecked(False)
        for widget in (self.state_combo, self.template_combo, self.overdue_check):
            widget.blockSignals(False)
        self.person_edit.clear()
        self.text_edit.clear()
        self.show_issuance(None)

    def show_filter(self, name: str) -> None:
        """A named view other pages open (the Home tiles): "overdue", "outstanding" (still out), or everything."""
        self.clear_filter()
        if name == "overdue":
            self.overdue_check.setChecked(True)
        elif name == "outstanding":
            self.state_combo.setCurrentIndex(self.state_combo.findData(FormState.ISSUED))

    def show_issuance(self, issuance_id: int | None) -> None:
        """Only the forms of one issuance (None: all)."""
        self.issuance_id = issuance_id
        self.issuance_chip.setText(f"Issuance #{issuance_id} only ✕" if issuance_id else "")
        self.issuance_chip.setVisible(issuance_id is not None)
        self.apply_filter()

    def page_shown(self) -> None:
        self._load_templates()
        self.reload()

    def reload(self) -> None:
        """Read again, keeping the filter, the sort and the selected serial when it is still shown."""
        chosen = self.selected()
        self.apply_filter()
        if chosen is not None:
            self.select(chosen.serial)

    def _count(self) -> int:
        return register.count_forms(self._ctx.db, self._ctx.actor, self.current_filter())

    def _fetch(self, sort: str, descending: bool, offset: int, limit: int) -> list[RegisterRow]:
        # Called by the view as it scrolls, outside any slot of ours: a refusal or a value Formtrail never wrote
        # (DamagedData) is shown once, and the empty page ends the loading.
        try:
            return register.fetch_forms(self._ctx.db, self._ctx.actor, self.current_filter(), sort=sort,
                                        descending=descending, offset=offset, limit=limit)
        except FormtrailError as exc:
            self._ctx.show_error(self, exc)
            return []

    def _sorted_by(self, column: int, order: Qt.SortOrder) -> None:
        header = self.table.horizontalHeader()
        if (header.sortIndicatorSection(), header.sortIndicatorOrder()) != (column, order):
            header.blockSignals(True)
            header.setSortIndicator(column, order)
            header.blockSignals(False)
            header.viewport().update()

    def _count_overdue(self) -> None:
        """How many of the matching forms are overdue (once per filter, not per page scrolled)."""
        flt = self.current_filter()
        try:
            self.overdue_count = self.model.total if flt.overdue else register.count_forms(
                self._ctx.db, self._ctx.actor, dataclasses.replace(flt, overdue=True))
        except FormtrailError:
            self.overdue_count = 0
        self._update_counts()

    def _update_counts(self) -> None:
        total, loaded = self.model.total, self.model.loaded
        text = f"{total:,} issued form{'s' if total != 1 else ''} match{'es' if total == 1 else ''}"
        if self.overdue_count:
            text += f" · {self.overdue_count:,} overdue"
        if loaded < total:
            text += f" (showing the first {loaded:,}; scroll down for more)"
        self.count_label.setText(text)

    # -- the selected form -------------------------------------------------------------------------------
    def _details(self) -> QGroupBox:
        box = QGroupBox("Selected form")
        column = QVBoxLayout(box)
        self.detail = QLabel("Select a row to see the copy, its issuance and its PDFs.")
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        column.addWidget(self.detail)
        self.pdf_label = QLabel()
        self.pdf_label.setWordWrap(True)
        column.addWidget(self.pdf_label)
        self.release = ReleasePanel(self._ctx, self)
        self.release.released.connect(lambda _target: self._show_pdfs())
        column.addWidget(self.release)
        row = QHBoxLayout()
        self.issuance_button = QPushButton("Show this issuance only")
        self.issuance_button.clicked.connect(self._only_selected_issuance)
        self.replace_button = QPushButton("Replace…")
        self.replace_button.setToolTip("QA: issue a new copy with a new serial in place of a spoiled or lost one "
                                       "(reason and e-signature). The old serial becomes “replaced”.")
        self.replace_button.clicked.connect(lambda: self.replace())
        self.replace_button.setVisible(self._ctx.allowed(Permission.REPLACE_FORMS))
        self.add_pages_button = QPushButton("Add pages…")
        self.add_pages_button.setToolTip("Document Control: issue extra pages to this form while it is in use — "
                                         "further pages of the same serial, with a reason (BF-02).")
        self.add_pages_button.clicked.connect(lambda: self.add_pages())
        self.add_pages_button.setVisible(self._ctx.allowed(Permission.ISSUE_FORMS))
        row.addWidget(self.issuance_button)
        row.addWidget(self.replace_button)
        row.addWidget(self.add_pages_button)
        row.addStretch(1)
        column.addLayout(row)
        return box

    def selected(self) -> RegisterRow | None:
        index = self.table.selectionModel().currentIndex() if self.table.selectionModel() else None
        if index is None or not index.isValid() or not 0 <= index.row() < self.model.loaded:
            return None
        return self.model.row_at(index.row())

    def select(self, serial: str) -> bool:
        row = self.model.row_of(serial)
        while row is None and self.model.canFetchMore() and self.model.loaded < 5 * self.model.page_size:
            self.model.fetchMore()
            row = self.model.row_of(serial)
        if row is None:
            return False
        self.table.selectRow(row)
        return True

    def _show_selected(self) -> None:
        row = self.selected()
        self.issuance_button.setEnabled(row is not None and self.issuance_id is None)
        self.replace_button.setEnabled(row is not None and row.may_replace)
        self.add_pages_button.setEnabled(row is not None and row.may_add_pages)
        self.add_pages_button.setToolTip("Issue extra pages to this form while it is in use (reason required)."
                                         + (f"\n\nNot now: {row.why_not_add_pages}" if row is not None
                                            and row.why_not_add_pages else ""))
        if row is None:
            self.detail.setText("Select a row to see the copy, its issuance and its PDFs.")
            self.pdf_label.clear()
            self.release.set_pdf(None)
            return
        replaced = f" It replaces serial {row.replaces_label or row.replaces}." if row.replaces else ""
        pages = f" {plural(row.pages, 'page')}" + (f" (page x of {row.pages})" if row.extra_pages else "") + "."
        extra = "".join(f"\n{text}" for text in row.extra_pages)
        self.detail.setText(f"Serial {row.printed_as}: {form_text(row)}. Issued by {row.issued_by} on "
                            f"{self._ctx.when(row.issued_at, seconds=False)} (issuance #{row.issuance_id}); due back "
                            f"{row.due_date.isoformat()}{' — OVERDUE' if row.overdue else ''}.{replaced}{pages}{extra}")
        set_role(self.detail, "error" if row.overdue else "")
        self._show_pdfs()

    def _show_pdfs(self) -> None:
        row = self.selected()
        if row is None:
            return
        try:
            pdfs = print_service.pdfs_of(self._ctx.db, self._ctx.actor, row.issuance_id)
        except FormtrailError as exc:
            self.pdf_label.setText(f"PDFs cannot be listed: {exc}")
            return
        lines = [f"{pdf.extra_pages or pdf.printed} {'printed or saved' if pdf.released else 'NOT PRINTED YET'}"
                 for pdf in pdfs]
        self.pdf_label.setText(f"PDFs of issuance #{row.issuance_id}: " + "; ".join(lines))
        waiting = [pdf for pdf in pdfs if not pdf.released]
        target = next((pdf for pdf in waiting if pdf.holds(row.serial)), waiting[0] if waiting else None)
        if target is None:
            self.release.set_pdf(None)
            return
        try:
            layout = templates.get_version(self._ctx.db, self._ctx.actor, row.template, row.version).layout
            paper, per_copy = layout.paper.value, layout.pages
        except FormtrailError:
            paper, per_copy = "A4", 1
        serials = target.first_serial if target.copies == 1 else target.serials
        # A PDF of extra pages (BF-02) holds just those pages; any other one every page of each of its copies.
        pages = target.pages if target.extra_pages else target.copies * per_copy
        self.release.set_pdf(PdfToRelease(pdf_id=target.pdf_id, serials=serials, pages=pages,
                                          paper=paper, file_name=f"{row.template}-{serials.replace('–', '-')}.pdf",
                                          printed=target.printed))

    def _only_selected_issuance(self) -> None:
        row = self.selected()
        if row is not None:
            self.show_issuance(row.issuance_id)
            self.select(row.serial)

    def replace(self, serial: str | None = None) -> ReplaceDialog | None:
        row = self.selected()
        serial = serial or (row.serial if row else "")
        dialog = ReplaceDialog(self._ctx, serial=serial, parent=self)
        self.dialog = dialog

        def finished(dialog: ReplaceDialog, result: int) -> None:
            self.dialog = None
            new = dialog.result_value
            if accepted(result) and new is not None:
                self.reload()
                self.select(new.new_serial)
        return open_dialog(dialog, finished)

    def add_pages(self) -> AddPagesDialog | None:
        row = self.selected()
        if row is None:
            return None
        dialog = AddPagesDialog(self._ctx, row, parent=self)
        self.dialog = dialog

        def finished(_dialog: AddPagesDialog, result: int) -> None:
            self.dialog = None
            if accepted(result):
                self.reload()
        return open_dialog(dialog, finished)

    # -- export --------------------------------------------------------------------------------------------
    def export(self, path: Path | None = None, fmt: str | None = None) -> Task | None:
        if path is None:
            chosen = ask_export_path(self, "Export the register", f"issuance-register-{self._ctx.site.code}.csv",
                                     _EXPORT_FILTERS, "CSV for spreadsheets (*.csv)")
            if chosen is None:
                return None
            path, fmt = chosen
        fmt = fmt or path.suffix.lstrip(".").lower()
        db, actor, flt = self._ctx.db, self._ctx.actor, self.current_filter()
        self.task = run_op(self, lambda progress, cancelled: register.export_register(db, actor, flt, fmt=fmt,
                                                                                     out=path),
                           title="Exporting the register", label=f"Writing {path.name}…",
                           on_done=lambda count: self._exported(count, path), on_failed=self._export_failed)
        self.export_button.setEnabled(False)
        return self.task

    def _exported(self, count: int, path: Path) -> None:
        self.task = None
        self.export_button.setEnabled(True)
        notify(self, f"Exported {plural(count, 'issued form')} to {path.name}",
               path=path)

    def _export_failed(self, exc: BaseException) -> None:
        self.task = None
        self.export_button.setEnabled(True)
        self._ctx.show_error(self, exc)


@page("register")
def register_page(ctx: PageContext) -> QWidget:
    return RegisterPage(ctx)
