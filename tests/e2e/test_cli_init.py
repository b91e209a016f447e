"""Identity on paper (issue 14, item 5) through the real command line: `formtrail init` needs the site's name
(asked at a terminal, refused from a script without --site-name), and `formtrail issue --to` obeys the site's
"issued to" setting like the desktop app."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest

from app.commands.admin import site_name_of
from app.forms.resources import resource
from app.services.core.db import Database
from app.services.core.error_codes import ErrorCode
from app.services.core.errors import ValidationError
from app.services.site import setup
from tests.helpers.cli import CliRunner
from tests.helpers.training import qualify_cli

ADMIN_PW, PW, TEMP = "Adm1n-Secret!", "Us3r-Passw0rd!", "Temp0rary-Pw!"
INIT = ("init", "--site", "BSL-01", "--admin", "admin")


def test_init_without_a_site_name_and_no_terminal_is_refused_and_sets_up_nothing(tmp_path: Path) -> None:
    cli = CliRunner(tmp_path / "home")
    refused = cli.run(*INIT, new_password=ADMIN_PW, check=False)  # stdin is not a terminal here
    assert refused.returncode == 1
    assert 'pass --site-name "Basel QC laboratory"' in refused.stderr and "Traceback" not in refused.stderr
    # Nothing was set up: the same command with the name now succeeds (a second init would be refused).
    done = cli.run(*INIT, "--site-name", "Basel QC laboratory", new_password=ADMIN_PW)
    assert "Site Basel QC laboratory (BSL-01) set up" in done.stdout
    again = cli.run(*INIT, "--site-name", "Basel QC laboratory", new_password=ADMIN_PW, check=False)
    assert again.returncode == 1 and "already set up" in again.stderr


def test_init_refuses_an_empty_name_or_the_code_as_the_name(tmp_path: Path) -> None:
    cli = CliRunner(tmp_path / "home")
    for name in ("", "  ", "bsl-01"):
        refused = cli.run(*INIT, "--site-name", name, new_password=ADMIN_PW, check=False)
        assert refused.returncode == 1 and "the site needs a name" in refused.stderr, name


def test_init_at_a_terminal_asks_for_the_site_name(tmp_path: Path) -> None:
    cli = CliRunner(tmp_path / "home")
    done = cli.at_terminal(*INIT, answers={"Site name": "Basel QC laboratory"}, new_password=ADMIN_PW)
    assert "Site name, printed on every form" in done.stdout
    assert "Site Basel QC laboratory (BSL-01) set up" in done.stdout


def test_the_refusals_carry_a_stable_code(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """The command's refusal without a terminal and the service's refusal of an empty name or the code again:
    code ``site-name-required`` (scripts and the UI branch on it, never on the wording)."""
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # no terminal
    with pytest.raises(ValidationError) as refused:
        site_name_of(None, code="BSL-01")
    assert refused.value.code == ErrorCode.SITE_NAME_REQUIRED
    assert site_name_of(" Basel QC laboratory ", code="BSL-01") == "Basel QC laboratory"
    for name in ("", "   ", "BSL-01", "bsl-01"):
        with pytest.raises(ValidationError) as empty:
            setup.initialise(db, site_code="BSL-01", site_name=name, admin_username="admin",
                             admin_full_name="Ada Admin", admin_password=ADMIN_PW)
        assert empty.value.code == ErrorCode.SITE_NAME_REQUIRED, name
    assert setup.site_info(db) is None


def test_issue_from_the_command_line_obeys_the_sites_issued_to_list(tmp_path: Path) -> None:
    cli = CliRunner(tmp_path / "home")
    cli.run(*INIT, "--site-name", "Basel QC laboratory", new_password=ADMIN_PW)
    admin = dict(user="admin", password=ADMIN_PW)
    for name, role in (("dc", "document_control"), ("qa", "qa")):
        cli.run("user", "add", name, "--full-name", name.upper(), "--role", role, new_password=TEMP, **admin)
        cli.run("user", "passwd", user=name, password=TEMP, new_password=PW)
    qualify_cli(cli, ("dc", "qa"))  # AC-07: QA signs the approval
    dc, qa = dict(user="dc", password=PW), dict(user="qa", password=PW)
    cli.run("template", "import", str(resource("templates", "QC-WS-014.yaml")), **dc)
    cli.run("template", "submit", "QC-WS-014", **dc)
    cli.run("template", "approve", "QC-WS-014", "--version", "1", sign=PW, **qa)
    cli.run("config", "set", "issuance.issued_to_list", "QC lab 2, Line 3", "--reason", "CC-14", **admin)
    cli.run("config", "set", "issuance.issued_to_mode", "list", "--reason", "CC-14", **admin)
    wrong = cli.run("config", "set", "issuance.issued_to_mode", "anyone", "--reason", "CC-14", check=False, **admin)
    assert wrong.returncode == 1 and "not one of free, users, list, users+list" in wrong.stderr

    def issue(to: str, out: str) -> subprocess.CompletedProcess:
        return cli.run("issue", "QC-WS-014", "--copies", "1", "--purpose", "Assay LOT 24-0117", "--to", to,
                       "--due", "2099-01-01", "--out", str(tmp_path / out), check=False, **dc)
    refused = issue("the canteen", "refused.pdf")
    assert refused.returncode == 1 and not (tmp_path / "refused.pdf").exists()
    assert "cannot be issued to 'the canteen'" in refused.stderr and "QC lab 2; Line 3" in refused.stderr
    assert issue("qc lab 2", "ok.pdf").returncode == 0
    [row] = cli.json("register", "--json", **dc)
    assert (row["serial"], row["issued_to"]) == ("000001", "QC lab 2")  # spelled as the site's list has it
