"""`formtrail issue --out` never uses up a release without a file, and `formtrail release` gives the copies
their one release later (invariant 10: a failed write loses nothing)."""

from __future__ import annotations

import pytest

from app.forms.resources import resource
from tests.helpers.cli import CliRunner
from tests.helpers.training import qualify_cli

ADMIN_PW, PW, TEMP = "Adm1n-Secret!", "Us3r-Passw0rd!", "Temp0rary-Pw!"


def _site_in_review(home) -> CliRunner:  # noqa: ANN001
    """A site with Document Control and QA, and the sample template submitted for approval."""
    runner = CliRunner(home)
    runner.run("init", "--site", "BSL-01", "--site-name", "Basel QC", "--admin", "admin", new_password=ADMIN_PW)
    for name, role in (("dc", "document_control"), ("qa", "qa")):
        runner.run("user", "add", name, "--full-name", name.upper(), "--role", role, new_password=TEMP,
                   user="admin", password=ADMIN_PW)
        runner.run("user", "passwd", user=name, password=TEMP, new_password=PW)
    qualify_cli(runner, ("dc", "qa"))  # AC-07: they sign and verify
    runner.run("template", "import", str(resource("templates", "QC-WS-014.yaml")), user="dc", password=PW)
    runner.run("template", "submit", "QC-WS-014", user="dc", password=PW)
    return runner


@pytest.fixture
def cli(tmp_path):  # noqa: ANN001, ANN201
    runner = _site_in_review(tmp_path / "home")
    runner.run("template", "approve", "QC-WS-014", "--version", "1", user="qa", password=PW, sign=PW)
    return runner


def _issue(cli: CliRunner, out, **kw):  # noqa: ANN001, ANN202
    return cli.run("issue", "QC-WS-014", "--copies", "2", "--purpose", "LOT 7", "--to", "Line 3", "--due",
                   "2099-01-01", "--out", str(out), check=False, user="dc", password=PW, **kw)


