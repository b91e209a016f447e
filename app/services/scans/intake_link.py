"""Deciding what one decoded page is: linked to an issued form page, or an exception with the precise reason.

A page links only when its code decodes, its tag verifies with the site key, the serial exists at this site,
the page number fits the form, the form can accept a return, and that page has not come back already.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from app.forms.layout import payload as qr_payload
from app.forms.scan.scan_decode import PageDecode
from app.forms.scan.scan_pages import PAGE_REASONS
from app.models import (
    FormState,
    Issuance,
    IssuanceState,
    IssuedForm,
    LinkMethod,
    ScanOutcome,
    ScanPage,
    Site,
    TemplateVersion,
)
from app.services.core import audit, keys
from app.services.core.db import Actor, Database
from app.services.issuance import extra_pages, labels, qr_tags
from app.services.issuance.issuance import site_of
from app.services.scans import capture_spec
from app.services.scans.intake_report import PageOutcome
from app.textfmt import plural

if TYPE_CHECKING:
    from app.services.scans.intake_decode import Item

O = ScanOutcome  # noqa: E741 - the outcomes read as O.LINKED, O.BLANK
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


class Lookup:
    """The forms named by a batch of decoded pages, with the pages of them already returned: fetched in two
    queries for the whole batch instead of several per page (an import links hundreds of pages a second)."""

    def __init__(self, session: Session, site: Site, decoded: Iterable[PageDecode]) -> None:
        serials: set[int] = set()
        for page in decoded:
            for text in page.result.ours if page.result is not None else ():
                try:
                    serials.add(int(qr_payload.parse(text)[0].serial))
                except (qr_payload.PayloadError, ValueError):
                    continue
        self.forms: dict[int, IssuedForm] = {}
        self.current: dict[tuple[int | None, int | None], ScanPage] = {}  # (form id, page) of linked pages
        self.additions: dict[int, list[extra_pages.PageAddition]] = {}  # form id -> its extra pages (BF-02)
        if not serials:
            return
        self.forms = {f.serial_no: f for f in session.scalars(
            select(IssuedForm).where(IssuedForm.site_id == site.id, IssuedForm.serial_no.in_(serials)).options(
                joinedload(IssuedForm.issuance).joinedload(Issuance.template_version)
                .joinedload(TemplateVersion.template)))}
        if self.forms:
            self.current = {(p.issued_form_id, p.page_no): p for p in session.scalars(select(ScanPage).where(
                ScanPage.issued_form_id.in_([f.id for f in self.forms.values()]), ScanPage.outcome == O.LINKED,
                ScanPage.superseded_by_id.is_(None)))}
            self.additions = extra_pages.additions_of(session, [f.id for f in self.forms.values() if f.pages > 1])

    def form(self, session: Session, site: Site, serial_no: int) -> IssuedForm | None:
        if serial_no in self.forms:
            return self.forms[serial_no]
        return session.scalar(select(IssuedForm).where(IssuedForm.site_id == site.id,
                                                       IssuedForm.serial_no == serial_no))

    def additions_of(self, session: Session, form: IssuedForm) -> list[extra_pages.PageAddition]:
        if form.serial_no in self.forms:
            return self.additions.get(form.id, [])
        return extra_pages.additions_of(session, [form.id]).get(form.id, [])

    def current_page(self, session: Session, form: IssuedForm, page_no: int) -> ScanPage | None:
        if form.serial_no in self.forms:
            return self.current.get((form.id, page_no))
        return current_page_scan(session, form.id, page_no)


def classify_codes(session: Session, site: Site, ours: tuple[str, ...],
                   claimed: set[tuple[int, int]] | None = None, lookup: Lookup | None = None) -> Verdict:
    """The verdict for the Formtrail codes found on a page (at least one). ``claimed`` holds the (form, page)
    pairs linked earlier in the same batch and not flushed yet; ``lookup`` the batch's forms, fetched ahead."""
    ring = keys.ring_of(session)
    verified: list[qr_payload.Payload] = []
    tag_versions: list[int] = []
    for text in ours:
        try:
            code, tag_version = qr_tags.verify_any(ring, text)
            verified.append(code)
            tag_versions.append(tag_version)
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
    if lookup is not None:
        form = lookup.form(session, site, int(code.serial))
    else:
        form = session.scalar(select(IssuedForm).where(IssuedForm.site_id == site.id,
                                                       IssuedForm.serial_no == int(code.serial)))
    if form is None:
        return Verdict(O.UNKNOWN_SERIAL, f"serial {code.serial} was never issued at {site.code}", text=text)
    if tag_versions[0] != qr_tags.version_of(form.issuance):
        # A code made with an older key (one that once sat in the database) for a form issued under a newer one.
        return Verdict(O.TAG_INVALID, f"the code of serial {form.serial} is tagged with key version {tag_versions[0]}"
                                      f" but the form was issued under version {qr_tags.version_of(form.issuance)}: "
                                      "possible forgery", form=form, text=text)
    version = form.issuance.template_version
    if (code.template, code.version) != (version.template.code, version.version):
        return Verdict(O.TAG_INVALID, f"the code names {code.template}@{code.version} but serial {form.serial} was "
                                      f"issued as {version.label}", form=form, text=text)
    # Each page must say the page count it was printed with: "of 5" on the original pages of a form that has
    # 7 pages since two extra pages were added, "of 7" on those two (BF-02, app.services.issuance.extra_pages).
    additions = (lookup.additions_of(session, form) if lookup is not None
                 else extra_pages.additions_of(session, [form.id]).get(form.id, []))
    printed = extra_pages.printed_total(form.pages, additions, code.page)
    if printed is None or code.pages != printed:
        has = plural(form.pages, 'page') + (f", page {code.page} printed as of {printed}" if printed else "")
        return Verdict(O.PAGE_OUT_OF_RANGE, f"page {code.page}/{code.pages} does not fit serial {form.serial}, "
                                            f"which has {has}", form=form, text=text)
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
    earlier = lookup.current_page(session, form, code.page) if lookup else current_page_scan(session, form.id,
                                                                                             code.page)
    if earlier is not None:
        return Verdict(O.POSSIBLE_COPY, f"page {code.page} of {form.serial} was already returned (scan page "
                                        f"{earlier.id}); a different image of it may be an uncontrolled copy",
                       form=form, page_no=code.page, text=text)
    return Verdict(O.LINKED, None, form=form, page_no=code.page, text=text)


