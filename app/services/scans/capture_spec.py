"""The site's minimum capture specification (SC-03; FDA data-integrity Q&A Q9, PIC/S PI 041 7.7): a scan is a true
copy only if it keeps what the paper shows, so a page scanned below the site's resolution, or without the colour
the site requires, is not linked. It is an exception with the precise shortfall ("below the capture
specification: 150 dpi < 300 dpi, greyscale where colour is required"), closed by a rescan that meets the
specification (``close_rescanned``), or set aside.

Settings: ``intake.min_dpi`` (0: no minimum) and ``intake.colour_mode`` (any / greyscale / colour). The default,
150 dpi and any colour, is the lowest office scanning the codes are made for (DESIGN.md "QR payload"), and what
the application's own tests and benchmarks scan at; a site that needs more sets it higher.

A page drawn with vectors (a PDF made by software, mode "vector") was not captured by a scanner: it has no
resolution or colour to fall short of, and passes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.enums import ScanOutcome
from app.models import ScanPage
from app.services.core import audit, setting_specs

MIN_DPI_KEY = "intake.min_dpi"
COLOUR_KEY = "intake.colour_mode"
ANY, GREYSCALE, COLOUR = "any", "greyscale", "colour"
DPI_TOLERANCE = 1.0  # a scanner's 299.7 dpi (rounding of its page size) is 300 dpi
VECTOR = "vector"

# Pillow modes (app.forms.scan.scan_image.PageImage.mode) by what they can show.
_BITONAL = frozenset({"1"})
_GREY = frozenset({"L", "LA", "I", "I;16", "I;16B", "I;16L", "F"})
_RANK = {"black-and-white": 0, GREYSCALE: 1, COLOUR: 2}


@dataclasses.dataclass(frozen=True)
class CaptureSpec:
    min_dpi: float = 0.0
    colour: str = ANY

    @property
    def text(self) -> str:
        """"at least 300 dpi, in colour": the specification in words (for screens and messages)."""
        parts = [f"at least {self.min_dpi:g} dpi" if self.min_dpi else "any resolution"]
        parts.append({ANY: "any colour", GREYSCALE: "greyscale or colour", COLOUR: "in colour"}[self.colour])
        return ", ".join(parts)

    def shortfall(self, *, dpi: float | None, mode: str | None) -> str | None:
        """Why a page of ``dpi`` and Pillow ``mode`` is below this specification, in words; None: it meets it."""
        if (mode or "") == VECTOR:
            return None
        problems = []
        if self.min_dpi > 0:
            if dpi is None:
                problems.append(f"resolution unknown (the file states none) where {self.min_dpi:g} dpi are required")
            elif dpi + DPI_TOLERANCE < self.min_dpi:
                problems.append(f"{dpi:.0f} dpi < {self.min_dpi:g} dpi")
        if self.colour != ANY:
            kind = colour_class(mode)
            if kind is None or _RANK[kind] < _RANK[self.colour]:
                problems.append(f"{kind or 'unknown colour'} where {self.colour} is required")
        return "below the capture specification: " + ", ".join(problems) if problems else None


def colour_class(mode: str | None) -> str | None:
    """"black-and-white", "greyscale" or "colour" for a Pillow mode; None when it cannot be told."""
    if not mode or mode == VECTOR:
        return None
    if mode in _BITONAL:
        return "black-and-white"
    if mode in _GREY:
        return GREYSCALE
    return COLOUR


def site_spec(session: Session) -> CaptureSpec:
    colour = str(setting_specs.get(session, COLOUR_KEY))
    return CaptureSpec(min_dpi=float(setting_specs.get(session, MIN_DPI_KEY) or 0),
                       colour=colour if colour in (ANY, GREYSCALE, COLOUR) else ANY)


def close_rescanned(session: Session, linked: Iterable[tuple[int, int, int]], *, now: dt.datetime, by: str) -> int:
    """The below-specification exceptions of pages now linked by a rescan that meets the specification
    ((form id, page, scan page id) of each page linked) are closed as RESCANNED, naming the rescan; returns how
    many were closed."""
    by_page = {(form_id, page): scan_id for form_id, page, scan_id in linked}
    if not by_page:
        return 0
    session.flush()
    rows = session.scalars(select(ScanPage).where(
        ScanPage.outcome == ScanOutcome.BELOW_SPEC,
        ScanPage.issued_form_id.in_({form_id for form_id, _page in by_page}))).all()
    closed = 0
    for row in rows:
        rescan = by_page.get((row.issued_form_id or 0, row.page_no or 0))
        if rescan is None:
            continue
        why = f"rescanned: scan page {rescan} meets the capture specification and is linked"
        with audit.reason(session, why):
            row.outcome, row.resolution, row.resolved_at, row.resolved_by = ScanOutcome.RESCANNED, why, now, by
        closed += 1
    return closed
