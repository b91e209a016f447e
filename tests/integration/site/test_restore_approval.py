"""BK-03: an in-place production restore needs, besides the administrator's reason, a second person's approval
(another administrator or QA) given by re-authenticating at that moment; the RESTORE event names both, the old chain
head and what was lost after the backup point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from app.models import AuditEvent
from app.runtime import RuntimeConfig, open_database
from app.services.admin import backup, restore
from app.services.core.error_codes import ErrorCode
from app.services.core.errors import AuthenticationError, PermissionDenied, RuleViolation
from app.services.reports import audit_log
from tests.helpers.seed import PASSWORD


def _make(tmp_path: Path):  # noqa: ANN202
    def make_database(url: str, files: Path):  # noqa: ANN202
        return open_database(RuntimeConfig(home=tmp_path / "restored-home", db_url=url, workstation="WS-R",
                                           hasher_profile="fast", files_dir=files))
    return make_database


def _in_place(seed, tmp_path: Path, approval: restore.Approval | None) -> restore.RestoreResult:  # noqa: ANN001
    url, files = f"sqlite:///{Path(str(seed.db.engine.url.database))}", seed.db.files.root
    return restore.restore(tmp_path / "bk", seed.admin, reason="workstation disk replaced", target_url=url,
                           target_files=files, current=seed.db, in_place=True, workstation="W",
                           make_database=_make(tmp_path), approval=approval)


def _refusals(db) -> list[str]:  # noqa: ANN001
    with db.read() as session:
        return list(session.scalars(select(AuditEvent.action).where(
            AuditEvent.action.in_(("RULE_REFUSED", "ACCESS_DENIED", "SIGN_FAIL"))).order_by(AuditEvent.seq)))


@pytest.mark.compliance
def test_bk03_in_place_restore_needs_a_second_persons_approval(seed, tmp_path, backend):
    if backend != "sqlite":
        pytest.skip("in-place restore replaces the embedded SQLite database")
    backup.backup(seed.db, seed.admin, tmp_path / "bk")
    earlier = len(_refusals(seed.db))

    with pytest.raises(RuleViolation) as unapproved:
        _in_place(seed, tmp_path, None)
    assert unapproved.value.code == ErrorCode.RESTORE_APPROVAL_REQUIRED
    with pytest.raises(RuleViolation) as own:
        restore.approve_restore(seed.db, seed.admin, username="admin", password=PASSWORD)
    assert own.value.code == ErrorCode.RESTORE_APPROVER_SAME_PERSON
    with pytest.raises(PermissionDenied) as operator:
        restore.approve_restore(seed.db, seed.admin, username="op", password=PASSWORD)
    assert operator.value.code == ErrorCode.RESTORE_APPROVER_NOT_ALLOWED
    with pytest.raises(AuthenticationError):
        restore.approve_restore(seed.db, seed.admin, username="qa", password="not the password")
    assert _refusals(seed.db)[earlier:] == ["RULE_REFUSED", "RULE_REFUSED", "ACCESS_DENIED", "SIGN_FAIL"]
    assert Path(str(seed.db.engine.url.database)).exists()  # nothing was restored meanwhile

    # Work after the backup point, then the approved restore: the RESTORE event names both people and the gap.
    from app.services.identity import auth
    auth.logout(seed.db, seed.op)
    approval = restore.approve_restore(seed.db, seed.admin, username="qa", password=PASSWORD)
    done = _in_place(seed, tmp_path, approval)
    assert done.chain_head_before and done.events_lost >= 5
    restored = _make(tmp_path)(f"sqlite:///{Path(str(seed.db.engine.url.database))}", seed.db.files.root)
    try:
        [event] = audit_log.fetch_events(restored, seed.admin, audit_log.AuditFilter(action="RESTORE"))
    finally:
        restored.engine.dispose()
    details = json.loads(event.new_value)
    assert event.username == "admin" and event.reason == "workstation disk replaced"
    assert details["restored_by"] == "admin" and details["approved_by"] == "qa"
    assert details["approved_by_name"] == "Quinn Müller" and details["approved_at"]
    assert details["chain_head_before"] == done.chain_head_before and details["events_lost_after_backup"] >= 5
    assert "LOGOUT" in details["lost_summary"]


def test_bk03_a_restore_into_a_new_directory_needs_no_second_approval(seed, tmp_path):
    backup.backup(seed.db, seed.admin, tmp_path / "bk")
    done = restore.restore(tmp_path / "bk", seed.admin, reason="copy for an inspection",
                           target_url=f"sqlite:///{tmp_path / 'copy.db'}", target_files=tmp_path / "copy-files",
                           current=seed.db, in_place=False, workstation="W", make_database=_make(tmp_path))
    assert done.moved_aside is None