def classify(session: Session, site: Site, decoded: PageDecode,
             claimed: set[tuple[int, int]] | None = None, lookup: Lookup | None = None) -> Verdict:
    if decoded.error is not None or decoded.result is None:
        error = decoded.error
        message = error.message if error else "no image"
        code = error.reason_code if error else "corrupt"
        return Verdict(O.UNREADABLE_PAGE, f"{message} ({PAGE_REASONS.get(code, code)})")
    result = decoded.result
    if result.ours:
        return classify_codes(session, site, result.ours, claimed, lookup)
    if result.foreign:
        return Verdict(O.FOREIGN_CODE, "only codes that are not Formtrail's: " + "; ".join(
            _short(t) for t in result.foreign[:3]), text=result.foreign[0])
    if getattr(result, "mirrored", ()):
        return Verdict(O.BLANK, "the back of a sheet: only the front's code shows through, mirrored")
    if result.blank:
        return Verdict(O.BLANK, "the page is blank (e.g. the back of a duplex scan)")
    return Verdict(O.NO_CODE, "no QR code could be read on the page (damaged, covered, or not a form)")


def within_spec(verdict: Verdict, spec: capture_spec.CaptureSpec, *, dpi: float | None,
                mode: str | None) -> Verdict:
    """A page that would link but was captured below the site's specification (SC-03) is an exception instead,
    kept with its form and page so that the rescan closes it."""
    if verdict.outcome is not O.LINKED:
        return verdict
    shortfall = spec.shortfall(dpi=dpi, mode=mode)
    if shortfall is None:
        return verdict
    return dataclasses.replace(verdict, outcome=O.BELOW_SPEC, reason=f"{shortfall}; rescan the page")


def current_page_scan(session: Session, form_id: int, page_no: int) -> ScanPage | None:
    return session.scalar(select(ScanPage).where(
        ScanPage.issued_form_id == form_id, ScanPage.page_no == page_no, ScanPage.outcome == O.LINKED,
        ScanPage.superseded_by_id.is_(None)))


def link_page(row: ScanPage, form: IssuedForm, page_no: int, *, method: LinkMethod, now: dt.datetime,
              by: str) -> None:
    """The one way a scan page becomes linked to a page of an issued form: at import and when decoded again
    (its code), or by a person resolving an exception. The caller completes the form's return."""
    row.outcome, row.issued_form_id, row.page_no = O.LINKED, form.id, page_no
    row.link_method, row.linked_at, row.linked_by = method.value, now, by


