"""First-run wizard: the site (code and name) and the first administrator, who chooses the password."""

from __future__ import annotations

from PySide6.QtCore import QRegularExpression
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import QFormLayout, QLineEdit, QVBoxLayout, QWidget, QWizard, QWizardPage

from app.services.core.db import Database
from app.services.core.errors import FormtrailError
from app.services.site import setup
from app.services.site.setup import SiteInfo
from app.ui.kit import messages
from app.ui.kit.widgets import ErrorLine, hint, password_field, password_rules


class _IntroPage(QWizardPage):
    def __init__(self, db: Database) -> None:
        super().__init__()
        self.setTitle("Welcome to Formtrail")
        self.setSubTitle("This database is new. Two short steps set it up.")
        layout = QVBoxLayout(self)
        layout.addWidget(hint(
            "Formtrail issues numbered, QR-coded controlled blank forms, links the returned scans to "
            "electronic records and keeps an audit trail of everything.\n\n"
            "1. Site: its code and name, printed on every form (the code also inside every QR code).\n"
            "2. First administrator: the account that creates the other users. An administrator manages "
            "users and settings only; it cannot issue forms, enter GMP data or sign.\n\n"
            f"Database: {db.display_url}"
        ))


class _SitePage(QWizardPage):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Site")
        self.setSubTitle("The site code cannot be changed later: it is printed on every controlled form.")
        form = QFormLayout(self)
        self.code = QLineEdit()
        self.code.setPlaceholderText("e.g. BSL-01")
        self.code.setMaxLength(16)
        self.code.setValidator(QRegularExpressionValidator(QRegularExpression(r"[A-Za-z0-9-]{0,16}"), self.code))
        self.code.textEdited.connect(lambda text: self.code.setText(text.upper()))
        self.name = QLineEdit()
        self.name.setPlaceholderText("e.g. Basel QC laboratory")
        self.name.setMaxLength(setup.SITE_NAME_MAX)
        form.addRow("Site &code:", self.code)
        form.addRow("", hint("2–16 capital letters, digits or '-'."))
        form.addRow("Site &name:", self.name)
        form.addRow("", hint("Required: printed on every form beside the code, e.g. “Basel QC laboratory "
                             "(BSL-01)”, so a reader knows where the form belongs."))
        self.error = ErrorLine()
        form.addRow("", self.error)
        self.registerField("site_code*", self.code)
        self.registerField("site_name*", self.name)

    def validatePage(self) -> bool:  # noqa: N802 - Qt override
        if not setup.SITE_CODE_RE.match(self.code.text().strip()):
            self.error.show_text("The site code is 2–16 capital letters, digits or '-', starting with a letter "
                                 "or digit, e.g. BSL-01.")
            return False
        try:
            setup.checked_site_name(self.name.text(), code=self.code.text().strip())
        except FormtrailError as exc:  # the service's rule, checked on this page (empty, or the code again)
            text = messages.describe(exc)
            self.error.show_text(f"{text[:1].upper()}{text[1:]}.")
            return False
        self.error.clear_text()
        return True


class _AdminPage(QWizardPage):
    def __init__(self, db: Database) -> None:
        super().__init__()
        self.setTitle("First administrator")
        self.setSubTitle("This account creates the other users. Keep its password to yourself.")
        form = QFormLayout(self)
        self.username = QLineEdit()
        self.username.setPlaceholderText("e.g. jdoe (lower-case)")
        self.full_name = QLineEdit()
        self.full_name.setPlaceholderText("e.g. Jane Doe")
        self.password = password_field()
        self.repeat = password_field()
        form.addRow("&User name:", self.username)
        form.addRow("&Full name:", self.full_name)
        form.addRow("", hint("The full name appears in the audit trail and on printouts."))
        form.addRow("&Password:", self.password)
        form.addRow("&Repeat password:", self.repeat)
        form.addRow("", hint(password_rules(db)))
        self.mismatch = ErrorLine()
        form.addRow("", self.mismatch)
        self.registerField("admin_username*", self.username)
        self.registerField("admin_full_name*", self.full_name)
        self.registerField("admin_password*", self.password)
        self.registerField("admin_repeat*", self.repeat)
        self.repeat.textChanged.connect(self._check_repeat)
        self.password.textChanged.connect(self._check_repeat)

    def _check_repeat(self) -> None:
        differs = bool(self.repeat.text()) and self.repeat.text() != self.password.text()
        self.mismatch.show_text("The two passwords differ." if differs else "")
        self.completeChanged.emit()

    def isComplete(self) -> bool:  # noqa: N802 - Qt override
        return super().isComplete() and self.password.text() == self.repeat.text()


class SetupWizard(QWizard):
    """Creates the site and the first administrator when Finish is pressed (``site`` holds the result)."""

    def __init__(self, db: Database, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._db = db
        self.site: SiteInfo | None = None
        self.setWindowTitle("Formtrail — first-run set-up")
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage)
        self.setMinimumSize(620, 520)
        self.intro_page = _IntroPage(db)
        self.site_page = _SitePage()
        self.admin_page = _AdminPage(db)
        for page in (self.intro_page, self.site_page, self.admin_page):
            self.addPage(page)
        self.setButtonText(QWizard.WizardButton.FinishButton, "Create site and administrator")

    def validateCurrentPage(self) -> bool:  # noqa: N802 - Qt override
        if self.currentPage() is not self.admin_page:
            return super().validateCurrentPage()
        try:
            self.site = setup.initialise(
                self._db, site_code=self.field("site_code"), site_name=self.field("site_name"),
                admin_username=self.field("admin_username"), admin_full_name=self.field("admin_full_name"),
                admin_password=self.field("admin_password"),
            )
        except FormtrailError as exc:
            messages.error(self, str(exc), title="The site could not be set up")
            return False
        return True
