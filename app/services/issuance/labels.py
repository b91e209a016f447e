"""Serial labels: how an issued form's serial number is printed beside its QR code ("BSL-01-QC-WS-014-000123").

The label is fixed when the copies are printed: each issuance keeps the format (setting issuance.serial_format)
it was issued with, and its labels are made again from that and the issuance's own data (site, template,
version, issue year), so changing the setting later never renames forms already out. A typed label is read
back as its number (``app.services.site.serial_format.split``); its prefix, when one is typed, must be the
form's own (or the site code, as typed before labels existed), so a mistyped number is caught by the rest.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Issuance, IssuedForm, Site, Template, TemplateVersion
from app.services.core import setting_specs
from app.services.site import serial_format


def current_format(session: Session) -> str:
    """The format new issuances print with, checked again (a stored value is refused as when it was set)."""
    return serial_format.checked(setting_specs.get(session, serial_format.KEY))


def issue_year(issued_at: dt.datetime, tz: dt.tzinfo | None = None) -> int:
    """The year of the issue date as printed on the copies ("Issued on" is printed in local time too)."""
    return issued_at.astimezone(tz).year


def serial_label(fmt: str | None, *, site_code: str, template: str, version: int, issued_at: dt.datetime,
                 serial_no: int, tz: dt.tzinfo | None = None) -> str:
    """The label of serial ``serial_no`` of an issuance made at ``issued_at`` with ``fmt`` (None: the bare
    number, for issuances made before the setting existed)."""
    return serial_format.label(fmt, site=site_code, template=template, version=version,
                               year=issue_year(issued_at, tz), number=serial_no)


def label_of(form: IssuedForm, site_code: str) -> str:
    """The label printed on ``form`` (a replacement prints with its issuance's format and year too)."""
    issuance = form.issuance
    version = issuance.template_version
    return serial_label(issuance.serial_format, site_code=site_code, template=version.template.code,
                        version=version.version, issued_at=issuance.issued_at, serial_no=form.serial_no)


def span(first: str, last: str) -> str:
    """A run of forms as printed: "BSL-01-000001 – BSL-01-000005" (spaced: a label holds "-" itself), the bare
    numbers of forms issued before the setting as they always read ("000001–000005"), one form alone."""
    if first == last:
        return first
    return f"{first}–{last}" if first.isdigit() and last.isdigit() else f"{first} – {last}"


def site_code(session: Session) -> str:
    """The site's code, as its labels print it ("" before the set-up, when no form can exist)."""
    return session.scalar(select(Site.code)) or ""


_CHUNK = 500  # ids per query: far below any database's limit on bound parameters


def labels_of(session: Session, form_ids: Iterable[int]) -> dict[int, str]:
    """The label of each form of ``form_ids`` (form id -> label), read with its issuance's format, template,
    version and issue date in one query per few hundred forms: a list or a report labels all its forms in
    its own read, never with a query per row."""
    ids = sorted(set(form_ids))
    if not ids:
        return {}
    code = site_code(session)
    result: dict[int, str] = {}
    for start in range(0, len(ids), _CHUNK):
        rows = session.execute(
            select(IssuedForm.id, IssuedForm.serial_no, Issuance.serial_format, Issuance.issued_at, Template.code,
                   TemplateVersion.version)
            .join(Issuance, IssuedForm.issuance_id == Issuance.id)
            .join(TemplateVersion, Issuance.template_version_id == TemplateVersion.id)
            .join(Template, TemplateVersion.template_id == Template.id)
            .where(IssuedForm.id.in_(ids[start:start + _CHUNK])))
        result.update({form_id: serial_label(fmt, site_code=code, template=template, version=version,
                                             issued_at=issued_at, serial_no=number)
                       for form_id, number, fmt, issued_at, template, version in rows})
    return result


def prefix_fits(typed_prefix: str, *, label: str, site_code: str) -> bool:
    """Whether ``typed_prefix`` (the part of a typed label before the number) names the form labelled ``label``:
    none, the label's own prefix, or the site code with "-" (the prefix typed before labels existed). Case is
    not significant."""
    if not typed_prefix:
        return True
    own, _number = serial_format.split(label)
    return typed_prefix.casefold() in {own.casefold(), f"{site_code}-".casefold()}
