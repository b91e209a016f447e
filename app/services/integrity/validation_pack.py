"""The validation pack: run the compliance tests (`pytest -m compliance`) against this build in a separate
process, read their JUnit XML, and tie each result to the checklist IDs it proves.

The tests live in the source tree beside the installed package (an editable install, `make validation`); a
packaged build has no tests and says so. Rendering the PDF is in :mod:`validation_report`."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from importlib import import_module, metadata
from pathlib import Path

import app
from app.services.core.error_codes import ErrorCode
from app.services.core.errors import ValidationError
from app.services.integrity.checklist import Requirement

Echo = Callable[[str], None]

# What a person reads for each outcome; FAILED and ERROR fail the pack.
PASSED, FAILED, ERROR, SKIPPED, XFAILED = "passed", "failed", "error", "skipped", "xfailed"
NOT_RUN, NO_TESTS = "not run", "no tests"
_PACKAGES = (("Qt (PySide6)", "PySide6_Essentials"), ("SQLAlchemy", "SQLAlchemy"), ("Alembic", "alembic"),
             ("reportlab", "reportlab"), ("zxing-cpp", "zxing-cpp"), ("pypdfium2", "pypdfium2"),
             ("psycopg", "psycopg"), ("argon2-cffi", "argon2-cffi"), ("pytest", "pytest"))


@dataclasses.dataclass(frozen=True)
class TestResult:
    nodeid: str
    outcome: str
    requirements: tuple[str, ...]
    seconds: float
    message: str = ""


@dataclasses.dataclass(frozen=True)
class RequirementResult:
    requirement: Requirement
    tests: tuple[TestResult, ...]
    tagged: int  # compliance tests collected for this ID, run or not (a --select run runs a few)

    @property
    def status(self) -> str:
        outcomes = {t.outcome for t in self.tests}
        if outcomes & {FAILED, ERROR}:
            return FAILED
        if PASSED in outcomes:
            return PASSED
        if self.tests:
            return SKIPPED
        return NOT_RUN if self.tagged else NO_TESTS


@dataclasses.dataclass(frozen=True)
class PackRun:
    """One run of the compliance tests and what it proved."""

    started: dt.datetime
    build: str
    source: Path
    checklist: Path
    checklist_sha256: str
    selection: str
    environment: tuple[tuple[str, str], ...]
    requirements: tuple[RequirementResult, ...]
    tests: tuple[TestResult, ...]
    untagged: tuple[str, ...]  # compliance tests naming no checklist ID
    pytest_exit: int

    def count(self, outcome: str) -> int:
        return sum(t.outcome == outcome for t in self.tests)

    @property
    def failed(self) -> bool:
        """A test failed or errored, or pytest itself could not run the selection (exit code other than 0)."""
        return self.pytest_exit != 0 or self.count(FAILED) + self.count(ERROR) > 0

    def without_tests(self) -> list[str]:
        return [r.requirement.rid for r in self.requirements if r.status == NO_TESTS]

    def as_dict(self) -> dict[str, object]:
        return {
            "started": self.started.isoformat(), "build": self.build, "source": str(self.source),
            "checklist": {"path": str(self.checklist), "sha256": self.checklist_sha256},
            "selection": self.selection, "environment": dict(self.environment), "pytest_exit": self.pytest_exit,
            "summary": {"tests": len(self.tests), **{o: self.count(o) for o in (PASSED, FAILED, ERROR, SKIPPED,
                                                                                 XFAILED)},
                        "requirements_without_tests": self.without_tests(), "failed": self.failed},
            "requirements": [{"id": r.requirement.rid, "area": r.requirement.area, "source": r.requirement.source,
                              "requirement": r.requirement.text, "acceptance": r.requirement.acceptance,
                              "status": r.status, "tagged_tests": r.tagged,
                              "tests": [t.nodeid for t in r.tests]} for r in self.requirements],
            "tests": [dataclasses.asdict(t) for t in self.tests],
            "untagged_compliance_tests": list(self.untagged),
        }


def require_source(source: Path | None) -> Path:
    if source is None or not (source / "tests" / "conftest.py").is_file():
        raise ValidationError(
            "the validation pack runs the test suite, which is not beside this build"
            + (f" ({source} has no tests/conftest.py)" if source else "")
            + ": run it from a source checkout of the same version (`make validation`) or name one with --source",
            code=ErrorCode.VALIDATION_TESTS_MISSING)
    return source


def build_identity(source: Path) -> str:
    """The build as the reports name it: app.buildinfo where the build has one, else version and git commit."""
    try:
        info = import_module("app.buildinfo")
    except ImportError:
        info = None
    for name in ("text", "build_identity"):  # app.buildinfo.text(): "0.1.0 build 5106447abcde src 1a2b3c4d5e6f"
        found = getattr(info, name, None)
        if callable(found):
            return str(found())
    return f"{app.__version__} ({_git_identity(source)})"


def _git_identity(source: Path) -> str:
    git = shutil.which("git")
    if git is None or not (source / ".git").exists():
        return "no git checkout"
    try:
        head = subprocess.run([git, "rev-parse", "--short=12", "HEAD"], cwd=source, capture_output=True,
                              text=True, timeout=30, check=True).stdout.strip()
        dirty = subprocess.run([git, "status", "--porcelain", "--untracked-files=no"], cwd=source,
                               capture_output=True, text=True, timeout=60, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "git commit unknown"
    return f"git {head}" + (", with uncommitted changes" if dirty else "")


def environment(source: Path) -> tuple[tuple[str, str], ...]:
    rows = [("Python", f"{platform.python_implementation()} {platform.python_version()} ({sys.executable})"),
            ("Operating system", platform.platform())]
    for title, package in _PACKAGES:
        try:
            rows.append((title, metadata.version(package)))
        except metadata.PackageNotFoundError:
            rows.append((title, "not installed"))
    rows.append(("SQLite (tests' database)", f"SQLite {sqlite3.sqlite_version}"))
    rows.append(("PostgreSQL (tests' database)", _postgres_version()))
    rows.append(("Package tested", str(Path(app.__file__).resolve().parent)))
    rows.append(("Test suite", str(source / "tests")))
    return tuple(rows)


def _postgres_version() -> str:
    """The server the integration tests start (the same binaries tests/helpers/postgres.py finds)."""
    if os.environ.get("FORMTRAIL_TEST_PG_URL"):
        return "an existing server (FORMTRAIL_TEST_PG_URL)"
    found = shutil.which("pg_ctl") or next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
                                                       reverse=True)), None)
    if found is None:
        return "no server binaries: the PostgreSQL runs are skipped"
    try:
        return subprocess.run([str(found), "--version"], capture_output=True, text=True, timeout=30,
                              check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return f"{found} (version unknown)"


def pytest_command(source: Path, *, junit: Path, compliance_map: Path, select: str | None = None,
                   workers: int = 0) -> list[str]:
    command = [sys.executable, "-m", "pytest", "-m", "compliance", "-p", "no:cacheprovider", "-o",
               "junit_family=xunit1", f"--junitxml={junit}", f"--compliance-map={compliance_map}", "-rfE",
               # one line per test as it finishes ("PASSED tests/...::test_at05_... [ 12%]"): progress and a log
               "-v", "--no-header"]
    if select:
        command += ["-k", select]
    if workers > 0:
        command += ["-n", str(workers)]
    return [*command, str(source / "tests")]


def run_tests(command: Sequence[str], *, cwd: Path, echo: Echo) -> int:
    """Run pytest, passing its progress through line by line; its exit code."""
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    with subprocess.Popen(list(command), cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, bufsize=1) as process:
        assert process.stdout is not None
        for line in process.stdout:
            echo(line.rstrip("\n"))
        return process.wait()


def read_junit(path: Path) -> tuple[TestResult, ...]:
    if not path.is_file():
        return ()
    results = []
    for case in ET.parse(path).getroot().iter("testcase"):
        where = case.get("file") or case.get("classname", "").replace(".", "/") + ".py"
        owner = case.get("classname", "").rsplit(".", 1)[-1]
        nodeid = f"{where}::{owner}::{case.get('name')}" if owner[:1].isupper() else f"{where}::{case.get('name')}"
        outcome, message = PASSED, ""
        for child in case:
            if child.tag in ("failure", "error"):
                outcome, message = (FAILED if child.tag == "failure" else ERROR), child.get("message") or ""
            elif child.tag == "skipped" and outcome == PASSED:
                outcome = XFAILED if child.get("type") == "pytest.xfail" else SKIPPED
                message = child.get("message") or ""
        props = {p.get("name"): p.get("value") or "" for p in case.iter("property")}
        results.append(TestResult(nodeid=nodeid, outcome=outcome, requirements=tuple(props.get(
            "requirements", "").split()), seconds=float(case.get("time") or 0), message=message[:500]))
    return tuple(results)


def tie(requirements: Sequence[Requirement], tests: Sequence[TestResult],
        collected: dict[str, list[str]]) -> tuple[RequirementResult, ...]:
    """Each checklist item with the results of the tests that name it."""
    tagged: dict[str, int] = {}
    for ids in collected.values():
        for rid in ids:
            tagged[rid] = tagged.get(rid, 0) + 1
    return tuple(RequirementResult(requirement=r, tests=tuple(t for t in tests if r.rid in t.requirements),
                                   tagged=tagged.get(r.rid, 0)) for r in requirements)


def run(source: Path, out: Path, *, requirements: Sequence[Requirement], checklist: Path, checklist_sha256: str,
        select: str | None = None, workers: int = 0, echo: Echo = print) -> PackRun:
    """Run the compliance tests into ``out`` (junit.xml, the collected map) and tie their results to the IDs."""
    started = dt.datetime.now(dt.UTC)
    out.mkdir(parents=True, exist_ok=True)
    junit, mapped = out / "junit.xml", out / "compliance-tests.json"
    for stale in (junit, mapped):
        stale.unlink(missing_ok=True)  # a result of an earlier run must never be read as this one's
    echo(f"Running the compliance tests of {source / 'tests'}" + (f" selected by -k {select!r}" if select else ""))
    code = run_tests(pytest_command(source, junit=junit, compliance_map=mapped, select=select, workers=workers),
                     cwd=source, echo=echo)
    collected: dict[str, list[str]] = json.loads(mapped.read_text(encoding="utf-8")) if mapped.is_file() else {}
    tests = read_junit(junit)
    return PackRun(started=started, build=build_identity(source), source=source, checklist=checklist,
                   checklist_sha256=checklist_sha256, selection=f"-m compliance -k {select!r}" if select
                   else "-m compliance (all)", environment=environment(source),
                   requirements=tie(requirements, tests, collected), tests=tests,
                   untagged=tuple(sorted(n for n, ids in collected.items() if not ids)), pytest_exit=code)
