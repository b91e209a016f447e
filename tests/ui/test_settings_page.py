"""Settings page: list, change with a reason (audited as a configuration change)."""

from __future__ import annotations

from PySide6.QtCore import Qt

from app.services.site import settings
from app.ui.pages.admin.settings import SettingsModel, SettingsPage


def _row(page: SettingsPage, key: str) -> int:
    return next(r for r in range(page.model.rowCount())
                if page.model.data(page.model.index(r, 0), Qt.ItemDataRole.UserRole).key == key)


def test_settings_model_passes_the_model_tester(qtmodeltester, seed) -> None:  # noqa: ANN001
    qtmodeltester.check(SettingsModel(settings.list_settings(seed.db)))


def test_change_idle_lock_with_reason(qtbot, seed, ctx_for, boxes, trail) -> None:  # noqa: ANN001
    page = SettingsPage(ctx_for("admin"))
    qtbot.addWidget(page)
    page.show()
    page.table.selectRow(_row(page, "session.idle_lock_minutes"))
    page.change()
    dialog = page.dialog
    dialog.value.setValue(5)
    dialog.accept()  # no reason yet
    assert dialog.isVisible() and boxes.errors == ["a configuration change needs a reason"]
    dialog.reason.setPlainText("CR-2026-007: shorter lock on the shop floor")
    dialog.accept()
    assert page.dialog is None
    values = {s.key: s.value for s in settings.list_settings(seed.db)}
    assert values["session.idle_lock_minutes"] == 5
    row = _row(page, "session.idle_lock_minutes")
    assert page.model.data(page.model.index(row, 1)) == "5"
    assert page.model.data(page.model.index(row, 3)) == "admin"
    (event,) = trail(action="CONFIG_CHANGE")
    assert event.entity_id == "session.idle_lock_minutes" and event.username == "admin"
    assert event.reason == "CR-2026-007: shorter lock on the shop floor"
