"""Issue 16 / BK-05, RC-05 through the real command line: `retention`, `hold`, `disposal` and `record invalidate`.

The site's history is made through the services with a clock eleven years back (the command line runs on the real
clock), so its first issuance is past the default 10-year retention when the commands run."""

from __future__ import annotations

import datetime as dt

import pypdfium2
import pytest

from app.runtime import RuntimeConfig, default_db_url, open_database
from tests.helpers.cli import CliRunner
from tests.helpers.clock import FakeClock
from tests.helpers.forms import effective_template, issue
from tests.helpers.governance import set_setting
from tests.helpers.lifecycle import reconciled
from tests.helpers.records import fill
from tests.helpers.seed import PASSWORD, seed_site

AS_DC = {"user": "dc", "password": PASSWORD}
AS_QA = {"user": "qa", "password": PASSWORD}


@pytest.fixture
def site(tmp_path):  # noqa: ANN001, ANN201
    runner = CliRunner(tmp_path / "home")
    config = RuntimeConfig(home=runner.home, db_url=default_db_url(runner.home),
                           workstation=runner.env["FORMTRAIL_WORKSTATION"], hasher_profile="fast")
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=11 * 366)
    db = open_database(config, clock=FakeClock(past))
    try:
        seed = seed_site(db)
        # Eleven years without a log-in would disable the accounts as dormant and expire the passwords: the site's
        # account policy is not what these commands test.
        set_setting(seed, "access.dormant_days", 0)
        set_setting(seed, "password.expiry_days", 0)
        effective_template(seed, "QC-WS-014")
        old = reconciled(seed, copies=2)
        serial = issue(seed, "QC-WS-014", copies=1).serials[0]
        fill(seed, serial)
    finally:
        db.engine.dispose()
    return runner, old, serial


def _pdf_text(path) -> str:  # noqa: ANN001
    doc = pypdfium2.PdfDocument(str(path))
    return " ".join(doc[i].get_textpage().get_text_range() for i in range(len(doc))).replace("\r\n", " ")


@pytest.mark.compliance
def test_bk05_cli_retention_hold_and_disposal_with_qa_signature(site, tmp_path) -> None:  # noqa: ANN001
    cli, old, _serial = site
    issuance = str(old.issuance_id)
    [due] = cli.json("disposal", "due", "--json", **AS_DC)
    assert due["issuance"] == old.issuance_id and due["status"] == "due for disposal" and due["years"] == 10

    # A longer period for the template: not expired any more, and a request is refused with its reason.
    cli.run("retention", "set", "QC-WS-014", "--years", "30", "--reason", "SOP-QA-012 rev 3", **AS_QA)
    assert cli.json("disposal", "due", "--json", **AS_DC) == []
    refused = cli.run("disposal", "request", issuance, "--reason", "end of retention", check=False, **AS_DC)
    assert refused.returncode == 1 and "retention has not expired" in refused.stderr
    cli.run("retention", "set", "QC-WS-014", "--years", "10", "--reason", "SOP-QA-012 rev 4", **AS_QA)
    listed = cli.json("retention", "list", "--json", **AS_DC)
    assert listed["default_years"] == 10 and [r["years"] for r in listed["rules"]] == [10]

    # A legal hold blocks the request until it is released with a reason.
    placed = cli.run("hold", "place", "--issuance", issuance, "--reason", "litigation L-7", **AS_QA).stdout
    [hold] = cli.json("hold", "list", "--json", **AS_QA)
    assert hold["target"] == issuance and f"Legal hold {hold['id']} placed" in placed
    refused = cli.run("disposal", "request", issuance, "--reason", "end of retention", check=False, **AS_DC)
    assert refused.returncode == 1 and "legal hold" in refused.stderr
    cli.run("hold", "release", str(hold["id"]), "--reason", "settled", **AS_QA)
    assert cli.json("hold", "list", "--json", **AS_QA) == []

    out = cli.run("disposal", "request", issuance, "--reason", "10 years after reconciliation", **AS_DC).stdout
    assert "Disposal request 1" in out
    denied = cli.run("disposal", "approve", "1", check=False, **AS_DC)
    assert denied.returncode == 1
    no_terminal = cli.run("disposal", "approve", "1", check=False, **AS_QA)  # a script never signs
    assert no_terminal.returncode == 1 and "terminal" in no_terminal.stderr
    approved = cli.run("disposal", "approve", "1", sign=PASSWORD, **AS_QA)
    assert "approved" in approved.stdout and "1 stored file(s) destroyed" in approved.stdout

    certificate = tmp_path / "certificate.pdf"
    shown = cli.json("disposal", "show", "1", "--certificate", str(certificate), "--json", **AS_QA)
    assert shown["status"] == "completed" and [f["sha256"] for f in shown["files"]] == [old.pdf_sha256]
    assert "Quinn Müller (qa), Approved" in shown["approval"]
    words = _pdf_text(certificate)
    assert all(s in words for s in old.serials) and "Disposal certificate" in words

    verified = cli.run("verify", check=False, **AS_QA)
    assert old.pdf_sha256 not in verified.stdout + verified.stderr


@pytest.mark.compliance
def test_rc05_cli_record_invalidate_keeps_the_value_flagged_void(site) -> None:  # noqa: ANN001
    cli, _old, serial = site
    refused = cli.run("record", "invalidate", serial, "sample_weight_1", "--reason", " ", check=False, **AS_QA)
    assert refused.returncode == 1 and "reason" in refused.stderr
    out = cli.run("record", "invalidate", serial, "sample_weight_1", "--reason", "balance out of calibration",
                  sign=PASSWORD, **AS_QA).stdout
    assert "0.1002 is VOID" in out and "balance out of calibration" in out
    shown = cli.run("record", "show", serial, **AS_QA).stdout
    line = next(x for x in shown.splitlines() if x.startswith("sample_weight_1"))
    assert "0.1002" in line and "VOID/INVALIDATED by qa" in line
