"""`formtrail training …` and `formtrail workstation …` (issue 16 / identity, AC-07 and AC-08), the real CLI."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.forms.resources import resource
from app.models import AuditEvent
from app.runtime import RuntimeConfig, default_db_url, open_database
from tests.helpers.cli import CliRunner

ADMIN_PW, PW, TEMP = "Adm1n-Secret!", "Us3r-Passw0rd!", "Temp0rary-Pw!"


def _last(cli: CliRunner, action: str) -> AuditEvent:
    db = open_database(RuntimeConfig(home=cli.home, db_url=default_db_url(cli.home), workstation="CLI-WS",
                                     hasher_profile="fast"))
    try:
        with db.read() as session:
            return session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                   .order_by(AuditEvent.seq.desc())).first()
    finally:
        db.engine.dispose()


@pytest.mark.compliance
def test_ac07_ac08_training_and_workstation_commands(tmp_path):
    cli = CliRunner(tmp_path / "home")
    cli.run("init", "--site", "BSL-01", "--site-name", "Basel QC", "--admin", "admin", new_password=ADMIN_PW)
    admin = dict(user="admin", password=ADMIN_PW)
    for name, role in (("dc", "document_control"), ("qa", "qa"), ("qa2", "qa")):
        cli.run("user", "add", name, "--full-name", name.upper(), "--role", role, new_password=TEMP, **admin)
        cli.run("user", "passwd", user=name, password=TEMP, new_password=PW)
    dc, qa, qa2 = (dict(user=n, password=PW) for n in ("dc", "qa", "qa2"))
    cli.run("template", "import", str(resource("templates", "QC-WS-014.yaml")), **dc)
    cli.run("template", "submit", "QC-WS-014", **dc)

    # AC-07: QA without qualification records may not sign; refused and logged.
    refused = cli.run("template", "approve", "QC-WS-014", "--version", "1", check=False, sign=PW, **qa)
    assert refused.returncode == 1 and "no identity verification on record" in refused.stderr
    assert _last(cli, "RULE_REFUSED").username == "qa"
    for args in (("--kind", "identity-verified", "--reference", "HR-ID-7"),
                 ("--kind", "accountability-statement", "--reference", "SOP-QA-011"),
                 ("--kind", "training", "--activity", "signing", "--reference", "TRN-ES-1", "--expires",
                  "2099-01-01")):
        cli.run("training", "record", "qa", *args, "--completed", "2026-01-05", **qa2)
    own = cli.run("training", "record", "qa2", "--kind", "identity-verified", "--reference", "X", "--completed",
                  "2026-01-05", check=False, **qa2)
    assert own.returncode == 1
    listed = cli.json("training", "list", "qa", "--json", **qa2)
    assert [(r["kind"], r["activity"], r["current"]) for r in listed] == [
        ("identity-verified", None, True), ("accountability-statement", None, True), ("training", "signing", True)]
    shown = cli.run("training", "list", "qa", **qa2).stdout
    assert "May sign: yes" in shown and "May verify values: no, no training for verifying on record" in shown
    cli.run("template", "approve", "QC-WS-014", "--version", "1", sign=PW, **qa)  # now it signs
    cli.run("training", "revoke", str(listed[0]["id"]), "--reason", "ID document expired", **qa2)
    assert cli.json("training", "list", "qa", "--json", **qa2)[0]["status"] == "revoked"

    # AC-08: this station was registered by `init`; a second installation is seen, read-only until registered.
    me = cli.json("workstation", "whoami", "--json")
    assert me["id"] == "CLI-WS" and me["registered"] is True
    second = CliRunner(cli.home)
    second.env["FORMTRAIL_WORKSTATION"] = "CLI-WS-2"
    assert second.json("workstation", "whoami", "--json")["registered"] is False
    issue = ("issue", "QC-WS-014", "--copies", "1", "--purpose", "LOT 1", "--to", "Line 1", "--due", "2099-01-01",
             "--out", str(tmp_path / "one.pdf"))
    blocked = second.run(*issue, check=False, **dc)
    assert blocked.returncode == 1 and "not registered" in blocked.stderr and not (tmp_path / "one.pdf").exists()
    assert _last(cli, "ACCESS_DENIED").workstation.startswith("unregistered:")
    stations = {s["id"]: s for s in cli.json("workstation", "list", "--json", **admin)}
    assert stations["CLI-WS-2"]["status"] == "seen" and stations["CLI-WS"]["status"] == "registered"
    assert cli.run("workstation", "register", "CLI-WS-2", "--name", "LAB-2", check=False, **qa).returncode == 1
    cli.run("workstation", "register", "CLI-WS-2", "--name", "LAB-2", **admin)
    second.run(*issue, **dc)
    assert (tmp_path / "one.pdf").exists()
    cli.run("workstation", "retire", "LAB-2", "--reason", "PC replaced", **admin)
    again = second.run(*issue[:-1], str(tmp_path / "two.pdf"), check=False, **dc)
    assert again.returncode == 1 and "retired" in again.stderr
