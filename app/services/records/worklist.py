"""The records worklist: the forms data can be entered for, recently returned first, with the state of their
record and the counts of what awaits verification and review. One query use case for the GUI's records list."""

from __future__ import annotations

import dataclasses
import datetime as dt

from app.enums import FormState, RecordState, ScanOutcome
from app.services.core.db import Actor, Database
from app.services.issuance.register import RegisterFilter, fetch_forms
from app.services.records import records
from app.services.scans import scans


@dataclasses.dataclass(frozen=True)
class WorkItem:
    serial: str
    template: str
    purpose: str
    issued_to: str
    form_state: FormState
    record_state: RecordState | None
    returned_at: dt.datetime | None  # when its latest linked scan was imported
    overdue: bool
    label: str = ""  # the serial as printed beside the QR code: typed from the paper, it finds the form too

    def matches(self, text: str) -> bool:
        needle = text.strip().casefold()
        return not needle or any(needle in value.casefold() for value in
                                 (self.serial, self.label, self.template, self.purpose, self.issued_to))


@dataclasses.dataclass(frozen=True)
class Worklist:
    items: tuple[WorkItem, ...]
    to_verify: int  # records awaiting second-person verification
    to_review: int


def load_work(db: Database, actor: Actor, *, limit: int = 1000) -> list[WorkItem]:
    """Returned and issued forms (the ones data can be entered for), recently returned first."""
    rows = [*fetch_forms(db, actor, RegisterFilter(state=FormState.RETURNED), limit=limit),
            *fetch_forms(db, actor, RegisterFilter(state=FormState.ISSUED), limit=limit)]
    states = {serial: state for serial, state, _at, _by in records.list_records(db, actor)}
    returned: dict[str, dt.datetime] = {}
    for page in scans.recent_pages(db, actor, limit=4 * limit):  # newest first
        if page.serial and page.outcome is ScanOutcome.LINKED:
            returned.setdefault(page.serial, page.imported_at)
    items = [WorkItem(serial=r.serial, template=r.template_label, purpose=r.purpose, issued_to=r.issued_to,
                      form_state=r.state, record_state=states.get(r.serial), returned_at=returned.get(r.serial),
                      overdue=r.overdue, label=r.label) for r in rows]
    return sorted(items, key=lambda i: (i.form_state is not FormState.RETURNED,
                                        -i.returned_at.timestamp() if i.returned_at else 0.0, -int(i.serial)))


def worklist(db: Database, actor: Actor, *, limit: int = 1000) -> Worklist:
    """The list and its counts, as the records page shows them."""
    verify, review = records.pending_counts(db, actor)
    return Worklist(items=tuple(load_work(db, actor, limit=limit)), to_verify=verify, to_review=review)
