"""The GDP rules of paper review by exception: from what the scan reader saw in each box of one page and the
template's layout, the defects a person has to look at. Pure functions over plain data (no database), so each
rule is tested on its own; ``paper_review`` stores what they find.

A box the reader cannot judge (``unclear``) is a finding of its own and never the ground for another one: an
unclear entry is not called blank, an unclear "done by" is not called missing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from app.enums import PaperFindingKind
from app.forms.layout.geometry import CHECKED_BY, DONE_BY, ENTRY, OPTION, SIGNATURE
from app.forms.layout.layout import FieldDef, FieldType, TemplateLayout
from app.forms.scan.readings import BoxReading, BoxState, PageReading

K = PaperFindingKind
OPTIONS = "options"  # the part a choice conflict is about: the field's tick boxes together
PAGE = "page"  # the part a page that could not be read is about: all of it
DETAIL_LIMIT = 2000  # paper_finding.detail
_ERROR_SHOWN = 300  # of a reader's error, in a finding's detail
TICKED = (FieldType.CHOICE, FieldType.CHECKBOX)
_PART_TEXTS = {ENTRY: "entry", DONE_BY: "done by", CHECKED_BY: "checked by", OPTIONS: "options", PAGE: "whole page"}


@dataclasses.dataclass(frozen=True)
class Finding:
    """One defect on one page: ``field`` None for a signature block or the whole page; ``part`` as the geometry
    names the box ("entry", "done_by", "option:Yes", "signature:performed"), or "options" / "page"."""

    page: int
    field: str | None
    part: str
    kind: PaperFindingKind
    detail: str

    @property
    def key(self) -> tuple[str | None, str, PaperFindingKind]:
        """What makes a finding the same one when its page is read again."""
        return (self.field, self.part, self.kind)


def findings_for(layout: TemplateLayout, reading: PageReading, *, last_page: bool) -> tuple[Finding, ...]:
    """Every GDP finding on the page ``reading`` describes, field by field in the layout's order, then the
    signature blocks (judged on the ``last_page`` only: that is where they are printed)."""
    page = reading.page
    if reading.error is not None:
        error = _short(reading.error.strip() or "no reason given", _ERROR_SHOWN)
        return (Finding(page, None, PAGE, K.PAGE_UNREAD,
                        f"page {page} could not be matched to its template ({error}); nothing on it was checked "
                        "automatically: check every entry, initial and signature on it by eye"),)
    by_field: dict[str | None, dict[str, BoxReading]] = {}
    for box in reading.boxes:
        by_field.setdefault(box.field, {})[box.part] = box
    found: list[Finding] = []
    known = set()
    for field in layout.fields:
        if field.name in by_field:
            known.add(field.name)
            found.extend(_field_findings(layout, field, by_field[field.name], page))
    signatures = by_field.get(None, {})
    for part, box in signatures.items():
        if box.state is BoxState.UNCLEAR:
            found.append(_unclear(layout, box, page))
        elif last_page and part.startswith(SIGNATURE) and box.state is BoxState.BLANK:
            found.append(Finding(page, None, part, K.SIGNATURE_EMPTY,
                                 f'the signature block “{field_text(layout, None, part)}” is empty'))
    # Boxes of fields the layout does not have (a reader out of step with it): only what it could not judge.
    found.extend(_unclear(layout, box, page) for name, parts in by_field.items()
                 if name is not None and name not in known for box in parts.values()
                 if box.state is BoxState.UNCLEAR)
    return tuple(found)


def _field_findings(layout: TemplateLayout, field: FieldDef, parts: dict[str, BoxReading],
                    page: int) -> Iterable[Finding]:
    label = field.label
    yield from (_unclear(layout, box, page) for box in parts.values() if box.state is BoxState.UNCLEAR)
    if field.type in TICKED:
        options = {part[len(OPTION):]: box for part, box in parts.items() if part.startswith(OPTION)}
        ticked = [name for name, box in options.items() if box.state is BoxState.CHECKED]
        unsure = any(box.state is BoxState.UNCLEAR for box in options.values())
        if len(ticked) > 1:
            yield Finding(page, field.name, OPTIONS, K.CHOICE_CONFLICT,
                          _short(f'“{label}”: {len(ticked)} options are ticked ({", ".join(ticked)}); exactly one '
                                 "is allowed"))
        elif not ticked and not unsure and options and field.required:
            yield Finding(page, field.name, OPTIONS, K.CHOICE_CONFLICT,
                          _short(f'“{label}”: no option is ticked; one of {", ".join(options)} is required'))
        filled = bool(ticked)
    else:
        entry = parts.get(ENTRY)
        # Writing "N/A" is ink: a field marked not applicable is filled in, and is not blank.
        filled = entry is not None and entry.state in (BoxState.INK, BoxState.CHECKED)
        if field.required and entry is not None and entry.state is BoxState.BLANK:
            yield Finding(page, field.name, ENTRY, K.REQUIRED_BLANK,
                          _short(f'“{label}” is required but its box is empty: an entry is expected, or “N/A” '
                                 "with initials and date where it does not apply"))
    if not filled:
        return
    done = parts.get(DONE_BY)
    if field.done_by and done is not None and done.state is BoxState.BLANK:
        yield Finding(page, field.name, DONE_BY, K.MISSING_DONE_BY,
                      _short(f'“{label}” is filled in but its “done by” (initials and date) is empty'))
    checked = parts.get(CHECKED_BY)
    if field.critical and field.checked_by and checked is not None and checked.state is BoxState.BLANK:
        yield Finding(page, field.name, CHECKED_BY, K.MISSING_CHECKED_BY,
                      _short(f'“{label}” is a critical entry but its “checked by” (the second person\'s initials '
                             "and date) is empty"))


def _unclear(layout: TemplateLayout, box: BoxReading, page: int) -> Finding:
    where = field_text(layout, box.field, box.part)
    note = f": {box.note.strip()}" if box.note and box.note.strip() else ""
    return Finding(page, box.field, box.part, K.UNCLEAR_BOX,
                   _short(f'the reader cannot tell what is in “{where}” ({part_text(box.part)}{note}); look at the '
                          "scan"))


def field_text(layout: TemplateLayout, field: str | None, part: str) -> str:
    """What people call the box's field: its label, a signature block's label, or the page."""
    if field is not None:
        for definition in layout.fields:
            if definition.name == field:
                return definition.label
        return field
    if part.startswith(SIGNATURE):
        block = _signature_block(layout, part)
        if block is not None:
            return block
        return "signature " + part[len(SIGNATURE):].replace(":", " ")
    return "the whole page" if part == PAGE else part


def part_text(part: str) -> str:
    """"done by", "option Yes", "signature": the part of a field a box is, as people say it."""
    if part in _PART_TEXTS:
        return _PART_TEXTS[part]
    if part.startswith(OPTION):
        return f"option {part[len(OPTION):]}"
    if part.startswith(SIGNATURE):
        return "signature"
    return part.replace("_", " ")


def _signature_block(layout: TemplateLayout, part: str) -> str | None:
    """The label of the block ``signature:<role>`` (or ``signature:<role>:<n>``, the n-th of that role)."""
    role, _, nth = part[len(SIGNATURE):].partition(":")
    blocks = [b for b in layout.signature_blocks if b.role.value == role]
    index = int(nth) - 1 if nth.isdigit() else 0
    return blocks[index].label if 0 <= index < len(blocks) else None


def _short(text: str, limit: int = DETAIL_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
