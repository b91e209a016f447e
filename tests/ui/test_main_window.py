"""Main window: role-aware navigation (AC-02), status bar, the locked-account alert (AC-05), session actions."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QLabel, QWidget

from app.enums import SignatureMeaning
from app.services.core.errors import AuthenticationError
from app.services.identity import auth, signatures
from app.ui.kit.signature import SignatureDialog
from app.ui.pages import registry
from app.ui.pages.admin.users import UsersPage
from app.ui.pages.placeholder import PlaceholderPage
from tests.helpers.seed import PASSWORD

GMP_PAGES = {"templates", "issue", "register", "scans", "reconcile", "records"}


def _lock_out(seed, username: str) -> None:  # noqa: ANN001
    for _ in range(5):
        try:
            auth.authenticate(seed.db, username=username, password="wrong")
        except AuthenticationError:
            pass


def test_ac02_administrator_sees_users_and_no_gmp_pages(open_window) -> None:  # noqa: ANN001
    window = open_window("admin")
    # Issue 16: incidents (read only), workstations (AC-08) and the site's signing certificate.
    assert window.nav_keys() == ["home", "audit", "incidents", "users", "workstations", "certificate", "settings"]
    assert not GMP_PAGES & set(window.nav_keys())


def test_viewer_sees_no_users_audit_or_settings(open_window) -> None:  # noqa: ANN001
    keys = open_window("viewer").nav_keys()
    assert "users" not in keys and "settings" not in keys and "audit" not in keys
    assert {"home", "templates", "register", "records"} <= set(keys)
    assert "issue" not in keys  # viewing is not issuing


def test_document_control_and_qa_pages(open_window) -> None:  # noqa: ANN001
    assert open_window("dc").nav_keys() == ["home", "templates", "issue", "register", "scans", "reconcile",
                                            "records", "retention", "audit", "incidents", "certificate"]
    qa = open_window("qa").nav_keys()
    # QA opens the Users page for the qualifications it records (AC-07), not to manage accounts.
    assert "issue" not in qa and "workstations" not in qa and {"reconcile", "records", "audit", "users"} <= set(qa)
    assert {"retention", "reviews", "incidents", "settings"} <= set(qa)  # issue 16: QA's own acts


def test_every_page_of_the_navigation_is_built(open_window) -> None:  # noqa: ANN001
    """No "coming" placeholder is left for any role (the placeholder stays for pages declared in future)."""
    for user in ("dc", "qa", "op", "admin"):
        window = open_window(user)
        for key in window.nav_keys():
            window.navigate(key)
            assert not isinstance(window.current_page(), PlaceholderPage), (user, key)


def test_status_bar_names_user_roles_site_and_database(open_window, seed) -> None:  # noqa: ANN001
    window = open_window("qa")
    assert window.status_user.text() == "Quinn Müller (qa) · QA"
    assert "BSL-01" in window.status_site.text()
    assert window.status_db.text() == f"Database: {seed.db.display_url}"
    assert window.windowTitle() == "Formtrail — BSL-01 — Quinn Müller (qa)"


def test_home_shortcuts_navigate(open_window) -> None:  # noqa: ANN001
    window = open_window("admin")
    home = window.current_page()
    home.shortcuts["users"].click()
    assert window.current_key() == "users" and isinstance(window.current_page(), UsersPage)


def test_every_page_opens_for_every_role(open_window, seed) -> None:  # noqa: ANN001
    for name in seed.actors:
        window = open_window(name)
        for key in window.nav_keys():
            window.navigate(key)
            assert isinstance(window.current_page(), QWidget)
        window.log_out()


def test_ac05_locked_account_alert_for_administrators(qtbot, open_window, seed) -> None:  # noqa: ANN001
    window = open_window("admin", lock_poll_ms=30)
    qtbot.waitUntil(lambda: window.poll_timer.isActive())
    assert window.banner.isHidden()  # nothing locked yet
    _lock_out(seed, "op")
    qtbot.waitUntil(lambda: window.banner.isVisible(), timeout=3000)
    assert "Otto Operator (op)" in window.banner_label.text()
    assert window.status_alert.text() == "⚠ 1 locked account"
    window.banner_button.click()
    assert window.current_key() == "users"


def test_no_locked_account_polling_for_other_roles(open_window) -> None:  # noqa: ANN001
    window = open_window("qa", lock_poll_ms=30)
    assert not window.poll_timer.isActive()


def test_log_out(qtbot, open_window, trail) -> None:  # noqa: ANN001
    window = open_window("dc")
    with qtbot.waitSignal(window.logged_out):
        window.logout_action.trigger()
    assert window.ended and not window.isVisible()
    assert trail(username="dc")[-1].action == "LOGOUT"


def test_closing_the_window_logs_out(qtbot, open_window, trail) -> None:  # noqa: ANN001
    window = open_window("dc")
    with qtbot.waitSignal(window.closed):
        window.close()
    assert trail(username="dc")[-1].action == "LOGOUT"


def test_lockout_while_signing_ends_the_session(qtbot, open_window, seed, boxes) -> None:  # noqa: ANN001
    window = open_window("qa")

    def perform(username: str, password: str) -> object:
        return signatures.sign(seed.db, seed.qa, username=username, password=password,
                               meaning=SignatureMeaning.REVIEWED, entity="record", entity_id="R-9",
                               content={}, activity="record R-9")

    def five_wrong_passwords() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, SignatureDialog) and dialog.username.text() == "qa"
        for _ in range(5):
            dialog.password.setText("wrong")
            dialog.sign_button.click()
    QTimer.singleShot(0, five_wrong_passwords)
    with qtbot.waitSignal(window.logged_out):
        assert window.ctx.sign(window, summary="Record R-9", meaning=SignatureMeaning.REVIEWED,
                               perform=perform) is None
    assert window.ended and "locked" in boxes.errors[0]


def test_registering_a_page_replaces_its_placeholder(open_window) -> None:  # noqa: ANN001
    original = registry.get("templates")
    try:
        @registry.page("templates", description="Master forms.")
        def templates_page(ctx: registry.PageContext) -> QWidget:
            widget = QLabel(f"templates of {ctx.site.code} for {ctx.actor.username}")
            widget.setObjectName("real-templates")
            return widget
        spec = registry.get("templates")
        assert not spec.is_placeholder and spec.order == original.order and spec.title == "Templates"
        window = open_window("dc")
        window.navigate("templates")
        assert window.current_page().objectName() == "real-templates"
        assert window.page_description.text() == "Master forms."
    finally:
        registry._PAGES["templates"] = original


def test_change_own_password_from_the_session_menu(open_window, seed, boxes) -> None:  # noqa: ANN001
    window = open_window("op")
    window.change_password_action.trigger()
    dialog = window.dialog
    dialog.current.setText(PASSWORD)
    dialog.new.setText("An0ther-Secret!")
    dialog.repeat.setText("An0ther-Secret!")
    dialog.accept()
    assert window.dialog is None and boxes.notices[-1].text == "Your password was changed"
    assert auth.authenticate(seed.db, username="op", password="An0ther-Secret!").password_change is None


def test_wrong_current_passwords_lock_the_account_and_end_the_session(qtbot, open_window) -> None:  # noqa: ANN001
    window = open_window("op")
    window.change_password()
    dialog = window.dialog
    with qtbot.waitSignal(window.logged_out):
        for _ in range(5):
            dialog.current.setText("wrong")
            dialog.new.setText("An0ther-Secret!")
            dialog.repeat.setText("An0ther-Secret!")
            dialog.accept()
    assert dialog.locked_out


def test_a_notice_shows_in_the_status_bar_with_links_to_the_file_and_its_folder(open_window, tmp_path, clock,
                                                                                 monkeypatch) -> None:  # noqa: ANN001
    from PySide6.QtGui import QDesktopServices

    from app.ui.kit.operations import notify
    opened: list[str] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()) or True)
    window = open_window("qa")
    page = window.current_page()
    out = tmp_path / "report.pdf"
    out.write_bytes(b"%PDF-1.7")
    notify(page, "Report saved to report.pdf", path=out)  # from deep inside a page: found via its window
    label = window.status_notice
    assert label.isVisible() and "Report saved to report.pdf" in label.text()
    # Stamped by the workstation's clock service in local time (a test clock here).
    label._clock = clock
    notify(page, "Report saved to report.pdf", path=out)
    assert f"✔ {clock.moment.astimezone().strftime('%H:%M')} Report saved" in label.text()
    assert "Open" in label.text() and "Show in folder" in label.text()
    for href in [part.split('"')[1] for part in label.text().split("href=")[1:]]:
        label.linkActivated.emit(href)
    assert opened == [str(out), str(tmp_path)]
