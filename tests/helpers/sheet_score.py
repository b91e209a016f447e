"""How a scan reader's reading of filled sheets (``tests.helpers.filled_sheets``) compares with their truth."""

from __future__ import annotations

import dataclasses

from app.forms.scan.readings import BoxState, PageReading
from tests.helpers.filled_sheets import FilledSheet, Key


@dataclasses.dataclass
class Score:
    """How a reading of sheets compares with their truth (sums over pages; ``add`` another page's score)."""

    pages: int = 0
    unregistered: int = 0
    writing: int = 0  # writing boxes read
    writing_right: int = 0
    writing_unclear: int = 0
    false_blank: int = 0  # written, read blank (a false finding: "missing entry")
    false_ink: int = 0  # blank, read as written
    ticks: int = 0
    ticks_right: int = 0
    ticks_unclear: int = 0
    ticks_wrong: int = 0
    false_checked: int = 0  # empty (or inked-over) tick boxes read checked: an answer nobody gave
    required_blank: int = 0  # required boxes (or option groups) left blank on paper
    missed_blank: int = 0  # ... that the reader took for filled in: the review would not flag them
    overruns: int = 0  # blank boxes a neighbour's stroke runs into
    overruns_blank: int = 0  # ... read blank
    worst_page_errors: int = 0  # most wrong (not unclear) boxes on one page

    def add(self, other: Score) -> None:
        for field in dataclasses.fields(self):
            if field.name == "worst_page_errors":
                self.worst_page_errors = max(self.worst_page_errors, other.worst_page_errors)
            else:
                setattr(self, field.name, getattr(self, field.name) + getattr(other, field.name))

    @property
    def writing_accuracy(self) -> float:
        return self.writing_right / max(1, self.writing)

    @property
    def tick_accuracy(self) -> float:
        return self.ticks_right / max(1, self.ticks)


def score(sheet: FilledSheet, reading: PageReading) -> Score:
    """One page's reading against its truth: unclear counts as not right (a person looks), but not as wrong."""
    out = Score(pages=1)
    if reading.error is not None:
        out.unregistered = 1
        return out
    read = {(b.field, b.part): b for b in reading.boxes}
    errors = 0
    groups: dict[str, list[Key]] = {}
    for key, truth in sheet.truth.items():
        got = read[key].state
        if truth in (BoxState.CHECKED, BoxState.UNCHECKED):
            out.ticks += 1
            out.ticks_right += got is truth
            out.ticks_unclear += got is BoxState.UNCLEAR
            out.ticks_wrong += got not in (truth, BoxState.UNCLEAR)
            out.false_checked += truth is BoxState.UNCHECKED and got is BoxState.CHECKED
            if key[0] is not None:
                groups.setdefault(key[0], []).append(key)
        else:
            out.writing += 1
            out.writing_right += got is truth
            out.writing_unclear += got is BoxState.UNCLEAR
            out.false_blank += truth is BoxState.INK and got is BoxState.BLANK
            out.false_ink += truth is BoxState.BLANK and got is BoxState.INK
            if key in sheet.required and truth is BoxState.BLANK:
                out.required_blank += 1
                out.missed_blank += got is BoxState.INK
            if sheet.drawn[key] == "overrun":
                out.overruns += 1
                out.overruns_blank += got is BoxState.BLANK
        errors += got not in (truth, BoxState.UNCLEAR)
    for keys in groups.values():
        if keys[0] in sheet.required and all(sheet.truth[k] is BoxState.UNCHECKED for k in keys):
            out.required_blank += 1
            out.missed_blank += any(read[k].state is BoxState.CHECKED for k in keys)
    out.worst_page_errors = errors
    return out
