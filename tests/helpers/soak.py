"""Soak trials with the real command line: kill `formtrail issue` and `formtrail backup` at random moments,
then check what is left. Used by tests/e2e/test_soak_issue_backup.py (a few trials) and bench/bench_soak.py
(many)."""

from __future__ import annotations

import dataclasses
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[2]


@dataclasses.dataclass
class SoakSite:
    home: Path
    env: dict[str, str]

    @classmethod
    def create(cls, tmp: Path) -> SoakSite:
        from app.runtime import RuntimeConfig, open_database
        from tests.helpers.forms import effective_template
        from tests.helpers.seed import PASSWORD, seed_site
        home = tmp / "home"
        home.mkdir(parents=True)
        db = open_database(RuntimeConfig(home=home, db_url=f"sqlite:///{home / 'formtrail.db'}",
                                         workstation="SOAK", hasher_profile="fast"))
        effective_template(seed_site(db))
        db.engine.dispose()
        env = {k: v for k, v in os.environ.items() if not k.startswith("FORMTRAIL_")}
        env.update(FORMTRAIL_HOME=str(home), FORMTRAIL_HASH_PROFILE="fast", FORMTRAIL_WORKSTATION="SOAK",
                   FORMTRAIL_PASSWORD=PASSWORD)
        return cls(home, env)

    def start(self, *args: str, user: str) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "app", "--user", user, *args], cwd=ROOT, env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)

    def run(self, *args: str, user: str, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "app", "--user", user, *args], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


@dataclasses.dataclass
class Outcomes:
    trials: int = 0
    killed: int = 0
    completed_issues: int = 0
    interrupted_backups: int = 0
    serials: list[int] = dataclasses.field(default_factory=list)
    verify_exit: int = -1
    verify_output: str = ""
    backup_ok: bool = False
    backup_problems: str = ""
    leftover_processes: list[str] = dataclasses.field(default_factory=list)


def _kill_after(proc: subprocess.Popen, delay: float) -> bool:
    """SIGKILL ``proc`` after ``delay`` seconds unless it ended first; True if it was killed."""
    try:
        proc.wait(timeout=delay)
        return False
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        return True


def issue_backup_trials(site: SoakSite, *, trials: int, seed: int, copies: int = 400) -> Outcomes:
    rng = random.Random(seed)
    out = Outcomes(trials=trials)
    backup_dir = site.home.parent / "backup"
    for trial in range(trials):
        pdf = site.home.parent / f"trial-{trial}.pdf"
        issuing = site.start("issue", "QC-WS-014", "--copies", str(copies), "--purpose", f"soak {trial}", "--to",
                             "Line 1", "--due", "2099-01-01", "--out", str(pdf), user="dc")
        out.killed += _kill_after(issuing, rng.uniform(0.3, 2.5))
        # Right after a kill, issuing again goes through at once (nothing is left locked).
        again = site.run("issue", "QC-WS-014", "--copies", "5", "--purpose", f"after kill {trial}", "--to",
                         "Line 1", "--due", "2099-01-01", "--out", str(pdf.with_suffix(".again.pdf")), user="dc")
        if again.returncode != 0:
            raise AssertionError(f"issuing after a kill failed: {again.stderr}")
        out.completed_issues += 1
        target = backup_dir / f"trial-{trial}"
        backing = site.start("backup", str(target), user="admin")
        if _kill_after(backing, rng.uniform(0.2, 1.5)):
            out.killed += 1
            out.interrupted_backups += 1
        # Taken again into the same folder, whatever state the kill left it in; a backup that was complete
        # before the kill is never overwritten ("not empty").
        redo = site.run("backup", str(target), user="admin")
        if redo.returncode != 0 and "not empty" not in redo.stderr:
            raise AssertionError(f"backup after a kill failed: {redo.stderr}")
        last_backup = target
    verify = site.run("verify", user="admin")
    out.verify_exit, out.verify_output = verify.returncode, verify.stdout + verify.stderr
    check = site.run("backup", "verify", str(last_backup), user="admin")
    out.backup_ok, out.backup_problems = check.returncode == 0, check.stdout + check.stderr
    out.serials = _serials(site.home)
    out.leftover_processes = _leftovers(site.home)
    return out


def _serials(home: Path) -> list[int]:
    from app.models import IssuedForm
    from app.runtime import RuntimeConfig, open_database
    db = open_database(RuntimeConfig(home=home, db_url=f"sqlite:///{home / 'formtrail.db'}", workstation="SOAK",
                                     hasher_profile="fast"), migrate=False)
    try:
        with db.read() as session:
            return list(session.scalars(select(IssuedForm.serial_no).order_by(IssuedForm.serial_no)))
    finally:
        db.engine.dispose()


def _leftovers(home: Path) -> list[str]:
    """Processes still running that belong to this site (decoder workers of a killed command, say)."""
    time.sleep(0.5)
    found = subprocess.run(["pgrep", "-af", str(home)], capture_output=True, text=True).stdout
    return [line for line in found.splitlines() if "pgrep" not in line]
