"""BK-02 / SE-03 through the real command line: `formtrail schedule run` twice (the second run does nothing), a
corrupted backup's test-restore fails and opens an incident that `formtrail incident list` shows."""

from __future__ import annotations

import contextlib
import json
import sqlite3

import pytest

from tests.helpers.cli import CliRunner

ADMIN_PW = "Adm1n-Secret!"


@pytest.mark.compliance
def test_bk02_se03_schedule_run_twice_then_a_corrupt_backup_raises_an_incident(tmp_path):
    cli = CliRunner(tmp_path / "home")
    cli.run("init", "--site", "BSL-01", "--site-name", "Basel QC", "--admin", "admin", new_password=ADMIN_PW)
    folder = tmp_path / "backups"
    cli.run("config", "set", "backup.folder", str(folder), "--reason", "nightly backups", user="admin",
            password=ADMIN_PW)

    first = cli.run("schedule", "run", "--json")
    ran = json.loads(first.stdout)
    assert ran["ok"] and ran["did_something"]
    assert [s["done"] for s in ran["steps"][:2]] == [True, True]  # backup, then its test-restore
    second = json.loads(cli.run("schedule", "run", "--json").stdout)
    assert second["ok"] and not second["did_something"]
    [taken] = list(folder.iterdir())

    status = cli.json("schedule", "status", "--json")
    assert status["last_backup"]["ok"] is True and status["last_test_restore"]["ok"] is True

    snapshot = taken / "database.sqlite"
    data = bytearray(snapshot.read_bytes())
    data[len(data) // 2] ^= 0xFF
    snapshot.write_bytes(bytes(data))
    failed = cli.run("schedule", "test-restore", user="admin", password=ADMIN_PW, check=False)
    assert failed.returncode == 1 and "altered" in failed.stdout and "FAILED" in failed.stdout

    incidents = cli.json("incident", "list", "--json", user="admin", password=ADMIN_PW)
    assert [(i["kind"], i["status"]) for i in incidents] == [("restore-test-failed", "open")]
    shown = cli.run("incident", "show", incidents[0]["label"], user="admin", password=ADMIN_PW)
    assert "Test-restore failed" in shown.stdout and "you cannot close it" in shown.stdout

    install = cli.run("schedule", "install")
    assert "schedule run" in install.stdout and "[Timer]" in install.stdout and "crontab" in install.stdout


@pytest.mark.compliance
def test_bk03_cli_in_place_restore_needs_the_approver(tmp_path) -> None:  # noqa: ANN001
    cli = CliRunner(tmp_path / "home")
    cli.run("init", "--site", "BSL-01", "--site-name", "Basel QC", "--admin", "admin", new_password=ADMIN_PW)
    cli.run("user", "add", "qa", "--full-name", "Quinn QA", "--role", "qa", new_password="Temp0rary-Pw!",
            user="admin", password=ADMIN_PW)
    cli.run("user", "passwd", user="qa", password="Temp0rary-Pw!", new_password="Us3r-Passw0rd!")
    cli.run("backup", str(tmp_path / "bk"), user="admin", password=ADMIN_PW)
    args = ("restore", str(tmp_path / "bk"), "--in-place", "--yes", "--reason", "disk replaced")

    unapproved = cli.run(*args, user="admin", password=ADMIN_PW, check=False)
    assert unapproved.returncode == 1 and "second person" in unapproved.stderr
    cli.env["FORMTRAIL_APPROVER_PASSWORD"] = ADMIN_PW
    own = cli.run(*args, "--approver", "admin", user="admin", password=ADMIN_PW, check=False)
    assert own.returncode == 1 and "second person" in own.stderr

    cli.env["FORMTRAIL_APPROVER_PASSWORD"] = "Us3r-Passw0rd!"
    done = cli.run(*args, "--approver", "qa", user="admin", password=ADMIN_PW)
    assert "Approved by Quinn QA (qa)." in done.stdout
    del cli.env["FORMTRAIL_APPROVER_PASSWORD"]
    with contextlib.closing(sqlite3.connect(tmp_path / "home" / "formtrail.db")) as conn:
        [(value,)] = conn.execute("SELECT new_value FROM audit_event WHERE action = 'RESTORE'").fetchall()
    details = json.loads(value)
    assert details["approved_by"] == "qa" and details["restored_by"] == "admin"
