"""First-run wizard: the site and its first administrator."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWizard

from app.enums import Role
from app.services.identity import auth
from app.services.site import setup
from app.services.site.setup import SiteInfo
from app.ui.shell.wizard import SetupWizard

PASSWORD = "Adm1n-Passw0rd!"
LEFT = Qt.MouseButton.LeftButton


def _fill(qtbot, wizard: SetupWizard, *, code: str = "bsl-02", password: str = PASSWORD,  # noqa: ANN001
          repeat: str | None = None) -> None:
    wizard.next()
    qtbot.keyClicks(wizard.site_page.code, code)
    qtbot.keyClicks(wizard.site_page.name, "Basel QC laboratory")
    wizard.next()
    page = wizard.admin_page
    qtbot.keyClicks(page.username, "jdoe")
    qtbot.keyClicks(page.full_name, "Jane Doe")
    qtbot.keyClicks(page.password, password)
    qtbot.keyClicks(page.repeat, password if repeat is None else repeat)


def test_wizard_creates_site_and_administrator(qtbot, db, boxes) -> None:  # noqa: ANN001
    wizard = SetupWizard(db)
    qtbot.addWidget(wizard)
    wizard.show()
    _fill(qtbot, wizard)
    assert wizard.site_page.code.text() == "BSL-02"  # typed in lower case, shown as the code will print
    finish = wizard.button(QWizard.WizardButton.FinishButton)
    assert finish.isEnabled()
    qtbot.mouseClick(finish, LEFT)
    assert wizard.result() == QWizard.DialogCode.Accepted
    assert boxes.errors == []
    assert setup.site_info(db) == SiteInfo(code="BSL-02", name="Basel QC laboratory")
    assert wizard.site == SiteInfo(code="BSL-02", name="Basel QC laboratory")
    outcome = auth.authenticate(db, username="jdoe", password=PASSWORD)
    assert outcome.actor.roles == frozenset({Role.ADMINISTRATOR})
    assert outcome.password_change is None  # the administrator chose this password


def test_wizard_cannot_finish_with_differing_passwords(qtbot, db) -> None:  # noqa: ANN001
    wizard = SetupWizard(db)
    qtbot.addWidget(wizard)
    wizard.show()
    _fill(qtbot, wizard, repeat=PASSWORD + "x")
    assert not wizard.button(QWizard.WizardButton.FinishButton).isEnabled()
    assert "differ" in wizard.admin_page.mismatch.text()


def test_wizard_rejects_a_bad_site_code_on_its_page(qtbot, db) -> None:  # noqa: ANN001
    wizard = SetupWizard(db)
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.next()
    qtbot.keyClicks(wizard.site_page.code, "-")
    wizard.next()
    assert wizard.currentPage() is wizard.site_page
    assert "site code" in wizard.site_page.error.text()


def test_wizard_shows_the_service_error_and_keeps_the_input(qtbot, db, boxes) -> None:  # noqa: ANN001
    wizard = SetupWizard(db)
    qtbot.addWidget(wizard)
    wizard.show()
    _fill(qtbot, wizard, password="short1A!")
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.FinishButton), LEFT)
    assert wizard.isVisible()
    assert boxes.errors and "at least 10 characters" in boxes.errors[0]
    assert wizard.admin_page.username.text() == "jdoe"
    assert setup.site_info(db) is None


def test_wizard_requires_the_site_name_and_says_why(qtbot, db) -> None:  # noqa: ANN001
    """Issue 14, item 5: the name is printed on every form beside the code, so the wizard cannot go on without
    one, and a name that is only blanks or the code again is refused by the service's rule, on the page."""
    wizard = SetupWizard(db)
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.next()
    page = wizard.site_page
    assert "Required: printed on every form beside the code" in " ".join(
        label.text() for label in page.findChildren(QLabel))
    qtbot.keyClicks(page.code, "bsl-02")
    next_button = wizard.button(QWizard.WizardButton.NextButton)
    assert not next_button.isEnabled()  # no name yet
    for name in ("   ", "bsl-02"):
        page.name.setText(name)
        assert next_button.isEnabled()
        wizard.next()
        assert wizard.currentPage() is page and "site needs a name" in page.error.text(), name
    page.name.setText("Basel QC laboratory")
    wizard.next()
    assert wizard.currentPage() is wizard.admin_page and page.error.text() == ""
