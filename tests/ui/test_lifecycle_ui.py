"""Issue 16 / BK-05 and RC-05 on screen: the Retention page (holds, disposal requests, QA's signed approval, the
certificate) and "Invalidate result…" in the record workspace (the value stays shown, flagged VOID)."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QLabel

from app.services.admin import disposal, retention
from app.services.core.error_codes import ErrorCode
from app.services.records import records
from app.ui.kit.reason import ReasonDialog
from app.ui.pages.records.record_workspace import ENTRY_TAB
from app.ui.pages.records.retention import ISSUANCES_TAB, RetentionPage
from app.ui.pages.records.retention_dialogs import HoldDialog
from app.ui.pages.registry import pages_for
from tests.helpers.forms import effective_template
from tests.helpers.lifecycle import past_retention, reconciled
from tests.helpers.records import fill
from tests.ui.conftest import settle
from tests.ui.helpers_records import issued, open_page, row, sign_with


def _page(qtbot, ctx) -> RetentionPage:  # noqa: ANN001
    page = RetentionPage(ctx)
    qtbot.addWidget(page)
    page.resize(1200, 700)
    page.show()
    settle(qtbot)
    return page


def _answer_reason(dialog: object, text: str) -> None:
    """Type ``text`` into the reason dialog the page opened (window-modal, not blocking) and press its action."""
    assert isinstance(dialog, ReasonDialog), dialog
    dialog.reason.setPlainText(text)
    dialog.action_button.click()


def test_the_retention_page_is_offered_to_qa_and_document_control_only(seed, ctx_for) -> None:  # noqa: ANN001
    for name, shown in (("qa", True), ("dc", True), ("op", False), ("admin", False), ("viewer", False)):
        keys = [spec.key for spec in pages_for(seed.actors[name])]
        assert ("retention" in keys) is shown, name


@pytest.mark.compliance
def test_bk05_retention_page_hold_request_and_signed_approval(qtbot, seed, ctx_for, monkeypatch) -> None:  # noqa: ANN001
    effective_template(seed, "QC-WS-014")
    done = reconciled(seed)

    # Within its retention: listed as kept, and Request disposal is not offered (the service's reason is said).
    dc_page = _page(qtbot, ctx_for("dc"))
    assert dc_page.tabs.currentIndex() == ISSUANCES_TAB
    assert dc_page.issuances.rows[0].status == retention.Status.KEPT
    dc_page.issuance_table.selectRow(0)
    assert dc_page.request_button.isVisible() and not dc_page.request_button.isEnabled()
    assert "retention has not expired" in dc_page.request_button.toolTip()
    assert not dc_page.hold_button.isVisible() and not dc_page.approve_button.isVisible()  # QA's acts

    past_retention(seed)
    qa_page = _page(qtbot, ctx_for("qa"))
    qa_page.issuance_table.selectRow(0)
    assert qa_page.hold_button.isEnabled()
    qa_page.place_hold()
    dialog = qa_page.dialog
    assert isinstance(dialog, HoldDialog) and dialog.target.text() == str(done.issuance_id)
    dialog.reason.setPlainText("regulatory inquiry RI-9")
    dialog.ok_button.click()
    settle(qtbot)
    [hold] = qa_page.holds.rows
    assert hold.reason == "regulatory inquiry RI-9"

    dc_page.reload()
    settle(qtbot)
    dc_page.issuance_table.selectRow(0)
    assert not dc_page.request_button.isEnabled() and "legal hold" in dc_page.request_button.toolTip()

    # Released with a reason, then requested by document control.
    qa_page.tabs.setCurrentIndex(1)
    qa_page.hold_table.selectRow(0)
    assert qa_page.release_button.isEnabled()
    qa_page.release_hold()
    _answer_reason(qa_page.dialog, "inquiry closed")
    settle(qtbot)
    assert retention.holds(seed.db, seed.qa) == []

    dc_page.reload()
    settle(qtbot)
    dc_page.issuance_table.selectRow(0)
    assert dc_page.request_button.isEnabled()
    dc_page.request_disposal()
    _answer_reason(dc_page.dialog, "retention expired, annual disposal")
    settle(qtbot)
    [request] = dc_page.requests.rows
    assert request.status.value == "requested" and [f.sha256 for f in request.files] == [done.pdf_sha256]

    # QA approves with the signature dialog; then the certificate opens.
    qa_page.reload()
    settle(qtbot)
    qa_page.tabs.setCurrentIndex(2)
    qa_page.request_table.selectRow(0)
    assert qa_page.approve_button.isEnabled() and not qa_page.certificate_button.isEnabled()
    sign_with()
    qa_page.approve()
    settle(qtbot)
    [request] = qa_page.requests.rows
    assert request.status.value == "completed" and "Quinn Müller (qa), Approved" in (request.approval or "")
    assert not seed.db.files.path_for(done.pdf_sha256).exists()
    qa_page.request_table.selectRow(0)
    assert qa_page.certificate_button.isEnabled() and not qa_page.approve_button.isEnabled()
    opened: list[str] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()) or True)
    qa_page.open_certificate()
    settle(qtbot)
    assert opened == [str(disposal.certificate_path(seed.db, seed.qa, request.id))]


def test_bk05_the_requester_is_not_offered_the_approval(qtbot, seed, ctx_for) -> None:  # noqa: ANN001
    effective_template(seed, "QC-WS-014")
    done = reconciled(seed)
    past_retention(seed)
    disposal.request(seed.db, seed.qa, issuance_ids=[done.issuance_id], reason="retention expired")
    page = _page(qtbot, ctx_for("qa"))
    page.tabs.setCurrentIndex(2)
    page.request_table.selectRow(0)
    assert page.approve_button.isVisible() and not page.approve_button.isEnabled()
    assert "may not also approve" in page.approve_button.toolTip()
    [request] = page.requests.rows
    assert request.approve_refused == ErrorCode.SEPARATION_OF_DUTIES


@pytest.mark.compliance
def test_rc05_invalidate_result_in_the_workspace_keeps_the_value_flagged_void(qtbot, seed, ctx_for) -> None:  # noqa: ANN001
    form = issued(seed, copies=1)
    serial = form.serials[0]
    fill(seed, serial)
    viewer = open_page(qtbot, ctx_for("viewer"), serial)
    assert not row(viewer, "sample_weight_1").invalidate_button.isVisible()

    page = open_page(qtbot, ctx_for("qa"), serial)
    page.workspace.tabs.setCurrentIndex(ENTRY_TAB)  # QA opens on the review tab; the values are on this one
    field = row(page, "sample_weight_1")
    assert field.invalidate_button.isVisible()
    field.invalidate_button.click()
    dialog = page.workspace.dialog
    assert isinstance(dialog, ReasonDialog) and "0.1002" in dialog.findChildren(QLabel)[1].text()
    sign_with()
    _answer_reason(dialog, "balance out of calibration (DEV-2026-044)")
    qtbot.waitUntil(lambda: page.workspace.view.field("sample_weight_1").current is None, timeout=10_000)
    field = row(page, "sample_weight_1")
    assert "VOID: 0.1002" in field.flags_label.text() and "DEV-2026-044" in field.flags_label.text()
    assert "invalidated by qa" in field.flags_label.text()
    assert not field.invalidate_button.isVisible() and field.input.text() == ""  # a new value is wanted
    [entry] = records.record_view(seed.db, seed.qa, serial).field("sample_weight_1").history
    assert entry.invalidated and entry.value == "0.1002"
