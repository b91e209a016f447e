"""Snippets: the crop of one field's boxes on its scanned page, shown where people transcribe and verify.

A snippet is derived from the stored scan (checked against its hash, as the page viewer does), placed with the
same registration the reader uses, and cached on disk beside the viewer's copies; it is never the record.
"""

from __future__ import annotations

import dataclasses
import io
import re
import uuid
from pathlib import Path

from PIL import Image
from sqlalchemy import select

from app.enums import ScanOutcome
from app.forms.layout.geometry import PageBoxes, Rect
from app.forms.render.boxes import form_geometry
from app.forms.render.field_places import field_places
from app.models import ScanPage
from app.services.core.db import Actor, Database
from app.services.identity.permissions import Permission, require
from app.services.issuance.issuance import form_by_serial
from app.services.scans.scans import source_page_png
from app.services.templates.templates import layout_of

MARGIN_MM = 2.0
CROP_VERSION = 2  # in the cache folder's name: a change to what a snippet shows makes new ones
_UNSAFE = re.compile(r"[^a-z0-9_-]+")


@dataclasses.dataclass(frozen=True)
class Snippet:
    """``png``: the crop of ``field``'s boxes (entry, options, initials) on page ``page_no``, upright."""

    serial: str
    field: str
    page_no: int
    scan_page_id: int
    png: bytes


@dataclasses.dataclass(frozen=True)
class _Where:
    scan_page_id: int
    page_no: int
    sha256: str
    name: str
    index: int
    payload_text: str | None
    rects: dict[str, Rect]  # every field of the page: the snippet's rectangle
    page_boxes: PageBoxes


def field_snippet(db: Database, actor: Actor, *, serial: str, field: str) -> Snippet | None:
    """The snippet of ``field`` from the current scan of its page; None when that page has no linked scan or
    the scan cannot be placed on the template (then the whole page, one click away, is what a person reads).
    The first snippet asked of a page makes those of all its fields (one registration per page)."""
    require(db, actor, Permission.VIEW_DATA)
    where = _where(db, serial, field)
    if where is None or field not in where.rects:
        return None
    cache = _cache(db, where, field)
    if not cache.exists():
        made = _crop_page(db, where)
        if made is None:
            return None
        for name, png in made.items():
            _keep(_cache(db, where, name), png)
    return Snippet(serial, field, where.page_no, where.scan_page_id, cache.read_bytes())


def _cache(db: Database, where: _Where, field: str) -> Path:
    name = f"{where.sha256}-{where.index}-{_UNSAFE.sub('_', field)}.png"
    return db.files.root / "cache" / f"snippets-v{CROP_VERSION}" / name


def _keep(cache: Path, png: bytes) -> None:
    cache.parent.mkdir(parents=True, exist_ok=True)
    # A name of its own per writer: two readers of one snippet at once (the transcription panel and the
    # verification dialog) must not write into, or move away, each other's half-written copy.
    part = cache.with_suffix(f".{uuid.uuid4().hex}.part")
    part.write_bytes(png)
    part.replace(cache)


def _where(db: Database, serial: str, field: str) -> _Where | None:
    with db.read() as session:
        form = form_by_serial(session, serial)
        layout = layout_of(form.issuance.template_version)
        defined = next((f for f in layout.fields if f.name == field), None)
        if defined is None:
            return None
        scan = session.scalars(select(ScanPage).where(
            ScanPage.issued_form_id == form.id, ScanPage.page_no == defined.page,
            ScanPage.outcome == ScanOutcome.LINKED, ScanPage.superseded_by_id.is_(None))
            .order_by(ScanPage.id.desc())).first()
        if scan is None:
            return None
        geometry = form_geometry(layout)
        places = field_places(layout)
        rects = {}
        for other in layout.fields_on(defined.page):
            boxes = geometry.boxes_of(other.name)
            if not boxes or other.name not in places:
                continue
            # From the entry to the row's end: tick boxes' labels and the initials cells are in it too.
            row = places[other.name]
            left = min(b.rect.x_mm for b in boxes)
            top = min(min(b.rect.y_mm for b in boxes), row.y * geometry.height_mm)
            right = max(max(b.rect.right_mm for b in boxes), (row.x + row.w) * geometry.width_mm)
            bottom = max(max(b.rect.bottom_mm for b in boxes), (row.y + row.h) * geometry.height_mm)
            rects[other.name] = Rect(left - MARGIN_MM, top - MARGIN_MM, right - left + 2 * MARGIN_MM,
                                     bottom - top + 2 * MARGIN_MM)
        return _Where(scan.id, defined.page, scan.source.sha256, scan.source.original_name, scan.page_index,
                      scan.decoded_text, rects, geometry.page(defined.page))


def _crop_page(db: Database, where: _Where) -> dict[str, bytes] | None:
    from app.forms.scan.field_states import snippet  # numpy work, loaded when a snippet is first made
    from app.forms.scan.registration import RegistrationError, register

    page = Image.open(io.BytesIO(source_page_png(db.files, sha256=where.sha256, name=where.name,
                                                 index=where.index))).convert("L")
    try:
        registration = register(page, where.page_boxes, payload_text=where.payload_text)
    except RegistrationError:
        return None
    out = {}
    for name, rect in where.rects.items():
        buffer = io.BytesIO()
        snippet(page, registration, rect, margin_mm=0.0).save(buffer, format="PNG", compress_level=1)
        out[name] = buffer.getvalue()
    return out
