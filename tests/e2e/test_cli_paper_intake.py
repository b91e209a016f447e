"""Issue 16 / paper intake through the real command line: `form add-pages` (BF-02) writes the PDF of the new
pages, which are scanned back with the original page and complete the form; `scan verify-copy` signs only with
every point of the true-copy checklist confirmed (SC-02)."""

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
    qualify_cli(runner, ("dc", "qa", "op"))
    return runner


def as_(name: str) -> dict[str, str]:
    return dict(user=name, password=PW)


def _pngs(pdf, folder, prefix: str) -> list[str]:  # noqa: ANN001
    folder.mkdir(exist_ok=True)
    doc = pypdfium2.PdfDocument(str(pdf))
    out = []
    for i in range(len(doc)):
        path = folder / f"{prefix}-{i + 1}.png"
        path.write_bytes(sl.png_bytes(sl.scanned(doc[i].render(scale=200 / 72).to_pil().convert("L"), seed=i),
                                      dpi=200))
        out.append(str(path))
    doc.close()
    return out


@pytest.mark.compliance
def test_bf02_sc02_form_add_pages_then_scan_back_and_verify_with_the_checklist(cli, tmp_path):
    cli.run("template", "import", str(resource("templates", "QC-WS-014.yaml")), **as_("dc"))
    cli.run("template", "submit", "QC-WS-014", **as_("dc"))
    cli.run("template", "approve", "QC-WS-014", "--version", "1", sign=PW, **as_("qa"))
    issued = tmp_path / "issued.pdf"
    cli.run("issue", "QC-WS-014", "--copies", "1", "--purpose", "Assay LOT 24-0117", "--to", "QC lab 2",
            "--due", "2099-01-01", "--out", str(issued), **as_("dc"))

    refused = cli.run("form", "add-pages", "000001", "--count", "2", "--reason", "more room", "--out",
                      str(tmp_path / "x.pdf"), check=False, **as_("op"))
    assert refused.returncode != 0 and not (tmp_path / "x.pdf").exists()
    extra = tmp_path / "extra.pdf"
    added = cli.json("form", "add-pages", "BSL-01-000001", "--count", "2", "--reason", "step 3 needs more room",
                     "--out", str(extra), "--json", **as_("dc"))
    assert (added["first_page"], added["last_page"]) == (2, 3) and extra.exists()
    doc = pypdfium2.PdfDocument(str(extra))
    assert len(doc) == 2
    doc.close()
    history = cli.run("form", "history", "000001", **as_("op")).stdout
    assert "2 extra pages (2–3) added by DC (dc)" in history and "step 3 needs more room" in history

    # The original page says "1/1", the new ones "2/3" and "3/3": all of them link, and only then is it returned.
    lines = [line for line in cli.run("scan", "import", *_pngs(issued, tmp_path / "s", "orig"), "--json",
                                      **as_("op")).stdout.splitlines() if line.strip()]
    assert '"outcome": "linked"' in lines[0]
    register = cli.json("register", "--json", **as_("op"))
    assert register[0]["state"] == "issued" and register[0]["pages"] == 3
    assert register[0]["extra_pages"][0].startswith("2 extra pages (2–3) added by DC (dc)")
    cli.run("scan", "import", *_pngs(extra, tmp_path / "s", "extra"), **as_("op"))
    assert cli.json("register", "--json", **as_("op"))[0]["state"] == "returned"

    # SC-02: without every point confirmed nothing is signed (and no password is asked for).
    partial = cli.run("scan", "verify-copy", "000001", "--legible", check=False, **as_("qa"))
    assert partial.returncode != 0 and "not confirmed: all pages present, colour where it matters" in partial.stderr
    done = cli.run("scan", "verify-copy", "000001", "--all-pages-present", "--legible", "--colour-where-it-matters",
                   "--corrections-visible", sign=PW, **as_("qa"))
    assert "verified true copies (qa; checked: all pages present, legible, colour where it matters, corrections " \
           "visible)" in done.stdout
