"""AT-01/AT-02/AT-05: every change to controlled data writes complete audit rows in the same transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from app.models import AuditEvent, User
from app.services.core import audit
from app.services.core.db import Actor
from app.services.core.errors import PermissionDenied
from app.services.identity import users
from app.services.site import settings
from tests.helpers.seed import TEMP_PASSWORD


def events(db, **where):
    with db.read() as s:
        q = select(AuditEvent).order_by(AuditEvent.seq)
        for key, value in where.items():
            q = q.where(getattr(AuditEvent, key) == value)
        return s.scalars(q).all()


def test_at01_create_writes_one_complete_row(seed, clock):
    info = users.create_user(seed.db, seed.admin, username="newbie", full_name="New Bie",
                             roles=[users.Role.OPERATOR], temporary_password=TEMP_PASSWORD)
    [row] = events(seed.db, entity="user", entity_id="newbie", action="CREATE")
    assert row.username == "admin" and row.user_id == seed.admin.user_id and row.full_name == "Ada Admin"
    assert row.workstation == "TEST-WS-01"
    assert row.reason == "new user account"
    assert row.occurred_at.tzinfo is not None and row.occurred_at <= clock.moment
    assert '"password_hash":"[redacted]"' in row.new_value and info.username in row.new_value


def test_at01_update_writes_one_row_per_field_with_old_and_new(seed):
    # A setting that applies at once (a GMP-relevant one waits for QA's approval, SE-02).
    settings.change(seed.db, seed.admin, key="issuance.due_soon_days", value=4, reason="CC-2026-014")
    settings.change(seed.db, seed.admin, key="issuance.due_soon_days", value=3, reason="CC-2026-015")
    rows = events(seed.db, entity="setting", entity_id="issuance.due_soon_days", field="value")
    assert [(r.old_value, r.new_value, r.reason, r.action) for r in rows] == [
        ("4", "3", "CC-2026-015", "CONFIG_CHANGE")
    ]
    created = events(seed.db, entity="setting", entity_id="issuance.due_soon_days", action="CONFIG_CHANGE",
                     field=None)
    assert created and '"value":"4"' in created[0].new_value


def test_at01_separate_changes_get_distinct_timestamps(seed, clock):
    for minutes, value in enumerate((6, 7, 8, 9)):
        clock.advance(minutes=1)
        settings.change(seed.db, seed.admin, key="issuance.due_soon_days", value=value, reason="test")
    times = [r.occurred_at for r in events(seed.db, entity="setting", entity_id="issuance.due_soon_days")]
    assert len(times) == 4 and len(set(times)) == 4


def test_state_change_is_its_own_action(seed):
    users.deactivate(seed.db, seed.admin, username="viewer", reason="left the company")
    [row] = events(seed.db, entity="user", entity_id="viewer", field="status")
    assert (row.action, row.old_value, row.new_value, row.reason) == (
        "STATE_CHANGE", "active", "deactivated", "left the company")


def test_at02_service_level_delete_is_refused_and_logged(seed):
    with pytest.raises(PermissionDenied, match="never deleted"):
        with seed.db.write(seed.admin) as s:
            s.delete(s.scalars(select(User).where(User.username == "viewer")).one())
    [row] = events(seed.db, action="ACCESS_DENIED")
    assert "never deleted" in row.reason and row.username == "admin"
    with seed.db.read() as s:
        assert s.scalar(select(func.count()).select_from(User).where(User.username == "viewer")) == 1


def test_writes_outside_a_unit_of_work_are_refused(seed):
    with seed.db.read() as s:
        user = s.scalars(select(User).where(User.username == "viewer")).one()
        user.full_name = "Sneaky"
        with pytest.raises(PermissionDenied, match="audited unit of work"):
            s.flush()


def test_audit_row_is_in_the_same_transaction(seed):
    """A failing transaction leaves neither the change nor its audit rows."""
    before = len(events(seed.db))
    with pytest.raises(RuntimeError):
        with seed.db.write(seed.admin, reason="will fail") as s:
            s.scalars(select(User).where(User.username == "viewer")).one().full_name = "Changed"
            s.flush()
            raise RuntimeError("boom")
    assert len(events(seed.db)) == before
    with seed.db.read() as s:
        assert s.scalars(select(User.full_name).where(User.username == "viewer")).one() == "Vera Viewer"


@pytest.mark.parametrize("statement", [
    "DELETE FROM app_user WHERE username = 'viewer'",
    "DELETE FROM role_grant",
    "DELETE FROM password_history",
    "DELETE FROM site",
])
def test_inv2_database_refuses_delete_on_controlled_tables(seed, statement):
    with pytest.raises(DBAPIError, match="refused"):
        with seed.db.engine.begin() as conn:
            conn.execute(text(statement))


@pytest.mark.parametrize("statement", [
    "UPDATE audit_event SET reason = 'x' WHERE seq = 3",
    "DELETE FROM audit_event WHERE seq = 3",
])
def test_at02_database_refuses_update_and_delete_on_the_audit_trail(seed, statement):
    with pytest.raises(DBAPIError, match="append-only"):
        with seed.db.engine.begin() as conn:
            conn.execute(text(statement))


def test_truncate_refused_on_postgres(seed, backend):
    if backend != "postgres":
        pytest.skip("SQLite has no TRUNCATE")
    for table in ("audit_event", "app_user"):
        with pytest.raises(DBAPIError, match="refused"):
            with seed.db.engine.begin() as conn:
                conn.execute(text(f"TRUNCATE {table} CASCADE"))


def test_at05_system_events_each_logged_once(seed):
    from app.services.core.errors import AuthenticationError
    from app.services.identity import auth
    from app.services.reports import audit_log

    actor = auth.authenticate(seed.db, username="qa", password="Corr3ct-Horse!").actor
    with pytest.raises(AuthenticationError):
        auth.authenticate(seed.db, username="qa", password="wrong")
    auth.lock_session(seed.db, actor)
    auth.logout(seed.db, actor)
    with seed.db.write(Actor.system()) as s:
        audit.record_event(s, "PRINT", entity="test", entity_id="1")
    for action in ("LOGIN_FAILURE", "SESSION_LOCK", "LOGOUT", "PRINT"):
        assert audit_log.count_events(seed.db, seed.admin, audit_log.AuditFilter(action=action)) == 1, action
