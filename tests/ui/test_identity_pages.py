"""Issue 16 / identity in the desktop app: the selected user's qualifications on the Users page (QA records and
revokes them, AC-07), the Workstations page (AC-08) and the main window's banner on an unregistered station."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from PySide6.QtCore import QDate

from app.services.identity import auth, training, workstations
from app.services.identity.training import QualificationKind, TrainedActivity
from app.ui.kit.reason import ReasonDialog
from app.ui.pages.admin.qualifications import RecordTrainingDialog
from app.ui.pages.admin.users import UsersPage
from app.ui.pages.admin.workstations import StationNameDialog, WorkstationsPage
from app.ui.pages.registry import PageContext
from tests.helpers.seed import PASSWORD
from tests.ui.conftest import settle


def _users_page(qtbot, ctx) -> UsersPage:  # noqa: ANN001
    page = UsersPage(ctx)
    qtbot.addWidget(page)
    page.show()
    settle(qtbot)
    return page


@pytest.mark.compliance
def test_ac07_qa_records_and_revokes_training_on_the_users_page(qtbot, seed, ctx_for) -> None:  # noqa: ANN001
    page = _users_page(qtbot, ctx_for("qa"))
    assert not page.add_button.isVisible() and page.qualifications.record_button.isVisible()
    page.select("op")
    settle(qtbot)
    panel = page.qualifications
    assert panel.username == "op" and panel.model.rowCount() == 4  # the seed's: identity, statement, 2 trainings
    assert "May sign: yes" in panel.standing.text()
    assert panel.record_button.isEnabled()

    panel.record()
    dialog = panel.dialog
    assert isinstance(dialog, RecordTrainingDialog)
    dialog.kind.setCurrentIndex(list(QualificationKind).index(QualificationKind.TRAINING))
    dialog.activity.setCurrentIndex(list(TrainedActivity).index(TrainedActivity.DATA_ENTRY))
    qtbot.keyClicks(dialog.reference, "TRN-DE-04")
    dialog.completed.setDate(QDate(2026, 3, 2))
    dialog.has_expiry.setChecked(True)
    dialog.expires.setDate(QDate(2027, 3, 2))
    dialog.accept()
    settle(qtbot)
    assert panel.model.rowCount() == 5
    added = [q for q in training.list_qualifications(seed.db, seed.qa, "op") if q.reference == "TRN-DE-04"]
    assert added[0].expires_on == dt.date(2027, 3, 2) and added[0].recorded_by == "qa"

    signing = next(r for r in range(panel.model.rowCount())
                   if panel.model.row_at(r).activity is TrainedActivity.SIGNING)
    panel.table.selectRow(signing)
    assert panel.revoke_button.isEnabled()
    panel.revoke()
    revoke = panel.dialog
    assert isinstance(revoke, ReasonDialog)
    revoke.reason.setPlainText("training record was for another SOP")
    revoke.accept()
    settle(qtbot)
    assert "May sign: no — no training for signing on record (revoked)" in panel.standing.text()


def test_ac07_qa_cannot_record_their_own_qualifications(qtbot, ctx_for) -> None:  # noqa: ANN001
    page = _users_page(qtbot, ctx_for("qa"))
    page.select("qa")
    settle(qtbot)
    assert page.qualifications.username == "qa" and not page.qualifications.record_button.isEnabled()


def test_ac08_the_administrator_registers_a_seen_workstation(qtbot, seed, ctx_for) -> None:  # noqa: ANN001
    other = dataclasses.replace(seed.db, workstation="abad1dea" * 4, host="lab-pc-2")
    auth.authenticate(other, username="op", password=PASSWORD)  # tried to connect: seen
    page = WorkstationsPage(ctx_for("admin"))
    qtbot.addWidget(page)
    page.show()
    settle(qtbot)
    assert "This workstation: TEST-WS-01" in page.this_station.text()
    page.select("abad1dea" * 4)
    assert page.register_button.isEnabled() and not page.retire_button.isEnabled()
    page.register()
    dialog = page.dialog
    assert isinstance(dialog, StationNameDialog)
    qtbot.keyClicks(dialog.name, "QC-LAB-PC2")
    dialog.accept()
    settle(qtbot)
    assert workstations.this_station(other).may_act
    page.select("abad1dea" * 4)
    assert page.retire_button.isEnabled() and page.model.row_at(page.model.row_of("abad1dea" * 4)).name == "QC-LAB-PC2"


@pytest.mark.compliance
def test_ac08_an_unregistered_station_shows_the_read_only_banner(qtbot, seed, site) -> None:  # noqa: ANN001
    from app.ui.shell.main_window import MainWindow

    other = dataclasses.replace(seed.db, workstation="0ddba11" * 5, host="kiosk")
    dc = auth.authenticate(other, username="dc", password=PASSWORD).actor
    window = MainWindow(other, dc, site)
    qtbot.addWidget(window)
    window.show()
    settle(qtbot)
    assert window.station_banner.isVisible()
    assert window.station_banner_label.text().startswith("This workstation is not registered: read-only.")
    registered = MainWindow(seed.db, seed.dc, site)
    qtbot.addWidget(registered)
    registered.show()
    settle(qtbot)
    assert not registered.station_banner.isVisible()
    # Read-only means the acts are not offered at all there (the views say no), while reading still is.
    assert not dc.station_may_act and "issue" not in window.nav_keys() and "register" in window.nav_keys()
    assert "issue" in registered.nav_keys()
    for shown in (window, registered):
        shown.log_out()


def test_the_workstations_page_is_the_administrators(ctx_for) -> None:  # noqa: ANN001
    from app.ui.pages import registry
    ctx: PageContext = ctx_for("admin")
    assert registry.get("workstations").visible_to(ctx.actor)
    assert not registry.get("workstations").visible_to(ctx_for("qa").actor)
    assert registry.get("users").visible_to(ctx_for("qa").actor)  # for the qualifications
