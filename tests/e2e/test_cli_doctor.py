"""`formtrail doctor` on a workstation's own SQLite database, through the real command line."""

from __future__ import annotations

import json

from tests.helpers.cli import CliRunner

ADMIN_PW = "Adm1n-Secret!"


def test_doctor_before_and_after_set_up_and_with_a_wrong_file_store(tmp_path):
    cli = CliRunner(tmp_path / "home")
    before = cli.run("doctor", check=False)
    assert before.returncode == 1
    assert before.stdout.startswith("FAIL  Database reachable") and "no database at" in before.stdout
    assert not (tmp_path / "home" / "formtrail.db").exists()  # the doctor creates nothing

    cli.run("init", "--site", "BSL-01", "--site-name", "Basel QC", "--admin", "admin", new_password=ADMIN_PW)
    after = cli.run("doctor")
    assert "This workstation is set up correctly (2 warnings above)." in after.stdout
    cli.run("verify", user="admin", password=ADMIN_PW)
    report = cli.json("doctor", "--json")
    assert report["ok"] is True
    statuses = {c["check"]: c["status"] for c in report["checks"]}
    assert statuses["verify"] == "ok" and statuses["backup"] == "warn"

    cli.env["FORMTRAIL_FILES"] = str(tmp_path / "unmounted-share")
    wrong = cli.run("doctor", check=False)
    assert wrong.returncode == 1
    failed = [line for line in wrong.stdout.splitlines() if line.startswith("FAIL")]
    assert len(failed) == 1 and failed[0].startswith("FAIL  File store") and "does not exist" in failed[0]
    assert "1 of 10 checks failed: file store." in wrong.stdout


def test_a_database_readable_by_others_is_warned(tmp_path):
    cli = CliRunner(tmp_path / "home")
    cli.run("init", "--site", "BSL-01", "--site-name", "Basel QC", "--admin", "admin", new_password=ADMIN_PW)
    (tmp_path / "home" / "formtrail.db").chmod(0o644)
    report = json.loads(cli.run("doctor", "--json").stdout)
    privileges = next(c for c in report["checks"] if c["check"] == "privileges")
    assert privileges["status"] == "warn" and "chmod 600" in privileges["fix"]


def test_a_reader_that_stops_early_gets_no_error(tmp_path):
    """`formtrail doctor | head -1`: the closed pipe ends the command quietly (status 141, as a shell reports a
    SIGPIPE), not with "error: Broken pipe" or an exception at exit."""
    import subprocess
    import sys
    cli = CliRunner(tmp_path / "home")
    cli.run("init", "--site", "BSL-01", "--site-name", "Basel QC", "--admin", "admin", new_password=ADMIN_PW)
    closed_reader = ("import os, sys; r, w = os.pipe(); os.close(r); os.dup2(w, 1); "
                     "from app.cli import main; sys.exit(main(['doctor', '--json']))")
    proc = subprocess.run([sys.executable, "-c", closed_reader], env=cli.env, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 141 and proc.stderr == ""
