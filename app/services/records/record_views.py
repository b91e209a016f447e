"""What a record looks like to the UI, the CLI and reports: fields with current value and full history,
signatures with their status, the linked scans. Plain frozen dataclasses."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.forms.layout.layout import FieldType, TemplateLayout
from app.models import Entry, EntryKind, IssuedForm, Record, RecordState, ScanOutcome, ScanPage, TemplateVersion
from app.services.core.errors import DamagedData, NotFound
from app.services.identity import signatures
from app.services.issuance import labels
from app.services.records.record_values import limits_text


@dataclasses.dataclass(frozen=True)
class EntryInfo:
    id: int
    value: str | None
    is_na: bool
    kind: EntryKind
    reason: str | None
    activity_at: dt.datetime | None
    entered_at: dt.datetime
    entered_by: str
    source: str
    scan_page_id: int | None
    late: bool
    late_reason: str | None
    out_of_limits: bool
    justification: str | None
    superseded: bool
    verified_at: dt.datetime | None
    verified_by: str | None
    # RC-05: set when the value was invalidated (reason + e-signature): still shown, flagged VOID, no longer the
    # field's result.
    invalidated_at: dt.datetime | None = None
    invalidated_by: str | None = None
    invalidation_reason: str | None = None

    @property
    def invalidated(self) -> bool:
        return self.invalidated_at is not None

    def as_dict(self) -> dict[str, object]:
        data = dataclasses.asdict(self)
        data["kind"] = self.kind.value
        data["invalidated"] = self.invalidated
        for key in ("activity_at", "entered_at", "verified_at", "invalidated_at"):
            data[key] = data[key].isoformat() if data[key] else None
        return data


@dataclasses.dataclass(frozen=True)
class FieldView:
    name: str
    label: str
    type: FieldType
    unit: str | None
    required: bool
    critical: bool
    limits: str | None
    choices: tuple[str, ...]
    page: int
    help: str | None
    decimals: int | None
    current: EntryInfo | None
    history: tuple[EntryInfo, ...]  # oldest first; all but the current one are superseded or invalidated
    may_verify: bool = False  # for the actor the view was read for (app.services.records.records decides)
    verify_refused: str | None = None  # the ErrorCode a verification by that actor would meet, if any
    may_invalidate: bool = False  # that actor may invalidate the current value (RC-05; records decides)

    @property
    def needs_verification(self) -> bool:
        return self.critical and self.current is not None and not self.current.is_na and \
            self.current.verified_at is None


@dataclasses.dataclass(frozen=True)
class SignatureView:
    info: signatures.SignatureInfo
    status: signatures.SignatureStatus

    @property
    def valid(self) -> bool:
        return self.status is signatures.SignatureStatus.VALID


@dataclasses.dataclass(frozen=True)
class ScanRef:
    scan_page_id: int
    page_no: int
    sha256: str
    source_name: str
    page_index: int


@dataclasses.dataclass(frozen=True)
class RecordView:
    serial: str
    template: str
    version: int
    title: str
    state: RecordState
    form_state: str
    issuance_id: int
    issuance_reconciled: bool
    exists: bool
    created_at: dt.datetime | None
    created_by: str | None
    fields: tuple[FieldView, ...]
    signatures: tuple[SignatureView, ...]
    scans: tuple[ScanRef, ...]
    content_sha256: str
    # What the actor the view was read for may do now (app.services.records.records decides; the acts check).
    may_enter: bool = False  # enter and correct values
    why_not_enter: str | None = None  # when the form's state closes the record, in words
    may_review: bool = False
    may_approve: bool = False
    # Why approving is not offered to that actor now, in words, and the ErrorCode the act would meet (None: it
    # is offered): the record waits for its review, its reconciliation, its open paper findings, or another person.
    why_not_approve: str | None = None
    approve_refused: str | None = None
    label: str = ""  # the serial as printed on the form (its issuance's serial format), e.g. "BSL-01-000123"

    def field(self, name: str) -> FieldView:
        return next(f for f in self.fields if f.name == name)

    @property
    def changed_after_entry(self) -> int:
        """PR-02: how many values were changed after they were first entered."""
        return sum(1 for f in self.fields for e in f.history if e.kind is not EntryKind.ORIGINAL)


def session_of(record: Record) -> Session:
    """The session ``record`` was read in (the acts work on records they have just read)."""
    session = Session.object_session(record)
    if session is None:
        raise RuntimeError(f"record {record.serial} is not in a session: read it again within one")
    return session


def form_of(session: Session, record: Record) -> IssuedForm:
    form = session.get(IssuedForm, record.issued_form_id)
    if form is None:  # a foreign key: the database keeps the row
        raise NotFound(f"record {record.serial}: its issued form (id {record.issued_form_id}) is missing")
    return form


def version_of(session: Session, record: Record) -> TemplateVersion:
    version = session.get(TemplateVersion, record.template_version_id)
    if version is None:  # a foreign key: the database keeps the row
        raise NotFound(f"record {record.serial}: its template version (id {record.template_version_id}) is missing")
    return version


def _scan_ref(page: ScanPage) -> ScanRef:
    if page.page_no is None:  # linking sets the page number, so a linked page always has one
        raise DamagedData(f"scan page {page.id} is linked but has no page number", table="scan_page",
                          column="page_no", value=None)
    return ScanRef(page.id, page.page_no, page.source.sha256, page.source.original_name, page.page_index)


def current_entries(record: Record) -> dict[str, Entry]:
    """Each field's result: its newest entry, neither superseded by a correction nor invalidated (RC-05: an
    invalidated value stays in the record, flagged, but no longer counts; a required field needs a new entry)."""
    return {e.field_name: e for e in record.entries if e.superseded_by_id is None and e.invalidation is None}


def record_content(record: Record, layout: TemplateLayout) -> dict[str, object]:
    """The canonical content a record signature binds to: every current value, who entered and verified it."""
    current = current_entries(record)
    return {"serial": record.serial, "template": layout.code, "fields": {
        name: {"entry": e.id, "value": e.value, "na": e.is_na, "by": e.entered_by, "verified_by": e.verified_by}
        for name, e in sorted(current.items())}}


def _entry(e: Entry) -> EntryInfo:
    void = e.invalidation
    return EntryInfo(
        id=e.id, value=e.value, is_na=e.is_na, kind=e.kind, reason=e.reason, activity_at=e.activity_at,
        entered_at=e.entered_at, entered_by=e.entered_by, source=e.source, scan_page_id=e.scan_page_id,
        late=e.late, late_reason=e.late_reason, out_of_limits=e.out_of_limits, justification=e.justification,
        superseded=e.superseded_by_id is not None, verified_at=e.verified_at, verified_by=e.verified_by,
        invalidated_at=void.invalidated_at if void else None, invalidated_by=void.invalidated_by if void else None,
        invalidation_reason=void.reason if void else None,
    )


def build_view(session: Session, record: Record, layout: TemplateLayout, *,
               form: IssuedForm | None = None) -> RecordView:
    form = form or form_of(session, record)
    version = version_of(session, record)
    history: dict[str, list[EntryInfo]] = {}
    for entry in sorted(record.entries, key=lambda e: e.id):
        history.setdefault(entry.field_name, []).append(_entry(entry))
    fields = []
    for f in layout.fields:
        entries = tuple(history.get(f.name, ()))
        current = next((e for e in entries if not e.superseded and not e.invalidated), None)
        fields.append(FieldView(name=f.name, label=f.label, type=f.type, unit=f.unit, required=f.required,
                                critical=f.critical, limits=limits_text(f), choices=tuple(f.choices), page=f.page,
                                help=f.help, decimals=f.decimals, current=current, history=entries))
    content = record_content(record, layout)
    sigs = tuple(SignatureView(s, signatures.status(s, content))
                 for s in signatures.signatures_of(session, "record", record.serial)) if record.id else ()
    scans = session.scalars(select(ScanPage).where(
        ScanPage.issued_form_id == form.id, ScanPage.outcome == ScanOutcome.LINKED,
        ScanPage.superseded_by_id.is_(None)).order_by(ScanPage.page_no)).all()
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return RecordView(
        serial=form.serial, template=layout.code, version=version.version, title=version.title, state=record.state,
        form_state=form.state.value, issuance_id=form.issuance_id,
        issuance_reconciled=form.issuance.state.value == "reconciled", exists=record.id is not None,
        created_at=record.created_at if record.id else None, created_by=record.created_by or None,
        fields=tuple(fields), signatures=sigs,
        scans=tuple(_scan_ref(s) for s in scans),
        content_sha256=hashlib.sha256(canonical.encode()).hexdigest(),
        label=labels.label_of(form, labels.site_code(session)),
    )
