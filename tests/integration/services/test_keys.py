"""The site's keys live in a key file outside the data: created with the site, adopted from a site that had
its QR key in the database, rotated (older tags keep verifying), exported, and missed loudly."""

from __future__ import annotations

import json
import secrets
import stat

import pytest
from sqlalchemy import select, text

from app.models import AuditEvent
from app.runtime import open_database
from app.services.core import audit_chain
from app.services.core.audit import compute_hash
from app.services.core.keys import KeysMissing
from app.services.integrity import integrity
from app.services.scans import intake
from app.services.site import key_setup
from tests.helpers import scanlike as sl
from tests.helpers.forms import effective_template, issue
from tests.helpers.scans import issued_page_images, write


def _scan_back(seed, result, tmp_path, name: str):  # noqa: ANN001, ANN202
    image = issued_page_images(seed.db, result.pdf_sha256, dpi=150)[0]
    path = write(tmp_path / name, "p1.png", sl.png_bytes(sl.scanned(image), dpi=150))
    return intake.import_files(seed.db, seed.op, [path])


def test_a_new_site_has_a_private_key_file_and_no_key_in_the_database(seed):
    path = seed.db.keys.path("BSL-01")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    ring = seed.db.keyring()
    assert ring.current == 1 and len({ring.key(p) for p in ("qr", "chain", "signature", "anchor", "backup")}) == 5
    with seed.db.engine.connect() as conn:
        assert conn.execute(text("SELECT qr_key FROM site")).scalar() == ""
        keyed = conn.execute(text("SELECT count(*) FROM audit_event WHERE key_version IS NULL")).scalar()
    assert keyed == 0


def test_rotation_tags_new_forms_with_the_new_key_and_old_forms_keep_linking(seed, tmp_path):
    effective_template(seed)
    before = issue(seed, copies=1)
    info = key_setup.rotate(seed.db, seed.admin, reason="annual key rotation (SOP-IT-007)")
    assert info.current == 2 and [v for v, _ in info.versions] == [1, 2]
    after = issue(seed, copies=1)
    assert _scan_back(seed, before, tmp_path, "old").linked == 1
    assert _scan_back(seed, after, tmp_path, "new").linked == 1
    with seed.db.read() as session:
        versions = set(session.scalars(select(AuditEvent.key_version)))
    assert versions == {1, 2}
    assert audit_chain.verify_chain(seed.db).ok and integrity.verify_everything(seed.db, seed.qa).ok


def test_a_code_made_with_an_older_key_for_a_newer_form_is_refused(seed, tmp_path):
    """The key of version 1 may once have leaked (it sat in the database of older releases): it cannot make a
    valid code for a form issued under version 2."""
    from app.forms.layout.payload import Payload
    effective_template(seed)
    key_setup.rotate(seed.db, seed.admin, reason="rotation")
    after = issue(seed, copies=1)
    old_key = seed.db.keyring().key("qr", 1)
    text_ = Payload(site="BSL-01", serial=after.serials[0], page=1, pages=1, template="QC-WS-014",
                    version=1).encode(old_key)
    page = sl.make_page(text_, dpi=200).image
    report = intake.import_files(seed.db, seed.op, [write(tmp_path / "f", "forged.png", sl.png_bytes(page, dpi=200))])
    [line] = report.outcomes
    assert line.outcome == "tag-invalid" and "key version 1" in line.reason


