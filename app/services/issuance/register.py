"""The issuance register: every issued form and every issuance, filtered, sorted, paged and exported.

Queries page in the database (indexes on state, issuance, dates), so the register screen stays responsive
with 100,000 issued forms: it asks for the count and the rows it shows, never for everything.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from app import buildinfo
from app.forms.render.report import ReportMeta, Table, render_report
from app.models import FormState, Issuance, IssuanceState, IssuedForm, Template, TemplateVersion
from app.services.core import audit
from app.services.core.db import Actor, Database
from app.services.core.errors import NotFound, ValidationError
from app.services.core.timefmt import local_text
from app.services.identity.permissions import Permission, allowed, require
from app.services.issuance import extra_pages, labels
from app.services.issuance.issuance import form_by_serial, format_serial, site_of
from app.services.issuance.replacement import replace_refusal_of
from app.services.site import serial_format
from app.services.site.setup import require_site


@dataclasses.dataclass(frozen=True)
class RegisterFilter:
    state: FormState | None = None
    overdue: bool = False
    template: str | None = None
    person: str | None = None  # issued to, or issued by (user name)
    text: str | None = None  # serial, purpose or reference
    issuance_id: int | None = None


@dataclasses.dataclass(frozen=True)
class RegisterRow:
    serial: str
    template: str
    version: int
    copy_no: int
    copies: int
    purpose: str
    reference: str | None
    issued_to: str
    issued_by: str
    issued_at: dt.datetime
    due_date: dt.date
    state: FormState
    issuance_id: int
    overdue: bool
    replaces: str | None
    # Whether the acting user may replace this copy now, and why not (from replacement.replace_refusal_of).
    may_replace: bool = False
    why_not_replace: str | None = None
    label: str = ""  # the serial as printed beside the QR code (its issuance's serial format)
    replaces_label: str | None = None  # the replaced form's, as printed on it
    # BF-02: the form's pages now (its extra pages included) and each addition in words; whether the acting user
    # may add pages now, and why not (from extra_pages.add_pages_refusal_of).
    pages: int = 0
    extra_pages: tuple[str, ...] = ()
    may_add_pages: bool = False
    why_not_add_pages: str | None = None

    @property
    def printed_as(self) -> str:
        """The serial as people read it on the paper: the label (the bare serial for rows made without one)."""
        return self.label or self.serial

    @property
    def template_label(self) -> str:
        return f"{self.template}@{self.version}"


SORT_COLUMNS = {
    "serial": IssuedForm.serial_no,
    "template": Template.code,
    "purpose": Issuance.purpose,
    "issued_to": Issuance.issued_to,
    "issued_by": Issuance.issued_by,
    "issued_at": Issuance.issued_at,
    "due_date": Issuance.due_date,
    "state": IssuedForm.state,
}


def today(db: Database) -> dt.date:
    """The calendar date at the site (due dates are calendar dates)."""
    return db.clock.now().astimezone().date()


def _overdue_condition(on: dt.date) -> Any:
    return and_(IssuedForm.state == FormState.ISSUED, Issuance.due_date < on,
                Issuance.state == IssuanceState.OPEN)


def _query(columns: Any, flt: RegisterFilter, on: dt.date, *, typed: int | None = None) -> Select[Any]:
    """``typed``: the serial number the text filter names (``_typed_serial``), if it names one."""
    query = (select(*columns) if isinstance(columns, tuple) else select(columns))
    query = query.select_from(IssuedForm).join(Issuance, IssuedForm.issuance_id == Issuance.id).join(
        TemplateVersion, Issuance.template_version_id == TemplateVersion.id).join(
        Template, TemplateVersion.template_id == Template.id)
    if flt.state is not None:
        query = query.where(IssuedForm.state == flt.state)
    if flt.overdue:
        query = query.where(_overdue_condition(on))
    if flt.template:
        query = query.where(Template.code == flt.template.strip().upper())
    if flt.person:
        like = f"%{flt.person.strip()}%"
        query = query.where(or_(Issuance.issued_to.ilike(like), Issuance.issued_by.ilike(like),
                                Issuance.issued_by_name.ilike(like)))
    if flt.text:
        text = flt.text.strip()
        like = f"%{text}%"
        conditions: list[ColumnElement[bool]] = [Issuance.purpose.ilike(like), Issuance.reference.ilike(like)]
        if typed is not None:
            conditions.append(IssuedForm.serial_no == typed)
        query = query.where(or_(*conditions))
    if flt.issuance_id is not None:
        query = query.where(IssuedForm.issuance_id == flt.issuance_id)
    return query


def _typed_serial(session: Session, text: str | None) -> int | None:
    """The serial number a search text names: digits ("123", "000123"), or a form's label as printed
    ("BSL-01-QC-WS-014-000123", any case) whose prefix is that form's own (so "Lot 2024-05" is a text, not
    serial 5)."""
    if not text or not text.strip():
        return None
    try:
        prefix, number = serial_format.split(text)
    except ValidationError:
        return None
    if not prefix:
        return number
    try:
        return form_by_serial(session, text).serial_no
    except (NotFound, ValidationError):
        return None


def count_forms(db: Database, actor: Actor, flt: RegisterFilter) -> int:
    require(db, actor, Permission.VIEW_DATA)
    with db.read() as session:
        query = _query(func.count(IssuedForm.id), flt, today(db), typed=_typed_serial(session, flt.text))
        return session.scalar(query) or 0


def fetch_forms(db: Database, actor: Actor, flt: RegisterFilter, *, sort: str = "serial", descending: bool = True,
                offset: int = 0, limit: int = 200) -> list[RegisterRow]:
    require(db, actor, Permission.VIEW_DATA)
    if sort not in SORT_COLUMNS:
        raise ValidationError(f"cannot sort by {sort!r}; choose one of {', '.join(SORT_COLUMNS)}")
    on = today(db)
    order = SORT_COLUMNS[sort].desc() if descending else SORT_COLUMNS[sort].asc()
    columns = (IssuedForm.serial, Template.code, TemplateVersion.version, IssuedForm.copy_no, Issuance.copies,
               Issuance.purpose, Issuance.reference, Issuance.issued_to, Issuance.issued_by, Issuance.issued_at,
               Issuance.due_date, IssuedForm.state, Issuance.id, Issuance.state, IssuedForm.replaces_id,
               IssuedForm.serial_no, Issuance.serial_format, IssuedForm.id, IssuedForm.pages)
    with db.read() as session:
        typed = _typed_serial(session, flt.text)
        rows = session.execute(_query(columns, flt, on, typed=typed).order_by(order, IssuedForm.serial_no.desc())
                               .offset(offset).limit(limit)).all()
        site_code = site_of(session).code if rows else ""
        replaced_ids = {r[14] for r in rows if r[14] is not None}
        serial_of = dict(session.execute(select(IssuedForm.id, IssuedForm.serial)
                                         .where(IssuedForm.id.in_(replaced_ids))).all()) if replaced_ids else {}
        replaced_label = labels.labels_of(session, replaced_ids)
        added = extra_pages.additions_of(session, (r[17] for r in rows))
    may_replace_any = allowed(actor, Permission.REPLACE_FORMS)
    result = []
    for r in rows:
        refusal = replace_refusal_of(serial=r[0], state=r[11], issuance_state=r[13])
        why_not = str(refusal) if refusal else (None if may_replace_any else "your role does not replace forms")
        may_add, why_not_add = extra_pages.may_add_pages_of(actor, serial=r[0], state=r[11], issuance_state=r[13],
                                                            pages=r[18])
        result.append(RegisterRow(
            serial=r[0], template=r[1], version=r[2], copy_no=r[3], copies=r[4], purpose=r[5], reference=r[6],
            issued_to=r[7], issued_by=r[8], issued_at=r[9], due_date=r[10], state=r[11], issuance_id=r[12],
            overdue=r[11] is FormState.ISSUED and r[10] < on and r[13] is IssuanceState.OPEN,
            replaces=serial_of.get(r[14]), may_replace=why_not is None, why_not_replace=why_not,
            label=labels.serial_label(r[16], site_code=site_code, template=r[1], version=r[2], issued_at=r[9],
                                      serial_no=r[15]),
            replaces_label=replaced_label.get(r[14]) if r[14] is not None else None, pages=r[18],
            extra_pages=tuple(a.text for a in added.get(r[17], [])), may_add_pages=may_add,
            why_not_add_pages=why_not_add))
    return result


def find_form(db: Database, actor: Actor, serial: str) -> RegisterRow | None:
    """The register row of one serial as typed or printed ("123", "000123", "BSL-01-000123", its label
    "BSL-01-QC-WS-014-000123"), or None when the text is no serial, no such form was issued, or the text is a
    label with another form's prefix (``issuance.form_by_serial``)."""
    require(db, actor, Permission.VIEW_DATA)
    try:
        prefix, number = serial_format.split(serial)
        if prefix:
            with db.read() as session:
                number = form_by_serial(session, serial).serial_no
    except (NotFound, ValidationError):
        return None
    # The register's text filter matches the serial exactly (or text inside purposes and references, where the
    # zero-padded serial almost never occurs): the exact row is picked out of what matches.
    rows = fetch_forms(db, actor, RegisterFilter(text=format_serial(number)), limit=200)
    return next((r for r in rows if int(r.serial) == number), None)


