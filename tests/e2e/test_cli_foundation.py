"""The foundation through the real command line: init, users, lockout, audit verify and export."""

from __future__ import annotations

import csv
import sqlite3

import pytest

from tests.helpers.cli import CliRunner

ADMIN_PW = "Adm1n-Secret!"
TEMP = "Temp0rary-Pw!"
QA_PW = "Qa-Passw0rd!x"


@pytest.fixture
def cli(tmp_path):
    runner = CliRunner(tmp_path / "home")
    runner.run("init", "--site", "BSL-01", "--site-name", "Basel QC", "--admin", "admin", "--full-name", "Ada Admin",
               new_password=ADMIN_PW)
    return runner


def test_cli_user_lifecycle_and_audit(cli):
    admin = dict(user="admin", password=ADMIN_PW)
    cli.run("user", "add", "jdoe", "--full-name", "Jane Doe", "--role", "qa", new_password=TEMP, **admin)
    listed = cli.json("user", "list", "--json", **admin)
    assert {u["username"]: u["roles"] for u in listed} == {"admin": ["administrator"], "jdoe": ["qa"]}
    assert listed[1]["must_change_password"] is True

    # A temporary password only allows setting a new one.
    blocked = cli.run("user", "list", user="jdoe", password=TEMP, check=False)
    assert blocked.returncode == 1 and "formtrail user passwd" in blocked.stderr
    cli.run("user", "passwd", user="jdoe", password=TEMP, new_password=QA_PW)

    wrong = cli.run("audit", "verify", user="jdoe", password="nope", check=False)
    assert wrong.returncode == 1 and "wrong user name or password" in wrong.stderr

    cli.run("user", "deactivate", "jdoe", "--reason", "left the company", **admin)
    again = cli.run("user", "add", "jdoe", "--full-name", "J", "--role", "qa", new_password=TEMP, check=False, **admin)
    assert again.returncode == 1 and "never reused" in again.stderr

    verify = cli.run("audit", "verify", **admin)
    assert verify.stdout.startswith("Audit trail intact:")

    out = cli.home / "trail.csv"
    cli.run("audit", "export", "--format", "csv", "--out", str(out), **admin)
    with out.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    actions = [r["action"] for r in rows]
    for expected in ("SYSTEM_INIT", "CREATE", "LOGIN_SUCCESS", "LOGIN_FAILURE", "STATE_CHANGE", "LOGOUT"):
        assert expected in actions
    db = sqlite3.connect(cli.home / "formtrail.db")
    # Every row up to the export itself (the EXPORT event and the final LOGOUT come after).
    assert len(rows) == db.execute("SELECT count(*) FROM audit_event WHERE action NOT IN ('EXPORT')").fetchone()[0] - 1


def test_cli_audit_verify_names_the_tampered_row(cli):
    db = sqlite3.connect(cli.home / "formtrail.db")
    db.execute("DROP TRIGGER trg_audit_event_no_update")
    db.execute("UPDATE audit_event SET reason = 'edited' WHERE seq = 2")
    db.commit()
    result = cli.run("audit", "verify", user="admin", password=ADMIN_PW, check=False)
    assert result.returncode == 1
    assert "audit row 2" in result.stdout and "edited" in result.stdout


def test_cli_lockout_and_unlock(cli):
    admin = dict(user="admin", password=ADMIN_PW)
    cli.run("user", "add", "op", "--full-name", "Otto", "--role", "operator", new_password=TEMP, **admin)
    for _ in range(5):
        cli.run("audit", "verify", user="op", password="bad", check=False)
    locked = cli.run("user", "list", user="op", password=TEMP, check=False)
    assert "locked" in locked.stderr
    missing_reason = cli.run("user", "unlock", "op", check=False, **admin)
    assert missing_reason.returncode == 2 and "--reason" in missing_reason.stderr
    cli.run("user", "unlock", "op", "--reason", "identity checked", **admin)
    assert "roles" not in cli.run("user", "passwd", user="op", password=TEMP, new_password=QA_PW).stderr


def test_cli_errors_are_actionable(tmp_path, cli):
    fresh = CliRunner(tmp_path / "fresh")
    result = fresh.run("user", "list", user="x", password="y", check=False)
    assert result.returncode == 1 and "formtrail init" in result.stderr and "Traceback" not in result.stderr
    result = cli.run("user", "list", check=False)
    assert result.returncode == 1 and "--user" in result.stderr
    result = cli.run("template", "approve", "NOPE", "--version", "1", user="admin", password=ADMIN_PW, check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr


def test_cli_db_upgrade_is_an_administrators_act(cli, tmp_path):
    from app.models.engine import build_engine
    from app.models.migrate import downgrade, head_revision
    admin = dict(user="admin", password=ADMIN_PW)
    assert "already at" in cli.run("db", "upgrade", **admin).stdout
    cli.run("user", "add", "viewer", "--full-name", "V", "--role", "viewer", new_password=TEMP, **admin)
    cli.run("user", "passwd", user="viewer", password=TEMP, new_password=QA_PW)
    engine = build_engine(f"sqlite:///{tmp_path / 'home' / 'formtrail.db'}")  # an older release's schema
    downgrade(engine, "0004")
    engine.dispose()
    behind = cli.run("user", "list", check=False, **admin)
    assert behind.returncode == 1 and "formtrail db upgrade" in behind.stderr  # nothing upgrades by itself
    refused = cli.run("db", "upgrade", check=False, user="viewer", password=QA_PW)
    assert refused.returncode == 1 and "not an administrator" in refused.stderr
    wrong = cli.run("db", "upgrade", check=False, user="admin", password="guess")
    assert wrong.returncode == 1 and "wrong user name or password" in wrong.stderr
    done = cli.run("db", "upgrade", **admin)
    assert f"to {head_revision()}" in done.stdout
    db = sqlite3.connect(tmp_path / "home" / "formtrail.db")
    [(who, old, new)] = db.execute("SELECT username, old_value, new_value FROM audit_event "
                                   "WHERE action = 'DB_UPGRADE'").fetchall()
    assert (who, old, new) == ("admin", "0004", head_revision())


def test_migrate_from_another_database_uses_this_workstations_key_folder(tmp_path):
    """`db migrate --from URL` opens the source with this workstation's set-up: FORMTRAIL_KEYS included."""
    keys = tmp_path / "key-share"
    first = CliRunner(tmp_path / "first")
    first.env["FORMTRAIL_KEYS"] = str(keys)
    first.run("init", "--site", "BSL-01", "--site-name", "Basel QC", "--admin", "admin", new_password=ADMIN_PW)
    other = CliRunner(tmp_path / "other")  # another data directory, the same key share
    other.env["FORMTRAIL_KEYS"] = str(keys)
    target = tmp_path / "moved.db"
    done = other.run("--user", "admin", "db", "migrate", "--from", f"sqlite:///{tmp_path / 'first' / 'formtrail.db'}",
                     "--to", f"sqlite:///{target}", "--files-to", str(tmp_path / "moved-files"), password=ADMIN_PW,
                     check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Migration verified." in done.stdout
    assert not (tmp_path / "other" / "keys").exists()  # no second key file made beside the data
