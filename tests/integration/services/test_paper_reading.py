"""Intake reads the boxes of every page it links, on SQLite and PostgreSQL, in this process or on the worker
processes: the findings of a hand-filled sheet appear without anyone reading it; a manual link and
"read again" read too; a page the reader cannot place is a finding of its own, never a silent pass."""

from __future__ import annotations

import pytest

from app.enums import PaperFindingKind, ScanOutcome
from app.forms.render.boxes import form_geometry
from app.services.scans import intake, paper_reading, paper_views, scans
from tests.helpers import scanlike as sl
from tests.helpers.forms import effective_template, issue, sample_layout
from tests.helpers.paper_sheets import fill_worksheet
from tests.helpers.scans import issued_page_images, write

DPI = 200
K = PaperFindingKind
SLIPS = {(K.REQUIRED_BLANK, "check_weight_id"), (K.MISSING_DONE_BY, "balance_id"),
         (K.CHOICE_CONFLICT, "printout_attached")}


def _sheets(seed, tmp_path, copies: int):  # noqa: ANN001, ANN202
    """``copies`` worksheets, each with the same three GDP slips, scanned (slightly skewed) to JPEG files."""
    effective_template(seed)
    result = issue(seed, copies=copies)
    geometry = form_geometry(sample_layout("QC-WS-014"))
    paths = []
    for n, image in enumerate(issued_page_images(seed.db, result.pdf_sha256, dpi=DPI)):
        filled = fill_worksheet(image, geometry, dpi=DPI, left_blank=frozenset({"check_weight_id"}),
                                no_initials=frozenset({"balance_id"}),
                                ticked_twice=frozenset({"printout_attached"}), seed=n)
        scanned = sl.rotate(sl.scanned(filled, seed=n), (-1) ** n * 0.8)
        paths.append(write(tmp_path / "scans", f"sheet-{n}.jpg", sl.jpeg_bytes(scanned, quality=80, dpi=DPI)))
    return result, paths


def _found(seed, serial: str) -> set[tuple[PaperFindingKind, str | None]]:  # noqa: ANN001
    return {(f.kind, f.field) for f in paper_views.findings_of_form(seed.db, seed.qa, serial).open}


@pytest.mark.compliance
@pytest.mark.parametrize("processes", [1, 2])
def test_rc07_intake_finds_the_slips_of_every_sheet_it_links(seed, tmp_path, processes: int) -> None:  # noqa: ANN001
    result, paths = _sheets(seed, tmp_path, copies=3 if processes == 1 else 20)
    report = intake.import_files(seed.db, seed.op, paths, processes=processes)
    assert report.linked == len(paths)
    for serial in result.serials:
        assert _found(seed, serial) == SLIPS
        [page] = paper_views.readings_of_form(seed.db, seed.qa, serial).pages
        assert page.read_at is not None and page.error is None and page.residual_mm < 0.5
        assert {b.state.value for b in page.boxes if b.field == "sample_weight_1"} == {"ink"}


def test_a_manual_link_reads_the_page(seed, tmp_path) -> None:  # noqa: ANN001
    """A page whose codes were torn off is linked by hand: the reader cannot place it, which is a finding
    ("page not read"), so nobody assumes its boxes were checked."""
    effective_template(seed)
    result = issue(seed, copies=1)
    [image] = issued_page_images(seed.db, result.pdf_sha256, dpi=DPI)
    torn = sl.scanned(image)
    for mark in form_geometry(sample_layout("QC-WS-014")).page(1).marks:  # both codes, quiet zones and all
        r = mark.rect
        torn.paste(255, tuple(sl.mm_to_px(v, DPI) for v in (r.x_mm, r.y_mm, r.right_mm, r.bottom_mm)))
    path = write(tmp_path, "torn.png", sl.png_bytes(torn, dpi=DPI))
    report = intake.import_files(seed.db, seed.op, [path])
    [line] = report.outcomes
    assert line.outcome != ScanOutcome.LINKED.value
    scans.link_manually(seed.db, seed.dc, scan_page_id=line.scan_page_id, serial=result.serials[0], page_no=1,
                        reason="QR codes torn off; serial read from the printed label")
    assert _found(seed, result.serials[0]) == {(K.PAGE_UNREAD, None)}


def test_reading_again_keeps_the_findings_and_read_unread_finds_nothing_left(seed, tmp_path) -> None:  # noqa: ANN001
    result, paths = _sheets(seed, tmp_path, copies=1)
    intake.import_files(seed.db, seed.op, paths)
    serial = result.serials[0]
    before = {f.id for f in paper_views.findings_of_form(seed.db, seed.qa, serial).open}
    again = paper_reading.read_form(seed.db, seed.op, serial)
    assert (again.pages, again.findings) == (1, 3)
    assert {f.id for f in paper_views.findings_of_form(seed.db, seed.qa, serial).open} == before  # same findings
    assert paper_reading.read_unread(seed.db, seed.op).pages == 0
    assert len(paper_views.readings_of_form(seed.db, seed.qa, serial).pages) == 1


def test_an_import_stopped_before_reading_is_read_when_the_file_is_imported_again(seed, tmp_path,  # noqa: ANN001
                                                                                  monkeypatch) -> None:
    """Nothing lost: the pages were linked, then the import died before reading them (here: the read stage
    raises). The file stays unfinished; importing it again reads those pages and raises their findings."""
    result, paths = _sheets(seed, tmp_path, copies=2)

    def killed(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt("the process was stopped here")
    monkeypatch.setattr(intake, "read_linked", killed)
    with pytest.raises(KeyboardInterrupt):
        intake.import_files(seed.db, seed.op, paths)
    assert all(not _found(seed, serial) for serial in result.serials)
    assert len(paper_reading.unread_pages(seed.db)) == 2
    monkeypatch.undo()

    again = intake.import_files(seed.db, seed.op, paths)
    assert all(f.state.value == "recorded" for f in again.files)
    assert paper_reading.unread_pages(seed.db) == []
    for serial in result.serials:
        assert _found(seed, serial) == SLIPS


def test_the_records_audit_trail_holds_its_paper_findings_raised_and_resolved(seed, tmp_path) -> None:  # noqa: ANN001
    from app.services.reports.record_export import record_trail
    from app.services.scans import paper_review

    result, paths = _sheets(seed, tmp_path, copies=1)
    intake.import_files(seed.db, seed.op, paths)
    serial = result.serials[0]
    finding = paper_views.findings_of_form(seed.db, seed.qa, serial).open[0]
    paper_review.resolve_finding(seed.db, seed.qa, finding.id, reason="entry made from the balance printout")
    events = [e for e in record_trail(seed.db, serial) if e.entity == "paper_finding"]
    assert len({e.entity_id for e in events}) == 3  # the three slips, each raised
    assert any(e.entity_id.endswith(f"#{finding.id}") and e.username == "qa" for e in events)  # and the one resolved
