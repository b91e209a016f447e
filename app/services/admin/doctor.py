"""`formtrail doctor`: is this workstation set up to work with its site? One line per check, each saying what
is wrong and what to change. Read-only (the file-store probe file is removed again) and needs no log-in, so it
also runs when the application cannot start.

The checks themselves are in ``doctor_checks``; this module runs them in order and skips those that need a
database the earlier checks could not reach."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

from app.services.admin import doctor_checks
from app.services.admin.doctor_base import CheckStatus, Context, Workstation, workstation_of

__all__ = ["Check", "CheckStatus", "DoctorReport", "Workstation", "run", "workstation_of"]

UTC = dt.UTC


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
            try:
                status, detail, fix = doctor_checks.CHECKS[code](ctx)
            except Exception as exc:  # noqa: BLE001 - a check that breaks is a finding, never a traceback
                status, detail, fix = (CheckStatus.FAIL, f"the check could not run: {type(exc).__name__}: {exc}",
                                       "run `formtrail doctor` again; if it persists, give this line to support")
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
