"""The template editor: header, fields and signature blocks of a draft, with the live PDF preview beside them.

The editor keeps what the author typed as plain data and validates the whole layout after every change: an
invalid state (a choice field with one option, a limit that is not a number) is shown in red under the form and
nothing typed is lost; the preview follows the last valid layout. Save stores the draft (only its author can);
"Save and submit" also sends it to QA. Opened read-only, it is the reviewer's preview of any version.
"""

from __future__ import annotations

import re

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.forms.layout.layout import MAX_PAGES, LayoutError, Paper, TemplateLayout, layout_from_dict
from app.services.core.errors import FormtrailError
from app.services.templates import templates
from app.services.templates.templates import TemplateVersionInfo
from app.ui.kit import messages
from app.ui.kit.style import set_role
from app.ui.kit.widgets import ErrorLine, hint, title
from app.ui.pages.registry import PageContext
from app.ui.pages.templates.template_fields import (
    FieldData,
    FieldEditor,
    SignatureBlocksEditor,
    empty_field,
    field_data,
)
from app.ui.pages.templates.template_model import status_text
from app.ui.pages.templates.template_preview import PreviewPane

_FIELD_NO = re.compile(r"field #(\d+)")


def _field_item_text(index: int, data: FieldData, many_pages: bool) -> str:
    extras = [str(data.get("type", ""))]
    if many_pages:
        extras.append(f"page {data.get('page')}")
    mark = " ◆" if data.get("critical") else ""
    return f"{index + 1}. {data.get('label') or '(no label)'}{mark}   [{', '.join(extras)}]"


