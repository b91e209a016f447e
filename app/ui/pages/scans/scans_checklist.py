"""The true-copy checklist (SC-02): before the signature, the verifier ticks what they compared against the paper
— all pages present, legible, colour where it matters, corrections visible. The service refuses a signature
without every item (code true-copy-checklist-incomplete); the dialog only hands on what was ticked."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from app.services.scans import true_copy
from app.ui.kit.widgets import hint

# What each item asks the verifier to look at, beside its short name (the statement prints the short name).
_ASKS = {
    "all_pages_present": "every page of the form is scanned, front and back where written on",
    "legible": "every entry, initial and signature reads on the scan as on the paper",
    "colour_where_it_matters": "ink colours, stamps and coloured marks that carry meaning show on the scan",
    "corrections_visible": "every correction shows the original entry struck through, with initials and date",
}


class ChecklistDialog(QDialog):
    def __init__(self, *, what: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Verify true copy: checklist")
        column = QVBoxLayout(self)
        column.addWidget(QLabel(what))
        column.addWidget(hint("Compare the scans with the paper original and confirm each point; then sign."))
        self.boxes: dict[str, QCheckBox] = {}
        for name, text in true_copy.ITEMS:
            box = QCheckBox(f"{text.capitalize()}: {_ASKS[name]}")
            box.toggled.connect(lambda _on: self._update())
            self.boxes[name] = box
            column.addWidget(box)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.sign_button = buttons.addButton("Sign…", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        column.addWidget(buttons)
        self._update()

    def _update(self) -> None:
        # Convenience only: the service checks the checklist again and refuses an incomplete one.
        self.sign_button.setEnabled(all(box.isChecked() for box in self.boxes.values()))

    def confirm_all(self) -> None:
        for box in self.boxes.values():
            box.setChecked(True)

    def checklist(self) -> true_copy.Checklist:
        return true_copy.Checklist(**{name: box.isChecked() for name, box in self.boxes.items()})
