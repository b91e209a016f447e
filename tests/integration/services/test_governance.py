"""SE-02: configuration changes are versioned; GMP-relevant ones take effect only once QA approves them (another
person, with an e-signature); rejecting needs a reason; everything is on the audit trail. Runs on SQLite and
PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from app.services.core import setting_specs
from app.services.core.error_codes import ErrorCode
from app.services.core.errors import AccountLocked, AuthenticationError, FormtrailError
from app.services.identity import auth
from app.services.integrity import integrity
from app.services.reports import audit_log
from app.services.reports.audit_log import AuditFilter
from app.services.site import config_changes, settings
from app.services.site.config_changes import ConfigChangeStatus
from tests.helpers.seed import PASSWORD

pytestmark = pytest.mark.compliance("SE-02")


def _value(seed, key):  # noqa: ANN001, ANN202
    return {s.key: s.value for s in settings.list_settings(seed.db)}[key]


def _trail(seed, **flt):  # noqa: ANN001, ANN202
    return audit_log.fetch_events(seed.db, seed.admin, AuditFilter(**flt), limit=10_000)


def _code(call) -> str:  # noqa: ANN001
    with pytest.raises(FormtrailError) as caught:
        call()
    return caught.value.code


def test_se02_change_lockout_threshold_old_new_values_and_approval_logged(seed) -> None:  # noqa: ANN001
    """Acceptance: "Change lockout threshold → old/new values + approval logged"."""
    change = settings.change(seed.db, seed.admin, key="login.max_failures", value="3",
                             reason="CR-2026-031: stricter lock-out")
    assert change is not None and change.is_pending and change.gmp and not change.in_effect
    assert (change.old_value, change.new_value, change.version) == (5, 3, 1)
    assert _value(seed, "login.max_failures") == 5  # not in effect until approved
    listed = {s.key: s for s in settings.list_settings(seed.db)}["login.max_failures"]
    assert listed.has_pending and listed.pending == 3 and listed.gmp

    (waiting,) = config_changes.pending(seed.db, seed.qa)
    assert waiting.may_approve and waiting.may_reject and waiting.why_not is None
    approved = config_changes.approve(seed.db, seed.qa, change_id=change.id, username="qa", password=PASSWORD)
    assert approved.status is ConfigChangeStatus.APPROVED and approved.decided_by == "qa"
    assert approved.signature and "Quinn Müller (qa), Approved" in approved.signature
    assert _value(seed, "login.max_failures") == 3
    assert config_changes.pending(seed.db, seed.qa) == []

    (request,) = _trail(seed, action="CONFIG_REQUEST")
    assert request.username == "admin" and request.entity_id == "v1 login.max_failures"
    assert request.reason == "CR-2026-031: stricter lock-out"
    assert '"old_value":"5"' in request.new_value and '"new_value":"3"' in request.new_value
    (applied,) = _trail(seed, action="CONFIG_CHANGE", entity_id="login.max_failures")
    assert '"value":"3"' in applied.new_value  # the setting's first stored value: its CREATE snapshot
    assert applied.username == "qa" and "approved by qa" in (applied.reason or "")
    decided = _trail(seed, action="STATE_CHANGE", entity="config_change")
    assert [(e.old_value, e.new_value, e.username) for e in decided] == [("pending", "approved", "qa")]
    (signed,) = _trail(seed, action="SIGN", entity="signature")
    assert "config_change" in (signed.entity_id or "") and signed.username == "qa"

    # ... and the new threshold is what locks an account now: three failures, not five.
    for _ in range(3):
        with pytest.raises(AuthenticationError):
            auth.authenticate(seed.db, username="op", password="wrong")
    with pytest.raises(AccountLocked):
        auth.authenticate(seed.db, username="op", password=PASSWORD)


def test_se02_the_old_and_new_value_of_the_setting_itself_are_on_the_trail(seed) -> None:  # noqa: ANN001
    change = settings.change(seed.db, seed.admin, key="password.history", value=7, reason="policy v4")
    assert change is not None
    config_changes.approve(seed.db, seed.qa2, change_id=change.id, username="qa2", password=PASSWORD)
    settings_events = _trail(seed, action="CONFIG_CHANGE", entity="setting", entity_id="password.history")
    assert '"value":"7"' in (settings_events[-1].new_value or "")
    # The version history keeps who asked, who decided and both values.
    (row,) = config_changes.history(seed.db, seed.admin, key="password.history")
    assert (row.requested_by, row.decided_by, row.old_value, row.new_value) == ("admin", "qa2", 5, 7)


def test_se02_an_administrator_never_approves(seed) -> None:  # noqa: ANN001
    change = settings.change(seed.db, seed.admin, key="records.late_entry_hours", value=48, reason="night shift")
    assert change is not None
    (admin_view,) = config_changes.pending(seed.db, seed.admin)
    assert not admin_view.may_approve and not admin_view.may_reject and admin_view.why_not
    assert _code(lambda: config_changes.approve(seed.db, seed.admin, change_id=change.id, username="admin",
                                                password=PASSWORD)) == ErrorCode.SEPARATION_OF_DUTIES
    assert _value(seed, "records.late_entry_hours") == 24
    assert any(e.username == "admin" for e in _trail(seed, action="ACCESS_DENIED"))


def test_se02_a_wrong_password_approves_nothing(seed) -> None:  # noqa: ANN001
    change = settings.change(seed.db, seed.admin, key="session.idle_lock_minutes", value=5, reason="shop floor")
    assert change is not None
    with pytest.raises(AuthenticationError):
        config_changes.approve(seed.db, seed.qa, change_id=change.id, username="qa", password="not it")
    assert _value(seed, "session.idle_lock_minutes") == 15
    assert config_changes.get_change(seed.db, seed.qa, change.id).is_pending
    assert _trail(seed, action="SIGN_FAIL") or _trail(seed, action="LOGIN_FAILURE")


def test_se02_rejecting_needs_a_reason_and_a_rejected_change_never_applies(seed) -> None:  # noqa: ANN001
    change = settings.change(seed.db, seed.admin, key="reconciliation.closer_independent", value=1, reason="SOP-12")
    assert change is not None
    assert _code(lambda: config_changes.reject(seed.db, seed.qa, change_id=change.id, reason=" ")) \
        == ErrorCode.REASON_REQUIRED
    rejected = config_changes.reject(seed.db, seed.qa, change_id=change.id, reason="SOP-12 not effective yet")
    assert rejected.status is ConfigChangeStatus.REJECTED and rejected.decision_reason == "SOP-12 not effective yet"
    assert _value(seed, "reconciliation.closer_independent") == 0
    assert _code(lambda: config_changes.approve(seed.db, seed.qa2, change_id=change.id, username="qa2",
                                                password=PASSWORD)) == ErrorCode.CONFIG_CHANGE_NOT_PENDING
    (state,) = _trail(seed, action="STATE_CHANGE", entity="config_change")
    assert (state.new_value, state.reason) == ("rejected", "SOP-12 not effective yet")
    assert any("not pending" in (e.reason or "") for e in _trail(seed, action="RULE_REFUSED"))


def test_se02_other_settings_apply_at_once_but_are_still_versioned(seed) -> None:  # noqa: ANN001
    first = settings.change(seed.db, seed.admin, key="issuance.due_soon_days", value=5, reason="chase earlier")
    second = settings.change(seed.db, seed.admin, key="issuance.due_soon_days", value=7, reason="chase earlier still")
    assert first is not None and second is not None
    assert (first.status, second.status) == (ConfigChangeStatus.APPLIED, ConfigChangeStatus.APPLIED)
    assert (first.version, second.version) == (1, 2) and _value(seed, "issuance.due_soon_days") == 7
    assert [c.version for c in config_changes.history(seed.db, seed.qa)] == [2, 1]
    assert settings.change(seed.db, seed.admin, key="issuance.due_soon_days", value=7, reason="same") is None


def test_se02_one_pending_change_per_setting(seed) -> None:  # noqa: ANN001
    settings.change(seed.db, seed.admin, key="password.min_length", value=12, reason="policy")
    assert _code(lambda: settings.change(seed.db, seed.admin, key="password.min_length", value=14,
                                         reason="policy again")) == ErrorCode.CONFIG_CHANGE_PENDING
    assert [c.new_value for c in config_changes.history(seed.db, seed.admin, key="password.min_length")] == [12]


def test_se02_only_administrators_ask_and_only_qa_decides(seed) -> None:  # noqa: ANN001
    assert _code(lambda: settings.change(seed.db, seed.qa, key="login.max_failures", value=3, reason="x")) \
        == ErrorCode.ACCESS_DENIED
    change = settings.change(seed.db, seed.admin, key="login.max_failures", value=4, reason="x")
    assert change is not None
    assert _code(lambda: config_changes.reject(seed.db, seed.op, change_id=change.id, reason="no")) \
        == ErrorCode.SEPARATION_OF_DUTIES
    assert _code(lambda: config_changes.history(seed.db, seed.op)) == ErrorCode.ACCESS_DENIED


@pytest.mark.direct_sql
def test_se02_a_setting_changed_behind_the_application_without_approval_is_caught(seed, backend) -> None:  # noqa: ANN001
    """Insider: the lock-out threshold raised by SQL, with no request and no approval: `verify` names it (the
    data no longer matches the trail; on PostgreSQL the server trail also notes a write no audited act made)."""
    change = settings.change(seed.db, seed.admin, key="login.max_failures", value=4, reason="CR-1")
    assert change is not None
    config_changes.approve(seed.db, seed.qa, change_id=change.id, username="qa", password=PASSWORD)
    with seed.db.engine.begin() as conn:  # the application's own connection, as with its password in hand
        conn.execute(text("UPDATE setting SET value = '20' WHERE key = 'login.max_failures'"))
    report = integrity.verify_everything(seed.db, seed.qa)
    assert not report.ok
    data = [f for f in report.findings if f.area == "data"]
    assert any("setting login.max_failures" in f.subject for f in data), report.findings
    if backend == "postgres":
        assert any(f.area == "server" and "setting" in f.subject for f in report.findings)
    # The version history still says what was approved: 4.
    assert config_changes.history(seed.db, seed.qa, key="login.max_failures")[0].new_value == 4


def test_se02_every_gmp_key_is_a_declared_setting() -> None:
    assert config_changes.GMP_KEYS <= set(setting_specs.SPECS)
    assert {"login.max_failures", "password.min_length", "records.correction_reasons",
            "reconciliation.require_records_before_close"} <= config_changes.GMP_KEYS
