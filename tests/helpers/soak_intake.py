"""The intake soak of issue 12: real `formtrail scan import` processes on a folder of good scans mixed with
hostile files, two at once, one SIGKILLed at a random moment; then the same import again, at once.

Afterwards: `formtrail verify` passes, no source is left pending, every good page is linked exactly once,
nothing was refused as "being imported right now", and no process of the killed import is left. Used by a
small test in `make test` (tests/e2e/test_intake_soak.py) and a bigger run in `make bench`
(bench/bench_soak_intake.py).
"""

from __future__ import annotations

import dataclasses
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, select

from app.models import ScanOutcome, ScanPage, ScanSource, SourceStatus
from app.runtime import RuntimeConfig, open_database
from tests.helpers import hostile
from tests.helpers import scanlike as sl
from tests.helpers.cli import CliRunner
from tests.helpers.forms import effective_template, issue
from tests.helpers.scans import issued_page_images, write
from tests.helpers.seed import PASSWORD, seed_site

DPI = 150  # the lowest resolution the default capture specification (intake.min_dpi) links


@dataclasses.dataclass(frozen=True)
class TrialResult:
    trial: int
    killed_after_s: float
    killed_exit: int | None  # None: the import had already finished when the kill came ...
    victim_exit: int  # ... with this exit status
    stage: str  # how far the imports had got when the kill came: "nothing recorded", "recorded" (sources
    # pending, no page yet), "pages linked" (some), "finished"
    other_exit: int
    rerun_exit: int
    good_pages: int
    linked: int
    pending: int
    busy_on_rerun: int
    leftover_processes: int
    verify_ok: bool
    errors: tuple[str, ...] = ()  # the last line each importer wrote to stderr when it failed

    @property
    def ok(self) -> bool:
        return (self.rerun_exit == 0 and self.other_exit in (0, 3) and self.linked == self.good_pages
                and (self.killed_exit is not None or self.victim_exit in (0, 3))
                and self.pending == 0 and self.busy_on_rerun == 0 and self.leftover_processes == 0
                and self.verify_ok)


def _url(home: Path, db_url: str | None) -> str:
    return db_url or f"sqlite:///{home / 'formtrail.db'}"


def make_site(home: Path, *, copies: int, db_url: str | None = None) -> tuple[Path, int]:
    """A site in ``home`` (its database at ``db_url``, else SQLite in ``home``) with ``copies`` issued one-page
    forms, and a folder of their scans (some in one PDF) mixed with hostile files and entries. Returns
    (folder, number of good pages)."""
    db = open_database(RuntimeConfig(home=home, db_url=_url(home, db_url), workstation="SOAK",
                                     hasher_profile="fast"))
    try:
        seed = seed_site(db)
        effective_template(seed)
        result = issue(seed, copies=copies)
        images = [sl.scanned(im, seed=i) for i, im in enumerate(issued_page_images(db, result.pdf_sha256, dpi=DPI))]
    finally:
        db.engine.dispose()
    folder = home.parent / "scans"
    half = copies // 2
    for i, image in enumerate(images[:half]):
        write(folder, f"sheet-{i:03d}.png", sl.png_bytes(image, dpi=DPI))
    write(folder, "batch.pdf", sl.scanner_pdf_bytes(images[half:], dpi=DPI))
    good_png = (folder / "sheet-000.png").read_bytes()
    for name, (data, _outcome, _code) in hostile.hostile_files(good_png).items():
        write(folder, name, data)
    outside = write(home.parent / "elsewhere", "linked.png", good_png)
    hostile.hostile_entries(folder, outside)
    return folder, copies


def descendants(pid: int) -> set[int]:
    """The processes whose parent is ``pid`` (Linux /proc), and theirs."""
    found: set[int] = set()
    try:
        names = os.listdir("/proc")
    except OSError:
        return found
    parents: dict[int, int] = {}
    for name in names:
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat", encoding="ascii") as fh:
                    parents[int(name)] = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    todo = [pid]
    while todo:
        parent = todo.pop()
        for child, ppid in parents.items():
            if ppid == parent and child not in found:
                found.add(child)
                todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def stage_of(home: Path, db_url: str | None = None) -> str:
    """How far the imports of this site have got: "nothing recorded", "recorded" (sources pending, no page
    yet), "pages linked" (some pending still), "finished"."""
    from sqlalchemy import text

    from app.models.engine import build_engine

    engine = build_engine(_url(home, db_url))
    try:
        with engine.connect() as conn:
            sources = conn.execute(text("SELECT count(*), sum(CASE WHEN status = 'pending' THEN 1 ELSE 0 END) "
                                        "FROM scan_source")).one()
            pages = conn.execute(text("SELECT count(*) FROM scan_page")).scalar()
    finally:
        engine.dispose()
    if not sources[0]:
        return "nothing recorded"
    if not pages:
        return "recorded"
    return "pages linked" if sources[1] else "finished"


