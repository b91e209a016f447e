"""Paper review in tests: synthetic readings of a form's boxes (the real reader is tested on its own), and
linked scan pages made without rendering or reading images.

``reading`` starts from a sheet filled in as GDP wants it (every entry written, every initials box initialled,
the first option of each tick field ticked, every signature signed) and changes only the boxes a test names.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from app.enums import FileKind, LinkMethod, ScanOutcome, SourceStatus
from app.forms.layout.layout import TemplateLayout
from app.forms.layout.payload import Payload
from app.forms.render.boxes import form_geometry
from app.forms.scan.readings import BoxReading, BoxState, PageReading
from app.models import ScanPage, ScanSource, StoredFile
from app.services.issuance import labels, qr_tags
from app.services.issuance.issuance import form_by_serial
from app.services.scans.intake_link import complete_if_returned, current_page_scan, link_page
from tests.helpers.seed import Seed

B = BoxState
Overrides = Mapping[tuple[str | None, str], BoxState | tuple[BoxState, str]]


def good_state(field: str | None, part: str, first_option: dict[str, str]) -> BoxState:
    if part.startswith("option:"):
        return B.CHECKED if first_option.get(field or "") == part else B.UNCHECKED
    return B.INK


def reading(layout: TemplateLayout, page: int = 1, states: Overrides | None = None, *,
            error: str | None = None) -> PageReading:
    """What the reader would say of page ``page``: every box as on a well-kept sheet, except ``states``
    ({(field, part): state or (state, note)}; field None for a signature block). ``error``: not registered."""
    if error is not None:
        return PageReading(page=page, boxes=(), residual_mm=None, error=error)
    states = dict(states or {})
    boxes = form_geometry(layout).page(page).boxes
    first_option: dict[str, str] = {}
    for box in boxes:
        if box.part.startswith("option:"):
            first_option.setdefault(box.field or "", box.part)
    out = []
    for box in boxes:
        wanted = states.pop((box.field, box.part), good_state(box.field, box.part, first_option))
        state, note = wanted if isinstance(wanted, tuple) else (wanted, "")
        ink = 0.0 if state in (B.BLANK, B.UNCHECKED) else 0.08
        out.append(BoxReading(field=box.field, part=box.part, state=state, confidence=0.93, ink=ink, note=note))
    assert not states, f"no such boxes on page {page}: {sorted(states, key=str)}"
    return PageReading(page=page, boxes=tuple(out), residual_mm=0.31)


def linked_scans(seed: Seed, serial: str, *, who: str = "op", pages: tuple[int, ...] | None = None) -> dict[int, int]:
    """Scan pages of ``serial`` linked as an import links them (the form becomes returned once every page is
    back): {page: scan page id}. A page linked before is replaced by the new scan, as a rescan linked by hand."""
    db = seed.db
    actor = seed.actors[who]
    put = db.files.put_bytes(f"scan of {serial} {uuid.uuid4()}".encode(), suffix=".png")
    with db.write(actor, reason="scans received") as session:
        form = form_by_serial(session, serial)
        now = db.clock.now()
        session.add(StoredFile(sha256=put.sha256, size=put.size, kind=FileKind.SCAN.value, media_type="image/png",
                               original_name=f"{serial}.png", stored_at=now, stored_by=actor.username))
        session.flush()
        wanted = pages or tuple(range(1, form.pages + 1))
        source = ScanSource(sha256=put.sha256, original_name=f"{serial}.png", size=put.size, media_type="image/png",
                            origin="file", status=SourceStatus.READ, page_count=len(wanted), imported_at=now,
                            imported_by=actor.username, imported_by_id=actor.user_id, workstation=db.workstation)
        session.add(source)
        session.flush()
        ids = {}
        for index, page_no in enumerate(wanted):
            earlier = current_page_scan(session, form.id, page_no)
            version = form.issuance.template_version
            code = Payload(site=labels.site_code(session), serial=form.serial, page=page_no, pages=form.pages,
                           template=version.template.code, version=version.version)
            row = ScanPage(source_id=source.id, page_index=index, outcome=ScanOutcome.LINKED,
                           decoded_text=code.encode(qr_tags.key_for(db.keyring(), form.issuance)))
            link_page(row, form, page_no, method=LinkMethod.AUTO, now=now, by=actor.username)
            session.add(row)
            session.flush()
            if earlier is not None:
                earlier.superseded_by_id = row.id
            ids[page_no] = row.id
        complete_if_returned(session, form, now=now, by=actor.username)
    return ids


def resolve_all(seed: Seed, serial: str, *, reason: str = "sheet scanned unfilled for the test") -> int:
    """QA resolves every open paper finding of a form (a test whose sheets were scanned blank); how many."""
    from app.services.scans import paper_review, paper_views

    found = paper_views.findings_of_form(seed.db, seed.qa, serial).open
    for finding in found:
        paper_review.resolve_finding(seed.db, seed.qa, finding.id, reason=reason)
    return len(found)
