"""Templates page: master forms and their versions, from import or draft through QA approval to retirement."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.enums import SignatureMeaning, TemplateStatus
from app.forms.layout.layout import LayoutError, load_layout
from app.services.core.errors import FormtrailError
from app.services.identity.permissions import Permission
from app.services.issuance import printing
from app.services.reports import work
from app.services.templates import templates
from app.services.templates.templates import TemplateSummary, TemplateVersionInfo
from app.ui.kit import file_dialogs, messages
from app.ui.kit.dialogs import accepted, open_dialog
from app.ui.kit.list_model import USER_ROLE
from app.ui.kit.reason import ReasonDialog
from app.ui.kit.style import set_role
from app.ui.kit.widgets import hint, setup_table
from app.ui.pages.registry import PageContext, page
from app.ui.pages.templates.template_editor import TemplateEditor
from app.ui.pages.templates.template_model import TemplateTableModel, status_text
from app.ui.pages.templates.template_new import NewTemplateDialog

S = TemplateStatus
_TEMPLATE_FILES = "Template files (*.yaml *.yml *.json)"


def _next_step(info: TemplateVersionInfo) -> str:
    """What happens next to this version, in a clerk's words (who may act is the service's ``may_*``)."""
    if info.status is S.DRAFT:
        if info.may_edit:
            return ("Your draft. Change it with Edit draft…, check the preview, then submit it for review. It "
                    "cannot be issued yet.")
        return (f"Draft by {info.author_username}: only they can edit and submit it. It cannot be issued yet.")
    if info.status is S.IN_REVIEW:
        return (f"Waiting for QA. A QA person other than the author ({info.author_username}) checks the preview and "
                "approves it with an electronic signature, or returns it to draft with a reason.")
    if info.status is S.EFFECTIVE:
        return ("Effective: this is the version that is issued. To change the form, start a new version with a "
                "change reason; this one stays in use until QA approves the new one.")
    if info.status is S.SUPERSEDED:
        return "Superseded by a newer approved version. Kept for the record; it can no longer be issued."
    return "Retired: it can no longer be issued. Start a new version to bring the form back."


class TemplatesPage(QWidget):
    def __init__(self, ctx: PageContext) -> None:
        super().__init__()
        self._ctx = ctx
        self.dialog: QDialog | None = None  # the dialog currently open (tests drive it)
        self.info: TemplateVersionInfo | None = None  # the version shown in the details
        layout = QVBoxLayout(self)
        layout.addWidget(hint("A new or changed form starts as a draft; its author submits it for review; it becomes "
                              "effective when QA approves it with an electronic signature. Only effective versions "
                              "can be issued. Select a template to see its versions and what can be done next."))
        bar = QHBoxLayout()
        self.new_button = QPushButton("&New template…")
        self.new_button.setToolTip("Author a new master form here: give its code, title and change reason; the "
                                   "editor opens on version 1 as a draft.")
        self.new_button.clicked.connect(lambda: self.new_template())
        self.new_button.setVisible(ctx.allowed(Permission.EDIT_TEMPLATES))
        bar.addWidget(self.new_button)
        self.import_button = QPushButton("Import template file…")
        self.import_button.setToolTip("Read a template from a YAML or JSON file; it becomes a new draft version.")
        self.import_button.clicked.connect(lambda: self.import_file())
        self.import_button.setVisible(ctx.allowed(Permission.EDIT_TEMPLATES))
        bar.addWidget(self.import_button)
        # The lists Home counts for this user ("drafts", "to-approve"): the service says which rows are in them.
        self.show_combo = QComboBox()
        self.show_combo.addItem("All templates", "")
        for name, text in work.page_filters(ctx.actor, "templates"):
            self.show_combo.addItem(text, name)
        self.show_combo.setVisible(self.show_combo.count() > 1)
        self.show_combo.currentIndexChanged.connect(lambda *_: self.reload())
        bar.addWidget(self.show_combo)
        bar.addStretch(1)
        self.status_line = QLabel()
        self.status_line.setWordWrap(True)
        bar.addWidget(self.status_line, 3)
        layout.addLayout(bar)

        self.model = TemplateTableModel(parent=self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        setup_table(self.table)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        header = self.table.horizontalHeader()
        for column, width in enumerate(TemplateTableModel.WIDTHS):
            header.resizeSection(column, width)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setStretchLastSection(False)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._template_selected())
        self.table.doubleClicked.connect(lambda *_: self.open_editor())
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.table)
        splitter.addWidget(self._details())
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([700, 380])
        layout.addWidget(splitter, 1)
        self.reload()

    # -- details of the selected version ---------------------------------------------------------------
    def _details(self) -> QWidget:
        box = QGroupBox("Selected template")
        column = QVBoxLayout(box)
        self.heading = set_role(QLabel("Select a template on the left."), "subtitle")
        self.heading.setWordWrap(True)
        column.addWidget(self.heading)
        row = QHBoxLayout()
        version_label = QLabel("&Version:")
        row.addWidget(version_label)
        self.version_combo = QComboBox()
        self.version_combo.setMinimumContentsLength(22)
        version_label.setBuddy(self.version_combo)
        self.version_combo.currentIndexChanged.connect(lambda *_: self._version_selected())
        row.addWidget(self.version_combo)
        row.addStretch(1)
        column.addLayout(row)
        form = QFormLayout()
        self.fields: dict[str, QLabel] = {}
        for key, text in (("status", "Status:"), ("author", "Author:"), ("reason", "Change reason:"),
                          ("submitted", "Submitted for review:"), ("approval", "QA approval:"),
                          ("content", "Content:"), ("sha", "Layout SHA-256:")):
            label = QLabel()
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.fields[key] = label
            form.addRow(text, label)
        column.addLayout(form)
        self.next_step = hint("")
        column.addWidget(self.next_step)

        grid = QGridLayout()
        ctx = self._ctx
        edit, approve = ctx.allowed(Permission.EDIT_TEMPLATES), ctx.allowed(Permission.APPROVE_TEMPLATES)
        self.buttons: dict[str, QPushButton] = {}
        specs: list[tuple[str, str, str, Callable[[], Any], bool]] = [
            ("preview", "Preview…", "Look at the form as it will print (draft watermark, no code).",
             self.open_preview, True),
            ("edit", "Edit draft…", "Change the header, fields and signature blocks of this draft.",
             self.open_editor, edit),
            ("submit", "Submit for review", "Send the draft to QA for approval (it can no longer be edited).",
             self.submit, edit),
            ("new", "New version…", "Start the next draft from this template (needs a change reason).",
             self.new_version, edit),
            ("approve", "Approve…", "QA approval by electronic signature: the version becomes effective.",
             self.approve, approve),
            ("return", "Return to draft…", "Send the version back to its author, with a reason.",
             self.return_to_draft, approve),
            ("retire", "Retire…", "Stop issuing this template (needs a reason).", self.retire, approve),
            ("export", "Export file…", "Save this version as a YAML or JSON file (recorded in the audit trail).",
             lambda: self.export(), True),
            ("reference", "Reference print…",
             "Save an UNCONTROLLED, watermarked PDF of the effective version for reading; never for recording data.",
             lambda: self.reference_print(), True),
        ]
        shown = [spec for spec in specs if spec[4]]
        for i, (key, text, tip, slot, _) in enumerate(shown):
            button = QPushButton(text)
            button.setToolTip(tip)
            button.clicked.connect(lambda _=False, slot=slot: slot())
            self.buttons[key] = button
            grid.addWidget(button, i // 2, i % 2)
        column.addLayout(grid)
        column.addStretch(1)
        return box

    # -- loading -------------------------------------------------------------------------------------------
    def page_shown(self) -> None:
        self.reload()

    def reload(self, select: str | None = None) -> None:
        current = self.selected()
        chosen = select or (current.code if current is not None else None)
        try:
            rows = templates.list_templates(self._ctx.db, self._ctx.actor)
            if name := self.show_combo.currentData():
                only = work.members(self._ctx.db, self._ctx.actor, page="templates", name=name)
                rows = [row for row in rows if row.code in only]
        except FormtrailError as exc:
            self._ctx.show_error(self, exc)
            rows = []
        self.model.set_rows(rows)
        if chosen:
            self.select(chosen)
        if self.selected() is None and rows:
            self.table.selectRow(0)
        self._template_selected()

    def show_filter(self, name: str) -> None:
        """Show one of the lists Home counts ("drafts", "to-approve"), or every template."""
        self.show_combo.blockSignals(True)
        self.show_combo.setCurrentIndex(max(0, self.show_combo.findData(name)))
        self.show_combo.blockSignals(False)
        self.reload()

    def select(self, code: str) -> None:
        row = self.model.row_of(code)
        if row is not None:
            self.table.selectRow(self.proxy.mapFromSource(self.model.index(row, 0)).row())

    def selected(self) -> TemplateSummary | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        return self.proxy.data(rows[0], USER_ROLE) if rows else None

    def _template_selected(self) -> None:
        summary = self.selected()
        self.version_combo.blockSignals(True)
        self.version_combo.clear()
        if summary is not None:
            for number in range(summary.version, 0, -1):
                label = f"{number}"
                if number == summary.version:
                    label += f" (newest, {status_text(summary.status).split(' (')[0].lower()})"
                elif number == summary.effective_version:
                    label += " (effective)"
                self.version_combo.addItem(label, number)
        self.version_combo.blockSignals(False)
        self._version_selected()

    def _version_selected(self) -> None:
        summary, number = self.selected(), self.version_combo.currentData()
        self.info = None
        if summary is not None and number is not None:
            try:
                self.info = templates.get_version(self._ctx.db, self._ctx.actor, summary.code, number)
            except FormtrailError as exc:
                self._ctx.show_error(self, exc)
        self._show_info()

    def _show_info(self) -> None:
        info, when = self.info, self._ctx.when
        if info is None:
            self.heading.setText("Select a template on the left.")
            for label in self.fields.values():
                label.clear()
            self.next_step.clear()
        else:
            self.heading.setText(f"{info.code} — {info.title}  ·  {info.layout.department}")
            self.fields["status"].setText(status_text(info.status) + (
                f" since {info.effective_date.isoformat()}" if info.status is S.EFFECTIVE and info.effective_date
                else ""))
            self.fields["author"].setText(f"{info.author_username}, created {when(info.created_at, seconds=False)}")
            self.fields["reason"].setText(info.change_reason)
            self.fields["submitted"].setText(when(info.submitted_at, seconds=False) or "not yet")
            approvals = [s.manifestation() for s in info.signatures if s.meaning is SignatureMeaning.APPROVED]
            self.fields["approval"].setText("\n".join(approvals) or "not approved")
            lay = info.layout
            self.fields["content"].setText(
                f"{len(lay.fields)} fields, {len(lay.signature_blocks)} signature blocks, "
                f"{lay.pages} page{'s' if lay.pages != 1 else ''}, {lay.paper.value} paper")
            self.fields["sha"].setText(info.layout_sha256[:16] + "…")
            self.fields["sha"].setToolTip(info.layout_sha256)
            self.next_step.setText(_next_step(info))
        self._update_buttons()

    def _update_buttons(self) -> None:
        """Enable what the service says the actor may do with the shown version; the texts only explain."""
        info, summary = self.info, self.selected()
        state = {
            "preview": (info is not None, "Select a template version."),
            "edit": (info is not None and info.may_edit, "Only drafts can be edited, and only by their author"
                     + (f" ({info.author_username})." if info else ".")),
            "submit": (info is not None and info.may_submit, "Only the newest draft can be submitted for review."),
            "new": (info is not None and info.may_new_version,
                    "This template already has a draft or a version in review: finish that one first."),
            "approve": (info is not None and info.may_approve,
                        "Only a version in review can be approved, and never by its author."),
            "return": (info is not None and info.may_return, "Only a version in review can be returned to draft."),
            "retire": (info is not None and info.may_retire, "Only the effective version can be retired."),
            "export": (info is not None, "Select a template version."),
            "reference": (summary is not None and summary.effective_version is not None,
                          "Reference prints are made of the effective version; this template has none."),
        }
        for key, button in self.buttons.items():
            enabled, why = state[key]
            button.setEnabled(bool(enabled))
            button.setToolTip(button.toolTip().split("\n\nNot now: ")[0] + ("" if enabled else f"\n\nNot now: {why}"))

    def _done(self, text: str, select: str | None = None) -> None:
        self.status_line.setText(f"✔ {text}")
        set_role(self.status_line, "ok")
        self.reload(select)

    def _open(self, dialog: QDialog, on_accept: Callable[[Any], None]) -> None:
        self.dialog = dialog

        def finished(dialog: QDialog, result: int) -> None:
            self.dialog = None
            if accepted(result):
                on_accept(getattr(dialog, "result_value", None))
            else:
                self.reload()
        open_dialog(dialog, finished)

    # -- actions ---------------------------------------------------------------------------------------------
    def import_file(self, path: Path | None = None) -> None:
        """Import a YAML/JSON template file (asks for it when ``path`` is None)."""
        if path is None:
            path = file_dialogs.ask_open_file(self, "Import a template file", purpose="templates",
                                              filters=_TEMPLATE_FILES)
            if path is None:
                return
        try:
            layout = load_layout(path)
        except LayoutError as exc:
            messages.error(self, f"{exc}\n\nNothing was imported. Correct the file and import it again.",
                           title="The template file has an error")
            return
        ctx = self._ctx

        def imported(info: TemplateVersionInfo) -> None:
            self._done(f"{info.code} version {info.version} imported as a draft. Check it with Preview…, then "
                       "submit it for review.", info.code)
        if layout.change_reason:
            try:
                imported(templates.import_file(ctx.db, ctx.actor, path))
            except FormtrailError as exc:
                ctx.show_error(self, exc, title="The template was not imported")
            return
        self._open(ReasonDialog(
            self, heading=f"Import {layout.code} — {layout.title}", action_text="Import as draft",
            explanation="This file does not say why the form is new or changed. Every template version needs a "
                        "change reason: the change-control reference and what changed.",
            placeholder="e.g. CC-2026-014: new weighing worksheet for the QC lab",
            perform=lambda reason: templates.import_file(ctx.db, ctx.actor, path, change_reason=reason),
        ), imported)

    def new_template(self) -> None:
        """Ask for the code, title and reason; the service makes version 1 as a draft; the editor opens on it."""
        self._open(NewTemplateDialog(self._ctx, self), self._edit_new_draft)

    def _edit_new_draft(self, info: TemplateVersionInfo) -> None:
        self._done(f"{info.code} version {info.version} started as a draft: complete it in the editor, then "
                   "submit it for review.", info.code)
        self.open_editor(info)

    def new_version(self) -> None:
        summary = self.selected()
        if summary is None or self.info is None or not self.info.may_new_version:
            return
        ctx = self._ctx
        self._open(ReasonDialog(
            self, heading=f"New version of {summary.code}", action_text="Start the new draft",
            explanation=f"The new draft starts as a copy of version {summary.version} and opens in the editor. "
                        "The effective version stays in use until QA approves the new one.",
            placeholder="e.g. CC-2026-021: add the check-weight reading and tighten the limits",
            perform=lambda reason: templates.new_version(ctx.db, ctx.actor, summary.code, change_reason=reason),
        ), self._edit_new_draft)

    def open_editor(self, info: TemplateVersionInfo | None = None, *, read_only: bool | None = None) -> None:
        """The editor on ``info`` (default: the version shown), read-only unless the service says it may be
        edited."""
        info = info or self.info
        if info is None:
            return
        if read_only is None:
            read_only = not info.may_edit
        editor = TemplateEditor(self._ctx, info, read_only=read_only, parent=self)
        self._open(editor, lambda _: self._done(f"{info.code} version {info.version} submitted for review.",
                                               info.code))

    def open_preview(self) -> None:
        self.open_editor(read_only=True)

    def submit(self) -> None:
        info = self.info
        if info is None or not info.may_submit or not messages.confirm(
                self, f"Submit {info.code} version {info.version} ({info.title}) for review?\n\nQA then approves it "
                      "or returns it to you. While it is in review nobody can change it.",
                title="Submit for review", ok_text="Submit for review"):
            return
        try:
            done = templates.submit(self._ctx.db, self._ctx.actor, info.code)
        except FormtrailError as exc:
            self._ctx.show_error(self, exc)
            return
        self._done(f"{done.code} version {done.version} submitted for review: QA can now approve it.", done.code)

    def return_to_draft(self) -> None:
        info, ctx = self.info, self._ctx
        if info is None or not info.may_return:
            return
        self._open(ReasonDialog(
            self, heading=f"Return {info.code} version {info.version} to draft", action_text="Return to draft",
            explanation=f"The author ({info.author_username}) can then change it and submit it again.",
            placeholder="What must change? e.g. 'limits of sample weight do not match SOP-QC-005 §6'",
            perform=lambda reason: templates.return_to_draft(ctx.db, ctx.actor, info.code, info.version,
                                                             reason=reason),
        ), lambda done: self._done(f"{done.code} version {done.version} returned to draft.", done.code))

    def approve(self) -> None:
        info, ctx = self.info, self._ctx
        if info is None or not info.may_approve:
            return
        summary = (f"Template {info.code} version {info.version}: {info.title}\n"
                   f"Change: {info.change_reason}\nAuthor: {info.author_username}\n"
                   f"Layout SHA-256: {info.layout_sha256}")
        done = ctx.sign(self, summary=summary, meaning=SignatureMeaning.APPROVED,
                        perform=lambda username, password: templates.approve(
                            ctx.db, ctx.actor, info.code, info.version, username=username, password=password))
        if done is not None:
            self._done(f"{done.code} version {done.version} approved: it is effective from today and can be issued.",
                       done.code)

    def retire(self) -> None:
        info, ctx = self.info, self._ctx
        if info is None or not info.may_retire:
            return
        self._open(ReasonDialog(
            self, heading=f"Retire {info.code} version {info.version}", action_text="Retire",
            explanation="A retired template can no longer be issued. Copies already issued stay valid and must "
                        "still be returned and reconciled.",
            confirm_text=f"Retire {info.code} ({info.title})? No more copies can be issued.",
            placeholder="e.g. CC-2026-030: replaced by QC-WS-020",
            perform=lambda reason: templates.retire(ctx.db, ctx.actor, info.code, info.version, reason=reason),
        ), lambda done: self._done(f"{done.code} version {done.version} retired.", done.code))

    def export(self, path: Path | None = None) -> Path | None:
        info = self.info
        if info is None:
            return None
        if path is None:
            path = file_dialogs.ask_save_as(self, "Export the template version", purpose="templates",
                                            name=f"{info.code}-v{info.version}.yaml",
                                            filters="YAML (*.yaml);;JSON (*.json)", suffixes=(".yaml", ".yml", ".json"))
            if path is None:
                return None
        try:
            templates.export_version(self._ctx.db, self._ctx.actor, info.code, info.version, path)
        except FormtrailError as exc:
            self._ctx.show_error(self, exc)
            return None
        self._done(f"{info.code} version {info.version} exported to {path}.", info.code)
        return path

    def reference_print(self, path: Path | None = None) -> Path | None:
        summary = self.selected()
        if summary is None or summary.effective_version is None:
            return None
        if path is None:
            path = file_dialogs.ask_save_as(self, "Save an uncontrolled reference print", purpose="reports",
                                            name=f"{summary.code}-v{summary.effective_version}-REFERENCE.pdf",
                                            filters="PDF (*.pdf)", suffixes=(".pdf",))
            if path is None:
                return None
        try:
            printing.print_reference(self._ctx.db, self._ctx.actor, summary.code, out=path)
        except FormtrailError as exc:
            self._ctx.show_error(self, exc)
            return None
        self._done(f"Reference print saved to {path}. It is marked UNCONTROLLED COPY: read it, never record GMP "
                   "data on it.", summary.code)
        return path


@page("templates")
def templates_page(ctx: PageContext) -> QWidget:
    return TemplatesPage(ctx)
