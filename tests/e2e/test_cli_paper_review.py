"""Paper review by exception through the real command line: the template's box geometry as a contract."""

from __future__ import annotations

import pytest

from app.forms.resources import resource
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


def test_template_layout_prints_every_box_in_millimetres(cli):
    as_dc = dict(user="dc", password=PW)
    cli.run("template", "import", str(resource("templates", "PRD-BR-102.yaml")), **as_dc)
    data = cli.json("template", "layout", "PRD-BR-102", "--version", "1", "--json", **as_dc)
    assert data["paper"] == {"width_mm": 210.0, "height_mm": 297.0}
    assert [p["page"] for p in data["pages"]] == [1, 2]
    parts = {b["part"] for p in data["pages"] for b in p["boxes"]}
    assert {"entry", "done_by", "checked_by"} <= parts
    assert any(p.startswith("option:") for p in parts) and any(p.startswith("signature:") for p in parts)
    text = cli.run("template", "layout", "PRD-BR-102", **as_dc).stdout
    assert "millimetres" in text and "signature:" in text
    missing = cli.run("template", "layout", "NOPE", check=False, **as_dc)
    assert missing.returncode == 1 and "NOPE" in missing.stderr


LEFT_BLANK = "check_weight_id"  # a required entry left blank
NO_INITIALS = "balance_id"  # an entry without its done-by initials
TICKED_TWICE = "printout_attached"  # both Yes and No ticked


@pytest.mark.compliance
def test_rc07_three_paper_slips_are_found_without_reading_the_page_then_resolved_and_approved(cli, tmp_path):
    """RC-07 and issue 15's "done when": a sheet with one required entry blank, one missing initial and one
    yes/no ticked twice is scanned back (skewed, at 200 dpi); exactly those three findings appear; approval
    waits for QA to resolve them."""
    import pypdfium2

    from app.forms.render.boxes import form_geometry
    from tests.helpers import scanlike as sl
    from tests.helpers.forms import sample_layout
    from tests.helpers.paper_sheets import fill_worksheet

    as_ = lambda name: dict(user=name, password=PW)  # noqa: E731
    cli.run("template", "import", str(resource("templates", "QC-WS-014.yaml")), **as_("dc"))
    cli.run("template", "submit", "QC-WS-014", **as_("dc"))
    cli.run("template", "approve", "QC-WS-014", "--version", "1", sign=PW, **as_("qa"))
    pdf = tmp_path / "issued.pdf"
    cli.run("issue", "QC-WS-014", "--copies", "1", "--purpose", "Assay LOT 24-0117", "--to", "QC lab 2",
            "--due", "2099-01-01", "--out", str(pdf), **as_("dc"))
    image = pypdfium2.PdfDocument(str(pdf))[0].render(scale=200 / 72, grayscale=True).to_pil().convert("L")
    filled = fill_worksheet(image, form_geometry(sample_layout("QC-WS-014")), dpi=200,
                            left_blank=frozenset({LEFT_BLANK}), no_initials=frozenset({NO_INITIALS}),
                            ticked_twice=frozenset({TICKED_TWICE}))
    scans = tmp_path / "scans"
    scans.mkdir()
    (scans / "sheet.jpg").write_bytes(sl.jpeg_bytes(sl.rotate(sl.scanned(filled, seed=3), 1.2), quality=80, dpi=200))
    cli.run("scan", "import", str(scans), **as_("op"))

    findings = cli.json("scan", "findings", "--json", **as_("qa"))
    assert sorted((f["kind"], f["field"]) for f in findings) == [
        ("choice-conflict", TICKED_TWICE), ("missing-done-by", NO_INITIALS), ("required-blank", LEFT_BLANK)]
    boxes = cli.json("scan", "fields", "000001", "--json", **as_("qa"))["pages"][0]["boxes"]
    state = {(b["field"], b["part"]): b["state"] for b in boxes}
    assert state[(LEFT_BLANK, "entry")] == "blank" and state[("sample_weight_1", "entry")] == "ink"
    assert state[(TICKED_TWICE, "option:Yes")] == state[(TICKED_TWICE, "option:No")] == "checked"

    for field, value in (("balance_id", "BAL-03"), ("calibration_valid_until", "2027-01-31"),
                         ("balance_level_ok", "yes"), ("check_weight_reading", "100.0003"),
                         ("sample_id", "LOT 24-0117"), ("sample_weight_1", "0.1002"), ("sample_weight_2", "0.0998"),
                         ("sample_weight_3", "0.1011"), ("weighing_time", "09:42"), ("printout_attached", "yes")):
        cli.run("record", "set", "000001", field, value, "--source-page", "1", **as_("op"))
    cli.run("record", "set", "000001", "check_weight_id", "--na", "left blank on paper: deviation DEV-26-031",
            **as_("op"))
    for field in ("check_weight_reading", "sample_id", "sample_weight_1", "sample_weight_2", "sample_weight_3"):
        cli.run("record", "verify", "000001", field, **as_("op2"))
    cli.run("reconcile", "close", "1", sign=PW, **as_("qa"))
    cli.run("record", "sign", "000001", "--meaning", "reviewed", sign=PW, **as_("qa"))
    held = cli.run("record", "sign", "000001", "--meaning", "approved", check=False, sign=PW, **as_("qa2"))
    assert held.returncode == 1 and "3 open paper findings" in held.stderr
    refused = cli.run("scan", "resolve-finding", str(findings[0]["id"]), "--reason", "ok", check=False,
                      **as_("op"))
    assert refused.returncode == 1
    for finding in findings:
        cli.run("scan", "resolve-finding", str(finding["id"]), "--deviation", "DEV-26-031",
                "--reason", "GDP slip discussed with the analyst; values confirmed from the balance printout",
                **as_("qa"))
    assert cli.json("scan", "findings", "--json", **as_("qa")) == []
    cli.run("record", "sign", "000001", "--meaning", "approved", sign=PW, **as_("qa2"))
    assert cli.json("record", "show", "000001", "--json", **as_("qa"))["state"] == "approved"
