"""The whole path of a workstation: wizard → log-in → main window → log out → log-in; database errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QWizard

from app.services.site import setup
from app.ui.shell import launch
from app.ui.shell.launch import Controller
from tests.helpers.seed import PASSWORD

ADMIN_PASSWORD = "Adm1n-Passw0rd!"


def test_first_run_wizard_then_login_then_main_window(qtbot, db) -> None:  # noqa: ANN001
    controller = Controller(db)
    controller.start()
    wizard = controller.wizard
    assert wizard is not None and wizard.isVisible() and controller.login is None
    wizard.next()
    qtbot.keyClicks(wizard.site_page.code, "ZRH-1")
    qtbot.keyClicks(wizard.site_page.name, "Zurich QC laboratory")  # required (issue 14, item 5)
    wizard.next()
    page = wizard.admin_page
    for field, text in ((page.username, "boss"), (page.full_name, "Bea Boss"), (page.password, ADMIN_PASSWORD),
                        (page.repeat, ADMIN_PASSWORD)):
        qtbot.keyClicks(field, text)
    wizard.button(QWizard.WizardButton.FinishButton).click()
    assert setup.site_info(db).code == "ZRH-1"
    login = controller.login
    assert login is not None and login.isVisible() and login.username.text() == "boss"
    login.password.setText(ADMIN_PASSWORD)
    login.login_button.click()
    window = controller.window
    assert window is not None and window.isVisible() and window.actor.username == "boss"
    window.log_out()
    assert controller.window is None and controller.login is not None  # back to the log-in
    with qtbot.waitSignal(controller.finished) as blocker:
        controller.login.reject()
    assert blocker.args == [0]


def test_existing_site_starts_at_the_login(qtbot, seed) -> None:  # noqa: ANN001
    controller = Controller(seed.db)
    controller.start()
    assert controller.wizard is None and controller.login is not None
    controller.login.username.setText("qa")
    controller.login.password.setText(PASSWORD)
    controller.login.accept()
    with qtbot.waitSignal(controller.finished):
        controller.window.close()


def test_database_that_cannot_be_opened_gives_a_clear_error(qapp, tmp_path: Path, boxes,  # noqa: ANN001
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    monkeypatch.setattr(launch.style, "apply", lambda app: None)  # keep the test application's look
    assert launch.main(home=str(tmp_path / "home"), db=f"sqlite:///{blocker}/formtrail.db") == 1
    assert boxes.errors and boxes.errors[0].startswith("Formtrail cannot open its database:")
    assert "not-a-directory" in boxes.errors[0]
    qapp.setQuitOnLastWindowClosed(True)
