"""`formtrail doctor`: is this workstation set up to work with its site? One line per check, each saying what
is wrong and what to change. Read-only (the file-store probe file is removed again) and needs no log-in, so it
also runs when the application cannot start.

The checks themselves are in ``doctor_checks``; this module runs them in order and skips those that need a
database the earlier checks could not reach."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Callable
from pathlib import Path

from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

from app.models.engine import build_engine

if TYPE_CHECKING:
    from app.services.db import Database

UTC = dt.timezone.utc


class CheckStatus(enum.Enum):
    OK = "ok"
    WARN = "warn"  # works today, but someone should act (no backup for a week, say)
    FAIL = "fail"  # this workstation is not set up correctly: work would fail or be unsafe
    SKIPPED = "skipped"  # cannot be checked because an earlier check failed


@dataclasses.dataclass(frozen=True)
class Check:
    code: str  # stable name: database, tls, schema, site, privileges, clock, file-store, keys, backup, verify
    title: str
    status: CheckStatus
    detail: str  # what was found
    fix: str = ""  # what to do about it (empty when nothing is to do)

    def as_dict(self) -> dict[str, str]:
        return {"check": self.code, "title": self.title, "status": self.status.value, "detail": self.detail,
                "fix": self.fix}


@dataclasses.dataclass(frozen=True)
class DoctorReport:
    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        return all(c.status is not CheckStatus.FAIL for c in self.checks)

    def check(self, code: str) -> Check:
        return next(c for c in self.checks if c.code == code)

    def as_dict(self) -> dict[str, object]:
        return {"ok": self.ok, "checks": [c.as_dict() for c in self.checks]}


@dataclasses.dataclass(frozen=True)
class Workstation:
    """What the checks need to know of this workstation's set-up (from app.runtime, which reads the
    environment)."""

    db_url: str
    display_url: str
    files_root: Path
    key_folder: Path
    name: str


def workstation_of(db: "Database") -> Workstation:
    """The set-up of the workstation running ``db`` (the desktop app checks the database it has open)."""
    assert db.keys is not None
    return Workstation(db_url=db.engine.url.render_as_string(hide_password=False), display_url=db.display_url,
                       files_root=db.files.root, key_folder=db.keys.folder, name=db.workstation)


@dataclasses.dataclass
class Context:
    """Shared by the checks of one run: the engine once reachable, the site once known."""

    workstation: Workstation
    local_now: Callable[[], dt.datetime]
    engine: Engine | None = None
    schema_current: bool = False
    site_code: str | None = None


TITLES = {
    "database": "Database reachable", "tls": "Encrypted connection", "schema": "Database schema",
    "site": "Site set up", "privileges": "Database privileges", "clock": "Clock", "file-store": "File store",
    "keys": "Key file", "backup": "Last backup", "verify": "Last integrity check",
}
# Which checks need which earlier success: the reachable database, then its current schema.
NEEDS_ENGINE = ("tls", "schema", "privileges", "clock")
NEEDS_SCHEMA = ("site", "file-store", "keys", "backup", "verify")


def run(workstation: Workstation, *, local_now: Callable[[], dt.datetime] = lambda: dt.datetime.now(UTC),
        progress: Callable[[int, int], None] | None = None) -> DoctorReport:
    """Run every check; never raises for a broken set-up (that is what it reports)."""
    from app.services import doctor_checks

    ctx = Context(workstation=workstation, local_now=local_now)
    results: list[Check] = []
    order = list(TITLES)
    try:
        for done, code in enumerate(order):
            if progress is not None:
                progress(done, len(order))
            blocked = _blocked_by(code, ctx)
            if blocked:
                results.append(Check(code, TITLES[code], CheckStatus.SKIPPED, f"not checked: {blocked}"))
                continue
            status, detail, fix = doctor_checks.CHECKS[code](ctx)
            results.append(Check(code, TITLES[code], status, detail, fix))
    finally:
        if ctx.engine is not None:
            ctx.engine.dispose()
    return DoctorReport(checks=tuple(results))


def _blocked_by(code: str, ctx: Context) -> str:
    if code in NEEDS_ENGINE + NEEDS_SCHEMA and ctx.engine is None:
        return "the database cannot be reached"
    if code in NEEDS_SCHEMA and not ctx.schema_current:
        return "the database schema is not the one this version uses"
    if code in ("file-store", "keys", "backup", "verify") and ctx.site_code is None:
        return "the database has no site yet"
    return ""


def connect(ctx: Context) -> Engine:
    """An engine that gives up after a few seconds: a doctor that hangs on an unreachable server is no help."""
    url = ctx.workstation.db_url
    if url.startswith("postgresql"):
        return build_engine(url, connect_args={"connect_timeout": 5})
    return build_engine(url)