def run_trial(trial: int, workdir: Path, *, copies: int, rng: random.Random, max_delay_s: float,
              db_url: str | None = None) -> TrialResult:
    home = workdir / f"trial-{trial}" / "home"
    home.mkdir(parents=True)
    folder, good = make_site(home, copies=copies, db_url=db_url)
    cli = CliRunner(home, db_url=db_url)
    cli.env["FORMTRAIL_WORKSTATION"] = "SOAK"  # the installation that set the site up (registered by it, AC-08)
    # One log-in first: it strengthens the seeded (test-profile) password hash, which two first log-ins at the
    # same moment race over (that is the log-in's business, not the import's).
    cli.run("scan", "exceptions", user="op", password=PASSWORD)
    env = dict(cli.env, FORMTRAIL_USER="op", FORMTRAIL_PASSWORD=PASSWORD)
    argv = [sys.executable, "-m", "app", "scan", "import", str(folder), "--processes", "2", "--json"]
    procs = [subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                              stdin=subprocess.DEVNULL) for _ in range(2)]
    victim, other = procs
    started = time.monotonic()
    if rng.random() < 0.5:  # at a random moment (often during start-up) ...
        time.sleep(rng.uniform(0.2, max_delay_s))
    else:  # ... or once the imports have recorded their files, somewhere in the decoding and linking
        while stage_of(home, db_url) == "nothing recorded" and victim.poll() is None \
                and time.monotonic() - started < 60:
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 0.4))
    delay = time.monotonic() - started
    family = descendants(victim.pid)
    killed_exit: int | None = None
    if victim.poll() is None:
        victim.send_signal(signal.SIGKILL)
        killed_exit = victim.wait()
    else:
        victim.wait()
    stage = stage_of(home, db_url)
    _out, other_err = other.communicate(timeout=600)
    victim_err = victim.stderr.read() if victim.stderr else ""
    deadline = time.monotonic() + 15
    while any(alive(p) for p in family) and time.monotonic() < deadline:
        time.sleep(0.1)
    leftover = sum(alive(p) for p in family)
    rerun = cli.run("scan", "import", str(folder), "--json", user="op", password=PASSWORD, check=False)
    busy = rerun.stdout.count('"being-imported"')
    verify = cli.run("verify", user="admin", password=PASSWORD, check=False)
    db = open_database(RuntimeConfig(home=home, db_url=_url(home, db_url), workstation="SOAK",
                                     hasher_profile="fast"), migrate=False)
    try:
        with db.read() as s:
            linked = s.scalar(select(func.count()).select_from(ScanPage).where(
                ScanPage.outcome == ScanOutcome.LINKED))
            pending = s.scalar(select(func.count()).select_from(ScanSource).where(
                ScanSource.status == SourceStatus.PENDING))
    finally:
        db.engine.dispose()
    return TrialResult(trial=trial, killed_after_s=round(delay, 2), killed_exit=killed_exit,
                       victim_exit=victim.returncode, stage=stage,
                       other_exit=other.returncode, rerun_exit=rerun.returncode, good_pages=good, linked=linked,
                       pending=pending, busy_on_rerun=busy, leftover_processes=leftover,
                       verify_ok=verify.returncode == 0,
                       errors=tuple(err.strip().splitlines()[-1] for err, code in (
                           (victim_err, killed_exit if killed_exit is not None else victim.returncode),
                           (other_err, other.returncode), (rerun.stderr, rerun.returncode))
                           if code not in (0, 3, -9) and err.strip()))


def soak(workdir: Path, *, trials: int, copies: int = 10, seed: int = 12, max_delay_s: float = 3.0,
         new_db_url: Callable[[], str] | None = None) -> list[TrialResult]:
    """``trials`` trials, each on a new site: on SQLite, or on the fresh database ``new_db_url()`` makes."""
    rng = random.Random(seed)
    return [run_trial(n, workdir, copies=copies, rng=rng, max_delay_s=max_delay_s,
                      db_url=new_db_url() if new_db_url else None) for n in range(1, trials + 1)]
