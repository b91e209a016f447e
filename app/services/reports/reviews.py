"""Periodic reviews (issue 16): the system audit-trail review and the user access review, produced as reports QA
signs, and when each is next due."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any


@dataclasses.dataclass(frozen=True)
class ReviewDue:
    title: str  # e.g. "Audit-trail review"
    due_on: dt.date
    overdue: bool
    last_done: dt.datetime | None


def due_reviews(db: Any) -> tuple[ReviewDue, ...]:
    """When each periodic review is next due (Home shows it). (Filled in by the governance part.)"""
    return ()
