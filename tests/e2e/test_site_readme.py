"""The README's "Setting up a site server", run as written: its shell blocks, in order, against a PostgreSQL
server with TLS and password authentication; then two workstations, one issuing and one importing the scans.

Only the README's placeholders are replaced (server address, share paths, the postgres password); a README
edit that breaks a step breaks this test."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pypdfium2
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from app.models import AuditEvent
from app.runtime import RuntimeConfig, open_database
from app.services.identity import auth
from tests.helpers import scanlike as sl
from tests.helpers.forms import effective_template
from tests.helpers.postgres import PostgresUnavailable, _bindir, throwaway_server
from tests.helpers.seed import PASSWORD, Seed, add_users

ROOT = Path(__file__).resolve().parents[2]
PG_PASSWORD = "pg-Admin-secret-7"
SECTION = "## Setting up a site server"

pytestmark = pytest.mark.slow


def readme_blocks() -> dict[str, str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index(SECTION):]
    section = section[:section.index("\n## ", 1)]
    blocks = [textwrap.dedent(b) for b in re.findall(r"^ *```sh\n(.*?)^ *```", section, re.M | re.S)]
    named = {"server": "createdb", "db-init": "db init", "workstation": "set -a", "first": "formtrail init",
             "move": "db migrate"}
    found = {name: next((b for b in blocks if needle in b), None) for name, needle in named.items()}
    missing = [name for name, block in found.items() if block is None]
    assert not missing, f"the README's site server section lacks the steps {missing}"
    return found  # type: ignore[return-value]


@pytest.fixture
def tls_server() -> Iterator[str]:
    """A server of the test's own: the README's role and database names are fixed, and roles are per server."""
    try:
        with throwaway_server(tls=True, password=PG_PASSWORD) as url:
            yield url
    except (PostgresUnavailable, OSError) as exc:
        if os.environ.get("FORMTRAIL_REQUIRE_POSTGRES"):
            pytest.fail(f"PostgreSQL is required for this run and could not be started: {exc}")
        pytest.skip(f"PostgreSQL not available: {exc}")


class Site:
    """The machines of the README: an administrator's folder and two workstations, sharing two folders."""

    def __init__(self, server_url: str, base: Path) -> None:
        url = make_url(server_url)
        self.address = f"{url.host}:{url.port}"
        self.base = base
        self.files, self.keys = base / "share" / "formtrail", base / "share" / "formtrail-keys"
        for folder in (self.files, self.keys):
            folder.mkdir(parents=True)

    def text(self, block: str, *, workstation: str = "qc-lab-1") -> str:
        return (block.replace("db.example.site", self.address)
                .replace("/mnt/formtrail-keys", str(self.keys)).replace("/mnt/formtrail", str(self.files))
                .replace("the postgres password", PG_PASSWORD).replace("sudo -u postgres ", "")
                .replace("qc-lab-1", workstation))

    def machine(self, name: str) -> Path:
        folder = self.base / name
        folder.mkdir(exist_ok=True)
        return folder

    def env(self, machine: Path) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("FORMTRAIL_", "PG"))}
        host, port = self.address.split(":")
        return {**env, "HOME": str(machine), "PATH": f"{Path(sys.executable).parent}:{_bindir()}:{env['PATH']}",
                "PGHOST": host, "PGPORT": port, "PGUSER": "postgres", "FORMTRAIL_HASH_PROFILE": "fast",
                "FORMTRAIL_NEW_PASSWORD": PASSWORD, "PYTHONPATH": str(ROOT)}

    def run(self, machine: Path, script: str, **extra: str) -> subprocess.CompletedProcess[str]:
        env = {**self.env(machine), **extra}
        if "PGPASSWORD" not in script and "createdb" in script:
            env["PGPASSWORD"] = PG_PASSWORD  # the server step runs as the postgres system user in the README
        return subprocess.run(["bash", "-c", script], cwd=machine, env=env, capture_output=True, text=True,
                              timeout=300)


