"""SE-02 and the periodic reviews through the real command line: `config set` says a GMP-relevant change is pending,
`config pending/approve/reject/history`, and `review audit-trail|access|sign|list|due` (the signing password typed
at a terminal, never taken from the environment)."""

from __future__ import annotations

import json

import pypdfium2
import pytest

from tests.helpers.cli import CliRunner
from tests.helpers.training import qualify_cli

ADMIN_PW, PW, TEMP = "Adm1n-Secret!", "Us3r-Passw0rd!", "Temp0rary-Pw!"


@pytest.fixture
def cli(tmp_path):  # noqa: ANN001, ANN201
    runner = CliRunner(tmp_path / "home")
    runner.run("init", "--site", "BSL-01", "--site-name", "Basel QC", "--admin", "admin", new_password=ADMIN_PW)
    for name, role in (("qa", "qa"), ("qa2", "qa"), ("op", "operator")):
        runner.run("user", "add", name, "--full-name", name.upper(), "--role", role, new_password=TEMP,
                   user="admin", password=ADMIN_PW)
        runner.run("user", "passwd", user=name, password=TEMP, new_password=PW)
    qualify_cli(runner, ("qa", "qa2"))  # AC-07: they sign
    return runner


ADMIN = {"user": "admin", "password": ADMIN_PW}


def _as(name: str) -> dict[str, str]:
    return {"user": name, "password": PW}


@pytest.mark.compliance("SE-02")
def test_se02_cli_lockout_threshold_pending_then_approved_and_logged(cli, tmp_path) -> None:  # noqa: ANN001
    said = cli.run("config", "set", "login.max_failures", "3", "--reason", "CR-2026-031", **ADMIN).stdout
    assert "PENDING QA approval" in said and "login.max_failures 5 -> 3" in said
    listed = {v["key"]: v for v in cli.json("config", "list", "--json", **ADMIN)}
    assert (listed["login.max_failures"]["value"], listed["login.max_failures"]["pending"]) == (5, 3)
    assert listed["login.max_failures"]["qa_approval"] and not listed["issuance.due_soon_days"]["qa_approval"]
    (pending,) = cli.json("config", "pending", "--json", **_as("qa"))
    assert (pending["key"], pending["old"], pending["new"], pending["status"]) == ("login.max_failures", 5, 3,
                                                                                  "pending")
    # Never from the environment: without a terminal the approval is refused before anything happens.
    refused = cli.run("config", "approve", str(pending["id"]), check=False, **_as("qa"))
    assert refused.returncode != 0 and "terminal" in (refused.stdout + refused.stderr)
    approved = cli.run("config", "approve", str(pending["id"]), sign=PW, **_as("qa")).stdout
    assert "Approved and in effect: login.max_failures = 3" in approved and "QA (qa), Approved" in approved
    values = {v["key"]: v["value"] for v in cli.json("config", "list", "--json", **ADMIN)}
    assert values["login.max_failures"] == 3
    (row,) = cli.json("config", "history", "login.max_failures", "--json", **_as("qa2"))
    assert (row["version"], row["old"], row["new"], row["status"], row["requested_by"], row["decided_by"]) == \
        (1, 5, 3, "approved", "admin", "qa")
    export = tmp_path / "trail.json"
    cli.run("audit", "export", "--format", "json", "--out", str(export), **ADMIN)
    events = json.loads(export.read_text(encoding="utf-8"))["events"]
    (asked,) = [e for e in events if e["action"] == "CONFIG_REQUEST"]
    assert asked["username"] == "admin" and asked["reason"] == "CR-2026-031"
    assert '"old_value":"5"' in asked["new_value"] and '"new_value":"3"' in asked["new_value"]
    (decided,) = [e for e in events if e["entity"] == "config_change" and e["action"] == "STATE_CHANGE"]
    assert (decided["old_value"], decided["new_value"], decided["username"]) == ("pending", "approved", "qa")
    (applied,) = [e for e in events if e["action"] == "CONFIG_CHANGE" and e["entity_id"] == "login.max_failures"]
    assert applied["username"] == "qa" and '"value":"3"' in applied["new_value"]
    assert any(e["action"] == "SIGN" and "config_change" in (e["entity_id"] or "") for e in events)


@pytest.mark.compliance("SE-02")
def test_se02_cli_reject_needs_a_reason_and_non_gmp_applies_at_once(cli) -> None:  # noqa: ANN001
    said = cli.run("config", "set", "issuance.due_soon_days", "5", "--reason", "chase earlier", **ADMIN).stdout
    assert "in effect now" in said and "version 1" in said
    cli.run("config", "set", "records.late_entry_hours", "48", "--reason", "night shift", **ADMIN)
    (pending,) = cli.json("config", "pending", "--json", **_as("qa"))
    no_reason = cli.run("config", "reject", str(pending["id"]), check=False, **_as("qa"))
    assert no_reason.returncode != 0
    rejected = cli.run("config", "reject", str(pending["id"]), "--reason", "no change request", **_as("qa")).stdout
    assert "never takes effect" in rejected
    history = cli.json("config", "history", "--json", **ADMIN)
    assert [(h["version"], h["status"]) for h in history] == [(2, "rejected"), (1, "applied")]
    assert cli.run("config", "pending", **_as("qa")).stdout.strip() == "No configuration change waits for approval."
    # An administrator may not approve (separation of duties): refused before any password is asked for (no
    # terminal here, so asking would have failed with another message).
    cli.run("config", "set", "records.late_entry_hours", "36", "--reason", "again", **ADMIN)
    (again,) = cli.json("config", "pending", "--json", **ADMIN)
    denied = cli.run("config", "approve", str(again["id"]), check=False, **ADMIN)
    said = denied.stdout + denied.stderr
    assert denied.returncode != 0 and "may not approve GMP-relevant configuration changes" in said
    assert "terminal" not in said and "Approving" not in said


def test_ar_cli_reviews_generate_sign_list_due(cli, tmp_path) -> None:  # noqa: ANN001
    due = cli.json("review", "due", "--json", **_as("qa"))
    assert [d["review"] for d in due] == ["Audit-trail review", "User access review"]
    assert all(d["last_done"] is None for d in due)
    out = tmp_path / "at.pdf"
    made = cli.run("review", "audit-trail", "--out", str(out), **_as("qa")).stdout
    assert f"report written to {out}" in made and "Failed log-ins and signatures:" in made
    doc = pypdfium2.PdfDocument(str(out))
    text = "\n".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
    doc.close()
    assert "Periodic review: system audit trail" in text and "User and role administration" in text
    (listed,) = cli.json("review", "list", "--json", **_as("qa"))
    assert listed["kind"] == "audit-trail" and not listed["signed"]
    refused = cli.run("review", "audit-trail", check=False, **_as("op"))
    assert refused.returncode != 0
    signed = cli.run("review", "sign", str(listed["id"]), "--conclusion", "No unexplained event.", sign=PW,
                     **_as("qa2")).stdout
    assert "QA2 (qa2), Reviewed" in signed
    (listed,) = cli.json("review", "list", "--json", **_as("qa"))
    assert listed["signed"] and listed["conclusion"] == "No unexplained event." and listed["signed_by"] == "qa2"
    due = {d["review"]: d for d in cli.json("review", "due", "--json", **_as("qa"))}
    assert due["Audit-trail review"]["last_done"] is not None and due["User access review"]["last_done"] is None
    access = tmp_path / "access.pdf"
    cli.run("review", "access", "--out", str(access), **_as("qa"))
    assert access.read_bytes().startswith(b"%PDF")
