"""Issue page: issuing in the background with progress and cancel, the one release (save or print through QtPdf
onto a QPrinter), no reprints, and replacement by QA."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from app.enums import FormState
from app.services.core.errors import DomainError
from app.services.issuance import printing, register
from app.services.issuance.register import RegisterFilter
from app.services.site import settings
from app.services.templates import templates
from app.ui.kit import workers
from app.ui.pages.issuance.issue import IssuePage
from app.ui.pages.issuance.issue_release import PdfToRelease, ReleasePanel
from app.ui.pages.issuance.issue_replace import ReplaceDialog
from app.ui.pages.issuance.register import RegisterPage
from tests.helpers.forms import effective_template, issue
from tests.ui.conftest import assert_usable, settle
from tests.ui.helpers_issuance import answer_signature, pdf_pages, pdf_printer, pdf_text


def _page(qtbot, ctx_for, name: str = "dc") -> IssuePage:  # noqa: ANN001
    page = IssuePage(ctx_for(name))
    qtbot.addWidget(page)
    page.show()
    settle(qtbot)  # the "issued to" choices arrive in the background
    return page


def _fill(page: IssuePage, copies: int = 5, code: str = "QC-WS-014") -> None:
    page.template_combo.setCurrentIndex(page.template_combo.findData(code))
    page.copies.setValue(copies)
    page.purpose.setText("Batch 24-0117 dispensing")
    page.reference.setText("LOT 24-0117")
    page.issued_to.setEditText("Otto Operator")


def _issue(qtbot, page: IssuePage) -> None:  # noqa: ANN001
    assert page.issue_button.isEnabled()
    page.issue_button.click()
    assert page.task is not None
    qtbot.waitUntil(lambda: page.task is None, timeout=20_000)
    assert_usable(page)


def _forms(seed) -> int:  # noqa: ANN001
    return register.count_forms(seed.db, seed.dc, RegisterFilter())


def test_only_effective_templates_are_offered_and_the_form_is_explained(qtbot, seed, ctx_for) -> None:  # noqa: ANN001
    page = _page(qtbot, ctx_for)
    assert page.template_combo.count() == 0 and "approved by QA" in page.template_info.text()
    assert not page.issue_button.isEnabled()
    effective_template(seed, "PRD-BR-102")
    page.page_shown()
    assert page.template_combo.currentData() == "PRD-BR-102"
    due = page.due.date().toPython()
    assert (due - register.today(seed.db)).days == 14
    page.copies.setValue(3)
    assert "2 pages per copy" in page.template_info.text() and "= 6 pages" in page.template_info.text()
    assert not page.issue_button.isEnabled() and "purpose, issued to" in page.issue_button.toolTip()
    _fill(page, 3, "PRD-BR-102")
    assert page.issue_button.isEnabled() and page.issue_button.text() == "Issue 3 copies…"


def test_issue_five_copies_with_progress_and_save_the_pdf_once(qtbot, seed, ctx_for, boxes,
                                                              tmp_path: Path) -> None:  # noqa: ANN001
    effective_template(seed, "QC-WS-014")
    page = _page(qtbot, ctx_for)
    _fill(page)
    _issue(qtbot, page)
    assert "Issue 5 controlled copies of QC-WS-014 version 1" in boxes.confirms[0]
    assert page.progress_seen == (5, 5)  # the progress reached the end
    result = page.result
    assert result is not None and result.serials == ("000001", "000002", "000003", "000004", "000005")
    assert "Issued 5 copies of QC-WS-014 version 1" in page.result_title.text()
    assert "000001–000005" in page.result_text.text() and "5 pages" in page.result_text.text()
    assert not page.issue_button.isEnabled() and not page.purpose.isEnabled()  # one request, one result

    out = page.release.save_pdf(tmp_path / "copies.pdf")
    assert out == tmp_path / "copies.pdf" and pdf_pages(out) == 5
    assert "000003" in pdf_text(out, 2) and "CONTROLLED COPY" in pdf_text(out, 2)
    assert not page.release.print_button.isEnabled() and not page.release.save_button.isEnabled()
    assert not page.release.print_pdf(pdf_printer(tmp_path / "again.pdf"))  # no second release from here
    with pytest.raises(DomainError, match="never printed twice"):
        printing.save_to_file(seed.db, seed.dc, result.pdf_id, out=tmp_path / "again.pdf")

    page.again_button.click()
    assert page.purpose.text() == "" and page.issue_button.text() == "Issue 1 copy…" and page.purpose.isEnabled()


def test_print_through_qtpdf_onto_a_printer_and_a_second_print_is_refused(qtbot, seed, ctx_for, boxes,
                                                                          tmp_path: Path) -> None:  # noqa: ANN001
    effective_template(seed, "PRD-BR-102")
    page = _page(qtbot, ctx_for)
    _fill(page, 2, "PRD-BR-102")
    _issue(qtbot, page)
    printed: list[int] = []
    page.release.printed.connect(printed.append)
    assert page.release.print_pdf(pdf_printer(tmp_path / "printer.pdf"))
    qtbot.waitUntil(lambda: page.release.task is None, timeout=20_000)
    assert_usable(page.release)
    assert printed == [4] and pdf_pages(tmp_path / "printer.pdf") == 4
    assert "Printed serials BSL-01-000001 – BSL-01-000002 (4 pages)" in page.release.state.text()  # as printed
    assert not page.release.print_button.isEnabled()

    other = ReleasePanel(ctx_for("dc"))  # another screen holding the same PDF (e.g. the register)
    qtbot.addWidget(other)
    other.set_pdf(PdfToRelease(pdf_id=page.result.pdf_id, serials="000001–000002", pages=4))
    assert not other.print_pdf(pdf_printer(tmp_path / "reprint.pdf"))
    assert "never printed twice" in boxes.errors[-1]
    assert not (tmp_path / "reprint.pdf").exists()


def test_cancel_while_issuing_leaves_nothing_issued(qtbot, seed, ctx_for) -> None:  # noqa: ANN001
    effective_template(seed, "QC-WS-014")
    page = _page(qtbot, ctx_for)
    _fill(page, 50)
    gate = threading.Event()
    blocker = workers.run_task(lambda progress, cancelled: gate.wait(10), serial=True)  # holds the write queue
    task = page.issue()
    task.cancel()  # what the Cancel button of the progress dialog does
    gate.set()
    qtbot.waitUntil(lambda: page.task is None and not blocker.running, timeout=20_000)
    assert page.result is None and "nothing was issued and no serial number was used" in page.error.text()
    assert _forms(seed) == 0
    assert page.issue_button.isEnabled() and page.purpose.text() == "Batch 24-0117 dispensing"  # nothing lost
    _fill(page, 1)
    _issue(qtbot, page)
    assert page.result.serials == ("000001",)  # the cancelled run used no serial


def test_a_refused_issuance_says_why(qtbot, seed, ctx_for, tmp_path: Path) -> None:  # noqa: ANN001
    effective_template(seed, "QC-WS-014")
    page = _page(qtbot, ctx_for)
    _fill(page)
    templates.retire(seed.db, seed.qa, "QC-WS-014", 1, reason="CC-9")  # retired meanwhile, elsewhere
    _issue(qtbot, page)
    assert page.result is None and page.error.text().startswith("Nothing was issued: template QC-WS-014 has no "
                                                                "effective version")


def test_qa_replaces_a_copy_with_a_signature_and_prints_it_once(qtbot, seed, ctx_for,
                                                                 tmp_path: Path) -> None:  # noqa: ANN001
    effective_template(seed, "QC-WS-014")
    issued = issue(seed, "QC-WS-014", 3)
    qa = RegisterPage(ctx_for("qa"))
    qtbot.addWidget(qa)
    qa.show()
    assert qa.select("000002") and qa.replace_button.isEnabled()
    dialog = qa.replace()
    assert isinstance(dialog, ReplaceDialog) and dialog.serial.text() == "000002"
    assert "copy 2 of 3" in dialog.found.text() and not dialog.replace_button.isEnabled()
    dialog.reason.setPlainText("coffee spilled on the sheet; sheet kept for reconciliation")
    seen: list[str] = []
    answer_signature(seen=seen)
    dialog.replace_button.click()
    assert "Replace serial 000002" in seen[0]
    result = dialog.result_value
    assert result is not None and (result.old_serial, result.new_serial) == ("000002", "000004")
    assert "replaced by the new serial 000004" in dialog.result_label.text()
    # QA, who approved the replacement, releases its PDF once; nobody can print it again afterwards.
    assert dialog.release.print_button.isVisible()
    assert dialog.release.print_pdf(pdf_printer(tmp_path / "replacement.pdf"))
    qtbot.waitUntil(lambda: dialog.release.task is None, timeout=20_000)
    assert_usable(dialog.release)
    assert pdf_pages(tmp_path / "replacement.pdf") == 1
    dialog.close_button.click()
    qtbot.waitUntil(lambda: qa.dialog is None)
    assert qa.selected().serial == "000004" and qa.selected().replaces == "000002"
    old = register.fetch_forms(seed.db, seed.qa, RegisterFilter(text="000002"))[0]
    assert old.state is FormState.REPLACED
    assert [(p.pdf_id, p.serials, p.printed, p.released) for p in printing.pdfs_of(seed.db, seed.dc,
                                                                                   issued.issuance_id)] == [
        (issued.pdf_id, "000001–000003", "BSL-01-000001 – BSL-01-000003", False),
        (result.pdf_id, "000004–000004", "BSL-01-000004", True)]

    dc = RegisterPage(ctx_for("dc"))
    qtbot.addWidget(dc)
    dc.show()
    assert dc.select("000004")
    assert "BSL-01-000004 printed or saved" in dc.pdf_label.text()


def test_a_wrong_serial_or_a_returned_copy_cannot_be_replaced(qtbot, seed, ctx_for) -> None:  # noqa: ANN001
    effective_template(seed, "QC-WS-014")
    issue(seed, "QC-WS-014", 1)
    dialog = ReplaceDialog(ctx_for("qa"), serial="000099")
    qtbot.addWidget(dialog)
    dialog.reason.setPlainText("lost")
    assert dialog.found.text() == "No issued form has this serial." and not dialog.replace_button.isEnabled()
    dialog.serial.setText("BSL-01-000001")  # as printed beside the code
    assert "copy 1 of 1" in dialog.found.text() and dialog.replace_button.isEnabled()


def test_a_printer_that_cannot_print_does_not_use_up_the_release(qtbot, seed, ctx_for, boxes,
                                                                 tmp_path: Path) -> None:  # noqa: ANN001
    effective_template(seed, "QC-WS-014")
    page = _page(qtbot, ctx_for)
    _fill(page, 1)
    _issue(qtbot, page)
    assert not page.release.print_pdf(pdf_printer(tmp_path))  # a folder, as the print dialog suggests by default
    assert "cannot write the PDF file" in boxes.errors[-1]
    assert page.release.print_button.isEnabled()  # still released to nobody
    assert printing.pdfs_of(seed.db, seed.dc, page.result.issuance_id)[0].released is False
    assert page.release.print_pdf(pdf_printer(tmp_path / "ok.pdf"))
    qtbot.waitUntil(lambda: page.release.task is None, timeout=20_000)
    assert_usable(page.release)
    assert pdf_pages(tmp_path / "ok.pdf") == 1


def test_enter_in_a_field_issues_once_the_form_is_complete_and_counts_read_as_english(qtbot, seed, ctx_for,
                                                                                     boxes) -> None:  # noqa: ANN001
    effective_template(seed)
    page = _page(qtbot, ctx_for)
    page.template_combo.setCurrentIndex(page.template_combo.findData("QC-WS-014"))
    page.copies.setValue(1)
    assert page.copies.suffix() == " copy" and page.issue_button.text() == "Issue 1 copy…"
    assert "1 copy = 1 page to print" in page.template_info.text()
    page.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is page)
    page.purpose.setFocus()
    qtbot.keyClick(page.purpose, Qt.Key.Key_Return)  # not complete yet: nothing happens
    assert boxes.confirms == [] and page.task is None
    page.purpose.setText("Line clearance")
    page.issued_to.setEditText("Line 3")
    page.copies.setValue(2)
    assert page.copies.suffix() == " copies" and "2 copies = 2 pages" in page.template_info.text()
    qtbot.keyClick(page.issued_to, Qt.Key.Key_Enter)
    assert len(boxes.confirms) == 1 and "Issue 2 controlled copies" in boxes.confirms[0]
    qtbot.waitUntil(lambda: page.task is None, timeout=20_000)
    assert page.result is not None and page.result_title.text().startswith("✔ Issued 2 copies")


def _issued_to(seed, mode: str, entries: list[str] | None = None) -> None:  # noqa: ANN001
    if entries is not None:
        settings.change(seed.db, seed.admin, key="issuance.issued_to_list", value=entries, reason="CC-14 areas")
    settings.change(seed.db, seed.admin, key="issuance.issued_to_mode", value=mode, reason="CC-14 issued to")


def _offered(page: IssuePage) -> list[str]:
    return [page.issued_to.itemText(i) for i in range(page.issued_to.count())]


def test_issued_to_offers_the_users_only_and_cannot_be_typed_in_users_mode(qtbot, seed,
                                                                           ctx_for) -> None:  # noqa: ANN001
    effective_template(seed, "QC-WS-014")
    _issued_to(seed, "users", ["QC lab 2"])
    page = _page(qtbot, ctx_for)
    assert not page.issued_to.isEditable() and page.issued_to.lineEdit() is None
    assert _offered(page) == ["Dora Control (dc)", "Olga Operator (op2)", "Otto Operator (op)",
                              "Quentin Øster (qa2)", "Quinn Müller (qa)", "Vera Viewer (viewer)"]
    assert page.issued_to_hint.isVisible() and "does not accept other names" in page.issued_to_hint.text()
    page.template_combo.setCurrentIndex(page.template_combo.findData("QC-WS-014"))
    page.purpose.setText("Batch 24-0117 dispensing")
    assert page.issued_to.currentIndex() == -1 and not page.issue_button.isEnabled()  # nobody chosen yet
    assert "issued to" in page.issue_button.toolTip()
    page.issued_to.setCurrentIndex(_offered(page).index("Otto Operator (op)"))
    assert page.issue_button.isEnabled()
    _issue(qtbot, page)
    [row] = register.fetch_forms(seed.db, seed.dc, RegisterFilter(issuance_id=page.result.issuance_id))
    assert row.issued_to == "Otto Operator (op)"


def test_issued_to_offers_users_and_the_list_or_suggests_the_list_to_type_over(qtbot, seed,
                                                                              ctx_for) -> None:  # noqa: ANN001
    _issued_to(seed, "users+list", ["QC lab 2", "Line 3"])
    page = _page(qtbot, ctx_for)
    assert not page.issued_to.isEditable()
    assert _offered(page)[-2:] == ["QC lab 2", "Line 3"] and "Otto Operator (op)" in _offered(page)
    _issued_to(seed, "list")
    page.page_shown()
    settle(qtbot)
    assert not page.issued_to.isEditable() and _offered(page) == ["QC lab 2", "Line 3"]
    _issued_to(seed, "free", ["QC lab 2", "Line 3 east"])
    page.page_shown()
    settle(qtbot)
    assert page.issued_to.isEditable() and _offered(page) == ["QC lab 2", "Line 3 east"]  # suggestions only
    page.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is page)
    page.issued_to.setFocus()  # a completer completes only in the focused field, as when a person types
    qtbot.waitUntil(page.issued_to.hasFocus)
    qtbot.keyClicks(page.issued_to.lineEdit(), "Line 3")
    assert page.issued_to_text() == "Line 3"  # typed: a suggestion never completes it by itself
    page.page_shown()
    settle(qtbot)
    assert page.issued_to_text() == "Line 3"  # a reload keeps what was typed
