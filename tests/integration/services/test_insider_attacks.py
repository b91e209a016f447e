"""Integrity against an insider (threat model 1 of the README): someone with the database (raw SQL, triggers
dropped, the source code in hand) but not the site's key file. Each attack is one test, and `verify` must
name what changed. Run on SQLite and on the real PostgreSQL server (as its superuser, the strongest case)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select, text

from app.models import AuditEvent
from app.services.admin import backup, restore
from app.services.core import anchors, audit_chain
from app.services.core.audit import ROW_FIELDS, compute_hash
from app.services.identity import signatures
from app.services.identity.signatures import content_hash
from app.services.integrity import integrity
from tests.helpers.forms import issue
from tests.helpers.insider import busy_site, findings, raw


@pytest.fixture
def busy(seed):  # noqa: ANN001, ANN201
    return busy_site(seed)


def test_an_intact_site_verifies_and_the_check_is_recorded(busy):
    seed, _result = busy
    report = integrity.verify_everything(seed.db, seed.qa)
    assert report.ok, report.findings
    assert report.rows_checked > 10 and report.signatures_checked >= 1 and report.anchors_checked >= 1
    with seed.db.read() as session:
        last = session.scalar(select(AuditEvent).where(AuditEvent.action == "VERIFY").order_by(AuditEvent.seq.desc()))
    assert json.loads(last.new_value)["ok"] is True


def test_at03_the_whole_chain_rewritten_with_recomputed_hashes_is_detected(busy):
    """Rewrite one row, then recompute every hash after it the way the source code does, with a key one
    could guess (the plain SHA-256 of the pre-key format, or any other): the first rewritten row is named."""
    seed, _result = busy
    with seed.db.read() as session:
        rows = [{name: getattr(e, name) for name in (*ROW_FIELDS, "hash")}
                for e in session.scalars(select(AuditEvent).order_by(AuditEvent.seq))]
    target = len(rows) // 2
    rows[target]["reason"] = "a better story"
    prev = rows[target - 1]["hash"]
    statements = []
    for row in rows[target:]:
        row["prev_hash"] = prev
        row["hash"] = prev = compute_hash(row, b"not the key")
        statements.append((row["seq"], row["reason"], row["prev_hash"], row["hash"]))
    with seed.db.engine.begin() as conn:
        if seed.db.dialect == "sqlite":
            conn.execute(text("DROP TRIGGER trg_audit_event_no_update"))
        else:
            conn.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
        for seq, reason, prev_hash, digest in statements:
            conn.execute(text("UPDATE audit_event SET reason = :r, prev_hash = :p, hash = :h WHERE seq = :s"),
                         {"r": reason, "p": prev_hash, "h": digest, "s": seq})
        if seed.db.dialect != "sqlite":  # and covers the tracks (the failed check then opens its incident normally)
            conn.execute(text("ALTER TABLE audit_event ENABLE TRIGGER USER"))
    [finding] = findings(seed.db, seed.qa, "chain")
    assert finding.subject == f"audit row {rows[target]['seq']}" and "edited" in finding.detail


def test_an_event_appended_in_another_users_name_is_detected(busy):
    seed, _result = busy
    head = audit_chain.verify_chain(seed.db)
    row = dict(seq=head.head_seq + 1, occurred_at=dt.datetime.now(dt.timezone.utc), user_id=seed.qa.user_id,
               username="qa", full_name="Quinn Müller", workstation="QA-PC", action="LOGIN_SUCCESS", entity=None,
               entity_id=None, field=None, old_value=None, new_value=None, reason=None, prev_hash=head.head_hash,
               key_version=1)
    row["hash"] = compute_hash(row, b"a guessed key")
    raw(seed.db, "INSERT INTO audit_event (seq, occurred_at, user_id, username, full_name, workstation, action, "
                 "prev_hash, hash, key_version) VALUES (:seq, :occurred_at, :user_id, :username, :full_name, "
                 ":workstation, :action, :prev_hash, :hash, :key_version)",
        **{k: (v.replace(tzinfo=None) if isinstance(v, dt.datetime) and seed.db.dialect == "sqlite" else v)
           for k, v in row.items() if k in ("seq", "occurred_at", "user_id", "username", "full_name",
                                           "workstation", "action", "prev_hash", "hash", "key_version")})
    [finding] = findings(seed.db, seed.qa, "chain")
    assert finding.subject == f"audit row {row['seq']}"
    unkeyed = dict(row, key_version=None)  # the pre-key format instead: refused after keyed rows
    unkeyed["hash"] = compute_hash(unkeyed)
    raw(seed.db, "UPDATE audit_event SET key_version = NULL, hash = :h WHERE seq = :s", h=unkeyed["hash"],
        s=row["seq"])
    [finding] = findings(seed.db, seed.qa, "chain")
    assert "forged" in finding.detail


def test_a_raw_update_of_a_value_is_named_with_its_field(busy):
    seed, result = busy
    raw(seed.db, "UPDATE record_entry SET value = '0.0999' WHERE field_name = 'sample_weight_1'")
    data = findings(seed.db, seed.qa, "data")
    assert any("sample_weight_1" in f.subject and "field value" in f.subject and "0.0999" in f.detail for f in data)


def test_a_form_voided_with_sql_is_named(busy):
    seed, result = busy
    raw(seed.db, f"UPDATE issued_form SET state = 'voided' WHERE serial = '{result.serials[1]}'")
    data = findings(seed.db, seed.qa, "data")
    assert [f.subject for f in data] == [f"issued_form {result.serials[1]} field state"]


def test_a_bumped_serial_counter_is_named(busy):
    seed, _result = busy
    raw(seed.db, "UPDATE serial_counter SET next_serial = 50")
    [finding] = findings(seed.db, seed.qa, "serials")
    assert "moved forward" in finding.detail and "000050" in finding.detail


def test_es04_a_signature_inserted_for_another_record_with_its_hash_recomputed_is_named(busy):
    seed, result = busy
    content = {"field": "pH", "value": "7.2"}
    signatures.sign(seed.db, seed.qa, username="qa", password="Corr3ct-Horse!",
                    meaning=signatures.SignatureMeaning.REVIEWED, entity="record", entity_id="R-1",
                    content=content, activity="record:R-1")
    raw(seed.db, "INSERT INTO signature (entity, entity_id, activity, meaning, signer_id, signer_username, "
                 "signer_full_name, signed_at, content_hash, binding, key_version) SELECT entity, 'R-2', "
                 "'record:R-2', meaning, signer_id, signer_username, signer_full_name, signed_at, :h, binding, "
                 "key_version FROM signature WHERE entity_id = 'R-1'", h=content_hash("record", "R-2", content))
    with seed.db.read() as session:
        [copied] = signatures.signatures_of(session, "record", "R-2")
    assert signatures.status(copied, content) is signatures.SignatureStatus.NOT_GENUINE
    assert any("R-2" in f.subject for f in findings(seed.db, seed.qa, "signature"))


def test_at03_a_truncated_tail_is_named_by_the_anchor_in_the_file_store(busy):
    seed, _result = busy
    anchors.maybe_write(seed.db, force=True)
    head = audit_chain.verify_chain(seed.db).head_seq
    raw(seed.db, f"DELETE FROM audit_event WHERE seq > {head - 9}")
    assert audit_chain.verify_chain(seed.db).ok  # a shorter keyed chain is consistent in itself
    chain = findings(seed.db, seed.qa, "chain")
    assert any(f.subject == f"audit rows {head - 8}-{head}" and "truncated" in f.detail for f in chain)


def test_an_edited_anchor_file_is_named(busy):
    seed, _result = busy
    anchors.maybe_write(seed.db, force=True)
    path = anchors.anchor_file(seed.db.files.root, "BSL-01")
    lines = path.read_text().splitlines()
    forged = json.loads(lines[-1])
    forged["seq"] -= 5  # move the anchor back so that a truncation would hide
    path.write_text("\n".join([*lines[:-1], json.dumps(forged)]) + "\n")
    assert any("does not verify" in f.detail for f in findings(seed.db, seed.qa, "anchor"))


def test_a_deleted_anchor_file_is_named(busy):
    seed, _result = busy
    anchors.anchor_file(seed.db.files.root, "BSL-01").unlink()
    assert any("missing" in f.detail for f in findings(seed.db, seed.qa, "anchor"))


def test_the_qr_key_is_not_in_the_database(busy):
    seed, _result = busy
    with seed.db.engine.connect() as conn:
        stored = conn.execute(text("SELECT qr_key FROM site")).scalar()
    assert stored == ""
    assert seed.db.keys.path("BSL-01").exists()


def test_bk_a_backup_edited_with_its_manifest_recomputed_fails_verification(busy, tmp_path):
    from app.services.core.filestore import sha256_file
    seed, _result = busy
    backup.backup(seed.db, seed.admin, tmp_path / "bk")
    manifest_path = tmp_path / "bk" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    victim = next(name for name in manifest["files"] if name.startswith("files/"))
    (tmp_path / "bk" / victim).write_bytes(b"a different scan")
    manifest["files"][victim] = {"sha256": sha256_file(tmp_path / "bk" / victim), "size": 16}
    manifest_path.write_text(json.dumps(manifest, indent=1, sort_keys=True))  # every hash now matches
    check = restore.verify_backup(tmp_path / "bk", keys=seed.db.keys)
    assert not check.ok and any("signature does not verify" in p for p in check.problems)


def test_an_old_backup_restored_over_a_newer_site_names_the_lost_tail(busy, tmp_path, backend):
    """A database file copied back over the live one (no RESTORE event): the anchors taken since name the
    rows it lost. A restore done through Formtrail says the same as a warning (it records what it gave up)."""
    if backend != "sqlite":
        pytest.skip("the SQLite file is what gets copied back")
    import shutil
    from pathlib import Path
    seed, _result = busy
    db_file = Path(seed.db.engine.url.database)
    old = tmp_path / "old.db"
    seed.db.engine.dispose()
    shutil.copy(db_file, old)
    issue(seed, copies=2)  # the site goes on
    anchors.maybe_write(seed.db, force=True)
    head = audit_chain.verify_chain(seed.db).head_seq
    seed.db.engine.dispose()
    shutil.copy(old, db_file)  # someone puts the old file back
    chain = findings(seed.db, seed.qa, "chain")
    assert any(f.subject.endswith(f"-{head}") and "truncated" in f.detail for f in chain)
