"""Home dashboard (issue 5 §3): the counts of dashboard() as tiles that open their filtered list, refreshed when
the page is shown; who is logged in stays on the page."""

from __future__ import annotations

import dataclasses

from PySide6.QtWidgets import QLabel

from app.services.reconciliation import reconciliation
from app.services.reports import dashboard
from app.services.reports.dashboard import Dashboard
from app.ui.pages.home.home import TILES, HomePage
from tests.helpers.forms import issue
from tests.helpers.seed import PASSWORD
from tests.ui.conftest import settle
from tests.ui.helpers_scans import five_issued, import_as, scanned_back


def _counted(qtbot, home: HomePage) -> None:  # noqa: ANN001
    qtbot.waitUntil(lambda: home.task is None and home.counts is not None, timeout=10_000)


def _counts(home: HomePage) -> dict[str, str]:
    return {field: tile.count_label.text() for field, tile in home.tiles.items()}


def test_tiles_show_the_counts_and_open_the_filtered_lists(qtbot, seed, open_window, clock, tmp_path) -> None:  # noqa: ANN001
    returned = five_issued(seed)  # all five come back, plus a photocopy of the first (one exception)
    out = issue(seed, "QC-WS-014", copies=2, purpose="Batch 24-0118")  # two sheets still out
    import_as(seed, "op", scanned_back(seed, tmp_path / "in", returned).files)
    clock.advance(days=20)  # both are past their return date; only the one with sheets still out is overdue

    window = open_window("qa")
    home = window.current_page()
    assert isinstance(home, HomePage)
    _counted(qtbot, home)
    assert _counts(home) == {"outstanding_forms": "2", "overdue_issuances": "1", "scan_exceptions": "1",
                             "ready_to_reconcile": "1", "records_to_verify": "0", "records_to_review": "0"}
    assert home.counts == dashboard.dashboard(seed.db, seed.qa)
    assert all(tile.explanation.text() for tile in home.tiles.values())  # each tile explained in one line

    home.tiles["overdue_issuances"].click()
    settle(qtbot)
    assert window.current_key() == "reconcile"
    reconcile = window.current_page()
    assert reconcile.filter_combo.currentData() == "overdue"
    assert [r.issuance_id for r in reconcile.issuance_model.rows] == [out.issuance_id]

    window.navigate("home")
    home.tiles["ready_to_reconcile"].click()
    settle(qtbot)
    assert reconcile.filter_combo.currentData() == "ready"
    assert [r.issuance_id for r in reconcile.issuance_model.rows] == [returned.issuance_id]

    window.navigate("home")
    home.tiles["outstanding_forms"].click()
    settle(qtbot)
    assert window.current_key() == "reconcile" and reconcile.filter_combo.currentData() == "outstanding"

    window.navigate("home")
    home.tiles["scan_exceptions"].click()
    settle(qtbot)
    assert window.current_key() == "scans"
    scans_page = window.current_page()
    assert scans_page.tabs.currentWidget() is scans_page.exceptions
    assert scans_page.exceptions.model.rowCount() == 1

    # Refreshed whenever Home is shown: another QA closes the ready issuance meanwhile.
    reconciliation.close(seed.db, seed.qa2, returned.issuance_id, username="qa2", password=PASSWORD)
    window.navigate("home")
    qtbot.waitUntil(lambda: home.tiles["ready_to_reconcile"].count_label.text() == "0", timeout=10_000)

    home.tiles["records_to_verify"].click()
    settle(qtbot)
    assert window.current_key() == "records"


def test_tiles_open_what_the_user_may_see(qtbot, seed, open_window) -> None:  # noqa: ANN001
    window = open_window("op")  # operators do not reconcile: the counts of issuances open the register instead
    home = window.current_page()
    _counted(qtbot, home)
    assert home.tiles["ready_to_reconcile"].target is None and not home.tiles["ready_to_reconcile"].isEnabled()
    assert home.tiles["scan_exceptions"].target == ("scans", "exceptions")
    assert home.tiles["overdue_issuances"].target == ("register", "overdue")
    assert home.tiles["overdue_issuances"].count_label.text() == "0"


def test_administrators_see_no_gmp_counts(qtbot, seed, open_window) -> None:  # noqa: ANN001
    window = open_window("admin")  # administrators manage users, never GMP data
    home = window.current_page()
    assert home.tiles == {} and home.dashboard_box is None
    assert set(home.shortcuts) == {"audit", "users", "settings"}
    labels = [label.text() for label in home.findChildren(QLabel)]
    assert "Welcome, Ada Admin" in labels
    assert "Logged in as admin · Administrator · site Basel QC (BSL-01)" in labels
    qtbot.waitUntil(lambda: home.task is None and home.backup_label.text() != "", timeout=10_000)
    assert home.backup_label.text() == "No backup has been taken yet."  # shown in red to those who back up


def test_the_last_backup_is_shown(qtbot, seed, open_window, tmp_path) -> None:  # noqa: ANN001
    from app.services.admin import backup
    backup.backup(seed.db, seed.admin, tmp_path / "backup-1")
    home = open_window("qa").current_page()
    _counted(qtbot, home)
    assert home.backup_label.text().startswith("Last backup: ") and str(tmp_path / "backup-1") in home.backup_label.text()


def test_every_count_has_one_tile() -> None:
    assert [t.field for t in TILES] == [f.name for f in dataclasses.fields(Dashboard) if f.type == "int"]
    assert all(t.explanation.endswith(".") and len(t.explanation) < 80 for t in TILES)