def template_codes(db: Database, actor: Actor) -> list[str]:
    require(db, actor, Permission.VIEW_DATA)
    with db.read() as session:
        return list(session.scalars(select(Template.code).order_by(Template.code)))


EXPORT_FORMATS = ("csv", "pdf")


def export_register(db: Database, actor: Actor, flt: RegisterFilter, *, fmt: str, out: Path) -> int:
    """Write the filtered register (all matching rows) and record the export."""
    require(db, actor, Permission.VIEW_DATA)
    if fmt not in EXPORT_FORMATS:
        raise ValidationError(f"register export format must be csv or pdf, not {fmt!r}")
    rows = fetch_forms(db, actor, flt, sort="serial", descending=False, limit=10**9)
    site = require_site(db)
    # "label": the serial as printed on the paper; "serial": the number itself, as the audit trail names it.
    headers = ["serial", "label", "template", "copy", "purpose", "reference", "issued to", "issued by", "issued on",
               "due", "state", "issuance", "replaces"]
    table = [[r.serial, r.printed_as, r.template_label, f"{r.copy_no} of {r.copies}", r.purpose, r.reference or "",
              r.issued_to, r.issued_by, local_text(r.issued_at, seconds=False), r.due_date.isoformat(),
              r.state.value + (" (overdue)" if r.overdue else ""), str(r.issuance_id),
              r.replaces_label or r.replaces or ""]
             for r in rows]
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        with out.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(headers)
            writer.writerows(table)
    else:
        with db.read() as session:
            head = "{}:{}".format(*audit.chain_head(session))
        meta = ReportMeta(title="Issuance register", site=site.code, printed_by=f"{actor.full_name} ({actor.username})",
                          printed_at=local_text(db.clock.now()), chain_head=head, app_version=buildinfo.text())
        described = ", ".join(f"{k}={v.value if hasattr(v, 'value') else v}"
                              for k, v in dataclasses.asdict(flt).items() if v) or "none"
        render_report(out, meta, [
            Table(columns=["Filter", "Forms"], rows=[[described, str(len(rows))]], widths=[6, 1]),
            Table(columns=[h.capitalize() for h in headers], rows=table,
                  # about millimetres: a label such as BSL-01-QC-WS-014-000123 on one line
                  widths=[14, 37, 22, 13, 23, 18, 20, 14, 19, 18, 15, 16, 36]),
        ], wide=True)
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    with db.write(actor, reason="register export") as session:
        audit.record_event(session, "EXPORT", entity="register",
                           new={"format": fmt, "file": out.name, "rows": len(rows), "sha256": digest})
    return len(rows)