def test_readme_site_server_two_workstations(tls_server, tmp_path):
    blocks = readme_blocks()
    site = Site(tls_server, tmp_path)
    admin, ws1, ws2 = site.machine("admin"), site.machine("ws1"), site.machine("ws2")

    done = site.run(admin, site.text(blocks["server"]))
    assert done.returncode == 0, done.stderr
    done = site.run(admin, site.text(blocks["db-init"]))
    assert done.returncode == 0, done.stderr
    env_file = admin / "formtrail-workstation.env"
    assert env_file.stat().st_mode & 0o777 == 0o600
    assert "***" not in env_file.read_text() and "sslmode=require" in env_file.read_text()
    for ws in (ws1, ws2):
        shutil.copy(env_file, ws / env_file.name)

    # Before `init`, the doctor finds the server, TLS and the role right and says the site is missing.
    early = site.run(ws2, site.text(blocks["workstation"], workstation="qc-lab-2"))
    assert early.returncode == 1, early.stdout + early.stderr
    assert "no site yet" in early.stdout and "TLS" in early.stdout
    first = site.run(ws1, site.text(blocks["workstation"]) + site.text(blocks["first"]))
    assert first.returncode == 0, first.stdout + first.stderr
    assert "This workstation is set up correctly" in first.stdout
    second = site.run(ws2, site.text(blocks["workstation"], workstation="qc-lab-2"))
    assert second.returncode == 0, second.stdout + second.stderr

    # Day one: Document Control issues on qc-lab-1, an operator imports the scans on qc-lab-2.
    ws_env = {"FORMTRAIL_FILES": str(site.files), "FORMTRAIL_KEYS": str(site.keys)}
    app_url = re.search(r"FORMTRAIL_DB='(.*)'", env_file.read_text()).group(1)
    db = open_database(RuntimeConfig(home=ws1 / ".local", db_url=app_url, workstation="qc-lab-1",
                                     hasher_profile="fast", files_dir=site.files, keys_dir=site.keys), migrate=False)
    try:
        admin_actor = auth.authenticate(db, username="admin", password=PASSWORD).actor
        effective_template(Seed(db=db, actors={"admin": admin_actor, **add_users(db, admin_actor, ("dc", "qa", "op"))}))
    finally:
        db.engine.dispose()
    cli = f"{sys.executable} -m app"
    # AC-08: `init` registered qc-lab-1; the administrator registers the second workstation by its id.
    registered = site.run(ws1, f"set -a; . ./formtrail-workstation.env; set +a; {cli} --user admin workstation "
                               "register qc-lab-2 --name qc-lab-2", FORMTRAIL_PASSWORD=PASSWORD,
                          FORMTRAIL_WORKSTATION="qc-lab-1", **ws_env)
    assert registered.returncode == 0, registered.stderr
    pdf = ws1 / "issued.pdf"
    issued = site.run(ws1, f"set -a; . ./formtrail-workstation.env; set +a; {cli} --user dc issue QC-WS-014 "
                           f"--copies 2 --purpose 'Batch 24-0117' --to 'Line 1' --due 2099-01-01 --out {pdf} --json",
                      FORMTRAIL_PASSWORD=PASSWORD, FORMTRAIL_WORKSTATION="qc-lab-1", **ws_env)
    assert issued.returncode == 0, issued.stderr
    scans = ws2 / "scans"
    scans.mkdir()
    document = pypdfium2.PdfDocument(str(pdf))
    for i in range(len(document)):
        image = document[i].render(scale=150 / 72).to_pil().convert("L")
        (scans / f"page{i}.png").write_bytes(sl.png_bytes(sl.scanned(image, seed=i), dpi=150))
    document.close()
    imported = site.run(ws2, f"set -a; . ./formtrail-workstation.env; set +a; {cli} --user op scan import {scans} "
                             "--json", FORMTRAIL_PASSWORD=PASSWORD, FORMTRAIL_WORKSTATION="qc-lab-2", **ws_env)
    assert imported.returncode == 0, imported.stdout + imported.stderr
    outcomes = [json.loads(line)["outcome"] for line in imported.stdout.splitlines() if line.strip()]
    assert outcomes.count("linked") == len(list(scans.iterdir())) > 0

    checked = site.run(ws2, f"set -a; . ./formtrail-workstation.env; set +a; {cli} --user admin verify --json",
                       FORMTRAIL_PASSWORD=PASSWORD, FORMTRAIL_WORKSTATION="qc-lab-2", **ws_env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert json.loads(checked.stdout)["ok"] is True
    db = open_database(RuntimeConfig(home=ws1 / ".local", db_url=app_url, workstation="check", hasher_profile="fast",
                                     files_dir=site.files, keys_dir=site.keys), migrate=False)
    try:
        with db.read() as s:
            where = {entity: set(s.scalars(select(AuditEvent.workstation).where(AuditEvent.entity == entity)))
                     for entity in ("issuance", "scan_source")}
    finally:
        db.engine.dispose()
    assert where == {"issuance": {"qc-lab-1"}, "scan_source": {"qc-lab-2"}}

    # Running `db init` again (after an upgrade) keeps the password every workstation holds.
    before = env_file.read_text()
    again = site.run(admin, site.text(blocks["db-init"]))
    assert again.returncode == 0 and "unchanged" in again.stdout, again.stdout + again.stderr
    assert env_file.read_text() == before
    wrong = site.run(admin, site.text(blocks["db-init"]), FORMTRAIL_APP_PASSWORD="another-password-123")
    assert wrong.returncode == 1 and "nothing was changed" in wrong.stderr, wrong.stdout + wrong.stderr
    still = site.run(ws2, site.text(blocks["workstation"], workstation="qc-lab-2"))
    assert still.returncode == 0, still.stdout + still.stderr


def test_rotating_the_app_password_is_audited_and_locks_out_the_old_one(tls_server, tmp_path):
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    from app.services.core import audit_chain
    from tests.helpers.seed import seed_site

    site = Site(tls_server, tmp_path)
    admin = site.machine("admin")
    assert site.run(admin, "createdb rotation").returncode == 0
    # As many GMP servers do: every statement in the server log. No password may appear there.
    logged = site.run(admin, "psql -d rotation -c \"ALTER DATABASE rotation SET log_statement = 'all'\" "
                             "-At -c 'SHOW data_directory'", PGPASSWORD=PG_PASSWORD)
    assert logged.returncode == 0, logged.stderr
    server_log = Path(logged.stdout.strip().splitlines()[-1]).parent / "log"
    url = f"postgresql://postgres@{site.address}/rotation?sslmode=require"
    roles = "--owner-role rot_owner --app-role rot_app"
    created = site.run(admin, f"formtrail db init '{url}' {roles}", PGPASSWORD=PG_PASSWORD)
    assert created.returncode == 0, created.stderr
    env_file = admin / "formtrail-workstation.env"
    old_url = re.search(r"FORMTRAIL_DB='(.*)'", env_file.read_text()).group(1)
    keys = {"FORMTRAIL_KEYS": str(site.keys), "FORMTRAIL_FILES": str(site.files)}
    db = open_database(RuntimeConfig(home=admin, db_url=old_url, workstation="WS", hasher_profile="fast",
                                     files_dir=site.files, keys_dir=site.keys))
    try:
        seed_site(db, names=("admin", "qa"))
    finally:
        db.engine.dispose()

    unattributed = site.run(admin, f"formtrail db init '{url}' {roles} --rotate-app-password", PGPASSWORD=PG_PASSWORD,
                            **keys)
    assert unattributed.returncode == 1 and "--user" in unattributed.stderr, unattributed.stderr
    not_admin = site.run(admin, f"formtrail --user qa db init '{url}' {roles} --rotate-app-password --reason x",
                         PGPASSWORD=PG_PASSWORD, FORMTRAIL_PASSWORD=PASSWORD, **keys)
    assert not_admin.returncode == 1, not_admin.stdout
    assert re.search(r"FORMTRAIL_DB='(.*)'", env_file.read_text()).group(1) == old_url  # nothing changed
    rotated = site.run(admin, f"formtrail --user admin db init '{url}' {roles} --rotate-app-password "
                              "--reason 'workstation WS-7 stolen'", PGPASSWORD=PG_PASSWORD,
                       FORMTRAIL_PASSWORD=PASSWORD, **keys)
    assert rotated.returncode == 0, rotated.stdout + rotated.stderr
    assert "Every workstation needs this new line" in rotated.stdout
    new_url = re.search(r"FORMTRAIL_DB='(.*)'", env_file.read_text()).group(1)
    assert new_url != old_url
    with pytest.raises(OperationalError, match="password authentication failed"):
        create_engine(old_url.replace("postgresql://", "postgresql+psycopg://")).connect().close()
    db = open_database(RuntimeConfig(home=admin, db_url=new_url, workstation="WS", hasher_profile="fast",
                                     files_dir=site.files, keys_dir=site.keys), migrate=False)
    try:
        with db.read() as s:
            event = s.scalar(select(AuditEvent).where(AuditEvent.action == "APP_PASSWORD_ROTATED"))
            assert event is not None and event.username == "admin" and event.reason == "workstation WS-7 stolen"
            assert "rot_app" in (event.new_value or "") and new_url.split(":")[2].split("@")[0] not in event.new_value
            assert s.scalar(text("SELECT count(*) FROM audit_event WHERE action = 'ACCESS_DENIED'")) >= 1
        assert audit_chain.verify_chain(db).ok
    finally:
        db.engine.dispose()
    log = server_log.read_text(errors="replace")
    assert "ALTER ROLE" in log and "SCRAM-SHA-256$" in log  # the statements were logged, with verifiers only
    for url in (old_url, new_url):
        assert url.split(":")[2].split("@")[0] not in log


def test_readme_moving_a_workstations_data_to_the_new_server(tls_server, tmp_path):
    """Step 6 instead of step 5: a workstation's own SQLite site moves to the server with its files and keys,
    and another workstation then finds everything in place."""
    from tests.helpers.cli import CliRunner

    blocks = readme_blocks()
    site = Site(tls_server, tmp_path)
    admin, legacy, ws1 = site.machine("admin"), site.machine("legacy"), site.machine("ws1")
    own = CliRunner(legacy / ".formtrail")
    own.run("init", "--site", "BSL-01", "--site-name", "Basel QC", "--admin", "admin", new_password=PASSWORD)
    own.run("verify", user="admin", password=PASSWORD)
    assert site.run(admin, site.text(blocks["server"])).returncode == 0
    assert site.run(admin, site.text(blocks["db-init"])).returncode == 0
    shutil.copy(admin / "formtrail-workstation.env", ws1 / "formtrail-workstation.env")

    moved = site.run(legacy, site.text(blocks["move"]), PGPASSWORD=PG_PASSWORD, FORMTRAIL_PASSWORD=PASSWORD,
                     FORMTRAIL_HOME=str(legacy / ".formtrail"))
    assert moved.returncode == 0, moved.stdout + moved.stderr
    assert "Migration verified." in moved.stdout
    assert (site.keys / "BSL-01.keys.json").stat().st_mode & 0o077 == 0
    after = site.run(ws1, site.text(blocks["workstation"]))
    assert after.returncode == 0, after.stdout + after.stderr
    assert "BSL-01 (Basel QC)" in after.stdout and "holds the site's anchor file" in after.stdout


def test_doctor_warns_when_tls_is_used_but_not_required(tls_server, tmp_path):
    from app.services.admin import doctor
    from app.services.admin.doctor_base import Workstation

    url = make_url(tls_server).set(password=PG_PASSWORD)
    for mode, status in ((None, doctor.CheckStatus.WARN), ("prefer", doctor.CheckStatus.WARN),
                         ("require", doctor.CheckStatus.OK)):
        target = url.update_query_dict({"sslmode": mode}) if mode else url
        raw = target.render_as_string(hide_password=False)
        report = doctor.run(Workstation(db_url=raw, display_url=raw, files_root=tmp_path, key_folder=tmp_path,
                                        name="WS"))
        tls = report.check("tls")
        assert tls.status is status, (mode, tls.detail)
        assert ("sslmode=require" in tls.fix) == (status is doctor.CheckStatus.WARN)
