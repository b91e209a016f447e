"""The QR side of `formtrail verify`: every issuance's codes can still be checked, and every page that linked
itself to a form by its code carries a code whose tag verifies under the key of that form's issuance and
names that very form and page.

A link made behind the application (a scan page pointed at another form with SQL, or a decoded text put in
with a tag minted without the key) shows here even where the replay of the trail cannot tell, for example
when the rows were inserted together with forged audit rows."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.forms.layout import payload as qr_payload
from app.models import Issuance, IssuedForm, LinkMethod, ScanOutcome, ScanPage, Site
from app.services.core.db import Database
from app.services.core.keys import KeyRing
from app.services.issuance import qr_tags

Problem = tuple[str, str]  # (subject, detail)


def check(db: Database, ring: KeyRing) -> tuple[list[Problem], int]:
    """The problems found and how many codes were checked."""
    problems: list[Problem] = []
    with db.read() as session:
        site_code = session.scalar(select(Site.code))
        for issuance in session.scalars(select(Issuance).order_by(Issuance.id)):
            version = qr_tags.version_of(issuance)
            if version not in ring.versions:
                problems.append((f"issuance {issuance.id}", (
                    f"its forms' codes are tagged with key version {version}, which the key file does not hold: "
                    "returned pages cannot be linked. Import the key file that has this version")))
        pages = session.execute(
            select(ScanPage, IssuedForm, Issuance)
            .outerjoin(IssuedForm, IssuedForm.id == ScanPage.issued_form_id)
            .outerjoin(Issuance, Issuance.id == IssuedForm.issuance_id)
            .where(ScanPage.outcome == ScanOutcome.LINKED, ScanPage.link_method == LinkMethod.AUTO.value)
            .options(joinedload(ScanPage.source)).order_by(ScanPage.id)).all()
        for page, form, issuance in pages:
            problem = _page_problem(page, form, issuance, ring=ring, site_code=site_code)
            if problem:
                where = f"scan page {page.id} ({page.source.original_name} page {page.page_index + 1})"
                problems.append((where, problem))
    return problems, len(pages)


def _page_problem(page: ScanPage, form: IssuedForm | None, issuance: Issuance | None, *, ring: KeyRing,
                  site_code: str | None) -> str | None:
    if form is None or issuance is None or page.decoded_text is None:
        return "it is marked as linked by its code, but names no form or no code"
    version = qr_tags.version_of(issuance)
    if version not in ring.versions:
        return None  # named once, on the issuance
    try:
        code = qr_payload.verify(page.decoded_text, qr_tags.key_for(ring, issuance))
    except qr_payload.PayloadError:
        return (f"it is linked to serial {form.serial} page {page.page_no} by a code whose tag does not verify "
                f"with key version {version} of that form's issuance: a minted code or a link made behind the "
                "application")
    if (code.site, code.serial, code.page) != (site_code, form.serial, page.page_no):
        return (f"its code names {code.site} serial {code.serial} page {code.page} but it is linked to serial "
                f"{form.serial} page {page.page_no}: a link moved behind the application")
    return None
