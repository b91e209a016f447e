"""AT-04 / SE-04: PostgreSQL site mode with an owner role and a least-privilege application role."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError, ProgrammingError

from app.runtime import RuntimeConfig, open_database
from app.services.core import audit_chain
from app.services.site import site_db
from tests.helpers.forms import effective_template, issue
from tests.helpers.seed import seed_site


def test_at04_app_role_cannot_delete_update_truncate_audit_or_change_schema(site_server, tmp_path):
    url, app_url, info = site_server
    assert info.revision is not None and info.app_role in info.app_url
    db = open_database(RuntimeConfig(home=tmp_path, db_url=app_url, workstation="WS-2", hasher_profile="fast"))
    try:
        seed = seed_site(db)
        effective_template(seed)
        issue(seed, copies=3)  # everyday work as the application role
        assert audit_chain.verify_chain(db).ok
        engine = db.engine
        for statement in ("DELETE FROM audit_event", "UPDATE audit_event SET reason = 'x'",
                          "TRUNCATE audit_event", "DELETE FROM issued_form", "CREATE TABLE sneaky (id int)",
                          "ALTER TABLE audit_event DISABLE TRIGGER USER", "DROP TABLE record_entry"):
            with pytest.raises((ProgrammingError, DBAPIError)) as refused:
                with engine.begin() as conn:
                    conn.execute(text(statement))
            assert "permission denied" in str(refused.value) or "must be owner" in str(refused.value), statement
    finally:
        db.engine.dispose()


def test_init_is_idempotent_and_refuses_weak_passwords(site_server):
    url, _app_url, info = site_server
    again = site_db.init_site_database(url, owner_role=info.owner_role, app_role=info.app_role,
                                       app_password="app-secret-123")
    assert again.revision == info.revision
    from app.services.core.errors import ValidationError
    with pytest.raises(ValidationError):
        site_db.init_site_database(url, app_password="short")


def test_insider_with_the_application_roles_password_is_detected(site_server, tmp_path):
    """Threat model 1 on a PostgreSQL site: a psql session as the application role (its password sits in every
    workstation's environment) changes data, grants itself a role and appends an audit row. It cannot rewrite
    or delete the trail, the keys are not in the database to read, and `verify` names every change."""
    from app.enums import Role
    from app.services.integrity import integrity
    url, app_url, _info = site_server
    db = open_database(RuntimeConfig(home=tmp_path, db_url=app_url, workstation="WS-2", hasher_profile="fast"))
    try:
        seed = seed_site(db)
        effective_template(seed)
        result = issue(seed, copies=2)
        assert integrity.verify_everything(db, seed.qa).ok
        psql = create_engine(app_url)
        with psql.begin() as conn:
            assert conn.execute(text("SELECT qr_key FROM site")).scalar() == ""  # no key to read
            conn.execute(text("UPDATE issued_form SET state = 'voided' WHERE serial = :s"), {"s": result.serials[0]})
            op_id = conn.execute(text("SELECT id FROM app_user WHERE username = 'op'")).scalar()
            conn.execute(text("INSERT INTO role_grant (user_id, role, granted_at, granted_by) "
                              "VALUES (:u, 'qa', now(), 'admin')"), {"u": op_id})
        psql.dispose()
        from app.services.identity.permissions import current_roles
        op = seed.op
        widened = type(op)(user_id=op.user_id, username="op", full_name=op.full_name, roles=frozenset(Role))
        assert Role.QA in current_roles(db, widened)  # the grant is real…
        report = integrity.verify_everything(db, seed.qa)
        subjects = {f.subject for f in report.findings}
        assert f"issued_form {result.serials[0]} field state" in subjects  # …and named
        assert any(s.startswith("role_grant") for s in subjects)
    finally:
        db.engine.dispose()
