"""SE-01: the desktop application verifies everything as it starts, in the background; a tampered database shows
a banner on the main window and opens an incident for QA, an intact one shows nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models import AuditEvent
from app.models.incidents import Incident, IncidentKind, IncidentStatus
from app.ui.kit import workers
from tests.helpers.insider import raw


def _wait_checked(qtbot, window) -> None:  # noqa: ANN001
    qtbot.waitUntil(lambda: not window.integrity_banner_label.text().startswith("Checking"), timeout=60_000)
    workers.wait_for_all()


def test_se01_an_intact_database_is_checked_at_start_without_a_banner(qtbot, open_window, seed) -> None:  # noqa: ANN001
    window = open_window("op", check_at_start=True)  # an operator: the check runs in the system's name
    _wait_checked(qtbot, window)
    assert window.integrity_banner.isHidden()
    with seed.db.read() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "VERIFY")
                               .order_by(AuditEvent.seq.desc()).limit(1))
    assert event is not None and event.username == "SYSTEM" and '"ok":true' in (event.new_value or "")


@pytest.mark.direct_sql
def test_se01_start_on_a_tampered_database_shows_a_banner_and_opens_an_incident(qtbot, open_window,  # noqa: ANN001
                                                                                 seed) -> None:
    with seed.db.read() as session:
        target = session.scalar(select(AuditEvent.seq).order_by(AuditEvent.seq.desc()).limit(1))
    raw(seed.db, "UPDATE audit_event SET reason = 'edited behind the application' WHERE seq = :s", s=target)
    window = open_window("op", check_at_start=True)
    _wait_checked(qtbot, window)
    assert window.integrity_banner.isVisible()
    text = window.integrity_banner_label.text()
    assert "FAILED" in text and f"audit row {target}" in text and "QA" in text
    with seed.db.read() as session:
        [incident] = session.scalars(select(Incident).where(Incident.kind == IncidentKind.VERIFY_FAILED)).all()
    assert incident.status is IncidentStatus.OPEN


def test_se01_without_the_start_check_nothing_runs(qtbot, open_window, seed) -> None:  # noqa: ANN001
    window = open_window("op")
    workers.wait_for_all()
    assert window.integrity_banner.isHidden()
    with seed.db.read() as session:
        assert session.scalar(select(AuditEvent.seq).where(AuditEvent.action == "VERIFY").limit(1)) is None


def test_se03_an_unexpected_error_in_the_application_opens_a_crash_incident(seed, boxes) -> None:  # noqa: ANN001
    """The desktop application's exception hook shows the error and records a CRASH event, which opens an
    incident on the workstation; a second error counts on the same incident."""
    from app.ui.shell.launch import crash_hook

    hook = crash_hook(seed.db)
    for _ in range(2):
        try:
            raise RuntimeError("slot exploded")
        except RuntimeError as exc:
            hook(RuntimeError, exc, exc.__traceback__)
    with seed.db.read() as session:
        [incident] = session.scalars(select(Incident).where(Incident.kind == IncidentKind.CRASH)).all()
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "CRASH")).all()
    assert incident.status is IncidentStatus.OPEN and incident.occurrences == 2 and len(events) == 2
    assert "RuntimeError: slot exploded" in (events[0].new_value or "")
    assert boxes.errors  # shown to the user too
