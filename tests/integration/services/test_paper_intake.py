"""Issue 16 / paper intake: extra pages for a form in use (BF-02), the capture specification (SC-03), the scanner
(SC-01), the true-copy checklist (SC-02) and sheets on an older template version (ES-08) — on real rendered PDFs
scanned back, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from app.enums import FormState, PaperFindingKind, ScanOutcome
from app.services.core.error_codes import ErrorCode
from app.services.core.errors import DomainError, PermissionDenied, RuleViolation, ValidationError
from app.services.issuance import extra_pages, printing, register
from app.services.reconciliation import reconciliation
from app.services.reports import audit_log
from app.services.scans import capture_spec, intake, paper_views, scans, true_copy
from app.services.templates import templates
from tests.helpers import scanlike as sl
from tests.helpers.forms import effective_template, issue
from tests.helpers.paper_intake import (
    codes_on,
    five_page_template,
    page_of,
    pdf_images,
    scan_png,
    set_setting,
    stored_pdf_images,
)
from tests.helpers.scans import issued_page_images, site_key, write
from tests.helpers.seed import PASSWORD

pytestmark = pytest.mark.compliance
DPI = 150


def _five_page_form(seed):
    five_page_template(seed)
    result = issue(seed, copies=1)
    return result.serials[0], stored_pdf_images(seed.db, result.pdf_sha256, dpi=DPI)


def _refusals(seed, user: str) -> list[str]:
    return [e.username for e in audit_log.fetch_events(seed.db, seed.admin, audit_log.AuditFilter(
        action="RULE_REFUSED")) if e.username == user]


# -- BF-02: extra pages ----------------------------------------------------------------------------------------

def test_bf02_add_two_pages_to_a_five_page_form_shows_of_7(seed, tmp_path):
    serial, _images = _five_page_form(seed)
    with pytest.raises(PermissionDenied):
        extra_pages.add_pages(seed.db, seed.op, serial=serial, count=2, reason="more room")
    with pytest.raises(ValidationError):
        extra_pages.add_pages(seed.db, seed.dc, serial=serial, count=2, reason=" ")
    result = extra_pages.add_pages(seed.db, seed.dc, serial=serial, count=2, reason="step 7 needs more room")
    assert (result.first_page, result.last_page, result.pages) == (6, 7, 2)

    row = register.find_form(seed.db, seed.dc, serial)
    assert row is not None and row.pages == 7  # the main record: "page x of 7"
    assert len(row.extra_pages) == 1 and "2 extra pages (6–7) added by" in row.extra_pages[0]
    assert "(dc)" in row.extra_pages[0] and row.extra_pages[0].endswith("step 7 needs more room")
    recon = reconciliation.reconciliation(seed.db, seed.qa, row.issuance_id).forms[0]
    assert recon.pages == 7 and recon.note == "still out: 0 of 7 pages back"

    # Their own controlled PDF, released once like any other; every page carries its own page number "of 7".
    pdf = next(p for p in printing.pdfs_of(seed.db, seed.dc, row.issuance_id) if p.pdf_id == result.pdf_id)
    assert pdf.extra_pages and pdf.pages == 2 and not pdf.released
    out = printing.save_to_file(seed.db, seed.dc, result.pdf_id, out=tmp_path / "extra.pdf").path
    pages = pdf_images(out, dpi=200)
    assert [sorted(page_of(t) for t in codes_on(p)) for p in pages] == [["6/7", "6/7"], ["7/7", "7/7"]]
    with pytest.raises(DomainError):  # never printed twice
        printing.save_to_file(seed.db, seed.dc, result.pdf_id, out=tmp_path / "again.pdf")

    [event] = audit_log.fetch_events(seed.db, seed.admin, audit_log.AuditFilter(entity="form_page_addition"))
    assert event.username == "dc" and event.reason == "extra pages: step 7 needs more room"
    assert [(a.first_page, a.last_page) for a in extra_pages.history(seed.db, seed.viewer, serial)] == [(6, 7)]


def test_bf02_original_and_extra_pages_come_back_and_only_then_the_form_is_complete(seed, tmp_path):
    serial, originals = _five_page_form(seed)
    result = extra_pages.add_pages(seed.db, seed.dc, serial=serial, count=2, reason="more weighings")
    extra = stored_pdf_images(seed.db, result.pdf_sha256, dpi=DPI)
    paths = [scan_png(tmp_path / "a", f"p{i}.png", image, dpi=DPI, seed=i) for i, image in enumerate(originals, 1)]
    report = intake.import_files(seed.db, seed.op, paths)
    assert [(o.outcome, o.page_no) for o in report.outcomes] == [("linked", p) for p in range(1, 6)]  # "of 5"
    row = register.find_form(seed.db, seed.dc, serial)
    assert row is not None and row.state is FormState.ISSUED  # not complete: its extra pages are still out

    paths = [scan_png(tmp_path / "b", f"x{i}.png", image, dpi=DPI, seed=10 + i) for i, image in enumerate(extra, 6)]
    report = intake.import_files(seed.db, seed.op, paths)
    assert [(o.outcome, o.page_no) for o in report.outcomes] == [("linked", 6), ("linked", 7)]  # "of 7"
    row = register.find_form(seed.db, seed.dc, serial)
    assert row is not None and row.state is FormState.RETURNED and not row.may_add_pages
    recon = reconciliation.reconciliation(seed.db, seed.qa, row.issuance_id).forms[0]
    assert recon.accounted and recon.pages_back == 7
    # An extra page has no template boxes: a person reads it (a finding), nothing is assumed checked.
    findings = paper_views.findings_of_form(seed.db, seed.qa, serial).findings
    assert {f.page for f in findings if f.kind is PaperFindingKind.PAGE_UNREAD} >= {6, 7}
    with pytest.raises(DomainError) as refused:
        extra_pages.add_pages(seed.db, seed.dc, serial=serial, count=1, reason="too late")
    assert refused.value.code == ErrorCode.FORM_NOT_IN_USE and _refusals(seed, "dc")


def test_bf02_hostile_codes_for_pages_a_form_does_not_have_are_exceptions(seed, tmp_path):
    """A validly tagged code for page 9 of a 5-page form without extra pages, and "1/7" on a form whose page 1
    was printed "of 5", do not fit the form: exceptions, never linked."""
    serial, _images = _five_page_form(seed)
    key = site_key(seed.db)

    def forged(page: int, pages: int, name: str) -> intake.PageOutcome:
        text = sl.payload_text(serial, page, pages, site="BSL-01", template="QC-WS-014", version=1, key=key)
        path = write(tmp_path, name, sl.png_bytes(sl.make_page(text, dpi=DPI).image, dpi=DPI))
        return intake.import_files(seed.db, seed.op, [path]).outcomes[0]

    assert forged(9, 9, "nine.png").outcome == ScanOutcome.PAGE_OUT_OF_RANGE.value
    assert forged(6, 7, "six.png").outcome == ScanOutcome.PAGE_OUT_OF_RANGE.value  # no extra pages yet
    extra_pages.add_pages(seed.db, seed.dc, serial=serial, count=2, reason="more room")
    line = forged(1, 7, "one-of-seven.png")
    assert line.outcome == ScanOutcome.PAGE_OUT_OF_RANGE.value and "printed as of 5" in (line.reason or "")
    assert forged(7, 7, "seven.png").outcome == ScanOutcome.LINKED.value  # what was printed links


def test_bf02_rendered_extra_pages_say_page_x_of_total():
    from app.forms.render import render
    from app.services.issuance.extra_pages import PageAddition, printed_total
    additions = [PageAddition("000001", first, last, "r", *[None] * 3, pdf)  # type: ignore[arg-type]
                 for first, last, pdf in ((6, 7, 1), (8, 8, 2))]
    assert [printed_total(8, additions, p) for p in range(0, 10)] == [None, 5, 5, 5, 5, 5, 7, 7, 8, None]
    assert printed_total(5, [], 5) == 5 and printed_total(5, [], 6) is None
    assert "render_extra_pages" in render.__all__


# -- SC-03: the capture specification ----------------------------------------------------------------------------

def test_sc03_150_dpi_greyscale_is_rejected_below_a_300_dpi_colour_spec_and_a_rescan_closes_it(seed, tmp_path):
    effective_template(seed)
    result = issue(seed, copies=1)
    with seed.db.read() as session:  # the default accepts the office scanning the codes are made for
        assert capture_spec.site_spec(session) == capture_spec.CaptureSpec(150, "any")
    set_setting(seed, "intake.min_dpi", 300)
    set_setting(seed, "intake.colour_mode", "colour")
    [low] = issued_page_images(seed.db, result.pdf_sha256, dpi=150)
    line = intake.import_files(seed.db, seed.op, [scan_png(tmp_path, "low.png", low, dpi=150)]).outcomes[0]
    assert line.outcome == ScanOutcome.BELOW_SPEC.value and line.serial == result.serials[0] and line.page_no == 1
    assert "below the capture specification: 150 dpi < 300 dpi, greyscale where colour is required" in line.reason
    [info] = scans.list_exceptions(seed.db, seed.dc)
    assert info.outcome is ScanOutcome.BELOW_SPEC and not info.linkable
    with pytest.raises(RuleViolation) as refused:
        scans.link_manually(seed.db, seed.dc, scan_page_id=line.scan_page_id, serial=result.serials[0], page_no=1,
                            reason="readable anyway")
    assert refused.value.code == ErrorCode.BELOW_CAPTURE_SPEC and _refusals(seed, "dc")
    assert register.find_form(seed.db, seed.dc, result.serials[0]).state is FormState.ISSUED

    [good] = issued_page_images(seed.db, result.pdf_sha256, dpi=300)
    rescan = intake.import_files(seed.db, seed.op, [scan_png(tmp_path, "rescan.png", good, dpi=300, colour=True)])
    assert rescan.outcomes[0].outcome == "linked"
    assert scans.list_exceptions(seed.db, seed.dc) == []
    closed = scans.get_page(seed.db, seed.dc, line.scan_page_id)
    assert closed.outcome is ScanOutcome.RESCANNED
    assert f"scan page {rescan.outcomes[0].scan_page_id}" in (closed.resolution or "")
    assert register.find_form(seed.db, seed.dc, result.serials[0]).state is FormState.RETURNED


def test_sc03_one_low_resolution_page_in_a_good_folder_is_the_only_exception(seed, tmp_path):
    effective_template(seed)
    result = issue(seed, copies=4)
    set_setting(seed, "intake.min_dpi", 200)
    images = issued_page_images(seed.db, result.pdf_sha256, dpi=200)
    low = issued_page_images(seed.db, result.pdf_sha256, dpi=150)
    folder = tmp_path / "folder"
    for i, image in enumerate(images):
        if i == 2:
            scan_png(folder, f"{i}.png", low[i], dpi=150, seed=i)
        else:
            scan_png(folder, f"{i}.png", image, dpi=200, seed=i)
    report = intake.import_files(seed.db, seed.op, [folder])
    outcomes = sorted((o.serial, o.outcome) for o in report.outcomes)
    assert outcomes == sorted((s, "below-capture-spec" if i == 2 else "linked") for i, s in enumerate(result.serials))


# -- SC-01: the scanner --------------------------------------------------------------------------------------------

def test_sc01_the_scanner_is_recorded_from_the_file_or_the_hot_folder_and_shown(seed, tmp_path):
    from app.services.scans.hot_folder import HotFolder
    from tests.helpers.paper_intake import pdf_with_producer, tiff_with_exif
    effective_template(seed)
    result = issue(seed, copies=3)
    images = issued_page_images(seed.db, result.pdf_sha256, dpi=DPI)
    tiff = tiff_with_exif(tmp_path, "a.tif", images[0], dpi=DPI, make="Canon", model="Canon DR-C225")
    pdf = pdf_with_producer(tmp_path, "b.pdf", images[1], dpi=DPI, producer="ScanSnap Manager #iX1600",
                            creator="ScanSnap Home")
    report = intake.import_files(seed.db, seed.op, [tiff, pdf])
    devices = {o.source.rsplit("/", 1)[-1]: scans.get_page(seed.db, seed.dc, o.scan_page_id).device
               for o in report.outcomes}
    assert devices == {"a.tif": "Canon DR-C225", "b.pdf": "PDF: ScanSnap Home / ScanSnap Manager #iX1600"}
    info = scans.get_page(seed.db, seed.dc, report.outcomes[0].scan_page_id)
    assert "scanner Canon DR-C225" in info.capture and f"{DPI} dpi" in info.capture

    set_setting(seed, "intake.hot_folder_scanner", "Ricoh fi-8170 (QC lab)")
    folder = tmp_path / "hot"
    scan_png(folder, "c.png", images[2], dpi=DPI)  # a PNG names no device: the hot folder's scanner does
    watcher = HotFolder(seed.db, seed.op, folder, settle_s=0.0)
    try:
        watcher.poll()
        [done] = watcher.poll()
    finally:
        watcher.close()
    page_id = done.report.outcomes[0].scan_page_id
    assert scans.get_page(seed.db, seed.dc, page_id).device == "Ricoh fi-8170 (QC lab)"
    [event] = audit_log.fetch_events(seed.db, seed.admin, audit_log.AuditFilter(entity="scan_source", text="Ricoh"))
    assert event.username == "op"


# -- SC-02: the true-copy checklist -------------------------------------------------------------------------------

def test_sc02_a_true_copy_is_signed_only_with_every_checklist_item_and_the_statement_shows_them(seed, tmp_path):
    from app.services.reports import record_export
    effective_template(seed)
    result = issue(seed, copies=2)
    images = issued_page_images(seed.db, result.pdf_sha256, dpi=DPI)
    intake.import_files(seed.db, seed.op, [scan_png(tmp_path, f"{i}.png", im, dpi=DPI, seed=i)
                                           for i, im in enumerate(images)])
    serial = result.serials[0]
    partial = true_copy.Checklist(all_pages_present=True, legible=True, colour_where_it_matters=True)
    for checklist in (None, partial):
        with pytest.raises(RuleViolation) as refused:
            true_copy.verify_true_copy(seed.db, seed.qa, serial=serial, username="qa", password=PASSWORD,
                                       checklist=checklist)
        assert refused.value.code == ErrorCode.CHECKLIST_INCOMPLETE and "corrections visible" in str(refused.value)
    assert len(_refusals(seed, "qa")) == 2
    with pytest.raises(RuleViolation):
        true_copy.verify_many(seed.db, seed.qa, serials=result.serials, username="qa", password=PASSWORD,
                              checklist=partial)
    assert true_copy.status(seed.db, seed.qa, serial).verified_by is None

    status = true_copy.verify_true_copy(seed.db, seed.qa, serial=serial, username="qa", password=PASSWORD,
                                        checklist=true_copy.Checklist.confirmed())
    assert status.checklist == "all pages present; legible; colour where it matters; corrections visible"
    with seed.db.read() as session:
        copy = record_export.read_record(session, seed.db, serial)
        assert copy.true_copy_checklist == status.checklist
    # The true-copy statement under each scan of the record's PDF names what was checked.
    from pathlib import Path

    from app.forms.render.record_report import record_sections
    report = record_export.gather_record(seed.db, seed.qa, serial)
    captions = [s.caption for s in record_sections(report, {p.scan_page_id: Path("x.png") for p in report.scans})
                if hasattr(s, "caption")]
    assert captions and all(c.startswith("TRUE COPY of") and "(checked: all pages present, legible, colour where it "
                            "matters, corrections visible)" in c for c in captions)
    from app.services.identity import signatures
    from app.services.issuance.issuance import form_by_serial
    with seed.db.read() as session:
        [sig] = signatures.signatures_of(session, "issued_form", serial)
        content = true_copy.true_copy_content(session, form_by_serial(session, serial))
    assert content["checked"] == ["all pages present", "legible", "colour where it matters", "corrections visible"]
    assert signatures.status(sig, content).value == "valid"
    assert signatures.status(sig, {**content, "checked": ["legible"]}).value != "valid"


# -- ES-08: sheets on an older template version --------------------------------------------------------------------

def _version(seed, reason: str) -> None:
    info = templates.new_version(seed.db, seed.dc, "QC-WS-014", change_reason=reason)
    templates.submit(seed.db, seed.dc, "QC-WS-014")
    templates.approve(seed.db, seed.qa, "QC-WS-014", info.version, username="qa", password=PASSWORD)


def test_es08_a_signed_sheet_from_v2_scanned_while_v3_is_effective_is_flagged_and_the_link_shows_v2(seed, tmp_path):
    effective_template(seed)
    _version(seed, "CC-2026-002")  # v2 effective
    early, late = issue(seed, copies=1), issue(seed, copies=1)
    [early_image] = issued_page_images(seed.db, early.pdf_sha256, dpi=DPI)
    [late_image] = issued_page_images(seed.db, late.pdf_sha256, dpi=DPI)
    first = intake.import_files(seed.db, seed.op, [scan_png(tmp_path, "early.png", early_image, dpi=DPI)])
    assert first.outcomes[0].outcome == "linked"  # back while v2 was effective: nothing to flag
    assert not [f for f in paper_views.findings_of_form(seed.db, seed.qa, early.serials[0]).findings
                if f.kind is PaperFindingKind.OLDER_VERSION]

    _version(seed, "CC-2026-003")  # v3 effective
    line = intake.import_files(seed.db, seed.op, [scan_png(tmp_path, "late.png", late_image, dpi=DPI)]).outcomes[0]
    assert line.outcome == "linked"
    info = scans.get_page(seed.db, seed.dc, line.scan_page_id)
    assert info.sheet_version == "QC-WS-014@2"  # the link shows the sheet's own version
    [finding] = [f for f in paper_views.findings_of_form(seed.db, seed.qa, late.serials[0]).findings
                 if f.kind is PaperFindingKind.OLDER_VERSION]
    assert finding.is_open and "older template version" in finding.detail and "v2" in finding.detail
    assert "v3 has been effective since" in finding.detail
    resolved = paper_review_resolve(seed, finding.id)
    assert not resolved.is_open and resolved.resolved_by == "qa"


def paper_review_resolve(seed, finding_id: int):
    from app.services.scans import paper_review
    return paper_review.resolve_finding(seed.db, seed.qa, finding_id, reason="issued before CC-2026-003; the change "
                                                                             "does not affect this batch")
