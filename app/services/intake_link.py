"""Deciding what one decoded page is: linked to an issued form page, or an exception with the precise reason.

A page links only when its code decodes, its tag verifies with the site key, the serial exists at this site,
the page number fits the form, the form can accept a return, and that page has not come back already.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.textfmt import plural
from app.forms import payload as qr_payload
from app.forms.scan_decode import PageDecode
from app.forms.scan_pages import PAGE_REASONS
from app.models import FormState, IssuanceState, IssuedForm, ScanOutcome, ScanPage, Site
from app.services import audit

O = ScanOutcome
RETURNABLE = (FormState.ISSUED, FormState.RETURNED)


@dataclasses.dataclass(frozen=True)
class Verdict:
    outcome: ScanOutcome
    reason: str | None
    form: IssuedForm | None = None
    page_no: int | None = None
    text: str | None = None


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def classify_codes(session: Session, site: Site, ours: tuple[str, ...],
                   claimed: set[tuple[int, int]] | None = None) -> Verdict:
    """The verdict for the Formtrail codes found on a page (at least one). ``claimed`` holds the (form, page)
    pairs linked earlier in the same batch and not flushed yet."""
    key = bytes.fromhex(site.qr_key)
    verified: list[qr_payload.Payload] = []
    for text in ours:
        try:
            verified.append(qr_payload.verify(text, key))
        except qr_payload.PayloadError as exc:
            try:
                parsed, _tag = qr_payload.parse(text)
            except qr_payload.PayloadError:
                return Verdict(O.TAG_INVALID, f"unreadable Formtrail code ({exc})", text=text)
            if parsed.site != site.code:
                return Verdict(O.OTHER_SITE, f"the form belongs to site {parsed.site}, not {site.code}", text=text)
            return Verdict(O.TAG_INVALID, f"the code of serial {parsed.serial} page {parsed.page} does not verify "
                                          "with this site's key: possible forgery or altered code", text=text)
    identities = {(p.serial, p.page) for p in verified}
    if len(identities) > 1:
        named = ", ".join(f"{s} p.{p}" for s, p in sorted(identities))
        return Verdict(O.CONFLICTING_CODES, f"codes of different forms or pages on one sheet: {named}", text=ours[0])
    code, text = verified[0], ours[0]
    form = session.scalar(select(IssuedForm).where(IssuedForm.site_id == site.id,
                                                   IssuedForm.serial_no == int(code.serial)))
    if form is None:
        return Verdict(O.UNKNOWN_SERIAL, f"serial {code.serial} was never issued at {site.code}", text=text)
    version = form.issuance.template_version
    if (code.template, code.version) != (version.template.code, version.version):
        return Verdict(O.TAG_INVALID, f"the code names {code.template}@{code.version} but serial {form.serial} was "
                                      f"issued as {version.label}", form=form, text=text)
    if code.pages != form.pages or not 1 <= code.page <= form.pages:
        return Verdict(O.PAGE_OUT_OF_RANGE, f"page {code.page}/{code.pages} does not fit serial {form.serial}, "
                                            f"which has {plural(form.pages, 'page')}", form=form, text=text)
    if form.issuance.state is not IssuanceState.OPEN:
        return Verdict(O.NOT_RETURNABLE, f"the issuance of {form.serial} is already reconciled (closed)",
                       form=form, page_no=code.page, text=text)
    if form.state not in RETURNABLE:
        why = f": {form.state_reason}" if form.state_reason else ""
        return Verdict(O.NOT_RETURNABLE, f"serial {form.serial} is {form.state.value}{why}; the page is kept with it",
                       form=form, page_no=code.page, text=text)
    if claimed is not None and (form.id, code.page) in claimed:
        return Verdict(O.POSSIBLE_COPY, f"page {code.page} of {form.serial} came back twice in this import; a "
                                        "different image of it may be an uncontrolled copy",
                       form=form, page_no=code.page, text=text)
    earlier = current_page_scan(session, form.id, code.page)
    if earlier is not None:
        return Verdict(O.POSSIBLE_COPY, f"page {code.page} of {form.serial} was already returned (scan page "
                                        f"{earlier.id}); a different image of it may be an uncontrolled copy",
                       form=form, page_no=code.page, text=text)
    return Verdict(O.LINKED, None, form=form, page_no=code.page, text=text)


def classify(session: Session, site: Site, decoded: PageDecode,
             claimed: set[tuple[int, int]] | None = None) -> Verdict:
    if decoded.error is not None or decoded.result is None:
        error = decoded.error
        message = error.message if error else "no image"
        code = error.reason_code if error else "corrupt"
        return Verdict(O.UNREADABLE_PAGE, f"{message} ({PAGE_REASONS.get(code, code)})")
    result = decoded.result
    if result.ours:
        return classify_codes(session, site, result.ours, claimed)
    if result.foreign:
        return Verdict(O.FOREIGN_CODE, "only codes that are not Formtrail's: " + "; ".join(
            _short(t) for t in result.foreign[:3]), text=result.foreign[0])
    if getattr(result, "mirrored", ()):
        return Verdict(O.BLANK, "the back of a sheet: only the front's code shows through, mirrored")
    if result.blank:
        return Verdict(O.BLANK, "the page is blank (e.g. the back of a duplex scan)")
    return Verdict(O.NO_CODE, "no QR code could be read on the page (damaged, covered, or not a form)")


def current_page_scan(session: Session, form_id: int, page_no: int) -> ScanPage | None:
    return session.scalar(select(ScanPage).where(
        ScanPage.issued_form_id == form_id, ScanPage.page_no == page_no, ScanPage.outcome == O.LINKED,
        ScanPage.superseded_by_id.is_(None)))


def complete_if_returned(session: Session, form: IssuedForm, *, now: dt.datetime, by: str) -> bool:
    """An issued form whose every page is linked becomes `returned` (audited like any state change)."""
    if form.state is not FormState.ISSUED:
        return False
    session.flush()
    linked = set(session.scalars(select(ScanPage.page_no).where(
        ScanPage.issued_form_id == form.id, ScanPage.outcome == O.LINKED, ScanPage.superseded_by_id.is_(None))))
    if linked >= set(range(1, form.pages + 1)):
        with audit.reason(session, "all pages scanned and linked"):
            form.state, form.state_changed_at, form.state_changed_by = FormState.RETURNED, now, by
        return True
    return False
