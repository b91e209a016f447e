"""RC-07 paper review by exception through the real command line: a blank sheet scanned back is read box by box
(`scan fields`), its GDP findings listed (`scan findings`) and resolved by QA only, with a reason or a deviation
reference (`scan resolve-finding`)."""

from __future__ import annotations

import pypdfium2
import pytest

from app.forms.resources import resource
from tests.helpers import scanlike as sl
from tests.helpers.cli import CliRunner
from tests.helpers.training import qualify_cli

ADMIN_PW, PW, TEMP = "Adm1n-Secret!", "Us3r-Passw0rd!", "Temp0rary-Pw!"


@pytest.fixture
def cli(tmp_path):
    runner = CliRunner(tmp_path / "home")
    runner.run("init", "--site", "BSL-01", "--site-name", "Basel QC", "--admin", "admin", new_password=ADMIN_PW)
    for name, role in (("dc", "document_control"), ("qa", "qa"), ("op", "operator")):
        runner.run("user", "add", name, "--full-name", name.upper(), "--role", role, new_password=TEMP,
                   user="admin", password=ADMIN_PW)
        runner.run("user", "passwd", user=name, password=TEMP, new_password=PW)
    qualify_cli(runner, ("dc", "qa", "op"))  # AC-07: they sign and verify
    return runner


def as_(name: str) -> dict[str, str]:
    return dict(user=name, password=PW)


@pytest.mark.compliance
def test_rc07_scan_fields_findings_and_resolve_finding(cli, tmp_path):
    cli.run("template", "import", str(resource("templates", "QC-WS-014.yaml")), **as_("dc"))
    cli.run("template", "submit", "QC-WS-014", **as_("dc"))
    cli.run("template", "approve", "QC-WS-014", "--version", "1", sign=PW, **as_("qa"))
    pdf = tmp_path / "issued.pdf"
    cli.run("issue", "QC-WS-014", "--copies", "1", "--purpose", "Assay LOT 24-0117", "--to", "QC lab 2",
            "--due", "2099-01-01", "--out", str(pdf), **as_("dc"))
    doc = pypdfium2.PdfDocument(str(pdf))
    image = doc[0].render(scale=200 / 72).to_pil().convert("L")
    doc.close()
    scan = tmp_path / "scans" / "blank.png"
    scan.parent.mkdir()
    scan.write_bytes(sl.png_bytes(sl.scanned(image), dpi=200))
    cli.run("scan", "import", str(scan), **as_("op"))

    # Every box the renderer drew is read, on the page as it came back; the serial may be typed as printed.
    geometry = cli.json("template", "layout", "QC-WS-014", "--version", "1", "--json", **as_("op"))
    drawn = {(b["field"], b["part"]) for b in geometry["pages"][0]["boxes"]}
    fields = cli.json("scan", "fields", "BSL-01-000001", "--json", **as_("op"))
    [page] = fields["pages"]
    assert (fields["serial"], fields["template"], page["page"], page["read_by"]) == ("000001", "QC-WS-014@1", 1, "op")
    assert {(b["field"], b["part"]) for b in page["boxes"]} == drawn
    states = {(b["field"], b["part"]): b["state"] for b in page["boxes"]}
    assert states[("balance_id", "entry")] == "blank" and states[("balance_level_ok", "option:Yes")] == "unchecked"
    text = cli.run("scan", "fields", "000001", **as_("op")).stdout
    assert "Page 1 (scan " in text and "Balance ID" in text and "done by" in text

    # A blank sheet: its required entries are blank, nothing is ticked, no signature; an optional entry is fine.
    found = cli.json("scan", "findings", "--json", **as_("op"))
    keys = {(f["field"], f["part"], f["kind"]) for f in found}
    assert {("balance_id", "entry", "required-blank"), ("balance_level_ok", "options", "choice-conflict"),
            (None, "signature:performed", "signature-empty")} <= keys
    assert not any(f["field"] == "comments" for f in found)
    assert all(f["status"] == "open" and f["serial"] == "000001" and not f["may_resolve"] for f in found)
    assert cli.json("scan", "findings", "--serial", "000001", "--json", **as_("qa")) == [
        {**f, "may_resolve": True} for f in found]
    listing = cli.run("scan", "findings", **as_("qa")).stdout
    assert "Required entry blank" in listing and "Balance ID" in listing

    target = next(f for f in found if f["field"] == "balance_id" and f["part"] == "entry")["id"]
    refused = cli.run("scan", "resolve-finding", str(target), "--reason", "fine", check=False, **as_("op"))
    assert refused.returncode == 1 and "may not review records" in refused.stderr
    assert "Traceback" not in refused.stderr
    empty = cli.run("scan", "resolve-finding", str(target), check=False, **as_("qa"))
    assert empty.returncode == 1 and "needs a reason" in empty.stderr
    done = cli.run("scan", "resolve-finding", str(target), "--reason", "entered in the record from the printout",
                   "--deviation", "DEV-2026-031", **as_("qa"))
    assert f"Paper finding {target} resolved" in done.stdout and "DEV-2026-031" in done.stdout
    again = cli.run("scan", "resolve-finding", str(target), "--reason", "again", check=False, **as_("qa"))
    assert again.returncode == 1 and "already resolved" in again.stderr

    still_open = cli.json("scan", "findings", "--json", **as_("qa"))
    assert target not in {f["id"] for f in still_open} and len(still_open) == len(found) - 1
    everything = {f["id"]: f for f in cli.json("scan", "findings", "--all", "--json", **as_("qa"))}
    resolved = everything[target]
    assert (resolved["status"], resolved["resolved_by"], resolved["deviation_ref"]) == ("resolved", "qa",
                                                                                         "DEV-2026-031")
    assert "Everything verifies." in cli.run("verify", **as_("qa")).stdout
