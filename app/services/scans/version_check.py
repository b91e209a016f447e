"""Sheets on an older template version (ES-08; 21 CFR 11.70, PIC/S PI 041 9.10): a wet-signed sheet that comes
back on a version older than the one effective when it was signed is flagged for QA, as a paper finding of its
own ("older template version: v2, v3 effective since …"), raised when its page is read after linking and
resolved like the others (e.g. "issued before the change; the change does not affect this batch").

When it was signed: the paper does not say, so the moment it came back is used — the import time of its scan
(``ScanSource.imported_at``, the trusted clock), the latest the signature can have been made. A form issued from
v2 before v3 was approved and scanned after is flagged; one scanned while v2 was still effective is not.

The finding is raised once per form, on the page that carries the signature blocks (the template's last page),
and the link keeps showing the sheet's own version (the form's, which its code names).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.enums import PaperFindingKind
from app.models import IssuedForm, TemplateVersion
from app.services.core.timefmt import local_text
from app.services.scans.paper_findings import Finding

PART = "template-version"  # paper_finding.part of this finding: it is about the whole sheet


def effective_at(session: Session, template_id: int, moment: dt.datetime) -> TemplateVersion | None:
    """The version of the template that was effective at ``moment``: the newest one made effective by then."""
    return session.scalar(select(TemplateVersion).where(
        TemplateVersion.template_id == template_id, TemplateVersion.effective_at.is_not(None),
        TemplateVersion.effective_at <= moment).order_by(TemplateVersion.version.desc()).limit(1))


def older_version(session: Session, form: IssuedForm, *, page: int, scanned_at: dt.datetime) -> Finding | None:
    """The finding for page ``page`` of ``form`` scanned at ``scanned_at`` when the sheet is on an older version
    than the one then effective; None otherwise."""
    own = form.issuance.template_version
    current = effective_at(session, own.template_id, scanned_at)
    if current is None or current.version <= own.version or current.effective_at is None:
        return None
    code = own.template.code
    return Finding(page, None, PART, PaperFindingKind.OLDER_VERSION,
                   f"older template version: the sheet is {code} v{own.version}; v{current.version} has been "
                   f"effective since {local_text(current.effective_at, seconds=False)} and the sheet came back "
                   f"{local_text(scanned_at, seconds=False)}. QA decides whether the older version is acceptable "
                   "for this use (e.g. issued before the change) or a deviation is needed")
