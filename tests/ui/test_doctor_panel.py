"""The workstation checks in the desktop app: on the Settings page, and offered when the database cannot open."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from app.services.admin.doctor import CheckStatus
from app.ui.pages.admin.doctor_panel import ChecksDialog
from app.ui.pages.admin.settings import SettingsPage
from app.ui.shell import launch
from tests.ui.conftest import assert_usable


def test_settings_page_runs_the_checks_in_the_background(qtbot, seed, ctx_for) -> None:  # noqa: ANN001
    page = SettingsPage(ctx_for("admin"))
    qtbot.addWidget(page)
    page.show()
    page.tabs.setCurrentWidget(page.checks)
    qtbot.mouseClick(page.checks.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.checks.report is not None, timeout=20_000)
    report = page.checks.report
    assert page.checks.model.rowCount() == len(report.checks) == 10
    statuses = {c.code: c.status for c in report.checks}
    assert statuses["database"] is CheckStatus.OK and statuses["file-store"] is CheckStatus.OK
    assert statuses["backup"] is CheckStatus.WARN
    assert page.checks.model.data(page.checks.model.index(0, 0)) == "OK"
    assert "warning" in page.checks.summary.text()
    assert page.checks.run_button.isEnabled()
    assert_usable(page)


def test_start_up_failure_offers_the_checks_and_they_name_the_database(qtbot, boxes, monkeypatch, tmp_path) -> None:  # noqa: ANN001
    boxes.take_offer = True
    shown: list[ChecksDialog] = []

    def exec_(dialog: QDialog) -> int:
        shown.append(dialog)
        dialog.show()
        qtbot.waitUntil(lambda: dialog.panel.report is not None, timeout=20_000)
        dialog.close()
        return 0
    monkeypatch.setattr(ChecksDialog, "exec", exec_)
    code = launch.main(home=str(tmp_path), db="postgresql+psycopg://formtrail_app:secret@127.0.0.1:1/formtrail")
    assert code == 1
    assert boxes.errors and "cannot open its database" in boxes.errors[0]
    assert "secret" not in boxes.errors[0]
    (dialog,) = shown
    database = dialog.panel.report.check("database")
    assert database.status is CheckStatus.FAIL and "FORMTRAIL_DB" in database.fix
    assert "set up correctly" not in dialog.panel.summary.text().lower()


def test_start_up_failure_without_asking_for_checks_opens_nothing(qtbot, boxes, monkeypatch, tmp_path) -> None:  # noqa: ANN001
    monkeypatch.setattr(ChecksDialog, "exec", lambda dialog: (_ for _ in ()).throw(AssertionError("opened")))
    assert launch.main(home=str(tmp_path), db="postgresql+psycopg://u:p@127.0.0.1:1/x") == 1
