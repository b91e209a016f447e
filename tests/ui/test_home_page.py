"""Home (issue 14 item 1): each role's work as counts that open their list, the first steps of a new site, and
the administrator's Back up now; the counts are read again when the page is shown and when data changes."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QLabel

from app.services.core.errors import AuthenticationError
from app.services.identity import auth
from app.services.scans import true_copy
from app.services.site import settings, setup
from app.services.templates import templates
from app.ui.kit import data_events, file_dialogs
from app.ui.kit.data_events import Topic
from app.ui.pages.home.home import HomePage
from app.ui.pages.registry import PageContext
from tests.helpers.forms import effective_template, issue, sample_layout
from tests.helpers.governance import set_setting
from tests.helpers.seed import PASSWORD, add_users, seed_site
from tests.ui.conftest import settle
from tests.ui.helpers_scans import import_as, scanned_back


def _home(qtbot, window) -> HomePage:  # noqa: ANN001
    home = window.page_widgets["home"]
    assert isinstance(home, HomePage)
    settle(qtbot)
    assert not home.loading and home.work is not None
    return home


def _counts(home: HomePage) -> dict[str, str]:
    return {key: tile.count_label.text() for key, tile in home.tiles.items()}


def _open(qtbot, window, home: HomePage, key: str):  # noqa: ANN001, ANN202
    window.navigate("home")
    home.tiles[key].click()
    settle(qtbot)
    return window.current_page()


def _seven_returned(seed, tmp_path: Path, *, by: str = "op") -> list[str]:  # noqa: ANN001
    """Seven sheets back, imported by ``by`` (the photocopy of the first becomes one exception)."""
    effective_template(seed, "QC-WS-014")
    issued = issue(seed, "QC-WS-014", copies=7)
    import_as(seed, by, scanned_back(seed, tmp_path / "in", issued).files)
    return list(issued.serials)


def test_qa_home_lists_the_true_copies_waiting_and_opens_them(qtbot, seed, open_window, tmp_path) -> None:  # noqa: ANN001
    serials = _seven_returned(seed, tmp_path)  # the observed bug: QA's Home showed zeros
    window = open_window("qa")
    home = _home(qtbot, window)
    assert list(home.tiles) == ["scan_exceptions", "drafts", "templates_to_approve", "values_to_verify",
                                "true_copies", "ready_to_close", "records_to_review", "paper_findings",
                                "records_to_approve", "overdue", "open_incidents"]
    assert _counts(home)["true_copies"] == "7" and _counts(home)["ready_to_close"] == "1"
    assert all(tile.explanation.text() for tile in home.tiles.values())

    scans_page = _open(qtbot, window, home, "true_copies")
    assert window.current_key() == "scans" and scans_page.tabs.currentWidget() is scans_page.true_copies
    qtbot.waitUntil(lambda: scans_page.true_copies.model.rowCount() == 7, timeout=10_000)
    assert {r.serial for r in scans_page.true_copies.model.rows} == set(serials)
    assert scans_page.true_copies.show_combo.currentData() == "for-me"  # exactly what was counted

    reconcile = _open(qtbot, window, home, "ready_to_close")
    assert window.current_key() == "reconcile" and reconcile.filter_combo.currentData() == "ready"
    assert len(reconcile.issuance_model.rows) == 1

    records_page = _open(qtbot, window, home, "records_to_review")
    assert window.current_key() == "records" and records_page.list.state_combo.currentData() == "to-review"
    assert records_page.list.model.rowCount() == 0


def test_operator_home_opens_the_records_to_transcribe_and_their_own_forms(qtbot, seed, open_window,  # noqa: ANN001
                                                                            tmp_path: Path) -> None:
    serials = _seven_returned(seed, tmp_path, by="op2")
    still_out = issue(seed, "QC-WS-014", copies=2, issued_to="Otto Operator (op)")
    window = open_window("op")
    home = _home(qtbot, window)
    assert _counts(home) == {"my_forms": "2", "to_transcribe": "7", "values_to_verify": "0", "true_copies": "7"}

    records_page = _open(qtbot, window, home, "to_transcribe")
    assert window.current_key() == "records" and records_page.list.state_combo.currentData() == "to-transcribe"
    assert {r.serial for r in records_page.list.model.rows} == set(serials)

    _open(qtbot, window, home, "my_forms")
    assert records_page.list.state_combo.currentData() == "mine"
    assert {r.serial for r in records_page.list.model.rows} == set(still_out.serials)


def test_document_control_home_opens_their_drafts_and_the_exceptions(qtbot, seed, open_window,  # noqa: ANN001
                                                                     tmp_path: Path) -> None:
    _seven_returned(seed, tmp_path)
    templates.import_layout(seed.db, seed.dc, sample_layout("QC-CAL-021"), change_reason="CC-9")
    window = open_window("dc")
    home = _home(qtbot, window)
    assert _counts(home) == {"due_back": "0", "scan_exceptions": "1", "drafts": "1", "true_copies": "7"}

    page = _open(qtbot, window, home, "drafts")
    assert window.current_key() == "templates" and page.show_combo.currentData() == "drafts"
    assert [t.code for t in page.model.rows] == ["QC-CAL-021"]  # not QC-WS-014, effective
    page.show_filter("")
    assert [t.code for t in page.model.rows] == ["QC-CAL-021", "QC-WS-014"]

    scans_page = _open(qtbot, window, home, "scan_exceptions")
    assert scans_page.tabs.currentWidget() is scans_page.exceptions
    assert scans_page.exceptions.model.rowCount() == 1


def test_qa_opens_the_templates_to_approve(qtbot, seed, open_window) -> None:  # noqa: ANN001
    info = templates.import_layout(seed.db, seed.dc, sample_layout("QC-CAL-021"), change_reason="CC-9")
    templates.submit(seed.db, seed.dc, info.code)
    effective_template(seed, "QC-WS-014")
    window = open_window("qa")
    home = _home(qtbot, window)
    assert _counts(home)["templates_to_approve"] == "1"
    page = _open(qtbot, window, home, "templates_to_approve")
    assert page.show_combo.currentData() == "to-approve" and [t.code for t in page.model.rows] == ["QC-CAL-021"]


def test_counts_follow_the_data(qtbot, seed, open_window, tmp_path) -> None:  # noqa: ANN001
    window = open_window("qa")
    home = _home(qtbot, window)
    assert _counts(home)["true_copies"] == "0"
    serials = _seven_returned(seed, tmp_path)  # done elsewhere (another workstation, or a page announcing its change)
    data_events.announce({Topic.SCANS})
    qtbot.waitUntil(lambda: _counts(home)["true_copies"] == "7", timeout=10_000)
    window.navigate("register")
    true_copy.verify_true_copy(seed.db, seed.qa2, serial=serials[0], username="qa2", password=PASSWORD,
        checklist=true_copy.Checklist.confirmed())
    window.navigate("home")  # shown again: counted again (nothing was announced)
    qtbot.waitUntil(lambda: _counts(home)["true_copies"] == "6", timeout=10_000)


def test_administrator_home_backs_up_now_and_opens_the_locked_accounts(qtbot, seed, open_window,  # noqa: ANN001
                                                                       tmp_path: Path) -> None:
    set_setting(seed, "login.max_failures", 2, reason="CC-4")  # approved by QA (SE-02)
    for _ in range(2):
        with pytest.raises(AuthenticationError):
            auth.authenticate(seed.db, username="op", password="wrong")
    settings.change(seed.db, seed.admin, key="backup.folder", value=str(tmp_path / "backups"), reason="CC-5")
    window = open_window("admin")
    home = _home(qtbot, window)
    assert _counts(home) == {"locked_accounts": "1"}
    assert {"audit", "incidents", "users", "settings"} <= set(home.shortcuts)  # + other parts' new pages
    labels = [label.text() for label in home.findChildren(QLabel)]
    assert "Welcome, Ada Admin" in labels and "Logged in as admin · Administrator · site Basel QC (BSL-01)" in labels
    assert home.backup_label.text() == "No backup has been taken yet." and home.backup_button.isVisible()

    home.backup_button.click()
    qtbot.waitUntil(lambda: home.backup_label.text().startswith("Last backup:"), timeout=30_000)
    [written] = list((tmp_path / "backups").iterdir())
    assert (written / "manifest.json").exists() and str(written) in home.backup_label.text()

    users_page = _open(qtbot, window, home, "locked_accounts")
    assert window.current_key() == "users" and users_page.only_locked.isChecked()
    qtbot.waitUntil(lambda: [u.username for u in users_page.model.rows] == ["op"], timeout=10_000)


def test_back_up_now_asks_for_a_folder_when_none_is_set(qtbot, seed, open_window, tmp_path: Path,  # noqa: ANN001
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    chosen = tmp_path / "chosen"
    chosen.mkdir()
    monkeypatch.setattr(file_dialogs, "ask_folder", lambda *args, **kwargs: chosen)
    home = _home(qtbot, open_window("admin"))
    home.backup_button.click()
    qtbot.waitUntil(lambda: home.backup_label.text().startswith("Last backup:"), timeout=30_000)
    [written] = list(chosen.iterdir())
    assert (written / "manifest.json").exists()


def test_only_those_who_take_backups_get_the_button(qtbot, seed, open_window) -> None:  # noqa: ANN001
    home = _home(qtbot, open_window("qa"))
    assert not home.backup_button.isVisible() and home.backup_label.text() == "No backup has been taken yet."


def test_first_steps_on_a_new_site(qtbot, db) -> None:  # noqa: ANN001
    seed = seed_site(db, names=("admin",))
    site = setup.site_info(db)
    assert site is not None
    opened: list[str] = []

    def home_of(name: str) -> HomePage:
        page = HomePage(PageContext(db=db, actor=seed.actors[name], site=site, navigate=opened.append))
        qtbot.addWidget(page)
        page.show()
        settle(qtbot)
        return page

    home = home_of("admin")
    panel = home.first_steps
    assert panel.isVisible() and list(panel.marks) == ["users", "template", "approve", "issue"]
    assert list(panel.buttons) == ["users"]  # the administrator's step; the others name who does them
    panel.buttons["users"].click()
    assert opened == ["users"]

    seed.actors.update(add_users(db, seed.admin, ("dc", "qa")))
    home.refresh()
    settle(qtbot)
    assert panel.marks["users"].text() == "✔" and panel.buttons == {}
    dc_home = home_of("dc")
    assert list(dc_home.first_steps.buttons) == ["template"]  # issuing waits for an approved version
    info = templates.import_layout(db, seed.dc, sample_layout("QC-WS-014"), change_reason="CC-1")
    templates.submit(db, seed.dc, info.code)
    templates.approve(db, seed.qa, info.code, info.version, username="qa", password=PASSWORD)
    dc_home.refresh()
    settle(qtbot)
    assert list(dc_home.first_steps.buttons) == ["issue"]
    issue(seed, "QC-WS-014", copies=1)
    dc_home.refresh()
    settle(qtbot)
    assert not dc_home.first_steps.isVisible()  # every step done: the panel goes
