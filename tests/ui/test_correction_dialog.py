"""The correction form (RC-01): a reason picked and explained, the original kept and shown struck through. It
opens beside the scan, in place of the entry form, so the sheet stays in sight."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from app.enums import EntryKind, SignatureMeaning
from app.services.records import records
from app.ui.pages.records.record_correction import PICK, CorrectionPanel
from tests.helpers.records import fill, verify_critical
from tests.helpers.seed import PASSWORD
from tests.ui.helpers_records import issued, open_page, return_sheet, row


@pytest.fixture
def returned(seed):  # noqa: ANN001, ANN201
    form = issued(seed, copies=1)
    serial = form.serials[0]
    return_sheet(seed, form, serial)
    fill(seed, serial)
    return serial


def _open_correction(qtbot, ctx_for, serial, field="sample_weight_2"):  # noqa: ANN001, ANN202
    page = open_page(qtbot, ctx_for("op"), serial)
    row(page, field).correct_button.click()
    panel = page.workspace.panel
    assert isinstance(panel, CorrectionPanel) and panel.isVisible() and not panel.isWindow()
    scan, stack = page.workspace.scan, page.workspace.panels
    assert stack.isAncestorOf(panel) and scan.isVisible()
    assert not stack.geometry().intersects(scan.geometry())  # beside the scan (both in the splitter), not over it
    assert panel.width() <= stack.width()  # no sideways scrolling in the panel
    assert not page.workspace.entry.isVisible()  # the form takes the entry list's place
    return page, panel


def _history(seed, serial, field="sample_weight_2"):  # noqa: ANN001, ANN202
    return records.record_view(seed.db, seed.qa, serial).field(field).history


def test_rc01_pick_and_explanation_are_both_required(qtbot, seed, ctx_for, returned) -> None:  # noqa: ANN001
    _page, dialog = _open_correction(qtbot, ctx_for, returned)
    assert dialog.current_label.text() == "0.0998 g"
    assert dialog.reason_combo.itemText(0) == PICK
    assert dialog.reason_combo.itemText(1) == "Transcription error"  # the configured pick list
    assert not dialog.save_button.isEnabled()
    dialog.value_edit.setText("0.0999")
    dialog.reason_combo.setCurrentIndex(1)
    assert not dialog.save_button.isEnabled() and "Explain" in dialog.save_button.toolTip()
    dialog.explanation.setPlainText("last digit misread; the printout shows 0.0999")
    dialog.reason_combo.setCurrentIndex(0)
    assert not dialog.save_button.isEnabled() and "Pick a reason" in dialog.save_button.toolTip()
    qtbot.keyClick(dialog.value_edit, Qt.Key.Key_Return)  # Enter with something missing: says what, changes nothing
    assert dialog.isVisible() and dialog.ok is None and "Pick a reason" in dialog.error.text()
    assert len(_history(seed, returned)) == 1


def test_rc01_correction_keeps_the_original_struck_through_with_who_when_why(qtbot, seed, ctx_for, returned) -> None:  # noqa: ANN001
    page, dialog = _open_correction(qtbot, ctx_for, returned)
    dialog.value_edit.setText("0.0999")
    dialog.reason_combo.setCurrentIndex(1)
    dialog.explanation.setPlainText("last digit misread; the printout shows 0.0999")
    dialog.save_button.click()
    assert dialog.ok is True and page.workspace.panel is None and page.workspace.entry.isVisible()
    original, correction = _history(seed, returned)
    assert (original.value, original.superseded) == ("0.0998", True)
    assert correction.value == "0.0999" and correction.kind is EntryKind.CORRECTION
    assert correction.reason == "Transcription error: last digit misread; the printout shows 0.0999"
    assert correction.source == "scan"  # read from the page shown beside the form

    weights = row(page, "sample_weight_2")
    assert weights.input.text() == "0.0999" and "Corrected by op" in weights.info_label.text()
    assert weights.history_button.text() == "History (2)"
    weights.history_button.click()
    table = page.workspace.dialog.model
    assert table.rowCount() == 2
    assert table.index(0, 0).data() == "0.0998 g" and table.index(0, 0).data(table_font_role()).strikeOut()
    assert "Transcription error: last digit misread" in table.index(1, table.column_of("Why / notes")).data()
    assert table.index(1, table.column_of("Entered by")).data() == "op"


def table_font_role():  # noqa: ANN201
    from PySide6.QtCore import Qt
    return Qt.ItemDataRole.FontRole


def test_correction_made_on_the_paper_is_captured_with_its_scan_page(qtbot, seed, ctx_for, returned) -> None:  # noqa: ANN001
    _page, dialog = _open_correction(qtbot, ctx_for, returned, field="sample_id")
    assert dialog.paper_check.isEnabled() and "scan page 1" in dialog.paper_check.toolTip()
    dialog.value_edit.setText("LOT 24-0118")
    dialog.reason_combo.setCurrentIndex(dialog.reason_combo.findText("Illegible entry clarified"))
    dialog.explanation.setPlainText("struck through and initialled OO on the sheet, dated 2026-03-04")
    dialog.paper_check.setChecked(True)
    dialog.save_button.click()
    current = _history(seed, returned, "sample_id")[-1]
    assert current.kind is EntryKind.PAPER_CORRECTION and current.scan_page_id is not None


def test_without_a_scan_a_paper_correction_cannot_be_chosen(qtbot, seed, ctx_for) -> None:  # noqa: ANN001
    form = issued(seed, copies=1)
    fill(seed, form.serials[0])
    _page, dialog = _open_correction(qtbot, ctx_for, form.serials[0])
    assert not dialog.paper_check.isEnabled()


def test_an_out_of_limit_correction_asks_for_a_justification(qtbot, seed, ctx_for, returned) -> None:  # noqa: ANN001
    _page, dialog = _open_correction(qtbot, ctx_for, returned)
    dialog.value_edit.setText("0.1200")
    dialog.reason_combo.setCurrentIndex(1)
    dialog.explanation.setPlainText("the printout shows 0.1200")
    dialog.save_button.click()
    assert dialog.isVisible() and "justification" in dialog.error.text()
    assert dialog.justification_edit.isVisibleTo(dialog)
    assert dialog.value_edit.text() == "0.1200" and "0.1200" in dialog.explanation.toPlainText()  # nothing lost
    dialog.justification_edit.setText("deviation DEV-12 raised")
    dialog.save_button.click()
    current = _history(seed, returned)[-1]
    assert current.out_of_limits and current.justification == "deviation DEV-12 raised"


def test_correcting_a_signed_record_warns_that_the_signature_breaks(qtbot, seed, ctx_for, returned) -> None:  # noqa: ANN001
    verify_critical(seed, returned)
    records.sign_record(seed.db, seed.qa, serial=returned, meaning=SignatureMeaning.REVIEWED, username="qa",
                        password=PASSWORD)
    _page, dialog = _open_correction(qtbot, ctx_for, returned, field="balance_id")
    warnings = [w.text() for w in dialog.findChildren(type(dialog.current_label)) if "signed again" in w.text()]
    assert warnings and "content changed after signing" in warnings[0]
