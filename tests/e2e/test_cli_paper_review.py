"""Paper review by exception through the real command line: the template's box geometry as a contract."""

from __future__ import annotations

import pytest

from app.forms.resources import resource
from tests.helpers.cli import CliRunner

ADMIN_PW, PW, TEMP = "Adm1n-Secret!", "Us3r-Passw0rd!", "Temp0rary-Pw!"


@pytest.fixture
def cli(tmp_path):
    runner = CliRunner(tmp_path / "home")
    runner.run("init", "--site", "BSL-01", "--site-name", "Basel QC", "--admin", "admin", new_password=ADMIN_PW)
    for name, role in (("dc", "document_control"), ("qa", "qa"), ("op", "operator")):
        runner.run("user", "add", name, "--full-name", name.upper(), "--role", role, new_password=TEMP,
                   user="admin", password=ADMIN_PW)
        runner.run("user", "passwd", user=name, password=TEMP, new_password=PW)
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
