"""The whole paper loop through the real command line: template, issue, scan back, reconcile, record, reports,
backup, verify — the commands and their JSON forms that automation depends on."""

from __future__ import annotations

import json

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
    for name, role in (("dc", "document_control"), ("qa", "qa"), ("qa2", "qa"), ("op", "operator"),
                       ("op2", "operator")):
        runner.run("user", "add", name, "--full-name", name.upper(), "--role", role, new_password=TEMP,
                   user="admin", password=ADMIN_PW)
        runner.run("user", "passwd", user=name, password=TEMP, new_password=PW)
    qualify_cli(runner, ("dc", "qa", "qa2", "op", "op2"))  # AC-07: they sign and verify
    return runner


def test_paper_loop(cli, tmp_path):
    as_ = lambda name: dict(user=name, password=PW)  # noqa: E731
    cli.run("template", "import", str(resource("templates", "QC-WS-014.yaml")), **as_("dc"))
    cli.run("template", "submit", "QC-WS-014", **as_("dc"))
    cli.run("template", "approve", "QC-WS-014", "--version", "1", sign=PW, **as_("qa"))
    [template] = cli.json("template", "list", "--json", **as_("op"))
    assert (template["code"], template["version"], template["status"]) == ("QC-WS-014", 1, "effective")

    pdf = tmp_path / "issued.pdf"
    issued = cli.json("issue", "QC-WS-014", "--copies", "3", "--purpose", "Assay LOT 24-0117", "--reference",
                      "LOT 24-0117", "--to", "QC lab 2", "--due", "2099-01-01", "--out", str(pdf), "--json",
                      **as_("dc"))
    serials = issued["serials"]
    assert serials == ["000001", "000002", "000003"] and issued["issuance_id"] == 1
    again = cli.run("issue", "QC-WS-014", "--copies", "1", "--purpose", "x", "--to", "y", "--due", "2099-01-01",
                    "--out", str(pdf), check=False, **as_("dc"))
    assert again.returncode == 1 and "already exists" in again.stderr
    ref = tmp_path / "reference.pdf"
    cli.run("print-reference", "QC-WS-014", "--out", str(ref), **as_("op"))

    doc = pypdfium2.PdfDocument(str(pdf))
    images = [doc[i].render(scale=200 / 72).to_pil().convert("L") for i in range(len(doc))]
    scans = tmp_path / "scans"
    scans.mkdir()
    (scans / "a.png").write_bytes(sl.png_bytes(sl.scanned(images[0]), dpi=200))
    (scans / "b.jpg").write_bytes(sl.jpeg_bytes(sl.rotate(sl.scanned(images[1]), 180), dpi=200))
    (scans / "copy.png").write_bytes(sl.png_bytes(sl.add_noise(images[0], 12, seed=4), dpi=200))
    (scans / "broken.pdf").write_bytes(b"%PDF-1.4 not really")
    proc = cli.run("scan", "import", str(scans), "--json", **as_("op"))
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    by_file = {line["source"].rsplit("/", 1)[1]: line for line in lines}
    assert {k: v["outcome"] for k, v in by_file.items()} == {
        "a.png": "linked", "b.jpg": "linked", "copy.png": "possible-copy", "broken.pdf": "unreadable-file"}
    assert by_file["b.jpg"]["serial"] == "000002" and by_file["a.png"]["page_no"] == 1
    assert all(set(line) >= {"source", "page", "sha256", "outcome", "serial", "page_no", "reason"} for line in lines)
    exceptions = cli.json("scan", "exceptions", "--json", **as_("qa"))
    assert [e["outcome"] for e in exceptions] == ["possible-copy"]
    cli.run("scan", "not-controlled", str(exceptions[0]["scan_id"]), "--reason", "photocopy made for training",
            **as_("qa"))
    cli.run("scan", "verify-copy", "000001", "--all-checked", sign=PW, **as_("op2"))  # SC-02: the checklist

    cli.run("form", "void", "000003", "--reason", "spoiled: wrong sample", **as_("dc"))
    show = cli.json("reconcile", "show", "1", "--json", **as_("qa"))
    assert (show["accounted"], show["total"]) == (3, 3)
    overdue = cli.json("overdue", "--json", **as_("qa"))
    assert overdue == []
    refused = cli.run("reconcile", "close", "1", check=False, sign=PW, **as_("dc"))
    assert refused.returncode == 1 and "may not close" in refused.stderr
    cli.run("reconcile", "close", "1", sign=PW, **as_("qa"))

    for field, value in (("balance_id", "BAL-QC-03"), ("calibration_valid_until", "2027-01-31"),
                         ("balance_level_ok", "yes"), ("check_weight_id", "CW-100-07"),
                         ("check_weight_reading", "100.0003"), ("sample_id", "LOT 24-0117"),
                         ("sample_weight_1", "0.1002"), ("sample_weight_2", "0.0998"),
                         ("sample_weight_3", "0.1011"), ("weighing_time", "09:42"), ("printout_attached", "yes")):
        cli.run("record", "set", "000001", field, value, "--source-page", "1", **as_("op"))
    bad = cli.run("record", "set", "000002", "sample_weight_1", "12,5a", check=False, **as_("op"))
    assert bad.returncode == 1 and "not a number" in bad.stderr
    cli.run("record", "correct", "000001", "sample_weight_1", "0.1003", "--reason", "Transcription error: misread",
            **as_("op"))
    selfcheck = cli.run("record", "verify", "000001", "sample_weight_1", check=False, **as_("op"))
    assert selfcheck.returncode == 1 and "self-verification" in selfcheck.stderr
    for field in ("check_weight_reading", "sample_id", "sample_weight_1", "sample_weight_2", "sample_weight_3"):
        cli.run("record", "verify", "000001", field, **as_("op2"))
    cli.run("record", "sign", "000001", "--meaning", "reviewed", sign=PW, **as_("qa"))
    # The scanned sheet was never filled in by hand: the reader found its entries, initials and signatures
    # blank. Approval waits until QA has resolved each finding.
    findings = cli.json("scan", "findings", "--serial", "000001", "--json", **as_("qa"))
    assert findings and {f["kind"] for f in findings} >= {"required-blank", "signature-empty"}
    held = cli.run("record", "sign", "000001", "--meaning", "approved", check=False, sign=PW, **as_("qa2"))
    assert held.returncode == 1 and "paper finding" in held.stderr
    for finding in findings:
        cli.run("scan", "resolve-finding", str(finding["id"]), "--reason", "test sheet printed and scanned unfilled",
                "--deviation", "DEV-2026-014", **as_("qa"))
    cli.run("record", "sign", "000001", "--meaning", "approved", sign=PW, **as_("qa2"))
    record = cli.json("record", "show", "000001", "--history", "--json", **as_("qa"))
    assert (record["serial"], record["state"]) == ("000001", "approved")
    weights = next(f for f in record["fields"] if f["name"] == "sample_weight_1")
    assert {"name", "label", "type", "value"} <= set(weights) and weights["value"] == "0.1003"
    assert [e["value"] for e in weights["entries"]] == ["0.1002", "0.1003"]

    for args in (("report", "reconciliation", "1"), ("report", "record", "000001")):
        out = tmp_path / f"{args[1]}.pdf"
        cli.run(*args, "--out", str(out), **as_("qa"))
        assert len(pypdfium2.PdfDocument(str(out))) >= 1
    cli.run("report", "accountability", "--from", "2000-01-01", "--to", "2099-12-31", "--out",
            str(tmp_path / "acc.pdf"), **as_("qa"))
    cli.run("report", "integrity", "--from", "2000-01-01", "--to", "2099-12-31", "--out",
            str(tmp_path / "integrity.csv"), **as_("qa"))
    assert "correction" in (tmp_path / "integrity.csv").read_text()

    cli.run("backup", str(tmp_path / "bk"), user="admin", password=ADMIN_PW)
    assert "Backup verified" in cli.run("backup", "verify", str(tmp_path / "bk")).stdout
    cli.run("archive", "export", "--issuance", "1", "--out", str(tmp_path / "arch.zip"), **as_("qa"))
    assert "Archive verified" in cli.run("archive", "verify", str(tmp_path / "arch.zip")).stdout
    verify = cli.run("verify", **as_("qa"))
    assert "Everything verifies." in verify.stdout and "PROBLEM" not in verify.stdout