class TemplateEditor(QDialog):
    """Edits the draft ``info`` (or shows any version when ``read_only``). Accepted when the draft was
    submitted for review; rejected on Close (after asking about unsaved changes)."""

    def __init__(self, ctx: PageContext, info: TemplateVersionInfo, *, read_only: bool = False,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx, self.info, self.read_only = ctx, info, read_only
        self._saved: TemplateLayout = info.layout
        self._fields: list[FieldData] = [field_data(f) for f in info.layout.fields]
        self.layout_now: TemplateLayout | None = info.layout  # the last valid layout
        state = status_text(info.status).split(" (")[0].lower()
        what = "Preview" if read_only else "Edit draft"
        self.setWindowTitle(f"{what} — {info.code} version {info.version} ({state})")
        self.resize(1260, 820)
        column = QVBoxLayout(self)
        column.addWidget(title(f"{info.code} version {info.version} — {state}"))
        column.addWidget(hint(
            "Read-only: this is how the form prints (draft watermark; issued copies carry serials and QR codes)."
            if read_only else
            "Change the form on the left; the preview on the right follows a moment after each change. Save "
            "keeps the draft; nobody can issue it until it is submitted and approved by QA."))
        splitter = QSplitter(Qt.Orientation.Horizontal)
        self.tabs = QTabWidget()
        self.tabs.addTab(self._header_tab(), "Header")
        self.tabs.addTab(self._fields_tab(), "Fields")
        self.blocks = SignatureBlocksEditor()
        self.blocks.load([{"role": b.role.value, "label": b.label} for b in info.layout.signature_blocks])
        self.blocks.edited.connect(self._changed)
        self.tabs.addTab(self.blocks, "Signature blocks")
        splitter.addWidget(self.tabs)
        self.preview = PreviewPane(ctx, version_label=f"Version {info.version} ({state})")
        splitter.addWidget(self.preview)
        splitter.setSizes([600, 660])
        column.addWidget(splitter, 1)
        self.error = ErrorLine()
        column.addWidget(self.error)

        buttons = QDialogButtonBox()
        self.state_label = QLabel()
        bottom = QHBoxLayout()
        bottom.addWidget(self.state_label, 1)
        self.save_button = QPushButton("&Save draft")
        self.submit_button = QPushButton("Save and s&ubmit for review…")
        self.close_button = buttons.addButton(QDialogButtonBox.StandardButton.Close)
        if not read_only:
            buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.ActionRole)
            buttons.addButton(self.submit_button, QDialogButtonBox.ButtonRole.ActionRole)
            self.save_button.setDefault(True)
            save_shortcut = QShortcut(QKeySequence.StandardKey.Save, self)
            save_shortcut.activated.connect(self.save)
        self.save_button.clicked.connect(self.save)
        self.submit_button.clicked.connect(self.save_and_submit)
        buttons.rejected.connect(self.reject)
        bottom.addWidget(buttons)
        column.addLayout(bottom)

        self._refresh_list(select=0)
        if read_only:
            self._set_read_only()
        self._update_state()
        self.preview.show_layout(info.layout, now=True)

    # -- building the tabs ------------------------------------------------------------------------------------
    def _header_tab(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        lay = self.info.layout
        self.code = QLabel(lay.code)
        self.code.setToolTip("The template code cannot change; a new code is a new template.")
        self.title_edit = QLineEdit(lay.title)
        self.department = QLineEdit(lay.department)
        self.header = QPlainTextEdit(lay.header)
        self.header.setPlaceholderText("What the form is for, with the SOP it belongs to")
        self.header.setFixedHeight(70)
        self.instructions = QPlainTextEdit(lay.instructions)
        self.instructions.setPlaceholderText("Numbered instructions printed above the fields, one per line")
        self.pages = QSpinBox()
        self.pages.setRange(1, MAX_PAGES)
        self.pages.setValue(lay.pages)
        self.paper = QComboBox()
        for paper in Paper:
            self.paper.addItem(paper.value, paper.value)
        self.paper.setCurrentIndex(self.paper.findData(lay.paper.value))
        form.addRow("Code:", self.code)
        form.addRow("&Title:", self.title_edit)
        form.addRow("&Department:", self.department)
        form.addRow("&Header text:", self.header)
        form.addRow("&Instructions:", self.instructions)
        form.addRow("&Pages:", self.pages)
        form.addRow("Pape&r:", self.paper)
        form.addRow(hint("Each field says on which page it is printed (Fields tab). The signature blocks go at the "
                         "end of the last page."))
        for line in (self.title_edit, self.department):
            line.textEdited.connect(self._changed)
        for text in (self.header, self.instructions):
            text.textChanged.connect(self._changed)
            text.setTabChangesFocus(True)
        self.pages.valueChanged.connect(self._changed)
        self.paper.currentIndexChanged.connect(self._changed)
        return page

    def _fields_tab(self) -> QWidget:
        page = QWidget()
        column = QVBoxLayout(page)
        top = QHBoxLayout()
        self.field_list = QListWidget()
        self.field_list.currentRowChanged.connect(self._field_selected)
        top.addWidget(self.field_list, 1)
        buttons = QVBoxLayout()
        self.add_button, self.remove_button = QPushButton("&Add field"), QPushButton("Remo&ve")
        self.up_button, self.down_button = QPushButton("▲ Move up"), QPushButton("▼ Move down")
        self.add_button.setToolTip("Add a new field after the selected one")
        self.add_button.clicked.connect(self.add_field)
        self.remove_button.clicked.connect(self.remove_field)
        self.up_button.clicked.connect(lambda: self.move_field(-1))
        self.down_button.clicked.connect(lambda: self.move_field(1))
        for button in (self.add_button, self.remove_button, self.up_button, self.down_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        top.addLayout(buttons)
        column.addLayout(top, 2)
        column.addWidget(hint("Fields print in this order as rows of the table; ◆ = critical (a second person "
                              "checks it). Select a field to change it below."))
        self.field_editor = FieldEditor()
        self.field_editor.edited.connect(self._field_edited)
        scroll = QScrollArea()
        scroll.setWidget(self.field_editor)
        scroll.setWidgetResizable(True)
        column.addWidget(scroll, 3)
        return page

    def _set_read_only(self) -> None:
        for line in (self.title_edit, self.department):
            line.setReadOnly(True)
        for text in (self.header, self.instructions):
            text.setReadOnly(True)
        self.pages.setEnabled(False)
        self.paper.setEnabled(False)
        for button in (self.add_button, self.remove_button, self.up_button, self.down_button):
            button.setEnabled(False)
        self.field_editor.set_read_only(True)
        self.blocks.set_read_only(True)

    # -- the fields list ------------------------------------------------------------------------------------
    def _refresh_list(self, *, select: int | None = None) -> None:
        many = self.pages.value() > 1
        self.field_list.blockSignals(True)
        self.field_list.clear()
        for i, data in enumerate(self._fields):
            self.field_list.addItem(QListWidgetItem(_field_item_text(i, data, many)))
        self.field_list.blockSignals(False)
        if select is not None and self._fields:
            self.field_list.setCurrentRow(max(0, min(select, len(self._fields) - 1)))
        self._field_selected(self.field_list.currentRow())
        self.tabs.setTabText(1, f"Fields ({len(self._fields)})")

    def _field_selected(self, row: int) -> None:
        has = 0 <= row < len(self._fields)
        self.field_editor.setEnabled(has)
        if has:
            self.field_editor.load(self._fields[row])
        if not self.read_only:
            self.remove_button.setEnabled(has)
            self.up_button.setEnabled(has and row > 0)
            self.down_button.setEnabled(has and row < len(self._fields) - 1)

    def _field_edited(self) -> None:
        row = self.field_list.currentRow()
        if not 0 <= row < len(self._fields):
            return
        self._fields[row] = self.field_editor.data()
        self.field_list.item(row).setText(_field_item_text(row, self._fields[row], self.pages.value() > 1))
        self._changed()

    def current_field(self) -> int:
        return self.field_list.currentRow()

    def select_field(self, row: int) -> None:
        self.tabs.setCurrentIndex(1)
        self.field_list.setCurrentRow(row)

    def add_field(self) -> None:
        """A new text field after the selected one (on its page), selected for editing."""
        used = {f["name"] for f in self._fields}
        number = next(n for n in range(1, len(used) + 2) if f"field_{n}" not in used)
        row = self.current_field()
        page = self._fields[row]["page"] if 0 <= row < len(self._fields) else 1
        at = row + 1 if row >= 0 else len(self._fields)
        self._fields.insert(at, empty_field(f"field_{number}", page))
        self._refresh_list(select=at)
        self.field_editor.label.setFocus()
        self.field_editor.label.selectAll()
        self._changed()

    def remove_field(self) -> None:
        row = self.current_field()
        if 0 <= row < len(self._fields):
            del self._fields[row]
            self._refresh_list(select=row)
            self._changed()

    def move_field(self, step: int) -> None:
        row = self.current_field()
        target = row + step
        if not (0 <= row < len(self._fields) and 0 <= target < len(self._fields)):
            return
        self._fields[row], self._fields[target] = self._fields[target], self._fields[row]
        self._refresh_list(select=target)
        self._changed()

    def field_names(self) -> list[str]:
        return [f["name"] for f in self._fields]

    # -- validation, saving ------------------------------------------------------------------------------
    def build_layout(self) -> TemplateLayout:
        """The layout as typed; LayoutError says what is wrong (which field, what to change)."""
        return layout_from_dict({
            "code": self.info.code, "title": self.title_edit.text().strip(),
            "department": self.department.text().strip(), "header": self.header.toPlainText().strip(),
            "instructions": self.instructions.toPlainText().strip(), "pages": self.pages.value(),
            "paper": self.paper.currentData(), "fields": [dict(f) for f in self._fields],
            "signature_blocks": self.blocks.blocks(),
        })

    def _changed(self) -> None:
        if self.read_only:
            return
        try:
            layout = self.build_layout()
        except LayoutError as exc:
            self.layout_now = None
            self.error.show_text(f"Not valid yet: {exc}. The preview shows the last valid state; nothing you typed "
                                 "is lost.")
        else:
            self.layout_now = layout
            self.error.clear_text()
            self.preview.show_layout(layout)
        self._update_state()

    @property
    def dirty(self) -> bool:
        return not self.read_only and self.layout_now != self._saved

    def _update_state(self) -> None:
        if self.read_only:
            self.state_label.setText(f"Status: {status_text(self.info.status)} · author {self.info.author_username}")
            set_role(self.state_label, "hint")
        elif self.dirty:
            self.state_label.setText("Unsaved changes")
            set_role(self.state_label, "emphasis")
        else:
            self.state_label.setText("All changes saved")
            set_role(self.state_label, "ok")

    def save(self) -> bool:
        """Store the draft; on an invalid layout or a refusal nothing is stored and the reason is shown."""
        if self.read_only:
            return False
        try:
            layout = self.build_layout()
        except LayoutError as exc:
            self.error.show_text(f"Not saved: {exc}")
            match = _FIELD_NO.search(str(exc))
            if match and 0 < int(match.group(1)) <= len(self._fields):
                self.select_field(int(match.group(1)) - 1)
            return False
        try:
            self.info = templates.save_draft(self._ctx.db, self._ctx.actor, self.info.code, self.info.version, layout)
        except FormtrailError as exc:
            self.error.show_text(f"Not saved: {exc}")
            return False
        self._saved = self.info.layout
        self.layout_now = self.info.layout
        self.error.clear_text()
        self._update_state()
        return True

    def save_and_submit(self) -> None:
        if not self.save():
            return
        if not messages.confirm(self, f"Submit {self.info.code} version {self.info.version} for review?\n\nQA then "
                                      "approves it or returns it to you. While in review it cannot be changed.",
                                title="Submit for review", ok_text="Submit for review"):
            return
        try:
            self.info = templates.submit(self._ctx.db, self._ctx.actor, self.info.code)
        except FormtrailError as exc:
            self._ctx.show_error(self, exc)
            return
        super().accept()

    def reject(self) -> None:
        if self.dirty and not messages.confirm(
                self, "Close without saving? The changes since the last save are lost.", title=self.windowTitle(),
                ok_text="Discard changes"):
            return
        super().reject()
