"""Reconcile page (issue 5 §1, §2, §4, §6): every form accounted for, void / missing / replace, close refused while
anything is outstanding, by a non-QA user and by the issuer, QA closes by e-signature, read-only after, reports."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pypdfium2
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from app.enums import FormState, IssuanceState, Role
from app.services.identity import auth, users
from app.services.reconciliation import reconciliation
from app.services.issuance import replacement
from app.services.site import serial_format, settings
from app.ui.kit.reason import ReasonDialog
from app.ui.kit.signature import SignatureDialog
from app.ui.pages.reconciliation import reconcile_dialogs
from app.ui.pages.reconciliation.reconcile import ReconcilePage
from app.ui.pages.reconciliation.reconcile_dialogs import MissingDialog, PeriodDialog
from app.ui.pages.reconciliation.reconcile_models import FormRowModel, IssuanceModel
from app.ui.pages.registry import PageContext, pages_for
from tests.helpers.governance import set_setting
from tests.helpers.seed import PASSWORD
from tests.ui.conftest import assert_usable, settle
from tests.ui.helpers_scans import five_issued, import_as, scanned_back, sign_when_asked


@pytest.fixture
def saved(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[Path]:
    """Where the "Save PDF" file dialog would have saved (no dialog in tests)."""
    asked: list[Path] = []

    def ask(parent, caption, suggestion):  # noqa: ANN001, ANN202
        path = tmp_path / "out" / suggestion
        path.parent.mkdir(exist_ok=True)
        asked.append(path)
        return path
    monkeypatch.setattr(reconcile_dialogs, "ask_save_path", ask)
    return asked


def _page(qtbot, ctx: PageContext) -> ReconcilePage:  # noqa: ANN001
    page = ReconcilePage(ctx)
    qtbot.addWidget(page)
    page.resize(1300, 850)
    page.show()
    settle(qtbot)
    return page


def _text(path: Path) -> str:
    doc = pypdfium2.PdfDocument(str(path))
    try:
        return "\n".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
    finally:
        doc.close()


def test_models_pass_the_model_tester(qtmodeltester, seed, tmp_path) -> None:  # noqa: ANN001
    issued = five_issued(seed)
    import_as(seed, "op", scanned_back(seed, tmp_path / "in", issued).files[:2])
    issuances = IssuanceModel(reconciliation.list_issuances(seed.db, seed.qa))
    qtmodeltester.check(issuances)
    assert issuances.data(issuances.index(0, 6)) == "2 of 5" and issuances.data(issuances.index(0, 7)) == "Open"
    forms = FormRowModel(reconciliation.reconciliation(seed.db, seed.qa, issued.issuance_id).forms)
    qtmodeltester.check(forms)
    assert [forms.data(forms.index(r, 3)) for r in range(5)] == ["1 of 1"] * 2 + ["0 of 1"] * 3
    assert forms.data(forms.index(0, 4)) == "1 scan ▸" and forms.data(forms.index(4, 7)) == "✘ not yet"
    assert forms.data(forms.index(4, 0), Qt.ItemDataRole.BackgroundRole) is not None  # outstanding: highlighted


def test_qa_reconciles_an_issuance_without_a_manual(qtbot, seed, ctx_for, tmp_path, boxes, saved) -> None:  # noqa: ANN001
    issued = five_issued(seed)
    s = issued.serials
    import_as(seed, "op", scanned_back(seed, tmp_path / "in", issued).files[:3])
    page = _page(qtbot, ctx_for("qa"))
    assert page.selected_issuance().issuance_id == issued.issuance_id
    assert page.progress.text() == "3 of 5 accounted for" and page.progress.value() == 3
    assert s[3] in page.outstanding_label.text() and s[4] in page.outstanding_label.text()

    # While two are still out, Close is not offered; the service's reason is its tooltip. Nothing to sign.
    assert page.close_button.isVisible() and not page.close_button.isEnabled()
    assert "2 of 5 forms are not accounted for" in page.close_button.toolTip()
    assert f"{s[3]} (still out: 0 of 1 page back)" in page.close_button.toolTip()
    page.close_reconciliation()
    assert QApplication.activeModalWidget() is None and not page.read_only

    # The scans of a returned form open in the viewer.
    assert page.select_form(s[0]) and page.scans_button.isEnabled()
    page.open_scans()
    viewer = page.viewer_dialog.viewer
    qtbot.waitUntil(lambda: viewer.shown_key is not None, timeout=20_000)
    assert viewer.pages[0].label.startswith(f"{issued.labels[0]} p.1 — linked")  # as printed on the sheet
    page.viewer_dialog.close()

    # Void one (reason required).
    assert page.select_form(s[3]) and page.void_button.isEnabled()
    assert not page.select_form(s[0]) or not page.void_button.isEnabled()  # returned: cannot be voided
    page.select_form(s[3])
    page.void()
    dialog = page.dialog
    assert isinstance(dialog, ReasonDialog) and not dialog.action_button.isEnabled()
    qtbot.keyClicks(dialog.reason, "spoiled: wrong batch number written")
    dialog.accept()
    settle(qtbot)
    assert page.selected_form().serial == s[3] and page.selected_form().state is FormState.VOIDED
    assert "spoiled: wrong batch number written" in page.form_model.data(page.form_model.index(3, 5))

    # Declare one missing (reason and deviation).
    page.select_form(s[4])
    page.declare_missing()
    dialog = page.dialog
    assert isinstance(dialog, MissingDialog)
    qtbot.keyClicks(dialog.reason, "not found after the shift")
    assert not dialog.action_button.isEnabled()
    qtbot.keyClicks(dialog.deviation, "DEV-2026-031")
    dialog.accept()
    settle(qtbot)
    row = page.selected_form()
    assert row.state is FormState.MISSING and row.deviation_ref == "DEV-2026-031"
    assert page.progress.text() == "5 of 5 accounted for" and not page.outstanding_label.isVisible()
    assert "QA can close" in page.state_label.text()
    assert page.issuance_model.data(page.issuance_model.index(0, 7)) == "✔ Ready to close"

    # Close: QA signs "reconciled"; then the issuance is read-only.
    seen: list = []
    sign_when_asked("qa", seen=seen)
    page.close_reconciliation()
    [dialog] = seen
    assert isinstance(dialog, SignatureDialog) and "All 5 forms are accounted for" in dialog.summary.toPlainText()
    settle(qtbot)
    assert page.read_only and page.view.state is IssuanceState.RECONCILED
    assert page.progress.text() == "5 of 5 accounted for"
    assert page.state_label.text().startswith("✔ Reconciled and read-only")
    assert "Quinn Müller (qa), Reconciled" in page.signatures_label.text()
    for button in (page.void_button, page.missing_button, page.replace_button, page.close_button):
        assert not button.isEnabled()
    assert page.issuance_model.data(page.issuance_model.index(0, 7)) == "Reconciled"

    # The reconciliation report (PDF) holds every serial and the signature.
    page.reconciliation_report()
    qtbot.waitUntil(lambda: page.task is None, timeout=30_000)
    assert_usable(page)
    [path] = saved
    text = _text(path)
    assert all(serial in text for serial in s) and "DEV-2026-031" in text and "Reconciled" in text
    assert boxes.notices[-1].path == path


def test_accountability_report_for_a_period(qtbot, seed, ctx_for, boxes, saved) -> None:  # noqa: ANN001
    five_issued(seed, copies=2)
    page = _page(qtbot, ctx_for("dc"))
    page.accountability_report()
    dialog = page.dialog
    assert isinstance(dialog, PeriodDialog)
    today = seed.db.clock.now().astimezone().date()
    assert dialog.period == (today.replace(day=1), today)
    dialog.since.setDate(dialog.until.date().addDays(1))
    dialog.accept()
    settle(qtbot)
    assert dialog.error.text() == "The end date is before the start date." and dialog.isVisible()
    dialog.since.setDate(dialog.until.date().addDays(-30))
    dialog.accept()
    settle(qtbot)
    qtbot.waitUntil(lambda: page.task is None and len(saved) == 1 and saved[0].exists(), timeout=30_000)
    assert_usable(page)
    assert "QC-WS-014@1" in _text(saved[0])


def test_close_is_not_offered_to_other_roles(qtbot, seed, ctx_for) -> None:  # noqa: ANN001
    issued = five_issued(seed, copies=1)
    reconciliation.void_form(seed.db, seed.dc, serial=issued.serials[0], reason="spoiled")
    page = _page(qtbot, ctx_for("dc"))  # Document Control voids and declares missing, but never closes
    assert page.close_button.isHidden() and not page.replace_button.isVisible()
    assert not page.void_button.isHidden()
    assert [spec.key for spec in pages_for(seed.op) if spec.key == "reconcile"] == []
    assert [spec.key for spec in pages_for(seed.viewer) if spec.key == "reconcile"] == []


def test_close_by_the_issuer_is_refused(qtbot, seed, boxes, site, trail) -> None:  # noqa: ANN001
    users.set_roles(seed.db, seed.admin, username="dc", roles=[Role.DOCUMENT_CONTROL, Role.QA], reason="CC-9")
    both = auth.authenticate(seed.db, username="dc", password=PASSWORD).actor
    from tests.helpers.forms import effective_template
    effective_template(seed)
    from app.services.issuance import issuance
    result = issuance.issue_forms(seed.db, both, code="QC-WS-014", copies=1, purpose="Line clearance",
                                  reference=None, issued_to="Line 3", due=dt.date(2099, 1, 1))
    reconciliation.void_form(seed.db, both, serial=result.serials[0], reason="batch cancelled")
    page = _page(qtbot, PageContext(db=seed.db, actor=both, site=site))
    assert page.close_button.isVisible() and not page.close_button.isEnabled()  # the service says: not you
    assert "issuer" in page.close_button.toolTip()
    # The service refuses, and writes the refusal, should the screen be bypassed (before any password).
    from app.services.core.error_codes import ErrorCode
    from app.services.core.errors import RuleViolation
    with pytest.raises(RuleViolation) as refused:
        reconciliation.close(seed.db, both, result.issuance_id, username="dc", password="not even checked")
    assert refused.value.code == ErrorCode.SEPARATION_OF_DUTIES
    assert [e.action for e in trail(action="RULE_REFUSED")] == ["RULE_REFUSED"]
    assert not page.read_only


def test_replace_with_qa_signature(qtbot, seed, ctx_for, boxes, saved) -> None:  # noqa: ANN001
    issued = five_issued(seed, copies=2)
    page = _page(qtbot, ctx_for("qa"))
    page.select_form(issued.serials[1])
    assert page.replace_button.isEnabled()
    page.replace()
    dialog = page.dialog
    assert isinstance(dialog, ReasonDialog) and dialog.action_button.text() == "Continue to signature…"
    qtbot.keyClicks(dialog.reason, "torn during use; sheet kept")
    seen: list = []
    sign_when_asked("qa", seen=seen)
    dialog.accept()
    assert seen and "torn during use" in seen[0].summary.toPlainText()
    settle(qtbot)
    rows = {r.serial: r for r in page.form_model.rows}
    new = next(r for r in rows.values() if r.replaces == issued.serials[1])
    assert rows[issued.serials[1]].state is FormState.REPLACED and rows[issued.serials[1]].replaced_by == new.serial
    assert page.selected_form().serial == new.serial
    assert f"{new.label} replaces {issued.labels[1]}" in boxes.infos[-1]  # as printed on the two sheets
    assert new.label == "BSL-01-000003" and new.replaces_label == issued.labels[1]
    # QA, who approved the replacement, releases its PDF once.
    assert saved and saved[-1].read_bytes().startswith(b"%PDF") and "print it once" in boxes.infos[-1]


def test_overdue_issuances_are_highlighted_and_filtered(qtbot, seed, ctx_for, clock) -> None:  # noqa: ANN001
    late = five_issued(seed, copies=1, purpose="Old batch")
    clock.advance(days=20)
    from tests.helpers.forms import issue
    current = issue(seed, "QC-WS-014", copies=1, purpose="New batch")
    page = _page(qtbot, ctx_for("qa"))
    model = page.issuance_model
    assert [r.issuance_id for r in model.rows] == [late.issuance_id, current.issuance_id]  # overdue first
    assert model.data(model.index(0, 7)) == "⚠ OVERDUE"
    assert model.data(model.index(0, 7), Qt.ItemDataRole.BackgroundRole) is not None
    assert "OVERDUE" in page.heading.text()
    page.show_filter("overdue")
    assert page.filter_combo.currentData() == "overdue" and [r.issuance_id for r in model.rows] == [late.issuance_id]
    page.show_filter("ready")
    assert model.rowCount() == 0 and page.heading.text() == "Select an issuance above."
    assert not page.detail_box.isEnabled()


def test_replacement_pdf_is_saved_by_whoever_may_release_it(qtbot, seed, boxes, saved, site) -> None:  # noqa: ANN001
    issued = five_issued(seed, copies=1)  # issued by Document Control
    users.set_roles(seed.db, seed.admin, username="qa2", roles=[Role.QA, Role.DOCUMENT_CONTROL], reason="CC-12")
    both = auth.authenticate(seed.db, username="qa2", password=PASSWORD).actor
    page = _page(qtbot, PageContext(db=seed.db, actor=both, site=site))
    page.select_form(issued.serials[0])
    page.replace()
    qtbot.keyClicks(page.dialog.reason, "coffee spilled over the sheet before use")
    sign_when_asked("qa2")
    page.dialog.accept()
    settle(qtbot)
    [path] = saved
    new = next(r for r in page.form_model.rows if r.replaces == issued.serials[0])
    assert path.name == f"{new.serial}-replacement.pdf" and path.read_bytes().startswith(b"%PDF")
    assert page.last_saved == path and f"saved to {path}" in boxes.infos[-1]


def _returned_and_voided(seed, tmp_path: Path, *, voider: str = "dc"):  # noqa: ANN001, ANN202
    """Two copies out: the first scanned back (no true copy verified, no data entered), the second voided."""
    issued = five_issued(seed, copies=2)
    assert import_as(seed, "op", scanned_back(seed, tmp_path / "in", issued).files[:1]).linked == 1
    reconciliation.void_form(seed.db, seed.actors[voider], serial=issued.serials[1], reason="spoiled")
    return issued


def test_close_warns_of_what_it_leaves_and_the_signer_sees_it(qtbot, seed, ctx_for, tmp_path) -> None:  # noqa: ANN001
    """Issue 14 item 8: at the default settings closing is allowed, and the warnings are on the page and in the
    text the signer signs against."""
    issued = _returned_and_voided(seed, tmp_path)
    page = _page(qtbot, ctx_for("qa"))
    leaves = ("If closed now: 1 returned form has scans not yet verified as a true copy; 1 returned form has no "
              "transcribed record")
    assert page.selected_issuance().issuance_id == issued.issuance_id
    assert leaves in page.state_label.text() and "QA can close" in page.state_label.text()
    assert page.close_button.isEnabled() and leaves in page.close_button.toolTip()
    seen: list = []
    sign_when_asked("qa", seen=seen)
    page.close_reconciliation()
    [dialog] = seen
    assert isinstance(dialog, SignatureDialog) and leaves in dialog.summary.toPlainText()
    settle(qtbot)
    assert page.read_only and "If closed now" not in page.state_label.text()


@pytest.mark.parametrize(("key", "voider", "says"), [
    ("reconciliation.require_true_copies_before_close", "dc", "verified as a true copy first"),
    ("reconciliation.require_records_before_close", "dc", "transcribed first"),
    ("reconciliation.closer_independent", "qa", "voided or declared missing"),  # qa voided, then closes
])
def test_close_is_refused_with_its_reason_when_a_setting_requires(  # noqa: ANN001
        qtbot, seed, ctx_for, tmp_path, boxes, key, voider, says) -> None:
    _returned_and_voided(seed, tmp_path, voider=voider)
    set_setting(seed, key, 1, reason="site policy")  # approved by QA (SE-02)
    page = _page(qtbot, ctx_for("qa"))
    assert page.close_button.isVisible() and not page.close_button.isEnabled()
    assert says in page.close_button.toolTip() and "Not now:" in page.close_button.toolTip()
    assert says in page.state_label.text() and "QA can close" not in page.state_label.text()
    page.close_reconciliation()  # bypassing the disabled button: nothing to sign, the reason is said
    assert QApplication.activeModalWidget() is None and says in boxes.errors[-1] and not page.read_only


def test_the_forms_table_shows_each_serial_as_printed_on_the_paper(qtbot, seed, ctx_for) -> None:  # noqa: ANN001
    """Issue 14, item 5: the Serial column and the replacement links read as the labels on the sheets; the row
    is still found by its bare serial."""
    settings.change(seed.db, seed.admin, key=serial_format.KEY, value="{site}-{template}-{seq:06}",
                    reason="CC-2026-014 serial labels")
    issued = five_issued(seed, copies=2)
    assert issued.labels == ("BSL-01-QC-WS-014-000001", "BSL-01-QC-WS-014-000002")
    replacement.replace_form(seed.db, seed.qa, serial=issued.serials[1], reason="torn", username="qa",
                             password=PASSWORD)  # 000003
    page = _page(qtbot, ctx_for("qa"))
    model = page.form_model
    shown = {model.row_at(r).serial: (model.data(model.index(r, 0)), model.data(model.index(r, 5)))
             for r in range(model.rowCount())}
    assert shown["000001"] == ("BSL-01-QC-WS-014-000001", "still out: 0 of 1 page back")
    assert shown["000002"][0] == "BSL-01-QC-WS-014-000002" and \
        "replaced by BSL-01-QC-WS-014-000003" in shown["000002"][1]
    assert shown["000003"][0] == "BSL-01-QC-WS-014-000003" and \
        "replaces BSL-01-QC-WS-014-000002" in shown["000003"][1]
    assert "BSL-01-QC-WS-014-000001 — still out" in page.outstanding_label.text()
    assert page.select_form("000002") and page.selected_form().label == "BSL-01-QC-WS-014-000002"
