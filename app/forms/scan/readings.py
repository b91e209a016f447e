"""What the scan reader says about each box of a linked page: plain data, shared by the reader
(``field_states``), the services that store it and derive the paper findings, and the views.

Readings are derived data: recomputed from the stored scan whenever needed, never the record itself.
"""

from __future__ import annotations

import dataclasses
import enum


class BoxState(enum.StrEnum):
    BLANK = "blank"  # a writing box with no writing in it
    INK = "ink"  # a writing box with writing in it
    CHECKED = "checked"  # a tick box with a tick or a cross
    UNCHECKED = "unchecked"  # an empty tick box, or one inked over completely (a correction, not a tick)
    UNCLEAR = "unclear"  # the reader cannot tell: a person looks


@dataclasses.dataclass(frozen=True)
class BoxReading:
    """One box of one scanned page. ``confidence`` 0..1; ``ink`` the share of the box's measured area that is
    ink (0..1); ``note`` says why when it helps a person ("filled: a correction", "stroke overruns the box")."""

    field: str | None
    part: str
    state: BoxState
    confidence: float
    ink: float
    note: str = ""


@dataclasses.dataclass(frozen=True)
class PageReading:
    """Every box of one scanned page, with how well the page matched its template geometry.

    ``residual_mm``: the registration's mean error at its reference points; ``error`` is set (and
    ``boxes`` empty) when the page could not be registered at all, e.g. only one code was readable.
    ``placement``: where the template's millimetres land on the page image, as the affine map
    (a, b, c, d, e, f): u = a·x + b·y + c, v = d·x + e·y + f, with u, v fractions (0..1) of the image's width
    and height — so any rendition of the page (a thumbnail, the viewer's copy) can be cropped to a box."""

    page: int
    boxes: tuple[BoxReading, ...]
    residual_mm: float | None
    error: str | None = None
    placement: tuple[float, float, float, float, float, float] | None = None