def complete_returned(session: Session, forms: Iterable[IssuedForm], *, now: dt.datetime, by: str) -> list[IssuedForm]:
    """Every form of ``forms`` whose every page is now linked becomes `returned`: one query and one audited
    change for the whole batch."""
    candidates = {f.id: f for f in forms if f.state is FormState.ISSUED}
    if not candidates:
        return []
    session.flush()
    linked: dict[int | None, set[int | None]] = {}
    for form_id, page_no in session.execute(select(ScanPage.issued_form_id, ScanPage.page_no).where(
            ScanPage.issued_form_id.in_(candidates), ScanPage.outcome == O.LINKED,
            ScanPage.superseded_by_id.is_(None))):
        linked.setdefault(form_id, set()).add(page_no)
    done = [f for f in candidates.values() if linked.get(f.id, set()) >= set(range(1, f.pages + 1))]
    if done:
        with audit.reason(session, "all pages scanned and linked"):
            for form in done:
                form.state, form.state_changed_at, form.state_changed_by = FormState.RETURNED, now, by
    return done


def complete_if_returned(session: Session, form: IssuedForm, *, now: dt.datetime, by: str) -> bool:
    """An issued form whose every page is linked becomes `returned` (audited like any state change)."""
    return bool(complete_returned(session, [form], now=now, by=by))


def record_pages(db: Database, actor: Actor, pages: list[tuple[Item, PageDecode]]) -> list[PageOutcome]:
    """Record decoded pages in one transaction, each linked or queued as an exception, and mark the forms
    whose last page came back `returned`."""
    if not pages:
        return []
    rows: list[tuple[Item, PageDecode, ScanPage, Verdict]] = []
    with db.write(actor, reason="scan intake") as session:
        site = site_of(session)
        now = db.clock.now()
        # Pages another import recorded meanwhile are not recorded twice (imports hold a lease per file, so
        # this only guards against one that does not).
        known = {(sid, index) for sid, index in session.execute(select(ScanPage.source_id, ScanPage.page_index)
                 .where(ScanPage.source_id.in_({i.source_id for i, _p in pages})))}
        lookup = Lookup(session, site, (p for _i, p in pages))
        spec = capture_spec.site_spec(session)
        claimed: set[tuple[int, int]] = set()
        # One flush for the whole batch: the pages linked so far in it are tracked in ``claimed``.
        with session.no_autoflush:
            for item, page in pages:
                if (item.source_id, item.page) in known:
                    continue
                known.add((item.source_id, item.page))
                verdict = within_spec(classify(session, site, page, claimed, lookup), spec, dpi=page.dpi,
                                      mode=page.mode)
                row = ScanPage(
                    source_id=item.source_id, page_index=item.page, width=page.width, height=page.height,
                    dpi=page.dpi, colour_mode=page.mode[:20] or None, method=page.method[:40] or None,
                    decoded_text=verdict.text, outcome=verdict.outcome, reason=verdict.reason,
                    issued_form_id=verdict.form.id if verdict.form else None, page_no=verdict.page_no,
                )
                if verdict.outcome is O.LINKED and verdict.form is not None:
                    link_page(row, verdict.form, verdict.page_no or 0, method=LinkMethod.AUTO, now=now,
                              by=actor.username)
                    claimed.add((verdict.form.id, verdict.page_no or 0))
                session.add(row)
                rows.append((item, page, row, verdict))
        session.flush()
        capture_spec.close_rescanned(session, [(r.issued_form_id or 0, r.page_no or 0, r.id) for _i, _p, r, v in rows
                                               if v.outcome is O.LINKED], now=now, by=actor.username)
        complete_returned(session, [v.form for _i, _p, _r, v in rows if v.outcome is O.LINKED and v.form],
                          now=now, by=actor.username)
        # The report names each form as printed on the sheet: the batch's forms labelled in one read.
        printed = labels.labels_of(session, (v.form.id for _i, _p, _r, v in rows if v.form is not None))
    return [PageOutcome(
        source=str(item.path), page=item.page + 1, sha256=item.sha256, outcome=verdict.outcome.value,
        serial=verdict.form.serial if verdict.form else None, page_no=verdict.page_no, reason=verdict.reason,
        scan_page_id=row.id, code=page.error.reason_code if page.error is not None else verdict.outcome.value,
        label=printed.get(verdict.form.id) if verdict.form else None)
        for item, page, row, verdict in rows]
