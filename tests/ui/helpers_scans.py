"""Returned sheets for the Scans, Reconcile and Home page tests: five issued copies "scanned" back at 150 dpi,
one with a pen stroke across a code, plus a photocopy of the first sheet."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from app.services.issuance.issuance import IssuanceResult
from app.services.scans import intake
from app.ui.kit.signature import SignatureDialog
from tests.helpers import scanlike as sl
from tests.helpers.forms import effective_template, issue
from tests.helpers.scans import issued_page_images, write
from tests.helpers.seed import PASSWORD, Seed

DPI = 150


@dataclasses.dataclass(frozen=True)
class Returned:
    issued: IssuanceResult
    files: list[Path]  # five sheets, then the photocopy of the first

    @property
    def serials(self) -> list[str]:
        return list(self.issued.serials)


def _code_box(image, dpi: int = DPI) -> tuple[int, int, int, int]:  # noqa: ANN001 - PIL image
    """The top-right corner where one of the two codes is printed."""
    side, margin = sl.mm_to_px(32, dpi), sl.mm_to_px(6, dpi)
    return (image.width - margin - side, margin, image.width - margin, margin + side)


def five_issued(seed: Seed, copies: int = 5, **kwargs) -> IssuanceResult:  # noqa: ANN003
    effective_template(seed, "QC-WS-014")
    return issue(seed, "QC-WS-014", copies=copies, **kwargs)


def scanned_back(seed: Seed, folder: Path, issued: IssuanceResult, *, filled: bool = False) -> Returned:
    """Each issued page as a scanner would return it; sheet 2 has a pen stroke across a code; the last file is
    sheet 1 photocopied (same page, a different image). ``filled``: written on by hand first (QC-WS-014), sheet
    3 with its check weight ID left blank (a paper finding)."""
    images = issued_page_images(seed.db, issued.pdf_sha256, dpi=DPI)
    if filled:
        from app.forms.render.boxes import form_geometry
        from tests.helpers.forms import sample_layout
        from tests.helpers.paper_sheets import fill_worksheet
        geometry = form_geometry(sample_layout(issued.template))
        images = [fill_worksheet(image, geometry, dpi=DPI, seed=i,
                                 left_blank=frozenset({"check_weight_id"}) if i == 2 else frozenset())
                  for i, image in enumerate(images)]
    files = []
    for i, image in enumerate(images):
        if i == 1:
            image = sl.pen_stroke(image, _code_box(image), dpi=DPI, seed=2)
        files.append(write(folder, f"{i + 1:02d}-sheet.png", sl.png_bytes(sl.scanned(image, seed=i), dpi=DPI)))
    copy = sl.low_contrast(sl.add_noise(sl.scanned(images[0], seed=9), 10, seed=4))
    files.append(write(folder, "06-photocopy.png", sl.png_bytes(copy, dpi=DPI)))
    return Returned(issued, files)


def import_as(seed: Seed, name: str, files: list[Path]) -> intake.ImportReport:
    return intake.import_files(seed.db, seed.actors[name], files)


def sign_when_asked(username: str, password: str = PASSWORD, *, seen: list | None = None) -> None:
    """Answer the next signature dialog (they are modal: run from a timer while ``exec`` waits)."""

    def answer() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, SignatureDialog):
            QTimer.singleShot(20, answer)
            return
        if seen is not None:
            seen.append(dialog)
        dialog.username.setText(username)
        dialog.password.setText(password)
        dialog.accept()
        if dialog.isVisible():  # refused: the error is shown inside; leave it for the test to read, then cancel
            if seen is not None:
                seen.append(dialog.error.text())
            dialog.reject()

    QTimer.singleShot(0, answer)


def verify_checked(panel) -> None:  # noqa: ANN001 - a TrueCopyPanel
    """Verify true copies as a person does: "Verify…", tick every point of the checklist (SC-02), "Sign…" (the
    signature dialog is answered by ``sign_when_asked`` / ``answer_batch`` set up before)."""
    from app.ui.pages.scans.scans_checklist import ChecklistDialog
    panel.verify()
    dialog = panel.dialog
    if isinstance(dialog, ChecklistDialog):
        dialog.confirm_all()
        dialog.sign_button.click()
