"""`formtrail doctor` on a PostgreSQL site: each broken piece named (TLS off, wrong role, clock off, file store
missing or another folder, keys missing), and a correct set-up passing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from app.runtime import RuntimeConfig, doctor_workstation, open_database
from app.services.admin import doctor
from app.services.admin.doctor import CheckStatus
from tests.helpers.forms import effective_template, issue
from tests.helpers.seed import seed_site

UTC = dt.timezone.utc


@pytest.fixture
def site_config(site_server, tmp_path) -> RuntimeConfig:
    """A set-up site on the server, used as a workstation does: the application role, shared folders."""
    _url, app_url, _info = site_server
    config = RuntimeConfig(home=tmp_path / "ws", db_url=app_url, workstation="WS-1", hasher_profile="fast",
                           files_dir=tmp_path / "share" / "files", keys_dir=tmp_path / "share" / "keys")
    db = open_database(config)
    try:
        seed = seed_site(db)
        effective_template(seed)
        issue(seed, copies=2)
    finally:
        db.engine.dispose()
    return config


def run(config: RuntimeConfig, **kwargs) -> doctor.DoctorReport:
    return doctor.run(doctor_workstation(config), **kwargs)


def test_a_correct_site_passes_but_for_tls_which_this_server_lacks(site_config):
    report = run(site_config)
    statuses = {c.code: c.status for c in report.checks}
    assert statuses == {"database": CheckStatus.OK, "tls": CheckStatus.FAIL, "schema": CheckStatus.OK,
                        "site": CheckStatus.OK, "privileges": CheckStatus.OK, "clock": CheckStatus.OK,
                        "file-store": CheckStatus.OK, "keys": CheckStatus.OK, "backup": CheckStatus.WARN,
                        "verify": CheckStatus.WARN}, report.as_dict()
    assert not report.ok
    assert "sslmode=require" in report.check("tls").fix


def test_clock_off_is_named(site_config):
    ahead = run(site_config, local_now=lambda: dt.datetime.now(UTC) + dt.timedelta(minutes=5))
    clock = ahead.check("clock")
    assert clock.status is CheckStatus.FAIL and "ahead of" in clock.detail and "NTP" in clock.fix
    behind = run(site_config, local_now=lambda: dt.datetime.now(UTC) - dt.timedelta(seconds=90))
    assert behind.check("clock").status is CheckStatus.FAIL and "behind" in behind.check("clock").detail


def test_file_store_missing_or_another_folder_is_named(site_config, tmp_path):
    import dataclasses
    missing = run(dataclasses.replace(site_config, files_dir=tmp_path / "not-mounted"))
    assert missing.check("file-store").status is CheckStatus.FAIL
    assert "does not exist" in missing.check("file-store").detail
    (tmp_path / "local").mkdir()
    local = run(dataclasses.replace(site_config, files_dir=tmp_path / "local"))
    assert local.check("file-store").status is CheckStatus.FAIL
    assert "not this database's file store" in local.check("file-store").detail
    assert not list((tmp_path / "local").iterdir())  # the write probe was removed again
    keys = run(dataclasses.replace(site_config, keys_dir=tmp_path / "no-keys"))
    assert keys.check("keys").status is CheckStatus.FAIL


def test_a_copied_store_of_another_database_is_not_taken_for_this_one(site_config, tmp_path):
    """The anchor file is the store's marker: a store holding another history's anchors is refused."""
    import dataclasses
    import shutil
    other = tmp_path / "other-store"
    shutil.copytree(site_config.file_store_root, other)
    ledger = next((other / "ledger").glob("anchors-*.jsonl"))
    lines = ledger.read_text().splitlines()  # as if the other database's chain had other hashes
    ledger.write_text("\n".join(line.replace('"hash": "', '"hash": "f') for line in lines) + "\n")
    report = run(dataclasses.replace(site_config, files_dir=other))
    assert report.check("file-store").status is CheckStatus.FAIL
    assert "names an event of this database" in report.check("file-store").detail


def test_connecting_as_the_owner_or_a_superuser_is_named(site_server, site_config):
    import dataclasses
    superuser_url, _app, _info = site_server
    report = run(dataclasses.replace(site_config, db_url=superuser_url))
    privileges = report.check("privileges")
    assert privileges.status is CheckStatus.FAIL and "superuser" in privileges.detail
    assert "application role" in privileges.fix


def test_an_unreachable_server_fails_fast_and_skips_the_rest(tmp_path):
    config = RuntimeConfig(home=tmp_path, db_url="postgresql+psycopg://formtrail_app:x@127.0.0.1:1/formtrail",
                           workstation="WS", files_dir=tmp_path)
    report = run(config)
    assert report.check("database").status is CheckStatus.FAIL
    assert ":x@" not in report.check("database").detail  # the password is never shown
    assert {c.status for c in report.checks[1:]} == {CheckStatus.SKIPPED}


def test_store_path_check_needs_no_stored_file_yet(site_server, tmp_path):
    """A site with nothing stored yet still has its anchor file after the first writes."""
    _url, app_url, _info = site_server
    config = RuntimeConfig(home=tmp_path / "ws", db_url=app_url, workstation="WS-1", hasher_profile="fast",
                           files_dir=tmp_path / "files", keys_dir=tmp_path / "keys")
    db = open_database(config)
    try:
        seed_site(db, names=("admin",))
    finally:
        db.engine.dispose()
    assert run(config).check("file-store").status is CheckStatus.OK
    assert Path(tmp_path / "files" / "ledger").is_dir()


def test_a_check_that_breaks_is_a_finding_not_a_traceback(site_config, monkeypatch):
    from app.services.admin import doctor_checks

    def broken(ctx):  # noqa: ANN001, ANN202
        raise RuntimeError("catalog unreadable")
    monkeypatch.setitem(doctor_checks.CHECKS, "privileges", broken)
    report = run(site_config)
    privileges = report.check("privileges")
    assert privileges.status is CheckStatus.FAIL and "catalog unreadable" in privileges.detail
    assert report.check("clock").status is CheckStatus.OK  # the others still ran
