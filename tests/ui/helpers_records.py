"""Shared set-up for the records page tests: a worksheet issued, returned as a scan, opened on the page."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from app.services.issuance.issuance import IssuanceResult
from app.services.reconciliation import reconciliation
from app.services.scans import intake
from app.ui.kit.signature import SignatureDialog
from app.ui.pages.records.record_field import FieldRow
from app.ui.pages.records.records import RecordsPage
from app.ui.pages.registry import PageContext
from tests.helpers import scanlike as sl
from tests.helpers.forms import effective_template, issue
from tests.helpers.scans import issued_page_images, write
from tests.helpers.seed import PASSWORD, Seed


def issued(seed: Seed, copies: int = 2, code: str = "QC-WS-014") -> IssuanceResult:
    effective_template(seed, code)
    return issue(seed, code, copies=copies)


def return_sheet(seed: Seed, form: IssuanceResult, serial: str) -> None:
    """Scan every page of the controlled sheet of ``serial`` back in (one PNG per page, all linked)."""
    images = issued_page_images(seed.db, form.pdf_sha256, dpi=150)
    per_form = form.pages // len(form.serials)  # the issued PDF holds every copy
    first = form.serials.index(serial) * per_form
    folder = Path(tempfile.mkdtemp(prefix="ft-scan-"))
    paths = [write(folder, f"{serial}-{n + 1}.png", sl.png_bytes(sl.scanned(images[first + n]), dpi=150))
             for n in range(per_form)]
    assert intake.import_files(seed.db, seed.op, paths).linked == per_form


def reconcile(seed: Seed, form: IssuanceResult, serial: str) -> None:
    """Account for every other sheet (voided) and close the issuance as QA (qa2)."""
    for other in form.serials:
        if other != serial:
            reconciliation.void_form(seed.db, seed.dc, serial=other, reason="not needed for this batch")
    reconciliation.close(seed.db, seed.qa2, form.issuance_id, username="qa2", password=PASSWORD)


def open_page(qtbot, ctx: PageContext, serial: str, *, size: tuple[int, int] = (1400, 900)) -> RecordsPage:  # noqa: ANN001
    page = RecordsPage(ctx)
    qtbot.addWidget(page)
    page.resize(*size)
    page.show()
    assert page.open_record(serial)
    scan = page.workspace.scan
    qtbot.waitUntil(lambda: not scan.loading)
    return page


def row(page: RecordsPage, name: str) -> FieldRow:
    return page.workspace.entry.rows[name]


def type_value(qtbot, page: RecordsPage, name: str, text: str) -> FieldRow:  # noqa: ANN001
    """Type into a field and press Enter, as an operator does."""
    field = row(page, name)
    field.input.setFocus()
    field.input.clear()
    qtbot.keyClicks(field.input, text)
    field.input.returnPressed.emit()
    return field


def sign_with(password: str = PASSWORD, *, check: Callable[[SignatureDialog], None] | None = None) -> None:
    """Answer the next signature dialog (it runs modally) with ``password``."""
    def answer() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, SignatureDialog), dialog
        if check is not None:
            check(dialog)
        dialog.password.setText(password)
        dialog.sign_button.click()
    QTimer.singleShot(0, answer)
