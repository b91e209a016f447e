"""Issue 12 through the real command line, on SQLite and PostgreSQL: `formtrail scan import` killed outright
(SIGKILL) at random moments and mid-import, two importers at once, hostile files in the folder; a rerun right
after resumes at once and finishes everything, `formtrail verify` passes, and no process is left behind."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import drop_pg_database, new_pg_database
from tests.helpers import soak_intake
from tests.helpers.cli import CliRunner
from tests.helpers.seed import PASSWORD

pytestmark = [pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SIGKILL and /proc"),
              pytest.mark.both_backends]


@pytest.fixture
def new_db(backend, request):
    """A maker of fresh databases for the trials: None on SQLite (each site has its own file)."""
    if backend == "sqlite":
        yield None
        return
    server, template = request.getfixturevalue("pg_server"), request.getfixturevalue("pg_template")
    made: list[str] = []

    def make() -> str:
        made.append(new_pg_database(server, template))
        return made[-1]

    yield make
    for url in made:
        drop_pg_database(server, url)


def test_small_soak_random_kills_with_two_importers(tmp_path, new_db):
    results = soak_intake.soak(tmp_path, trials=2, copies=6, max_delay_s=2.5, new_db_url=new_db)
    assert all(r.ok for r in results), results


def test_a_rerun_right_after_a_sigkill_mid_import_resumes_at_once(tmp_path, new_db):
    home = tmp_path / "home"
    home.mkdir()
    url = new_db() if new_db else None
    folder, good = soak_intake.make_site(home, copies=30, db_url=url)
    cli = CliRunner(home, db_url=url)
    cli.env["FORMTRAIL_WORKSTATION"] = "SOAK"  # the installation that set the site up (registered by it, AC-08)
    env = dict(cli.env, FORMTRAIL_USER="op", FORMTRAIL_PASSWORD=PASSWORD)
    proc = subprocess.Popen([sys.executable, "-m", "app", "scan", "import", str(folder), "--processes", "2"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while soak_intake.stage_of(home, url) == "nothing recorded" and proc.poll() is None \
            and time.monotonic() < deadline:
        time.sleep(0.02)
    family = soak_intake.descendants(proc.pid)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL, "the import finished before it could be killed"
    assert soak_intake.stage_of(home, url) in ("recorded", "pages linked")  # really interrupted: sources pending
    end = time.monotonic() + 15
    while any(soak_intake.alive(p) for p in family) and time.monotonic() < end:
        time.sleep(0.1)
    assert family and not [p for p in family if soak_intake.alive(p)]  # its workers ended with it

    rerun = cli.run("scan", "import", str(folder), "--json", user="op", password=PASSWORD)
    lines = [json.loads(line) for line in rerun.stdout.splitlines()]
    assert not [line for line in lines if line["code"] == "being-imported"]  # no waiting for a lease to expire
    assert soak_intake.stage_of(home, url) == "finished"
    assert cli.json("verify", "--json", user="admin", password=PASSWORD)["ok"] is True
    pages = cli.json("scan", "exceptions", "--json", user="qa", password=PASSWORD)
    assert len({(p["source"], p["page"]) for p in pages}) == len(pages)  # no page recorded twice
    linked_now = sum(line["outcome"] == "linked" for line in lines)
    assert linked_now <= good
