"""Reading, in the caller's read transaction, the names the wording needs for a set of audit events: full names
of people, serials of forms, labels of fields, the form page of a scan page... (``app.services.reports.wording``).

A few small queries, each for the numbers the events mention only (in chunks, so a whole-trail export stays
within every database's limit on bound parameters); the users table is read whole (a site has tens of people).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import (
    ControlledPdf,
    Entry,
    Issuance,
    IssuedForm,
    RoleGrant,
    ScanPage,
    ScanSource,
    StoredFile,
    Template,
    TemplateVersion,
    User,
)
from app.services.reports.wording import EventFields, Names, ScanPageName
from app.services.templates import templates

_CHUNK = 500
T = TypeVar("T")


def people_in(session: Session) -> dict[str, str]:
    """User name -> full name of every account (the reports print people as "Full Name (username)")."""
    return {username: full for username, full in session.execute(select(User.username, User.full_name))}


def names_for(session: Session, events: Sequence[EventFields]) -> Names:
    """Everything :func:`app.services.reports.wording.describe` needs to word ``events``, read in ``session``."""
    wanted: dict[str, set[Any]] = defaultdict(set)
    for event in events:
        _collect(event, wanted)
    users = {uid: (username, full) for uid, username, full in
             session.execute(select(User.id, User.username, User.full_name))}
    people = {username: full for username, full in users.values()}
    for event in events:  # the set-up account (SYSTEM) is no user row: its events carry its name
        people.setdefault(event.username, event.full_name)
    grants = {gid: (role.value, uid) for gid, role, uid in _rows(
        session, lambda ids: select(RoleGrant.id, RoleGrant.role, RoleGrant.user_id).where(RoleGrant.id.in_(ids)),
        wanted["grant"])}
    forms = dict(_rows(session, lambda ids: select(IssuedForm.id, IssuedForm.serial).where(IssuedForm.id.in_(ids)),
                       wanted["form"]))
    versions = {vid: f"{code}@{number}" for vid, code, number in _rows(
        session, lambda ids: select(TemplateVersion.id, Template.code, TemplateVersion.version)
        .join(Template, Template.id == TemplateVersion.template_id).where(TemplateVersion.id.in_(ids)),
        wanted["version"])}
    sources = dict(_rows(session, lambda ids: select(ScanSource.id, ScanSource.original_name)
                         .where(ScanSource.id.in_(ids)), wanted["source"]))
    files = dict(_rows(session, lambda shas: select(StoredFile.sha256, StoredFile.original_name)
                       .where(StoredFile.sha256.in_(shas)), wanted["file"]))
    files.update(_rows(session, lambda shas: select(ScanSource.sha256, ScanSource.original_name)
                       .where(ScanSource.sha256.in_(shas)), wanted["file"]))
    pdfs = {pid: f"{first}–{last} (issuance {issuance})" for pid, first, last, issuance in _rows(
        session, lambda ids: select(ControlledPdf.id, ControlledPdf.first_serial, ControlledPdf.last_serial,
                                    ControlledPdf.issuance_id).where(ControlledPdf.id.in_(ids)), wanted["pdf"])}
    return Names(
        people=people, user_ids={uid: username for uid, (username, _full) in users.items()}, grants=grants,
        forms=forms, versions=versions, templates=dict(_rows(
            session, lambda ids: select(Template.id, Template.code).where(Template.id.in_(ids)), wanted["template"])),
        sources=sources, files=files, pdfs=pdfs, scan_pages=scan_pages_in(session, wanted["scan_page"]),
        entries=_entries(session, wanted["entry"]), field_labels=field_labels_in(session, wanted["serial"]))


def scan_pages_in(session: Session, ids: Iterable[int]) -> dict[int, ScanPageName]:
    """The form page, file and import time of each scan page in ``ids``."""
    def query(chunk: list[int]) -> Any:
        return (select(ScanPage.id, IssuedForm.serial, ScanPage.page_no, ScanSource.original_name,
                       ScanPage.page_index, ScanSource.imported_at)
                .join(ScanSource, ScanSource.id == ScanPage.source_id)
                .outerjoin(IssuedForm, IssuedForm.id == ScanPage.issued_form_id).where(ScanPage.id.in_(chunk)))
    return {pid: ScanPageName(serial, page_no, name, index + 1, imported)
            for pid, serial, page_no, name, index, imported in _rows(session, query, ids)}


def field_labels_in(session: Session, serials: Iterable[str]) -> dict[str, dict[str, str]]:
    """Serial -> field name -> the field's label on the form's layout."""
    by_version: dict[int, list[str]] = defaultdict(list)
    for serial, version_id in _rows(session, lambda chunk: select(IssuedForm.serial, Issuance.template_version_id)
                                    .join(Issuance, Issuance.id == IssuedForm.issuance_id)
                                    .where(IssuedForm.serial.in_(chunk)), serials):
        by_version[version_id].append(serial)
    labels: dict[str, dict[str, str]] = {}
    for version in session.scalars(select(TemplateVersion).where(TemplateVersion.id.in_(list(by_version)))):
        try:
            fields = {f.name: f.label for f in templates.layout_of(version).fields}
        except (ValueError, TypeError, KeyError):  # a damaged layout: the names are humanized instead
            fields = {}
        for serial in by_version[version.id]:
            labels[serial] = fields
    return labels


def _entries(session: Session, ids: set[int]) -> dict[int, tuple[int, str | None]]:
    """Entry -> (its place among the values of its field, from 1; its value): how people tell entries apart."""
    records = {rid for (rid,) in _rows(session, lambda chunk: select(Entry.record_id).where(Entry.id.in_(chunk)), ids)}
    nth: dict[tuple[int, str], int] = defaultdict(int)
    out: dict[int, tuple[int, str | None]] = {}
    rows = _rows(session, lambda chunk: select(Entry.id, Entry.record_id, Entry.field_name, Entry.value, Entry.is_na)
                 .where(Entry.record_id.in_(chunk)), records)
    for entry_id, record_id, field, value, is_na in sorted(rows):
        nth[record_id, field] += 1
        if entry_id in ids:
            out[entry_id] = (nth[record_id, field], None if is_na else value)
    return out


def _collect(event: EventFields, wanted: dict[str, set[Any]]) -> None:
    """Note the numbers and names ``event`` mentions, by the kind of row they name."""
    entity, ident = event.entity or "", event.entity_id or ""
    if entity == "role_grant" and ident.isdigit():
        wanted["grant"].add(int(ident))
    elif entity == "scan_page" and ident.isdigit():
        wanted["scan_page"].add(int(ident))
    elif entity == "controlled_pdf" and ident.isdigit():
        wanted["pdf"].add(int(ident))
    elif entity in ("scan_source", "stored_file"):
        wanted["file"].add(ident)
    elif entity == "record_entry":
        head, _, number = ident.rpartition("#")
        wanted["serial"].add(head.partition("/")[0])
        if number.isdigit():
            wanted["entry"].add(int(number))
    for field, value in _values(event):
        kind = _kind(entity, field)
        if kind and value is not None and str(value).isdigit():
            wanted[kind].add(int(value))


def _kind(entity: str, field: str) -> str | None:
    if field in ("issued_form_id", "replaces_id"):
        return "form"
    if field == "scan_page_id" or (entity == "scan_page" and field == "superseded_by_id"):
        return "scan_page"
    if field in ("supersedes_id", "superseded_by_id"):
        return "entry"
    return {"template_version_id": "version", "template_id": "template", "source_id": "source",
            "pdf_id": "pdf"}.get(field)


def _values(event: EventFields) -> Iterator[tuple[str, Any]]:
    if event.field:
        yield event.field, event.old_value
        yield event.field, event.new_value
        return
    for raw in (event.old_value, event.new_value):
        if raw and raw.startswith("{"):
            try:
                data = json.loads(raw)
            except ValueError:
                continue
            if isinstance(data, dict):
                yield from data.items()


def _rows(session: Session, query: Callable[[list[T]], Any], keys: Iterable[T]) -> list[Any]:
    """``query(chunk)`` for ``keys`` in chunks, all rows together (nothing asked for: no query at all)."""
    keys = list(keys)
    rows: list[Any] = []
    for start in range(0, len(keys), _CHUNK):
        rows.extend(session.execute(query(keys[start:start + _CHUNK])).all())
    return rows

