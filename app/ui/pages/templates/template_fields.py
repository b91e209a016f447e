"""The template editor's property forms: one data field, and the list of signature blocks.

Both work on plain dicts (the keys of ``layout_from_dict``), so a half-finished, invalid field is never lost:
the editor validates the whole layout after each change and shows the error beside the form.
"""

from __future__ import annotations

from typing import Any, cast

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.forms.layout.layout import MAX_PAGES, FieldType, SignatureRole
from app.ui.kit.widgets import hint

FieldData = dict[str, Any]

TYPE_HELP = {
    FieldType.TEXT: "text — free text, e.g. a lot number",
    FieldType.NUMBER: "number — a value with unit and limits",
    FieldType.DATE: "date — written as YYYY-MM-DD",
    FieldType.TIME: "time — hh:mm, 24 h",
    FieldType.CHOICE: "choice — tick one of a few options",
    FieldType.CHECKBOX: "checkbox — Yes / No",
    FieldType.INITIALS: "initials — someone's initials",
}
ROLE_HELP = {
    SignatureRole.PERFORMED: "performed by", SignatureRole.CHECKED: "checked by",
    SignatureRole.REVIEWED: "reviewed by", SignatureRole.APPROVED: "approved by",
}


def empty_field(name: str, page: int = 1) -> FieldData:
    return {"name": name, "label": "New field", "type": FieldType.TEXT.value, "unit": None, "required": True,
            "critical": False, "low": None, "high": None, "choices": [], "decimals": None, "done_by": False,
            "checked_by": False, "page": page, "help": None}


def field_data(field: Any) -> FieldData:
    """The editable dict of a FieldDef."""
    return {"name": field.name, "label": field.label, "type": field.type.value, "unit": field.unit,
            "required": field.required, "critical": field.critical, "low": field.low, "high": field.high,
            "choices": list(field.choices), "decimals": field.decimals, "done_by": field.done_by,
            "checked_by": field.checked_by, "page": field.page, "help": field.help}


def _number(text: str) -> int | float | str | None:
    """"" → None, "10" → 10, "99.9990" → 99.999; anything else stays text (validation names it)."""
    text = text.strip().replace(",", ".")
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def _number_text(value: Any) -> str:
    return "" if value is None else str(value)


def _optional(text: str) -> str | None:
    return text if text.strip() else None


