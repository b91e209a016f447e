"""Access is checked at every act, not once at log-in; every refusal is recorded; nothing that protects the
data lies open on the workstation (issue 11, item 6-7)."""

from __future__ import annotations

import datetime as dt
import stat

import pytest

from app.enums import Role, SignatureMeaning
from app.services.admin import backup
from app.services.core.errors import AccountInactive, PermissionDenied, RuleViolation
from app.services.identity import auth, users
from app.services.records import records
from app.services.reports import audit_log
from app.services.site import settings
from tests.helpers.forms import effective_template, issue
from tests.helpers.records import fill, verify_critical
from tests.helpers.seed import PASSWORD, TEMP_PASSWORD


def _events(seed, action: str) -> list:  # noqa: ANN001
    return audit_log.fetch_events(seed.db, seed.admin, audit_log.AuditFilter(action=action), limit=1000)


def test_ac_a_user_demoted_while_logged_in_loses_the_right_at_once(seed):
    qa = auth.authenticate(seed.db, username="qa", password=PASSWORD).actor  # the open session
    effective_template(seed)
    users.set_roles(seed.db, seed.admin, username="qa", roles=[Role.VIEWER], reason="moved to another department")
    before = len(_events(seed, "ACCESS_DENIED"))
    with pytest.raises(PermissionDenied, match="no longer holds the role"):
        records.sign_record(seed.db, qa, serial="000001", meaning=SignatureMeaning.REVIEWED, username="qa",
                            password=PASSWORD)
    assert len(_events(seed, "ACCESS_DENIED")) == before + 1


def test_ac_a_locked_account_cannot_act_from_its_open_session(seed):
    dc = auth.authenticate(seed.db, username="dc", password=PASSWORD).actor
    effective_template(seed)
    users.deactivate(seed.db, seed.admin, username="dc", reason="left the company")
    with pytest.raises(PermissionDenied):
        _issue_as(seed, dc)


def _issue_as(seed, actor):  # noqa: ANN001, ANN202
    from app.services.issuance import issuance
    return issuance.issue_forms(seed.db, actor, code="QC-WS-014", copies=1, purpose="p", reference=None,
                                issued_to="t", due=dt.date(2099, 1, 1))


def test_ac04_a_temporary_password_expires(seed, clock):
    users.create_user(seed.db, seed.admin, username="newbie", full_name="New Bie", roles=[Role.OPERATOR],
                      temporary_password=TEMP_PASSWORD)
    assert auth.authenticate(seed.db, username="newbie", password=TEMP_PASSWORD).password_change == "temporary"
    clock.advance(hours=73)
    with pytest.raises(AccountInactive, match="temporary password .* has expired"):
        auth.authenticate(seed.db, username="newbie", password=TEMP_PASSWORD)
    [event] = [e for e in _events(seed, "LOGIN_FAILURE") if e.reason == "temporary password expired"]
    assert event.username == "newbie"


def test_an_unknown_user_name_costs_the_same_password_check(seed, monkeypatch):
    """No timing assertion: the same work is done (one argon2 verification) whether the name exists or not."""
    checked: list[str] = []
    original = seed.db.hasher.verify
    monkeypatch.setattr(seed.db.hasher, "verify", lambda stored, pw: checked.append(stored) or original(stored, pw))
    for name in ("qa", "nobody-by-this-name"):
        with pytest.raises(Exception):
            auth.authenticate(seed.db, username=name, password="wrong password")
    assert len(checked) == 2 and all(h.startswith("$argon2") for h in checked)


def test_rc06_a_refusal_found_before_the_signature_is_recorded(seed, clock):
    """Approving before the issuance is reconciled is refused before the password is asked for, and that
    refusal is in the trail (it was decided in a read-only session)."""
    effective_template(seed)
    result = issue(seed, copies=2)
    from tests.ui.helpers_records import return_sheet
    return_sheet(seed, result, result.serials[0])
    fill(seed, result.serials[0])
    verify_critical(seed, result.serials[0])
    records.sign_record(seed.db, seed.qa, serial=result.serials[0], meaning=SignatureMeaning.REVIEWED,
                        username="qa", password=PASSWORD)
    before = len(_events(seed, "RULE_REFUSED"))
    with pytest.raises(RuleViolation, match="not reconciled"):
        records.sign_record(seed.db, seed.qa2, serial=result.serials[0], meaning=SignatureMeaning.APPROVED,
                            username="qa2", password=PASSWORD)
    assert len(_events(seed, "RULE_REFUSED")) == before + 1


def test_se04_the_database_keys_and_backups_are_private(seed, tmp_path):
    from pathlib import Path
    if seed.db.dialect == "sqlite":
        db_file = Path(seed.db.engine.url.database)
        assert stat.S_IMODE(db_file.stat().st_mode) == 0o600
    key_file = seed.db.keys.path("BSL-01")
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
    result = backup.backup(seed.db, seed.admin, tmp_path / "bk")
    assert stat.S_IMODE(result.path.stat().st_mode) == 0o700


def test_the_cheap_test_hashes_are_not_honoured_outside_the_test_suite(monkeypatch, tmp_path):
    from app.runtime import resolve_config
    monkeypatch.setenv("FORMTRAIL_HASH_PROFILE", "fast")
    monkeypatch.setenv("FORMTRAIL_HOME", str(tmp_path))
    assert resolve_config().hasher_profile == "fast"  # inside pytest
    monkeypatch.delenv("PYTEST_CURRENT_TEST")
    assert resolve_config().hasher_profile == "standard"


def test_settings_still_need_an_administrator(seed):
    with pytest.raises(PermissionDenied):
        settings.change(seed.db, seed.qa, key="password.history", value=3, reason="x")


def test_ac_releasing_controlled_copies_checks_the_roles_held_now(seed, tmp_path):
    """Release accepts either of two permissions; it too reads the roles held at the act, not at log-in."""
    from app.services.issuance import printing
    dc = auth.authenticate(seed.db, username="dc", password=PASSWORD).actor  # the open session
    effective_template(seed)
    result = issue(seed, copies=1)
    users.set_roles(seed.db, seed.admin, username="dc", roles=[Role.VIEWER], reason="moved to the warehouse")
    before = len(_events(seed, "ACCESS_DENIED"))
    with pytest.raises(PermissionDenied, match="no longer holds the role"):
        printing.save_to_file(seed.db, dc, result.pdf_id, out=tmp_path / "copy.pdf")
    assert not (tmp_path / "copy.pdf").exists()
    assert len(_events(seed, "ACCESS_DENIED")) == before + 1
