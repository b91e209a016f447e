"""AT-05 (FDA-DI Q1.c): system-level events are logged — login success and failure, logout, lock, print, export,
backup, restore, configuration change. Each is performed once through the services the GUI and CLI use; filtering
the audit trail by its event type (the Audit trail page's "Action" filter) then shows it exactly once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.runtime import RuntimeConfig, open_database
from app.services.admin import backup, restore
from app.services.core.errors import AuthenticationError
from app.services.identity import auth
from app.services.issuance import printing
from app.services.reports import audit_log
from app.services.site import settings
from tests.helpers.clock import FakeClock
from tests.helpers.forms import effective_template
from tests.helpers.seed import PASSWORD, Seed

# Every system-level event type of AT-05, as the trail names it.
SYSTEM_EVENTS = ("LOGIN_SUCCESS", "LOGIN_FAILURE", "LOGOUT", "SESSION_LOCK", "PRINT", "EXPORT", "BACKUP",
                 "CONFIG_CHANGE")


def _once_each(db, actor, since, actions) -> dict[str, int]:  # noqa: ANN001
    return {a: audit_log.count_events(db, actor, audit_log.AuditFilter(action=a, since=since)) for a in actions}


def test_at05_each_system_event_performed_once_is_listed_once_under_its_type(seed: Seed, clock: FakeClock,
                                                                            tmp_path: Path) -> None:
    effective_template(seed)  # something to print
    clock.advance(minutes=5)
    since = clock.now()  # the set-up's own log-ins and settings are before this moment
    actor = auth.authenticate(seed.db, username="qa", password=PASSWORD).actor  # login success
    with pytest.raises(AuthenticationError):
        auth.authenticate(seed.db, username="qa", password="not the password")  # login failure
    auth.lock_session(seed.db, actor)  # lock
    auth.logout(seed.db, actor)  # logout
    printing.print_reference(seed.db, seed.dc, "QC-WS-014", out=tmp_path / "reference.pdf")  # print
    audit_log.export_events(seed.db, seed.qa, audit_log.AuditFilter(), fmt="csv", out=tmp_path / "trail.csv")
    settings.change(seed.db, seed.admin, key="intake.max_megapixels", value=120,  # configuration change
                    reason="CC-2026-031 larger scanner")
    backup.backup(seed.db, seed.admin, tmp_path / "bk")  # backup

    assert _once_each(seed.db, seed.qa, since, SYSTEM_EVENTS) == dict.fromkeys(SYSTEM_EVENTS, 1)
    offered = {value for value, _label in audit_log.filter_choices(seed.db, seed.qa).actions}
    assert set(SYSTEM_EVENTS) <= offered  # each is a choice of the page's Action filter
    [change] = audit_log.fetch_events(seed.db, seed.qa, audit_log.AuditFilter(action="CONFIG_CHANGE", since=since))
    assert change.entity_id == "intake.max_megapixels" and '"120"' in (change.new_value or "")
    assert change.reason and "CC-2026-031" in change.reason
    [failure] = audit_log.fetch_events(seed.db, seed.qa, audit_log.AuditFilter(action="LOGIN_FAILURE", since=since))
    assert failure.entity_id == "qa" and failure.workstation == "TEST-WS-01"

    # The restore is recorded in the database restored (the one the site works on afterwards), once.
    target = tmp_path / "restored"
    target.mkdir()

    def make_database(url: str, files: Path):  # noqa: ANN202
        return open_database(RuntimeConfig(home=tmp_path / "restored-home", db_url=url, workstation="WS-R",
                                           hasher_profile="fast", files_dir=files))

    restore.restore(tmp_path / "bk", seed.admin, reason="AT-05: restore drill", target_url=f"sqlite:///{target}/f.db",
                    target_files=target / "files", current=seed.db, in_place=False, workstation="WS-R",
                    make_database=make_database)
    restored = make_database(f"sqlite:///{target}/f.db", target / "files")
    try:
        [event] = audit_log.fetch_events(restored, seed.qa, audit_log.AuditFilter(action="RESTORE"))
        assert event.reason == "AT-05: restore drill" and json.loads(event.new_value)["chain_head_before"]
        assert "RESTORE" in {value for value, _label in audit_log.filter_choices(restored, seed.qa).actions}
    finally:
        restored.engine.dispose()
    assert audit_log.count_events(seed.db, seed.qa, audit_log.AuditFilter(action="RESTORE")) == 0