class FieldEditor(QWidget):
    """The properties of one data field; ``edited`` after every change the user makes."""

    edited = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        form = QFormLayout(self)
        self.name = QLineEdit()
        self.name.setPlaceholderText("lower_snake_case, e.g. sample_weight_1")
        self.name.setToolTip("The field's name in the electronic record. Letters, digits and single underscores.")
        self.label = QLineEdit()
        self.label.setPlaceholderText("as printed, e.g. Sample weight, replicate 1")
        self.type = QComboBox()
        for kind in FieldType:
            self.type.addItem(TYPE_HELP[kind], kind.value)
        self.unit = QLineEdit()
        self.unit.setPlaceholderText("e.g. g, °C, pH")
        self.low, self.high = QLineEdit(), QLineEdit()
        self.low.setPlaceholderText("no lower limit")
        self.high.setPlaceholderText("no upper limit")
        limits = QHBoxLayout()
        limits.addWidget(self.low)
        limits.addWidget(self.high)
        self.decimals = QSpinBox()
        self.decimals.setRange(-1, 6)
        self.decimals.setSpecialValueText("as written")
        self.decimals.setToolTip("How many decimals the value is recorded with (also used to print the limits).")
        self.choices = QPlainTextEdit()
        self.choices.setPlaceholderText("one option per line, e.g.\nPass\nFail")
        self.choices.setFixedHeight(70)
        self.choices.setTabChangesFocus(True)
        self.required = QCheckBox("Required — an entry must be made (or NA with initials)")
        self.critical = QCheckBox("Critical ◆ — a second person checks the entry")
        self.done_by = QCheckBox("“Done by” column (initials / date)")
        self.checked_by = QCheckBox("“Checked by” column (initials / date)")
        self.page = QSpinBox()
        self.page.setRange(1, MAX_PAGES)
        self.help = QLineEdit()
        self.help.setPlaceholderText("optional short help printed under the label")
        form.addRow("&Name:", self.name)
        form.addRow("&Label:", self.label)
        form.addRow("&Type:", self.type)
        form.addRow("&Unit:", self.unit)
        form.addRow("Limits (low / high):", limits)
        form.addRow("&Decimals:", self.decimals)
        form.addRow("&Choices:", self.choices)
        form.addRow("", self.required)
        form.addRow("", self.critical)
        form.addRow("", self.done_by)
        form.addRow("", self.checked_by)
        form.addRow("&Page:", self.page)
        form.addRow("&Help text:", self.help)
        form.addRow(hint("Unit, limits and decimals are for number fields; choices for choice fields."))
        for line in (self.name, self.label, self.unit, self.low, self.high, self.help):
            line.textEdited.connect(self.edited)
        self.choices.textChanged.connect(self._choices_changed)
        for box in (self.required, self.critical, self.done_by, self.checked_by):
            box.toggled.connect(self.edited)
        for spin in (self.decimals, self.page):
            spin.valueChanged.connect(self.edited)
        self.type.currentIndexChanged.connect(self._type_changed)
        self._loading = False
        self._enable_for_type()

    def _choices_changed(self) -> None:
        if not self._loading:
            self.edited.emit()

    def _type_changed(self) -> None:
        self._enable_for_type()
        if not self._loading:
            self.edited.emit()

    def _kind(self) -> FieldType:
        return FieldType(self.type.currentData())

    def _enable_for_type(self) -> None:
        kind = self._kind()
        for widget in (self.unit, self.low, self.high, self.decimals):
            widget.setEnabled(kind is FieldType.NUMBER and not self._read_only)
        self.choices.setEnabled(kind is FieldType.CHOICE and not self._read_only)

    _read_only = False

    def set_read_only(self, read_only: bool) -> None:
        self._read_only = read_only
        for widget in (self.name, self.label, self.type, self.required, self.critical, self.done_by,
                       self.checked_by, self.page, self.help):
            widget.setEnabled(not read_only)
        self._enable_for_type()

    def load(self, data: FieldData) -> None:
        """Show ``data`` without emitting ``edited``."""
        self._loading = True
        widgets = (self.name, self.label, self.type, self.unit, self.low, self.high, self.decimals, self.choices,
                   self.required, self.critical, self.done_by, self.checked_by, self.page, self.help)
        for widget in widgets:
            widget.blockSignals(True)
        try:
            self.name.setText(data["name"])
            self.label.setText(data["label"])
            self.type.setCurrentIndex(max(0, self.type.findData(data["type"])))
            self.unit.setText(data.get("unit") or "")
            self.low.setText(_number_text(data.get("low")))
            self.high.setText(_number_text(data.get("high")))
            self.decimals.setValue(-1 if data.get("decimals") is None else int(data["decimals"]))
            self.choices.setPlainText("\n".join(data.get("choices") or ()))
            self.required.setChecked(bool(data.get("required", True)))
            self.critical.setChecked(bool(data.get("critical")))
            self.done_by.setChecked(bool(data.get("done_by")))
            self.checked_by.setChecked(bool(data.get("checked_by")))
            self.page.setValue(int(data.get("page") or 1))
            self.help.setText(data.get("help") or "")
        finally:
            for widget in widgets:
                widget.blockSignals(False)
            self._loading = False
        self._enable_for_type()

    def data(self) -> FieldData:
        kind = self._kind()
        number = kind is FieldType.NUMBER
        return {
            "name": self.name.text().strip(), "label": self.label.text(), "type": kind.value,
            "unit": _optional(self.unit.text()) if number else None,
            "required": self.required.isChecked(), "critical": self.critical.isChecked(),
            "low": _number(self.low.text()) if number else None,
            "high": _number(self.high.text()) if number else None,
            "choices": [line.strip() for line in self.choices.toPlainText().splitlines() if line.strip()]
            if kind is FieldType.CHOICE else [],
            "decimals": (None if self.decimals.value() < 0 else self.decimals.value()) if number else None,
            "done_by": self.done_by.isChecked(), "checked_by": self.checked_by.isChecked(),
            "page": self.page.value(), "help": _optional(self.help.text()),
        }


