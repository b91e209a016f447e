"""Batch actions with one signature (issue 14, item 2): select many true copies and sign them with one password
entry (one signature per form), set many exception pages aside with one reason, verify the ticked values of a
record. Each shows a summary of what was done and what was refused, and the lists stay on their filter."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication
from shiboken6 import isValid

from app.services.core.error_codes import ErrorCode
from app.services.issuance.issuance import IssuanceResult
from app.services.records import records
from app.services.scans import intake, scans, true_copy
from app.ui.kit.side_panel import ReasonPanel
from app.ui.kit.signature import SignatureDialog
from app.ui.pages.registry import PageContext
from app.ui.pages.scans.scans import ScansPage
from app.ui.pages.scans.scans_models import select_rows
from tests.helpers import scanlike as sl
from tests.helpers.records import fill
from tests.helpers.scans import write
from tests.helpers.seed import PASSWORD, Seed
from tests.ui.conftest import assert_usable, settle
from tests.ui.helpers_records import open_page, row
from tests.ui.helpers_scans import five_issued, verify_checked


def _returned(seed: Seed, tmp_path: Path, copies: int, *, importer: str = "op") -> IssuanceResult:
    """``copies`` forms returned: their issued PDF imported as the scans (every code reads)."""
    result = five_issued(seed, copies=copies)
    scan = tmp_path / f"returned-{result.issuance_id}.pdf"
    shutil.copy(seed.db.files.path_for(result.pdf_sha256), scan)
    assert intake.import_files(seed.db, seed.actors[importer], [scan]).linked == copies
    return result


def _page(qtbot, ctx: PageContext) -> ScansPage:  # noqa: ANN001
    page = ScansPage(ctx)
    qtbot.addWidget(page)
    page.resize(1200, 800)
    page.show()
    settle(qtbot)
    return page


def _true_copies(qtbot, ctx: PageContext, rows: int):  # noqa: ANN001, ANN202
    page = _page(qtbot, ctx)
    page.show_filter("true-copy")
    panel = page.true_copies
    qtbot.waitUntil(lambda: panel.model.rowCount() == rows, timeout=10_000)
    return panel


def _select(panel, serials: list[str]) -> None:  # noqa: ANN001
    select_rows(panel.table, [panel.model.row_of(s) for s in serials])


def answer_batch(qtbot, password: str, *, seen: list[SignatureDialog], then: Callable[[SignatureDialog], None]  # noqa: ANN001
                 = lambda dialog: None) -> None:
    """Answer the next signature dialog with ``password`` (it is modal: from a timer while ``exec`` waits), then,
    once the batch signed in the background has ended, call ``then`` with the dialog (still open if refused)."""
    def answer() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, SignatureDialog):
            QTimer.singleShot(20, answer)
            return
        seen.append(dialog)
        dialog.password.setText(password)
        dialog.sign_button.click()
        wait()

    def wait() -> None:
        dialog = seen[-1]
        if not isValid(dialog):
            return
        if dialog.task is not None:
            QTimer.singleShot(20, wait)
            return
        then(dialog)
    QTimer.singleShot(0, answer)


def test_done_when_three_true_copies_one_selection_one_password(qtbot, seed, ctx_for, tmp_path, boxes) -> None:  # noqa: ANN001
    result = _returned(seed, tmp_path, 4)
    panel = _true_copies(qtbot, ctx_for("op2"), 4)
    chosen = sorted(result.serials[:3], reverse=True)  # the list shows the newest serial first
    _select(panel, chosen)
    assert [f.serial for f in panel.selected_forms()] == chosen
    assert panel.verify_button.isEnabled() and panel.verify_button.text() == "Verify 3 true copies…"
    assert panel.disposition_button.isHidden()  # operators: no; and never for several forms at once
    seen: list[SignatureDialog] = []
    answer_batch(qtbot, PASSWORD, seen=seen)
    top = panel.window()
    top.activateWindow()
    qtbot.waitUntil(top.isActiveWindow, timeout=5_000)
    panel.table.setFocus()
    qtbot.keyClick(panel.table, Qt.Key.Key_Return)  # Enter: the panel's main action, Verify
    panel.dialog.confirm_all()  # the true-copy checklist (SC-02), then the one signature
    panel.dialog.sign_button.click()
    [dialog] = seen  # one dialog, one password, for the three forms
    summary = dialog.summary.toPlainText()
    assert all(serial in summary for serial in chosen) and result.serials[3] not in summary
    assert "True copy verified" in dialog.meaning.text() and "own signature" in summary
    assert panel.last_result is not None and panel.last_result.signed == tuple(chosen)
    assert all(true_copy.status(seed.db, seed.dc, s).verified_by == "op2" for s in chosen)
    assert true_copy.status(seed.db, seed.dc, result.serials[3]).verified_by is None
    assert boxes.notices[-1].text.startswith("3 true copies verified") and boxes.infos == []
    # The list stays on "waiting for verification": the three leave it, the remaining form is selected.
    qtbot.waitUntil(lambda: panel.model.rowCount() == 1, timeout=10_000)
    assert panel.show_combo.currentData() == "to-verify"
    assert [f.serial for f in panel.selected_forms()] == [result.serials[3]]
    assert_usable(panel)


def test_forms_one_may_not_sign_are_left_out_and_refusals_are_summed_up(
        qtbot, seed, ctx_for, tmp_path, boxes) -> None:  # noqa: ANN001
    others = _returned(seed, tmp_path, 3, importer="op")
    own = _returned(seed, tmp_path, 1, importer="op2")  # op2's own import: separation of duties
    panel = _true_copies(qtbot, ctx_for("op2"), 4)
    _select(panel, [*others.serials, own.serials[0]])
    assert panel.verify_button.text() == "Verify 3 true copies…" and "1 selected form" in panel.verify_button.toolTip()
    # Meanwhile another verifier signs one of them: the service refuses it, the others are signed.
    true_copy.verify_true_copy(seed.db, seed.qa, serial=others.serials[1], username="qa", password=PASSWORD,
        checklist=true_copy.Checklist.confirmed())
    seen: list[SignatureDialog] = []
    answer_batch(qtbot, PASSWORD, seen=seen)
    verify_checked(panel)
    summary = seen[0].summary.toPlainText()
    assert "Left out" in summary and own.serials[0] in summary.split("Left out")[1]
    result = panel.last_result
    assert result is not None and result.signed == (others.serials[2], others.serials[0])  # in list order
    assert [(key, code) for key, code, _ in result.refused] == [(others.serials[1], ErrorCode.NOT_ALLOWED_NOW)]
    [info] = boxes.infos  # a refusal asks for attention: a box, naming the form and why
    assert "2 true copies verified, 1 refused" in info and f"{others.serials[1]}: " in info \
        and "already verified" in info


def test_wrong_password_signs_nothing_and_the_dialog_stays_for_another_try(
        qtbot, seed, ctx_for, tmp_path, boxes) -> None:  # noqa: ANN001
    result = _returned(seed, tmp_path, 3)
    panel = _true_copies(qtbot, ctx_for("op2"), 3)
    _select(panel, list(result.serials))
    seen: list[SignatureDialog] = []
    errors: list[str] = []

    def refused(dialog: SignatureDialog) -> None:
        errors.append(dialog.error.text())
        assert dialog.isVisible() and dialog.sign_button.isEnabled() and dialog.password.text() == ""
        dialog.reject()
    answer_batch(qtbot, "wrong", seen=seen, then=refused)
    verify_checked(panel)
    assert errors and errors[0].startswith("Not signed: wrong user name or password")
    assert panel.last_result is None
    assert all(true_copy.status(seed.db, seed.dc, s).verified_by is None for s in result.serials)


def test_batch_lockout_ends_the_session_as_a_single_signature_does(
        qtbot, seed, ctx_for, tmp_path, boxes, trail) -> None:  # noqa: ANN001
    result = _returned(seed, tmp_path, 2)
    ended: list[str] = []
    panel = _true_copies(qtbot, dataclasses.replace(ctx_for("op2"), end_session=ended.append), 2)
    _select(panel, list(result.serials))
    seen: list[SignatureDialog] = []

    def again(dialog: SignatureDialog) -> None:
        if isValid(dialog) and dialog.isVisible():  # refused: try the wrong password once more
            dialog.password.setText("wrong")
            dialog.sign_button.click()
            QTimer.singleShot(20, lambda: wait_for(dialog))

    def wait_for(dialog: SignatureDialog) -> None:
        if not isValid(dialog):
            return
        if dialog.task is not None:
            QTimer.singleShot(20, lambda: wait_for(dialog))
        else:
            again(dialog)
    answer_batch(qtbot, "wrong", seen=seen, then=again)
    verify_checked(panel)
    assert seen[0].locked_out and ended == ["account locked after failed signature attempts"]
    assert any("locked" in text and "Nothing was signed" in text for text in boxes.errors)
    assert len(trail(action="SIGN_FAIL", username="op2")) == 5 and len(trail(action="LOCKOUT")) == 1


def test_exceptions_many_pages_set_aside_with_one_reason(qtbot, seed, ctx_for, tmp_path, boxes) -> None:  # noqa: ANN001
    five_issued(seed, copies=1)
    letter = sl.png_bytes(sl.make_page("https://example.org", dpi=150).image, dpi=150)
    paths = [write(tmp_path / "letters", f"letter-{i}.png", letter + bytes([i])) for i in range(4)]
    outcomes = intake.import_files(seed.db, seed.op, paths).outcomes
    assert [o.outcome for o in outcomes] == ["foreign-code"] * 4
    page = _page(qtbot, ctx_for("dc"))
    page.show_filter("exceptions")
    panel = page.exceptions
    qtbot.waitUntil(lambda: panel.model.rowCount() == 4, timeout=10_000)
    ids = [o.scan_page_id for o in outcomes[:3]]
    select_rows(panel.table, [panel.model.row_of(i) for i in ids])
    assert panel.not_controlled_button.text() == "Set 3 pages aside…" and panel.not_controlled_button.isEnabled()
    assert not panel.link_button.isEnabled() and not panel.retry_button.isEnabled()  # one page at a time
    panel.set_aside()
    form = panel.panel
    assert isinstance(form, ReasonPanel) and form.action_button.text() == "Set 3 pages aside"
    qtbot.keyClicks(form.reason, "supplier delivery notes")
    qtbot.keyClick(form.reason, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: panel.task is None and panel.last_result is not None, timeout=20_000)
    settle(qtbot)
    assert sorted(panel.last_result.done) == sorted(ids) and panel.last_result.refused == ()
    assert boxes.notices[-1].text.startswith("3 pages set aside") and boxes.infos == []
    assert [r.id for r in panel.model.rows] == [outcomes[3].scan_page_id]
    assert [p.id for p in panel.selected_pages()] == [outcomes[3].scan_page_id]  # the next page waiting
    for page_id in ids:
        info = scans.get_page(seed.db, seed.dc, page_id)
        assert (info.resolution, info.resolved_by) == ("supplier delivery notes", "dc")
    assert_usable(panel)


@pytest.fixture
def returned_record(seed) -> str:  # noqa: ANN001
    from tests.ui.helpers_records import issued, return_sheet
    form = issued(seed, copies=1)
    return_sheet(seed, form, form.serials[0])
    fill(seed, form.serials[0], who="op")
    return form.serials[0]


def test_record_verify_the_ticked_values_only(qtbot, seed, ctx_for, returned_record, boxes) -> None:  # noqa: ANN001
    page = open_page(qtbot, ctx_for("op2"), returned_record)
    entry = page.workspace.entry
    pending = [n for n, r in entry.rows.items() if r.field.may_verify]
    assert len(pending) >= 3 and entry.verify_all_button.text() == f"Verify all shown ({len(pending)})…"
    for name in pending[:2]:
        row(page, name).pick.setChecked(True)
    assert entry.verify_all_button.text() == "Verify 2 selected…" and entry.to_verify() == pending[:2]
    entry.verify_all_button.click()
    qtbot.waitUntil(lambda: entry.task is None and entry.last_result is not None, timeout=20_000)
    assert entry.last_result.signed == tuple(pending[:2])
    view = records.record_view(seed.db, seed.qa, returned_record)
    verified = {f.name for f in view.fields if f.current is not None and f.current.verified_by == "op2"}
    assert verified == set(pending[:2])
    assert boxes.notices[-1].text.startswith("2 values verified")
    assert not any(r.pick.isChecked() for r in entry.rows.values())
    assert entry.verify_all_button.text() == f"Verify all shown ({len(pending) - 2})…"
    # The enterer is offered nothing to tick (the service says: not their own values).
    own = open_page(qtbot, ctx_for("op"), returned_record)
    assert all(r.pick.isHidden() for r in own.workspace.entry.rows.values())
    assert not own.workspace.entry.verify_all_button.isEnabled()
