"""Forms of the Scans page: link a page by hand (a panel beside the viewer), and record what happened to a paper
original (a dialog)."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.enums import Disposition, ScanOutcome, SignatureMeaning
from app.services.core.errors import FormtrailError
from app.services.identity.permissions import Permission
from app.services.scans import scans, true_copy
from app.services.scans.scans import ScanPageInfo
from app.ui.kit import messages
from app.ui.kit.side_panel import SidePanel
from app.ui.kit.widgets import fit_to_contents, hint, reason_field, title
from app.ui.pages.registry import PageContext

O = ScanOutcome  # noqa: E741 - the outcomes read as O.LINKED, O.BLANK

# What the person working the queue should do about each kind of exception, in one or two sentences.
ADVICE = {
    O.NO_CODE: "No code could be read (covered, torn off, badly scanned, or not a form). Try “Read code again”; if "
               "the serial printed beside the code is readable by eye, link the page by hand.",
    O.FOREIGN_CODE: "The page carries a QR code that is not one of ours. If it is not a controlled form, set it "
                    "aside as “not a controlled form”.",
    O.TAG_INVALID: "The code looks like ours but its security tag does not verify: possibly a forged or altered "
                   "form. Do not link it; keep the paper and inform QA (raise a deviation).",
    O.UNKNOWN_SERIAL: "No form with this serial was issued at this site. Check the printed serial; link by hand "
                      "only if the code was misread.",
    O.OTHER_SITE: "This form was issued by another site. Send the paper there; set the page aside here.",
    O.PAGE_OUT_OF_RANGE: "The page number in the code does not exist on this form. Check the sheet.",
    O.NOT_RETURNABLE: "The form was voided, replaced or declared missing. The page is kept with the form and shown "
                      "on the Reconcile page; it cannot be linked as valid.",
    O.POSSIBLE_COPY: "This page of the form was already returned with a different image. If this is a deliberate "
                     "rescan of the same sheet, link it by hand: it becomes the current version and the earlier "
                     "scan is kept. Otherwise it may be an uncontrolled copy: set it aside and raise a deviation.",
    O.CONFLICTING_CODES: "Codes of different forms are on one page (sheets scanned overlapping?). Rescan the sheets "
                         "one by one, then set this page aside.",
    O.BLANK: "A blank page, often the back of a duplex scan. Set it aside as “not a controlled form”.",
    O.UNREADABLE_PAGE: "The page image cannot be decoded. Try “Read code again”, or rescan the sheet.",
    O.BELOW_SPEC: "The page was scanned below the site's capture specification (resolution or colour), so it is "
                  "not a true copy. Rescan the sheet as the specification asks: the rescan links by its code and "
                  "closes this page. It cannot be linked by hand.",
}


class LinkPanel(SidePanel):
    """Link an exception page to a serial and page by hand (QA or Document Control; reason required), in a
    panel beside the viewer: the serial is read off the scan while it is typed."""

    def __init__(self, ctx: PageContext, info: ScanPageInfo, parent: QWidget | None = None) -> None:
        super().__init__("Link to a form by hand", parent)
        self._ctx, self._info = ctx, info
        self.result_value: ScanPageInfo | None = None
        self.body.addWidget(hint(f"{info.location}: {info.outcome.title}. {info.reason or ''}".strip()))
        if info.outcome in ADVICE:
            self.body.addWidget(hint(ADVICE[info.outcome]))
        form = QFormLayout()
        self.serial = QLineEdit(info.printed_as or "")  # the label as printed, or just its number
        self.serial.setPlaceholderText(f"serial as printed beside the code, e.g. {ctx.site.code}-000123 or 123")
        self.page_no = QSpinBox()
        self.page_no.setRange(1, 999)
        self.page_no.setValue(info.page_no or 1)
        form.addRow("&Serial:", self.serial)
        form.addRow("&Page of the form:", self.page_no)
        self.body.addLayout(form)
        self.reason = self.reason_box(f"Why? e.g. 'code covered by a stain; serial {ctx.site.code}-000123 readable "
                                      "by eye'")
        self.link_button = self.action_button
        self.link_button.setText("Link page")
        self.serial.textChanged.connect(self._update)
        self.reason.textChanged.connect(self._update)
        self._update()
        self.first_focus = self.reason if info.serial else self.serial

    def _update(self) -> None:
        self.link_button.setEnabled(bool(self.serial.text().strip() and self.reason.toPlainText().strip()))

    def submit(self) -> None:
        serial, reason = self.serial.text().strip(), self.reason.toPlainText().strip()
        if not serial or not reason:
            return
        try:
            self.result_value = scans.link_manually(self._ctx.db, self._ctx.actor, scan_page_id=self._info.id,
                                                    serial=serial, page_no=self.page_no.value(), reason=reason)
        except FormtrailError as exc:
            messages.show_exception(self, exc, title="Link a scanned page by hand")
            return
        self.finish(True)


class DispositionDialog(QDialog):
    """Where the paper original of a verified form went: archived (with its location), or destroyed (QA
    approval by e-signature)."""

    def __init__(self, ctx: PageContext, serial: str, parent: QWidget | None = None, *,
                 label: str | None = None) -> None:
        """``label``: the serial as printed on the paper, to name the form by (default: ``serial``)."""
        super().__init__(parent)
        self._ctx, self._serial, self._label = ctx, serial, label or serial
        self.result_value: Any = None
        self.setWindowTitle(f"Paper original of {self._label}")
        layout = QVBoxLayout(self)
        layout.addWidget(title(f"Paper original of {self._label}"))
        layout.addWidget(hint("The scans are verified true copies. Record what happens to the paper sheet."))
        self.archived = QRadioButton("&Archived — kept in the paper archive")
        self.destroyed_option = QRadioButton("&Destroyed — needs QA approval by e-signature")
        group = QButtonGroup(self)
        group.addButton(self.archived)
        group.addButton(self.destroyed_option)
        self.archived.setChecked(True)
        can_destroy = ctx.allowed(Permission.APPROVE_DESTRUCTION)
        self.destroyed_option.setEnabled(can_destroy)
        if not can_destroy:
            self.destroyed_option.setToolTip("Only QA can approve destroying a paper original.")
        layout.addWidget(self.archived)
        form = QFormLayout()
        self.location = QLineEdit()
        self.location.setPlaceholderText("room, cabinet, box, e.g. 'Archive B, cabinet 4, box 12'")
        form.addRow("   &Location:", self.location)
        layout.addLayout(form)
        layout.addWidget(self.destroyed_option)
        caption = QLabel("&Reason (required, recorded in the audit trail):")
        self.reason = reason_field("e.g. 'filed after true-copy verification'")
        caption.setBuddy(self.reason)
        layout.addWidget(caption)
        layout.addWidget(self.reason)
        buttons = QDialogButtonBox()
        self.record_button = buttons.addButton("Record", QDialogButtonBox.ButtonRole.AcceptRole)
        self.record_button.setDefault(True)
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        fit_to_contents(self, min_width=500)
        for signal in (self.location.textChanged, self.reason.textChanged, self.archived.toggled):
            signal.connect(self._update)
        self._update()

    def _update(self) -> None:
        archived = self.archived.isChecked()
        self.location.setEnabled(archived)
        ready = bool(self.reason.toPlainText().strip()) and (not archived or bool(self.location.text().strip()))
        self.record_button.setEnabled(ready)
        self.record_button.setText("Record" if archived else "Sign and record…")

    def accept(self) -> None:
        ctx, serial, reason = self._ctx, self._serial, self.reason.toPlainText().strip()
        try:
            if self.archived.isChecked():
                self.result_value = true_copy.record_disposition(
                    ctx.db, ctx.actor, serial=serial, disposition=Disposition.ARCHIVED,
                    location=self.location.text().strip(), reason=reason)
            else:
                self.result_value = ctx.sign(
                    self, summary=f"Destruction of the paper original of {self._label}, whose scans are verified true "
                                  f"copies.\nReason: {reason}", meaning=SignatureMeaning.APPROVED,
                    perform=lambda username, password: true_copy.record_disposition(
                        ctx.db, ctx.actor, serial=serial, disposition=Disposition.DESTROYED, location=None,
                        reason=reason, username=username, password=password))
                if self.result_value is None:
                    return  # not signed: the dialog stays open
        except FormtrailError as exc:
            messages.show_exception(self, exc, title=self.windowTitle())
            return
        super().accept()
