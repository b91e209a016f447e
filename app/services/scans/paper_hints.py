"""What the paper reader suggests to the person transcribing a field: the box is blank on paper (so the "NA"
prompt is pre-filled), or one option is ticked (offered as the value, which the transcriber confirms — the
entry stays theirs), or the reader cannot tell. Suggestions only; nothing here writes a value."""

from __future__ import annotations

import dataclasses

from app.forms.layout.geometry import ENTRY, OPTION
from app.forms.layout.layout import FieldType
from app.forms.scan.readings import BoxState
from app.services.core.db import Actor, Database
from app.services.scans import paper_views

BLANK_REASON = "Left blank on the paper form (the scan reader found the entry box empty)"


@dataclasses.dataclass(frozen=True)
class PaperHint:
    """For one field: ``suggested`` a value to confirm (a ticked option: "yes"/"no" or the choice), ``blank``
    the entry box is empty on paper (``na_reason`` pre-fills the NA prompt), ``unclear`` the reader could not
    tell, ``read`` whether the field's page was read at all. ``say`` is the sentence shown beside the entry."""

    field: str
    read: bool
    suggested: str | None = None
    blank: bool = False
    unclear: bool = False
    na_reason: str | None = None
    say: str = ""


def hints_of_form(db: Database, actor: Actor, serial: str) -> dict[str, PaperHint]:
    """A hint for every field of the form whose page has a current reading (other fields: none)."""
    readings = paper_views.readings_of_form(db, actor, serial)
    layout = readings.layout
    by_field: dict[str, dict[str, BoxState]] = {}
    read_pages = {p.page for p in readings.pages if p.read_at is not None and p.error is None}
    for page in readings.pages:
        if page.page not in read_pages:
            continue
        for box in page.boxes:
            if box.field is not None:
                by_field.setdefault(box.field, {})[box.part] = box.state
    out: dict[str, PaperHint] = {}
    for field in layout.fields:
        if field.page not in read_pages:
            continue
        parts = by_field.get(field.name, {})
        out[field.name] = _hint(field.name, field.type, parts)
    return out


def _hint(name: str, kind: FieldType, parts: dict[str, BoxState]) -> PaperHint:
    if kind in (FieldType.CHECKBOX, FieldType.CHOICE):
        options = {p[len(OPTION):]: s for p, s in parts.items() if p.startswith(OPTION)}
        if any(s is BoxState.UNCLEAR for s in options.values()):
            return PaperHint(name, True, unclear=True, say="The scan reader is not sure which box is ticked: "
                                                           "look at the scan.")
        ticked = [label for label, s in options.items() if s is BoxState.CHECKED]
        if len(ticked) == 1:
            value = ticked[0].lower() if kind is FieldType.CHECKBOX else ticked[0]
            return PaperHint(name, True, suggested=value,
                             say=f"Ticked on paper: {ticked[0]}. Check the scan and confirm.")
        if not ticked:
            return PaperHint(name, True, blank=True, na_reason=BLANK_REASON, say="No box is ticked on paper.")
        return PaperHint(name, True, unclear=True, say=f"More than one box is ticked on paper ({', '.join(ticked)}): "
                                                       "look at the scan.")
    state = parts.get(ENTRY)
    if state is BoxState.BLANK:
        return PaperHint(name, True, blank=True, na_reason=BLANK_REASON, say="The entry is blank on paper.")
    if state is BoxState.UNCLEAR:
        return PaperHint(name, True, unclear=True, say="The scan reader is not sure the entry is written: "
                                                       "look at the scan.")
    return PaperHint(name, state is not None)
