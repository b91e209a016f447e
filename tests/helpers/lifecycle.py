"""Issuances at the end of their life, for the retention, hold and disposal tests (BK-05)."""

from __future__ import annotations

from app.services.issuance.issuance import IssuanceResult
from app.services.reconciliation import reconciliation
from tests.helpers.forms import issue
from tests.helpers.seed import PASSWORD, Seed

RETENTION_DAYS = 3653 + 1  # the default 10 years (with their leap days) and one day more


def reconciled(seed: Seed, code: str = "QC-WS-014", *, copies: int = 1) -> IssuanceResult:
    """An issuance of ``copies`` forms, each voided as spoiled, reconciled by QA: its retention has started."""
    result = issue(seed, code, copies=copies)
    for serial in result.serials:
        reconciliation.void_form(seed.db, seed.dc, serial=serial, reason="spoiled: printed on the wrong paper")
    reconciliation.close(seed.db, seed.qa, result.issuance_id, username="qa", password=PASSWORD)
    return result


def past_retention(seed: Seed, days: int = RETENTION_DAYS) -> None:
    seed.db.clock.advance(days=days)  # type: ignore[attr-defined]  # the tests' FakeClock
