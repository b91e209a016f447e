"""SE-03 / BK-02 on screen: QA's Home counts open incidents and opens the Incidents page; Close… asks for the
assessment, CAPA and reason, then the e-signature; a close without an assessment is refused by the service before
any password is asked for. Home shows the schedule's last backup and test-restore."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication

from app.services.admin import incident_log
from app.services.core.errors import AuthenticationError
from app.services.identity import auth
from app.ui.kit.signature import SignatureDialog
from app.ui.pages.admin.incidents import CloseIncidentDialog, IncidentsPage
from app.ui.pages.home.home import HomePage
from tests.helpers.seed import PASSWORD
from tests.ui.conftest import settle
from tests.ui.helpers_scans import sign_when_asked


def _lock_out(seed, name: str = "op2") -> None:  # noqa: ANN001
    for _ in range(5):
        with pytest.raises(AuthenticationError):
            auth.authenticate(seed.db, username=name, password="wrong")


def _page(qtbot, window) -> IncidentsPage:  # noqa: ANN001
    home = window.page_widgets["home"]
    assert isinstance(home, HomePage)
    settle(qtbot)
    assert home.tiles["open_incidents"].count_label.text() == "1"
    home.tiles["open_incidents"].click()
    settle(qtbot)
    page = window.current_page()
    assert isinstance(page, IncidentsPage)
    return page


def _fill_close_dialog(qtbot, page: IncidentsPage, *, assessment: str, reason: str) -> None:  # noqa: ANN001
    page.close_button.click()
    dialog = page.dialog
    assert isinstance(dialog, CloseIncidentDialog)
    dialog.assessment.setPlainText(assessment)
    dialog.capa.setPlainText("User retrained on password handling.")
    dialog.reason.setText(reason)
    dialog.ok_button.click()


@pytest.mark.compliance
def test_se03_qa_closes_an_incident_from_home_with_assessment_and_signature(qtbot, seed, open_window, boxes):
    _lock_out(seed)
    page = _page(qtbot, open_window("qa"))
    assert page.model.rowCount() == 1 and page.close_button.isVisible() and page.close_button.isEnabled()
    assert "Account locked out" in page.detail.text() and "user op2" in page.detail.text()

    # No assessment: refused by the service (and logged) before the signature dialog opens.
    _fill_close_dialog(qtbot, page, assessment="", reason="resolved")
    settle(qtbot)
    assert len(boxes.errors) == 1 and "assessment" in boxes.errors[0]
    assert not isinstance(QApplication.activeModalWidget(), SignatureDialog)
    assert incident_log.open_count(seed.db) == 1

    seen: list[object] = []
    sign_when_asked("qa", PASSWORD, seen=seen)
    _fill_close_dialog(qtbot, page, assessment="The user forgot a changed password.", reason="Understood.")
    settle(qtbot)
    qtbot.waitUntil(lambda: incident_log.open_count(seed.db) == 0, timeout=10_000)
    assert seen
    settle(qtbot)
    assert page.model.rowCount() == 0  # the open list
    page.show_closed.setChecked(True)
    settle(qtbot)
    [closed] = page.model.rows
    assert not closed.open and closed.signature and "Approved" in closed.signature
    page.table.selectRow(0)
    assert "Assessment: The user forgot a changed password." in page.detail.text()
    assert not page.close_button.isEnabled()


def test_se03_the_administrator_reads_incidents_but_cannot_close_them(qtbot, seed, ctx_for):
    _lock_out(seed)
    page = IncidentsPage(ctx_for("admin"))
    qtbot.addWidget(page)
    settle(qtbot)
    assert page.model.rowCount() == 1 and not page.close_button.isVisible()


@pytest.mark.compliance
def test_bk02_home_shows_the_last_scheduled_backup_and_test_restore(qtbot, seed, open_window, tmp_path, ctx_for):
    from app.services.integrity import schedule
    from app.services.site import settings
    from tests.helpers.safety import scratch_opener
    settings.change(seed.db, seed.admin, key="backup.folder", value=str(tmp_path / "backups"), reason="nightly")
    opener = scratch_opener(seed.db, seed.db.keys.folder)
    assert schedule.run(seed.db, make_database=opener, scratch_root=tmp_path).ok
    home = HomePage(ctx_for("viewer"))
    qtbot.addWidget(home)
    settle(qtbot)
    assert not home.restore_button.isVisibleTo(home)  # a viewer restores nothing
    text = home.schedule_label.text()
    assert "last scheduled backup" in text and "last test-restore" in text and "FAILED" not in text
    assert text.count(": ok") == 2


@pytest.mark.compliance
def test_bk03_the_restore_dialog_asks_for_the_approvers_user_name_and_password(qtbot, seed, site, tmp_path, boxes,
                                                                               backend):
    if backend != "sqlite":
        pytest.skip("in-place restore replaces the embedded SQLite database")
    import json

    from app.services.admin import backup
    from app.services.reports import audit_log
    from app.ui.pages.admin.restore_dialog import RestoreDialog
    from app.ui.pages.registry import PageContext
    backup.backup(seed.db, seed.admin, tmp_path / "bk")
    ended: list[str] = []
    home = HomePage(PageContext(db=seed.db, actor=seed.admin, site=site, end_session=ended.append))
    qtbot.addWidget(home)
    settle(qtbot)
    assert home.restore_button.isVisibleTo(home)  # the service says the administrator may restore here
    home.restore_backup()
    dialog = home.dialog
    assert isinstance(dialog, RestoreDialog)
    dialog.folder.setText(str(tmp_path / "bk"))
    dialog.reason.setText("workstation disk replaced")
    dialog.approver.setText("admin")  # the restorer cannot approve their own restore
    dialog.approver_password.setText(PASSWORD)
    dialog.restore_button.click()
    qtbot.waitUntil(lambda: dialog.restore_button.isEnabled(), timeout=20_000)
    assert "second person" in dialog.error.text() and not ended

    dialog.approver.setText("qa")
    dialog.approver_password.setText(PASSWORD)
    dialog.restore_button.click()
    qtbot.waitUntil(lambda: bool(ended), timeout=30_000)
    assert dialog.result_value is not None and boxes.infos and "Restored" in boxes.infos[-1]
    from app.runtime import RuntimeConfig, open_database
    url = f"sqlite:///{dialog.result_value.db_url.split('///', 1)[1]}"
    restored = open_database(RuntimeConfig(home=tmp_path / "r", db_url=url, workstation="W", hasher_profile="fast",
                                           files_dir=seed.db.files.root, keys_dir=seed.db.keys.folder))
    try:
        [event] = audit_log.fetch_events(restored, seed.admin, audit_log.AuditFilter(action="RESTORE"))
    finally:
        restored.engine.dispose()
    details = json.loads(event.new_value)
    assert details["approved_by"] == "qa" and details["restored_by"] == "admin"
