"""AT-03: tampering with the audit trail is detected and the row is named (triggers dropped first, as an
attacker with direct file or superuser access would)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from app.services.core import audit_chain


def raw(db, *statements):
    with db.engine.begin() as conn:
        if db.dialect == "sqlite":
            conn.execute(text("DROP TRIGGER IF EXISTS trg_audit_event_no_update"))
            conn.execute(text("DROP TRIGGER IF EXISTS trg_audit_event_no_delete"))
        else:
            conn.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
        for statement in statements:
            conn.execute(text(statement))


def test_at03_intact_chain_reports_head(seed):
    report = audit_chain.verify_chain(seed.db)
    assert report.ok and report.count == report.head_seq and len(report.head_hash) == 64


def test_at03_edited_row_is_named(seed):
    raw(seed.db, "UPDATE audit_event SET new_value = '7.9' WHERE seq = 12")
    report = audit_chain.verify_chain(seed.db)
    assert not report.ok and report.problem.seq == 12 and report.problem.kind == "edited"


def test_at03_edited_row_with_recomputed_hash_is_named_without_the_key(seed):
    """With the source code but not the key, a recomputed hash (plain SHA-256, or an HMAC under a guessed
    key) does not match: the rewritten row itself is named."""
    from app.services.core.audit import compute_hash
    with seed.db.read() as s:
        from app.models import AuditEvent
        row = s.get(AuditEvent, 12)
        data = {c: getattr(row, c) for c in audit_chain.CHAIN_FIELDS}
        data["key_version"] = row.key_version
    data["reason"] = "rewritten"
    forged = compute_hash(data, b"a guessed key")
    raw(seed.db, f"UPDATE audit_event SET reason = 'rewritten', hash = '{forged}' WHERE seq = 12")
    report = audit_chain.verify_chain(seed.db)
    assert report.problem.seq == 12 and report.problem.kind == "edited"


def test_at03_a_row_rewritten_with_the_key_breaks_the_next_link(seed):
    """Someone who had the key (an administrator's export) and rewrote one row still breaks the chain after it."""
    from app.services.core.audit import compute_hash
    with seed.db.read() as s:
        from app.models import AuditEvent
        row = s.get(AuditEvent, 12)
        data = {c: getattr(row, c) for c in audit_chain.CHAIN_FIELDS}
        data["key_version"] = row.key_version
    data["reason"] = "rewritten"
    forged = compute_hash(data, seed.db.keyring().key("chain", data["key_version"]))
    raw(seed.db, f"UPDATE audit_event SET reason = 'rewritten', hash = '{forged}' WHERE seq = 12")
    report = audit_chain.verify_chain(seed.db)
    assert report.problem.seq == 13 and "row 12 was rewritten" in report.problem.detail


def test_at03_deleted_row_leaves_a_named_gap(seed):
    raw(seed.db, "DELETE FROM audit_event WHERE seq = 13")
    report = audit_chain.verify_chain(seed.db)
    assert report.problem.seq == 13 and report.problem.kind == "missing"


def test_at03_inserted_row_is_named(seed):
    head = audit_chain.verify_chain(seed.db)
    n = head.count + 1
    raw(seed.db, "INSERT INTO audit_event (seq, occurred_at, user_id, username, full_name, workstation, action, "
                 f"prev_hash, hash) VALUES ({n}, '2026-03-04 13:00:00', 1, 'admin', 'Ada Admin', 'X', 'CREATE', "
                 f"'{'0' * 64}', '{'1' * 64}')")
    report = audit_chain.verify_chain(seed.db)
    assert report.problem.seq == n


def test_at03_reordered_rows_are_named(seed):
    raw(seed.db,
        "UPDATE audit_event SET seq = -1 WHERE seq = 10",
        "UPDATE audit_event SET seq = 10 WHERE seq = 11",
        "UPDATE audit_event SET seq = 11 WHERE seq = -1")
    report = audit_chain.verify_chain(seed.db)
    assert report.problem.seq == 10


def test_at03_tail_truncation_detected_against_a_printed_anchor(seed):
    anchor = audit_chain.verify_chain(seed.db)
    raw(seed.db, f"DELETE FROM audit_event WHERE seq >= {anchor.count - 1}")
    assert audit_chain.verify_chain(seed.db).ok  # without an anchor the shorter chain is self-consistent
    report = audit_chain.verify_chain(seed.db, anchors=(audit_chain.parse_anchor(anchor.head),))
    assert not report.ok and report.problem.seq == anchor.count


def test_anchor_parse_rejects_garbage():
    with pytest.raises(ValueError):
        audit_chain.parse_anchor("12:abc")
