"""Issue 16 / paper intake in the GUI: "Add pages…" on the register (BF-02), the true-copy checklist in the verify
dialog (SC-02), a page below the capture specification in the exceptions queue (SC-03)."""

from __future__ import annotations

import shutil

import pytest

from app.enums import FormState
from app.services.scans import intake, true_copy
from app.ui.pages.issuance.add_pages import AddPagesDialog
from app.ui.pages.issuance.register import RegisterPage
from app.ui.pages.scans.scans import ScansPage
from app.ui.pages.scans.scans_checklist import ChecklistDialog
from tests.helpers.paper_intake import five_page_template, scan_png, set_setting
from tests.helpers.forms import issue
from tests.helpers.scans import issued_page_images
from tests.ui.conftest import settle
from tests.ui.helpers_scans import five_issued, sign_when_asked

pytestmark = pytest.mark.compliance


def _register(qtbot, ctx) -> RegisterPage:  # noqa: ANN001
    page = RegisterPage(ctx)
    qtbot.addWidget(page)
    page.show()
    return page


def test_bf02_register_offers_add_pages_on_an_issued_form_and_shows_of_7(qtbot, seed, ctx_for) -> None:  # noqa: ANN001
    five_page_template(seed)
    serial = issue(seed, copies=1).serials[0]
    viewer = _register(qtbot, ctx_for("viewer"))
    assert viewer.add_pages_button.isHidden()  # only Document Control issues pages

    page = _register(qtbot, ctx_for("dc"))
    assert page.select(serial)
    assert page.add_pages_button.isEnabled() and "5 pages." in page.detail.text()
    dialog = page.add_pages()
    assert isinstance(dialog, AddPagesDialog) and not dialog.add_button.isEnabled()  # a reason first
    dialog.count.setValue(2)
    qtbot.keyClicks(dialog.reason, "step 7 needs more room")
    assert dialog.add_button.isEnabled() and dialog.outcome.text() == "New pages: 6–7 of 7"
    dialog.add()
    qtbot.waitUntil(lambda: dialog.result_value is not None, timeout=20_000)
    assert dialog.release.isVisibleTo(dialog) and "now has 7 pages" in dialog.outcome.text()
    dialog.reject()  # Close: accepted, the register reads again
    settle(qtbot)
    assert page.select(serial)
    text = page.detail.text()
    assert "7 pages (page x of 7)" in text and "2 extra pages (6–7) added by" in text and "step 7 needs" in text
    assert "pages 6–7 of" in page.pdf_label.text() and "NOT PRINTED YET" in page.pdf_label.text()


def test_bf02_add_pages_is_not_offered_on_a_returned_form(qtbot, seed, ctx_for, tmp_path) -> None:  # noqa: ANN001
    result = five_issued(seed, copies=1)
    scan = tmp_path / "back.pdf"
    shutil.copy(seed.db.files.path_for(result.pdf_sha256), scan)
    intake.import_files(seed.db, seed.op, [scan])
    page = _register(qtbot, ctx_for("dc"))
    assert page.select(result.serials[0])
    row = page.selected()
    assert row is not None and row.state is FormState.RETURNED
    assert not page.add_pages_button.isEnabled() and "Not now:" in page.add_pages_button.toolTip()


def test_sc02_the_verify_dialog_asks_for_every_checklist_item(qtbot, seed, ctx_for, tmp_path) -> None:  # noqa: ANN001
    result = five_issued(seed, copies=1)
    scan = tmp_path / "back.pdf"
    shutil.copy(seed.db.files.path_for(result.pdf_sha256), scan)
    intake.import_files(seed.db, seed.op, [scan])
    page = ScansPage(ctx_for("op2"))
    qtbot.addWidget(page)
    page.resize(1200, 800)
    page.show()
    settle(qtbot)
    page.show_filter("true-copy")
    panel = page.true_copies
    qtbot.waitUntil(lambda: panel.model.rowCount() == 1, timeout=10_000)
    assert panel.select(result.serials[0])
    qtbot.waitUntil(lambda: panel.verify_button.isEnabled(), timeout=10_000)
    panel.verify()
    dialog = panel.dialog
    assert isinstance(dialog, ChecklistDialog)
    assert [box.isChecked() for box in dialog.boxes.values()] == [False] * 4 and not dialog.sign_button.isEnabled()
    for name in ("all_pages_present", "legible", "colour_where_it_matters"):
        dialog.boxes[name].setChecked(True)
    assert not dialog.sign_button.isEnabled()  # corrections visible is not confirmed yet
    dialog.boxes["corrections_visible"].setChecked(True)
    seen: list = []
    sign_when_asked("op2", seen=seen)
    dialog.sign_button.click()
    assert "checked: all pages present, legible, colour where it matters, corrections visible" in \
        seen[0].summary.toPlainText()
    status = true_copy.status(seed.db, seed.dc, result.serials[0])
    assert status.verified_by == "op2" and status.checklist and "corrections visible" in status.checklist


def test_sc03_a_page_below_the_specification_is_shown_and_cannot_be_linked_by_hand(
        qtbot, seed, ctx_for, tmp_path) -> None:  # noqa: ANN001
    result = five_issued(seed, copies=1)
    set_setting(seed, "intake.min_dpi", 300)
    [image] = issued_page_images(seed.db, result.pdf_sha256, dpi=150)[:1]
    intake.import_files(seed.db, seed.op, [scan_png(tmp_path, "low.png", image, dpi=150)])
    page = ScansPage(ctx_for("dc"))
    qtbot.addWidget(page)
    page.resize(1200, 800)
    page.show()
    settle(qtbot)
    page.show_filter("exceptions")
    panel = page.exceptions
    qtbot.waitUntil(lambda: panel.model.rowCount() == 1, timeout=10_000)
    panel.table.selectRow(0)
    settle(qtbot)
    text = panel.details.text()
    assert "150 dpi < 300 dpi" in text and "Rescan the sheet" in text and "150 dpi" in text
    assert not panel.link_button.isEnabled() and panel.not_controlled_button.isEnabled()