class SignatureBlocksEditor(QWidget):
    """The signature blocks printed at the end of the form (wet signatures): role and label, in order."""

    edited = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        column = QVBoxLayout(self)
        column.addWidget(hint("Printed at the end of the last page, in this order, each with lines for the printed "
                              "name, the signature and the date. Paper is signed by hand."))
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["Role", "Label printed on the form"])
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().resizeSection(0, 150)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.itemChanged.connect(lambda *_: self.edited.emit())
        column.addWidget(self.table, 1)
        row = QHBoxLayout()
        self.add_button, self.remove_button = QPushButton("Add block"), QPushButton("Remove")
        self.up_button, self.down_button = QPushButton("Move up"), QPushButton("Move down")
        self.add_button.clicked.connect(self.add)
        self.remove_button.clicked.connect(self.remove)
        self.up_button.clicked.connect(lambda: self.move_block(-1))
        self.down_button.clicked.connect(lambda: self.move_block(1))
        for button in (self.add_button, self.remove_button, self.up_button, self.down_button):
            row.addWidget(button)
        row.addStretch(1)
        column.addLayout(row)

    def set_read_only(self, read_only: bool) -> None:
        for button in (self.add_button, self.remove_button, self.up_button, self.down_button):
            button.setEnabled(not read_only)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers if read_only
                                   else QAbstractItemView.EditTrigger.AllEditTriggers)
        for row in range(self.table.rowCount()):
            self.table.cellWidget(row, 0).setEnabled(not read_only)

    def _role_combo(self, role: str) -> QComboBox:
        combo = QComboBox()
        for value in SignatureRole:
            combo.addItem(ROLE_HELP[value], value.value)
        combo.setCurrentIndex(max(0, combo.findData(role)))
        combo.currentIndexChanged.connect(lambda *_: self.edited.emit())
        return combo

    def _insert(self, row: int, role: str, label: str) -> None:
        self.table.blockSignals(True)
        self.table.insertRow(row)
        self.table.setCellWidget(row, 0, self._role_combo(role))
        self.table.setItem(row, 1, QTableWidgetItem(label))
        self.table.blockSignals(False)

    def load(self, blocks: list[dict[str, str]]) -> None:
        self.table.setRowCount(0)
        for i, block in enumerate(blocks):
            self._insert(i, block["role"], block["label"])

    def blocks(self) -> list[dict[str, str]]:
        out = []
        for row in range(self.table.rowCount()):
            item = self.table.item(row, 1)
            # Column 0 always holds the QComboBox that _insert() put there.
            combo = cast(QComboBox, self.table.cellWidget(row, 0))
            out.append({"role": combo.currentData(), "label": item.text() if item else ""})
        return out

    def add(self) -> None:
        roles = [b["role"] for b in self.blocks()]
        role = next((r.value for r in SignatureRole if r.value not in roles), SignatureRole.APPROVED.value)
        row = self.table.rowCount()
        self._insert(row, role, f"{ROLE_HELP[SignatureRole(role)].capitalize()}")
        self.table.selectRow(row)
        self.edited.emit()

    def remove(self) -> None:
        row = self.table.currentRow()
        if row >= 0:
            self.table.removeRow(row)
            self.edited.emit()

    def move_block(self, step: int) -> None:
        row = self.table.currentRow()
        blocks = self.blocks()
        target = row + step
        if row < 0 or not 0 <= target < len(blocks):
            return
        blocks[row], blocks[target] = blocks[target], blocks[row]
        self.load(blocks)
        self.table.selectRow(target)
        self.edited.emit()