@pytest.mark.direct_sql
def test_a_site_from_before_keys_adopts_its_old_qr_key(seed, tmp_path, runtime_config):
    """A database written by an older release: unkeyed audit rows, the QR key in the site table, no key file.
    At the next start the key moves out (as version 1, so printed forms keep linking), version 2 starts, and
    the old rows stay verifiable, sealed by the first keyed row after them."""
    effective_template(seed)
    printed = issue(seed, copies=1)
    old_key = seed.db.keyring().key("qr", 1)
    with seed.db.read() as session:
        rows = [{c: getattr(e, c) for c in (*audit_chain.CHAIN_FIELDS, "key_version")}
                for e in session.scalars(select(AuditEvent).order_by(AuditEvent.seq))]
    prev = rows[0]["prev_hash"]
    with seed.db.engine.begin() as conn:  # rewrite the trail into the pre-key form, as the old release wrote it
        if seed.db.dialect == "sqlite":
            conn.execute(text("DROP TRIGGER trg_audit_event_no_update"))
        else:
            conn.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
        for row in rows:
            row.update(prev_hash=prev, key_version=None)
            row["hash"] = prev = compute_hash(row)
            conn.execute(text("UPDATE audit_event SET key_version = NULL, prev_hash = :p, hash = :h WHERE seq = :s"),
                         {"p": row["prev_hash"], "h": row["hash"], "s": row["seq"]})
        conn.execute(text("UPDATE site SET qr_key = :k"), {"k": old_key.hex()})
        conn.execute(text("UPDATE issuance SET key_version = NULL"))
        if seed.db.dialect == "postgresql":
            conn.execute(text("ALTER TABLE audit_event ENABLE TRIGGER USER"))
    seed.db.keys.path("BSL-01").unlink()
    seed.db.engine.dispose()
    reopened = open_database(runtime_config)  # the first start of the new release
    try:
        ring = reopened.keyring()
        assert ring.current == 2 and ring.key("qr", 1) == old_key
        with reopened.engine.connect() as conn:
            assert conn.execute(text("SELECT qr_key FROM site")).scalar() == ""
            action = conn.execute(text("SELECT action FROM audit_event ORDER BY seq DESC LIMIT 1")).scalar()
        assert action == "KEYS_INSTALLED"
        assert audit_chain.verify_chain(reopened).ok
        from tests.helpers.seed import Seed
        again = Seed(db=reopened, actors=seed.actors)
        assert _scan_back(again, printed, tmp_path, "printed-before").linked == 1
    finally:
        reopened.engine.dispose()


def test_a_lost_key_file_is_reported_not_recreated(seed, runtime_config):
    effective_template(seed)
    path = seed.db.keys.path("BSL-01")
    saved = path.read_bytes()
    path.unlink()
    seed.db.engine.dispose()
    reopened = open_database(runtime_config)
    try:
        assert not path.exists()  # keyed rows exist: a new key would hide the loss
        with pytest.raises(KeysMissing) as missing:
            issue(type(seed)(db=reopened, actors=seed.actors), copies=1)
        assert missing.value.code == "keys-missing"
        assert str(path) in str(missing.value)  # says where the file belongs, so it can be copied back
    finally:
        reopened.engine.dispose()
    path.write_bytes(saved)


def test_export_is_private_and_recorded(seed, tmp_path):
    out = key_setup.export(seed.db, seed.admin, tmp_path / "site-keys.json", reason="to the safe (SOP-IT-009)")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert json.loads(out.read_text())["site"] == "BSL-01"
    with seed.db.read() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "KEYS_EXPORTED"))
    assert event is not None and secrets.compare_digest(event.username, "admin")
    assert "secret" not in (event.new_value or "")


def test_installing_an_older_export_extends_the_key_file_and_loses_no_version(seed, tmp_path):
    """An export taken before a rotation, installed again, must not drop the newer version (everything signed,
    chained or tagged with it would no longer verify)."""
    from app.services.core.errors import DomainError
    from app.services.core.keys import KeyStore
    key_setup.export(seed.db, seed.admin, tmp_path / "old.keys.json", reason="key backup")
    key_setup.rotate(seed.db, seed.admin, reason="yearly rotation")
    store = KeyStore(seed.db.keys.folder)
    ring = store.import_file("BSL-01", tmp_path / "old.keys.json")
    assert sorted(ring.versions) == [1, 2] and ring.current == 2
    assert sorted(KeyStore(seed.db.keys.folder).ring("BSL-01").versions) == [1, 2]  # as written to disk
    assert audit_chain.verify_chain(seed.db).ok
    forged = json.loads((tmp_path / "old.keys.json").read_text())
    forged["versions"]["1"]["secret"] = secrets.token_bytes(32).hex()
    (tmp_path / "forged.keys.json").write_text(json.dumps(forged))
    with pytest.raises(DomainError):
        store.import_file("BSL-01", tmp_path / "forged.keys.json")
