"""Settings page: list, change with a reason (audited as a configuration change, versioned); a GMP-relevant change
waits for QA, who approves it with an e-signature or rejects it with a reason on the same page (SE-02)."""

from __future__ import annotations

from PySide6.QtCore import Qt

from app.services.site import config_changes, settings
from app.ui.kit.reason import ReasonDialog
from app.ui.pages.admin.config_panel import ChangesModel
from app.ui.pages.admin.settings import SettingsModel, SettingsPage
from tests.ui.conftest import settle
from tests.ui.helpers_scans import sign_when_asked


def _row(page: SettingsPage, key: str) -> int:
    return next(r for r in range(page.model.rowCount())
                if page.model.data(page.model.index(r, 0), Qt.ItemDataRole.UserRole).key == key)


def _value(seed, key):  # noqa: ANN001, ANN202
    return {s.key: s.value for s in settings.list_settings(seed.db)}[key]


def _page(qtbot, ctx) -> SettingsPage:  # noqa: ANN001
    page = SettingsPage(ctx)
    qtbot.addWidget(page)
    page.show()
    settle(qtbot)
    return page


def test_settings_model_passes_the_model_tester(qtmodeltester, seed) -> None:  # noqa: ANN001
    qtmodeltester.check(SettingsModel(settings.list_settings(seed.db)))


def test_changes_model_passes_the_model_tester(qtmodeltester, seed, ctx_for) -> None:  # noqa: ANN001
    settings.change(seed.db, seed.admin, key="login.max_failures", value=3, reason="CR-1")
    model = ChangesModel(ctx_for("qa"))
    model.set_rows(config_changes.history(seed.db, seed.qa))
    qtmodeltester.check(model)


def test_change_a_setting_with_reason_takes_effect_at_once(qtbot, seed, ctx_for, boxes, trail) -> None:  # noqa: ANN001
    page = _page(qtbot, ctx_for("admin"))
    page.table.selectRow(_row(page, "issuance.due_soon_days"))
    page.change()
    dialog = page.dialog
    dialog.value.setValue(5)
    dialog.accept()  # no reason yet
    assert dialog.isVisible() and boxes.errors == ["a configuration change needs a reason"]
    dialog.reason.setPlainText("CR-2026-007: chase earlier")
    dialog.accept()
    assert page.dialog is None and boxes.infos == []
    assert _value(seed, "issuance.due_soon_days") == 5
    row = _row(page, "issuance.due_soon_days")
    assert page.model.data(page.model.index(row, 1)) == "5"
    assert page.model.data(page.model.index(row, 3)) == "admin"
    (event,) = trail(action="CONFIG_CHANGE", entity_id="issuance.due_soon_days")  # the seed sets one of its own
    assert event.entity_id == "issuance.due_soon_days" and event.username == "admin"
    assert event.reason == "CR-2026-007: chase earlier"
    settle(qtbot)
    assert page.changes.history_model.rowCount() == 1  # version 1


def test_se02_gmp_change_waits_for_qa_who_approves_it_with_a_signature(qtbot, seed, ctx_for, boxes, trail) -> None:  # noqa: ANN001
    admin_page = _page(qtbot, ctx_for("admin"))
    admin_page.table.selectRow(_row(admin_page, "session.idle_lock_minutes"))
    admin_page.change()
    admin_page.dialog.value.setValue(5)
    admin_page.dialog.reason.setPlainText("CR-2026-008: shorter lock on the shop floor")
    admin_page.dialog.accept()
    assert admin_page.dialog is None and "waits for QA's approval" in boxes.infos[-1]
    assert _value(seed, "session.idle_lock_minutes") == 15  # not yet in effect
    row = _row(admin_page, "session.idle_lock_minutes")
    assert admin_page.model.data(admin_page.model.index(row, 4)) == "Pending: 5"
    admin_page.changes.reload()
    settle(qtbot)
    assert admin_page.changes.pending_model.rowCount() == 1
    assert admin_page.changes.approve_button.isHidden() and admin_page.changes.reject_button.isHidden()  # never

    qa_page = _page(qtbot, ctx_for("qa"))
    assert not qa_page.change_button.isVisible()  # QA does not change settings
    panel = qa_page.changes
    assert panel.pending_model.rowCount() == 1
    assert panel.approve_button.isVisible() and panel.approve_button.isEnabled()
    sign_when_asked("qa")
    panel.approve_selected()
    settle(qtbot)
    assert _value(seed, "session.idle_lock_minutes") == 5
    assert panel.pending_model.rowCount() == 0 and panel.history_model.rowCount() == 1
    status = panel.history_model.data(panel.history_model.index(0, 4))
    decision = panel.history_model.data(panel.history_model.index(0, 9))
    assert status == "Approved" and "Quinn Müller (qa), Approved" in decision
    (applied,) = trail(action="CONFIG_CHANGE", entity_id="session.idle_lock_minutes")
    assert applied.username == "qa"


def test_se02_qa_rejects_with_a_reason(qtbot, seed, ctx_for, boxes) -> None:  # noqa: ANN001
    settings.change(seed.db, seed.admin, key="records.late_entry_hours", value=72, reason="weekend entries")
    page = _page(qtbot, ctx_for("qa2"))
    panel = page.changes
    panel.reject_selected()
    dialog = panel.dialog
    assert isinstance(dialog, ReasonDialog) and not dialog.action_button.isEnabled()
    dialog.reason.setPlainText("no approved change request")
    dialog.accept()
    settle(qtbot)
    assert panel.pending_model.rowCount() == 0
    assert panel.history_model.data(panel.history_model.index(0, 9)) == "no approved change request"
    assert _value(seed, "records.late_entry_hours") == 24
