"""Where every writing box of a form sits on its pages: the contract between the renderer, which draws the
boxes and reports them (``app.forms.render.boxes.form_geometry``), and the scan reader, which looks for ink
in them. One geometry, measured from the drawing itself, so paper and reader cannot disagree.

Coordinates are millimetres from the page's top-left corner, x to the right and y downwards, as an image of
the page (a scan) is addressed. ``part`` names what a box is for:

* ``entry``: the writing space of a text, number, date, time or initials field;
* ``done_by`` / ``checked_by``: the initials/date cells beside an entry;
* ``option:<label>``: one tick box of a choice or yes/no field ("option:Yes");
* ``signature:<role>``: the writing area of a wet-signature block (``signature:<role>:<n>`` for the n-th block
  of a role that has more than one).

``masks`` are things printed inside a box (a format hint, a caption, a writing line): the reader ignores ink
there. ``marks`` are the page's reference points: the two QR code slots (see :func:`qr_symbol_rect`).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

ENTRY = "entry"
DONE_BY = "done_by"
CHECKED_BY = "checked_by"
OPTION = "option:"
SIGNATURE = "signature:"
QUIET_MODULES = 4  # the QR quiet zone, in modules (app.forms.render.qr.QUIET_MODULES)
MM_PER_POINT = 25.4 / 72.0


@dataclasses.dataclass(frozen=True)
class Rect:
    """A rectangle in millimetres: left, top, width, height (top-left origin, y downwards)."""

    x_mm: float
    y_mm: float
    w_mm: float
    h_mm: float

    @property
    def right_mm(self) -> float:
        return self.x_mm + self.w_mm

    @property
    def bottom_mm(self) -> float:
        return self.y_mm + self.h_mm

    def as_dict(self) -> dict[str, float]:
        return {"x_mm": round(self.x_mm, 2), "y_mm": round(self.y_mm, 2), "w_mm": round(self.w_mm, 2),
                "h_mm": round(self.h_mm, 2)}


@dataclasses.dataclass(frozen=True)
class Box:
    """One writing box: ``field`` is the field's name (None for a signature block), ``part`` its kind."""

    field: str | None
    part: str
    rect: Rect
    masks: tuple[Rect, ...] = ()
    tick: bool = False  # a tick box (option:...), read as checked/unchecked, not as blank/ink

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"field": self.field, "part": self.part, **self.rect.as_dict()}
        if self.masks:
            out["masks"] = [m.as_dict() for m in self.masks]
        return out


@dataclasses.dataclass(frozen=True)
class Mark:
    """A QR code slot: ``corner`` "top-right" or "bottom-left"; ``rect`` is the slot (code plus quiet zone at
    its largest). The symbol sits flush with the slot's ``corner`` (see :func:`qr_symbol_rect`)."""

    corner: str
    rect: Rect
    module_max_mm: float

    def as_dict(self) -> dict[str, Any]:
        return {"kind": "qr", "corner": self.corner, "module_max_mm": round(self.module_max_mm, 3),
                **self.rect.as_dict()}


@dataclasses.dataclass(frozen=True)
class PageBoxes:
    page: int
    boxes: tuple[Box, ...]
    marks: tuple[Mark, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"page": self.page, "marks": [m.as_dict() for m in self.marks],
                "boxes": [b.as_dict() for b in self.boxes]}


@dataclasses.dataclass(frozen=True)
class FormGeometry:
    code: str
    width_mm: float
    height_mm: float
    pages: tuple[PageBoxes, ...]

    def page(self, number: int) -> PageBoxes:
        for page in self.pages:
            if page.page == number:
                return page
        raise KeyError(f"{self.code} has no page {number}")

    def boxes_of(self, field: str) -> tuple[Box, ...]:
        return tuple(b for p in self.pages for b in p.boxes if b.field == field)

    def as_dict(self) -> dict[str, Any]:
        return {"template": self.code, "paper": {"width_mm": round(self.width_mm, 2),
                                                 "height_mm": round(self.height_mm, 2)},
                "pages": [p.as_dict() for p in self.pages]}

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2, ensure_ascii=False)


def qr_symbol_rect(mark: Mark, modules: int) -> Rect:
    """The printed symbol (without quiet zone) of a code of ``modules`` × ``modules`` in this slot: the module
    is as large as fits the slot, at most ``module_max_mm``; the top-right code is flush with the slot's
    top-right corner, the bottom-left one with its bottom-left corner (app.forms.render.render._draw_codes)."""
    module = min(mark.module_max_mm, mark.rect.w_mm / (modules + 2 * QUIET_MODULES))
    side = (modules + 2 * QUIET_MODULES) * module
    quiet = QUIET_MODULES * module
    if mark.corner == "top-right":
        left, top = mark.rect.right_mm - side, mark.rect.y_mm
    else:
        left, top = mark.rect.x_mm, mark.rect.bottom_mm - side
    return Rect(left + quiet, top + quiet, modules * module, modules * module)