def test_an_unwritable_target_is_refused_before_anything_is_issued(cli, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    refused = _issue(cli, blocker / "copies.pdf")
    assert refused.returncode == 1 and "nothing was issued" in refused.stderr
    assert cli.json("register", "--json", user="dc", password=PW) == []


def test_an_issuance_is_released_once(cli, tmp_path):
    out = tmp_path / "copies.pdf"
    done = _issue(cli, out)
    assert done.returncode == 0 and out.read_bytes().startswith(b"%PDF")
    again = cli.run("release", "1", "--out", str(tmp_path / "again.pdf"), check=False, user="dc", password=PW)
    assert again.returncode == 1 and "already released" in again.stderr and not (tmp_path / "again.pdf").exists()


def _unreleased_issuance(tmp_path) -> int:  # noqa: ANN001
    """Issued, but the PDF could not be written (the service refuses with a code and keeps the release)."""
    import datetime as dt

    from app.runtime import RuntimeConfig, open_database
    from app.services.core.errors import ValidationError
    from app.services.identity import auth
    from app.services.issuance import issuance, printing
    home = tmp_path / "home"
    db = open_database(RuntimeConfig(home=home, db_url=f"sqlite:///{home / 'formtrail.db'}", workstation="CLI-WS",
                                     hasher_profile="fast"))
    try:
        dc = auth.authenticate(db, username="dc", password=PW).actor
        result = issuance.issue_forms(db, dc, code="QC-WS-014", copies=3, purpose="LOT 8", reference=None,
                                      issued_to="Line 1", due=dt.date(2099, 1, 1))
        with pytest.raises(ValidationError) as failed:
            printing.save_to_file(db, dc, result.pdf_id, out=home / "formtrail.db" / "x.pdf")  # not a folder
        assert failed.value.code == "cannot-write-file"
    finally:
        db.engine.dispose()
    return result.issuance_id


def test_copies_whose_save_failed_are_released_later_once(cli, tmp_path):
    """`formtrail release` gives the copies their one release, and only one."""
    issuance_id = _unreleased_issuance(tmp_path)
    out = tmp_path / "released.pdf"
    released = cli.run("release", str(issuance_id), "--out", str(out), user="dc", password=PW)
    assert "Released serials BSL-01-000001 – BSL-01-000003" in released.stdout and out.read_bytes().startswith(b"%PDF")
    second = cli.run("release", str(issuance_id), "--out", str(tmp_path / "x.pdf"), check=False,
                     user="dc", password=PW)
    assert second.returncode == 1 and "already released" in second.stderr


def test_release_to_a_cups_printer_hands_the_pdf_to_lp_once(cli, tmp_path):
    """The CLI prints through the same CUPS route as the desktop app: one copy, true size, the PDF itself."""
    issuance_id = _unreleased_issuance(tmp_path)
    spool, bin_dir = tmp_path / "spool", tmp_path / "bin"
    spool.mkdir()
    bin_dir.mkdir()
    (bin_dir / "lpstat").write_text("#!/bin/sh\necho \"printer $2 is idle\"\n")
    (bin_dir / "lp").write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {spool}/args\nfor last; do :; done\n'
                                f'cp "$last" {spool}/job.pdf\n')
    for tool in ("lp", "lpstat"):
        (bin_dir / tool).chmod(0o755)
    cli.env["PATH"] = f"{bin_dir}:{cli.env['PATH']}"
    done = cli.run("release", str(issuance_id), "--printer", "Office", user="dc", password=PW)
    assert "to printer Office" in done.stdout
    args = (spool / "args").read_text().split("\n")
    assert args[:4] == ["-d", "Office", "-n", "1"] and "print-scaling=none" in args
    assert (spool / "job.pdf").read_bytes().startswith(b"%PDF")
    (bin_dir / "lp").write_text("#!/bin/sh\necho 'lp: The printer or class does not exist.' >&2\nexit 1\n")
    again = cli.run("release", str(issuance_id), "--printer", "Office", check=False, user="dc", password=PW)
    assert again.returncode == 1 and "already released" in again.stderr  # one release, whatever happens
    refused_id = _unreleased_issuance(tmp_path)
    refused = cli.run("release", str(refused_id), "--printer", "Office", check=False, user="dc", password=PW)
    assert refused.returncode == 1 and "was recorded, but the printer Office refused the job" in refused.stderr
    assert "does not exist" in refused.stderr and "ask QA to replace them" in refused.stderr


def test_es02_a_signature_is_never_taken_from_the_environment_or_a_pipe(tmp_path):
    """Part 11 §11.200: a script holding FORMTRAIL_PASSWORD (or piping it) cannot sign for a person; at a
    terminal the signer types it and the signature is made."""
    import subprocess
    import sys
    runner = _site_in_review(tmp_path / "home")
    scripted = runner.run("template", "approve", "QC-WS-014", "--version", "1", user="qa", password=PW, check=False)
    assert scripted.returncode == 1 and "never taken from FORMTRAIL_PASSWORD" in scripted.stderr
    env = dict(runner.env, FORMTRAIL_USER="qa", FORMTRAIL_PASSWORD=PW)
    piped = subprocess.run([sys.executable, "-m", "app", "template", "approve", "QC-WS-014", "--version", "1"],
                           input=PW + "\n", env=env, capture_output=True, text=True, timeout=120,
                           start_new_session=True)  # no controlling terminal: nothing to type into
    assert piped.returncode == 1 and "terminal" in piped.stderr
    assert runner.json("template", "list", "--json", user="qa", password=PW)[0]["status"] == "in_review"
    signed = runner.run("template", "approve", "QC-WS-014", "--version", "1", user="qa", password=PW, sign=PW)
    assert signed.returncode == 0
    assert runner.json("template", "list", "--json", user="qa", password=PW)[0]["status"] == "effective"
