"""Closing a reconciliation through the real command line (issue 14, item 8): `reconcile show` and `reconcile
close` say what closing leaves behind (true copies, records), and a site setting refuses the close before the
signing password is asked for."""

from __future__ import annotations

import pypdfium2
import pytest

from app.forms.resources import resource
from tests.helpers import scanlike as sl
from tests.helpers.cli import CliRunner
from tests.helpers.governance import set_config_cli
from tests.helpers.training import qualify_cli

ADMIN_PW, PW, TEMP = "Adm1n-Secret!", "Us3r-Passw0rd!", "Temp0rary-Pw!"
PROMPT = "Password to sign as"


@pytest.fixture
def cli(tmp_path):  # noqa: ANN001, ANN201
    runner = CliRunner(tmp_path / "home")
    runner.run("init", "--site", "BSL-01", "--site-name", "Basel QC", "--admin", "admin", new_password=ADMIN_PW)
    for name, role in (("dc", "document_control"), ("qa", "qa"), ("qa2", "qa"), ("op", "operator")):
        runner.run("user", "add", name, "--full-name", name.upper(), "--role", role, new_password=TEMP,
                   user="admin", password=ADMIN_PW)
        runner.run("user", "passwd", user=name, password=TEMP, new_password=PW)
    qualify_cli(runner, ("dc", "qa", "qa2", "op"))  # AC-07: they sign and verify
    return runner


def _as(name: str) -> dict[str, str]:
    return {"user": name, "password": PW}


def _config(cli: CliRunner, key: str, value: str) -> None:
    # A GMP-relevant setting takes effect once QA approves it (SE-02).
    set_config_cli(cli, key, value, admin=("admin", ADMIN_PW), approver=("qa", PW), reason="site policy CC-14")


@pytest.mark.compliance
def test_bf05_close_warns_and_site_settings_refuse_before_the_password(cli, tmp_path) -> None:  # noqa: ANN001
    cli.run("template", "import", str(resource("templates", "QC-WS-014.yaml")), **_as("dc"))
    cli.run("template", "submit", "QC-WS-014", **_as("dc"))
    cli.run("template", "approve", "QC-WS-014", "--version", "1", sign=PW, **_as("qa"))
    pdf = tmp_path / "issued.pdf"
    issued = cli.json("issue", "QC-WS-014", "--copies", "2", "--purpose", "Assay LOT 24-0117", "--to", "QC lab 2",
                      "--due", "2099-01-01", "--out", str(pdf), "--json", **_as("dc"))
    first, second = issued["serials"]
    doc = pypdfium2.PdfDocument(str(pdf))
    image = doc[0].render(scale=200 / 72).to_pil().convert("L")
    doc.close()
    scan = tmp_path / "scans" / "a.png"
    scan.parent.mkdir()
    scan.write_bytes(sl.png_bytes(sl.scanned(image), dpi=200))
    cli.run("scan", "import", str(scan), **_as("op"))
    cli.run("form", "void", second, "--reason", "spoiled: wrong sample", **_as("qa"))

    warned = ("warning: if closed now, 1 returned form has scans not yet verified as a true copy",
              "warning: if closed now, 1 returned form has no transcribed record")
    shown = cli.run("reconcile", "show", "1", **_as("qa2")).stdout
    assert all(w in shown for w in warned) and "cannot be closed now" not in shown
    as_json = cli.json("reconcile", "show", "1", "--json", **_as("qa2"))
    assert as_json["unverified_true_copy_serials"] == as_json["untranscribed_record_serials"] == [first]
    assert len(as_json["close_warnings"]) == 2 and as_json["may_close"] is True

    # The site requires true copies first: refused before the password is asked for, with the reason.
    _config(cli, "reconciliation.require_true_copies_before_close", "1")
    shown = cli.run("reconcile", "show", "1", **_as("qa2")).stdout
    assert "cannot be closed now:" in shown and "verified as a true copy first" in shown
    refused = cli.run("reconcile", "close", "1", check=False, sign=PW, **_as("qa2"))
    assert refused.returncode == 1 and "verified as a true copy first" in refused.stdout
    assert PROMPT not in refused.stdout and first in refused.stdout
    _config(cli, "reconciliation.require_true_copies_before_close", "0")

    # The site requires an independent closer: qa voided a form of the issuance.
    _config(cli, "reconciliation.closer_independent", "1")
    refused = cli.run("reconcile", "close", "1", check=False, sign=PW, **_as("qa"))
    assert refused.returncode == 1 and "voided or declared missing" in refused.stdout and PROMPT not in refused.stdout

    # Another QA closes: the warnings come before the password prompt, then the close goes through.
    closed = cli.run("reconcile", "close", "1", sign=PW, **_as("qa2")).stdout
    assert all(closed.index(w) < closed.index(PROMPT) for w in warned)
    assert "Issuance 1 reconciled" in closed
    assert cli.json("reconcile", "show", "1", "--json", **_as("qa"))["state"] == "reconciled"
    out = tmp_path / "refusals.csv"
    cli.run("audit", "export", "--format", "csv", "--action", "RULE_REFUSED", "--out", str(out), **_as("qa"))
    rows = out.read_text(encoding="utf-8").splitlines()
    assert len([r for r in rows if "RULE_REFUSED" in r]) == 2  # each refusal written to the trail, once
