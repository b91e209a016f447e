"""Issue 15 items 4-5 on screen (RC-07, paper review by exception): the Paper findings tab of the Scans page lists
the open findings, QA resolves them there (one, or several with one reason) with a reason or a deviation
reference, others are told why they may not; a record's review lists only its exceptions, says why Approve is
not offered while findings are open and offers it once they are resolved; Home counts QA's findings.

Pages are linked without images (tests/helpers/paper.py) and their readings are synthetic, except where a
snippet is cropped from a real scanned sheet."""

from __future__ import annotations

import pytest

from app.enums import SignatureMeaning as M
from app.forms.scan.readings import BoxState as B
from app.services.core.error_codes import ErrorCode
from app.services.reconciliation import reconciliation
from app.services.records import records
from app.services.scans import paper_review, paper_views
from app.ui.pages.scans.scans import ScansPage
from tests.helpers.forms import effective_template, issue, sample_layout
from tests.helpers.paper import linked_scans, reading
from tests.helpers.records import QC_WS_014, fill, verify_critical
from tests.helpers.seed import PASSWORD, Seed
from tests.ui.conftest import settle
from tests.ui.helpers_records import issued, open_page, return_sheet

LAYOUT = sample_layout("QC-WS-014")
DEFECTS = {("balance_id", "done_by"): B.BLANK, ("sample_id", "checked_by"): B.BLANK,
           (None, "signature:reviewed"): B.BLANK}


@pytest.fixture
def sheet(seed: Seed) -> str:
    """One QC-WS-014 form issued alone (its issuance can be closed), scanned back and read: 3 open findings."""
    effective_template(seed)
    serial = issue(seed, copies=1).serials[0]
    scan_id = linked_scans(seed, serial)[1]
    paper_review.store_reading(seed.db, seed.op, scan_page_id=scan_id, reading=reading(LAYOUT, 1, DEFECTS))
    return serial


def _findings_tab(qtbot, ctx) -> ScansPage:  # noqa: ANN001
    page = ScansPage(ctx)
    qtbot.addWidget(page)
    page.resize(1400, 850)
    page.show()
    page.show_filter("paper-findings")
    settle(qtbot)
    assert page.tabs.currentWidget() is page.findings
    return page


def _shown(page: ScansPage) -> dict[tuple[str | None, str], int]:
    return {(f.field, f.part): f.id for f in page.findings.model.rows}


def _submit(qtbot, panel, *, reason: str = "", deviation: str = "") -> None:  # noqa: ANN001
    panel.reason.setPlainText(reason)
    panel.deviation.setText(deviation)
    panel.action_button.click()
    qtbot.waitUntil(lambda: panel.task is None, timeout=20_000)
    settle(qtbot)


@pytest.mark.compliance
def test_rc07_the_tab_lists_open_findings_and_resolving_one_removes_it_with_its_audit(  # noqa: ANN001
        qtbot, seed, ctx_for, sheet, trail) -> None:  # noqa: ANN001
    page = _findings_tab(qtbot, ctx_for("qa"))
    tab = page.findings
    expected = {(f.field, f.part): f for f in paper_views.open_findings(seed.db, seed.qa)}
    assert set(_shown(page)) == set(DEFECTS) and len(expected) == 3
    assert page.tabs.tabText(page.tabs.indexOf(tab)) == "Paper findings (3)"
    label = paper_views.findings_of_form(seed.db, seed.qa, sheet).label
    assert {tab.model.text(f, 0) for f in tab.model.rows} == {label}  # the form as printed on its paper

    target = expected[("balance_id", "done_by")]
    assert tab.select(target.id)
    assert tab.resolve_button.isVisible() and tab.resolve_button.isEnabled()
    assert target.detail in tab.details.text() and tab.why_label.text() == ""
    tab.resolve()
    panel = tab.panel
    assert panel is not None and not tab.resolve_button.isEnabled()  # one form at a time
    _submit(qtbot, panel, reason="initials added and dated by the operator, see SOP-QA-002")
    assert tab.panel is None
    qtbot.waitUntil(lambda: target.id not in _shown(page).values(), timeout=10_000)
    assert set(_shown(page)) == set(DEFECTS) - {("balance_id", "done_by")}
    assert page.tabs.tabText(page.tabs.indexOf(tab)) == "Paper findings (2)"

    [change] = [e for e in trail(username="qa", action="STATE_CHANGE") if e.entity == "paper_finding"]
    assert (change.old_value, change.new_value) == ("open", "resolved")
    assert change.reason == "paper finding resolved: initials added and dated by the operator, see SOP-QA-002"
    assert change.entity_id.endswith(f"#{target.id}")

    tab.show_only("all")  # resolved ones stay listed there, greyed, with who resolved them and why
    settle(qtbot)
    assert target.id in _shown(page).values()
    row = tab.model.row_of(target.id)
    assert tab.model.text(tab.model.row_at(row), tab.model.STATUS) == "Resolved by qa"
    assert not tab.table.isColumnHidden(tab.model.STATUS)


def test_someone_who_is_not_qa_is_told_why_there_is_no_resolve(qtbot, seed, ctx_for, sheet) -> None:  # noqa: ANN001
    page = _findings_tab(qtbot, ctx_for("op"))
    tab = page.findings
    assert len(tab.model.rows) == 3
    first = tab.model.row_at(0)
    assert not first.may_resolve and first.why_not_resolve
    tab.table.selectRow(0)
    assert tab.resolve_button.isHidden()
    assert first.why_not_resolve in tab.why_label.text()
    tab.resolve()  # not offered: nothing opens
    assert tab.panel is None
    assert tab.open_button.isHidden()  # no main window to navigate in


def test_an_empty_resolution_is_refused_by_its_code_and_the_form_stays_open(qtbot, seed, ctx_for, sheet) -> None:  # noqa: ANN001
    tab = _findings_tab(qtbot, ctx_for("qa")).findings
    tab.table.selectRow(0)
    tab.resolve()
    panel = tab.panel
    _submit(qtbot, panel, reason="   ")
    assert panel.refused_code == ErrorCode.REASON_REQUIRED
    assert tab.panel is panel and panel.error.isVisible()
    assert paper_views.count_open(seed.db, seed.qa) == 3  # nothing resolved

    _submit(qtbot, panel, deviation="DEV-2026-014")  # a deviation reference alone is enough
    assert tab.panel is None
    assert paper_views.count_open(seed.db, seed.qa) == 2
    [done] = [f for f in paper_views.open_findings(seed.db, seed.qa, include_closed=True) if not f.is_open]
    assert (done.deviation_ref, done.resolution, done.resolved_by) == ("DEV-2026-014", None, "qa")


def test_a_finding_resolved_meanwhile_is_refused_by_its_code(qtbot, seed, ctx_for, sheet) -> None:  # noqa: ANN001
    page = _findings_tab(qtbot, ctx_for("qa"))
    tab = page.findings
    tab.table.selectRow(0)
    finding = tab.selected()
    tab.resolve()
    panel = tab.panel
    paper_review.resolve_finding(seed.db, seed.qa2, finding.id, reason="resolved by a colleague meanwhile")
    _submit(qtbot, panel, reason="initials added")
    assert panel.refused_code == ErrorCode.FINDING_NOT_OPEN and panel.error.isVisible()
    panel.close_panel()
    settle(qtbot)
    assert finding.id not in _shown(page).values()  # the list shows it as it is now: no longer open
    done = next(f for f in paper_views.open_findings(seed.db, seed.qa, include_closed=True) if f.id == finding.id)
    assert done.resolved_by == "qa2"  # the colleague's resolution stands


def test_several_findings_are_resolved_with_one_reason(qtbot, seed, ctx_for, sheet, boxes) -> None:  # noqa: ANN001
    tab = _findings_tab(qtbot, ctx_for("qa2")).findings
    tab.table.selectAll()
    assert tab.resolve_button.text() == "Resolve 3 findings…"
    tab.resolve()
    panel = tab.panel
    assert panel.action_button.text() == "Resolve 3"
    _submit(qtbot, panel, reason="missing signatures and initials added in the review meeting",
            deviation="DEV-2026-020")
    assert tab.panel is None and paper_views.count_open(seed.db, seed.qa) == 0
    settle(qtbot)
    assert tab.model.rowCount() == 0 and tab.count_label.text() == "No open finding ✔"
    closed = paper_views.open_findings(seed.db, seed.qa, include_closed=True)
    assert {(f.resolved_by, f.deviation_ref) for f in closed} == {("qa2", "DEV-2026-020")}
    assert boxes.notices[-1].text.startswith("3 paper findings resolved")


def test_a_field_snippet_is_cropped_from_the_real_scan(qtbot, seed, ctx_for) -> None:  # noqa: ANN001
    form = issued(seed, copies=1)
    return_sheet(seed, form, form.serials[0])  # a blank sheet: the reader finds the required entries blank
    tab = _findings_tab(qtbot, ctx_for("qa")).findings
    row = next(i for i, f in enumerate(tab.model.rows) if f.field == "balance_id")
    tab.table.selectRow(row)
    qtbot.waitUntil(lambda: not tab.snippet.loading, timeout=20_000)
    assert tab.snippet.snippet is not None and tab.snippet.snippet.field == "balance_id"
    assert not tab.snippet.image.pixmap().isNull()
    assert tab.viewer.current_key == tab.model.row_at(row).scan_page_id  # the whole page beside it


# -- the record's review by exception ---------------------------------------------------------------------------
def _reviewed_and_reconciled(seed: Seed, serial: str) -> None:
    fill(seed, serial)
    verify_critical(seed, serial, who="op2")
    records.sign_record(seed.db, seed.qa, serial=serial, meaning=M.REVIEWED, username="qa", password=PASSWORD)
    issuance_id = records.record_view(seed.db, seed.qa, serial).issuance_id
    reconciliation.close(seed.db, seed.qa2, issuance_id, username="qa2", password=PASSWORD)


@pytest.mark.compliance
def test_rc07_the_record_review_lists_exactly_its_exceptions(qtbot, seed, ctx_for) -> None:  # noqa: ANN001
    effective_template(seed)
    serial = issue(seed, copies=1).serials[0]
    scan_id = linked_scans(seed, serial)[1]
    paper_review.store_reading(seed.db, seed.op, scan_page_id=scan_id, reading=reading(LAYOUT, 1, {
        **DEFECTS, ("sample_weight_2", "entry"): (B.UNCLEAR, "stroke overruns the box")}))
    fill(seed, serial, {k: v for k, v in QC_WS_014.items() if k != "sample_weight_3"})
    records.enter_value(seed.db, seed.op, serial=serial, field="sample_weight_3", value="0.1211",
                        justification="re-weighed, see DEV-2026-031")
    records.correct_value(seed.db, seed.op, serial=serial, field="sample_id", value="LOT 24-0118",
                          reason="lot number misread")
    signature = next(f for f in paper_views.open_findings(seed.db, seed.qa) if f.part == "signature:reviewed")
    paper_review.resolve_finding(seed.db, seed.qa, signature.id, reason="signed in the review meeting")

    page = open_page(qtbot, ctx_for("qa2"), serial)
    review = page.workspace.review
    section = review.exceptions
    settle(qtbot)
    assert review.tabs.currentWidget() is section  # the exceptions first: the values follow on the next tab
    rows = section.rows()
    assert [(kind, where) for kind, where, _what in rows] == [
        ("finding", "p.1 · Balance ID · done by"), ("finding", "p.1 · Sample ID / lot number · checked by"),
        ("finding", "p.1 · Sample weight, replicate 2 (target 100 mg ± 5 %)"),
        ("finding", "p.1 · Reviewed by (QC)"),  # resolved: after the open ones, in grey
        ("box", "p.1 · Sample weight, replicate 2 (target 100 mg ± 5 %) · entry"),
        ("value", "Sample ID / lot number"), ("value", "Sample weight, replicate 3 (target 100 mg ± 5 %)")]
    assert "Resolved by qa: signed in the review meeting" in rows[3][2]
    assert "re-weighed, see DEV-2026-031" in rows[6][2] and "lot number misread" in rows[5][2]
    found = section.exceptions
    assert found is not None and found.open_findings == 3 and found.count == 3 + 1 + 2
    assert found.summary() == "3 paper findings open · 1 unclear box · 1 value out of limits · 1 value corrected"
    assert review.exceptions_label.text() == f"To look at: {found.summary()}"
    assert review.tabs.tabText(review.tabs.indexOf(section)) == "Review by exception (6)"

    # QA resolves from here too; the resolved one is not offered again, and says why.
    assert section.select_finding(signature.id)
    assert not section.resolve_button.isEnabled() and "already resolved" in section.why_label.text()


def test_a_page_the_reader_never_read_is_an_exception(qtbot, seed, ctx_for) -> None:  # noqa: ANN001
    """A page linked but not read (scanned before paper review, say) was checked by nobody: it is listed."""
    effective_template(seed)
    serial = issue(seed, copies=1).serials[0]
    linked_scans(seed, serial)  # linked, never read
    section = open_page(qtbot, ctx_for("qa"), serial).workspace.review.exceptions
    settle(qtbot)
    assert [(kind, where) for kind, where, _what in section.rows()] == [("page", "page 1")]
    assert section.exceptions is not None and section.exceptions.summary() == "1 page not read"


def test_approve_says_why_until_the_findings_are_resolved_then_is_offered(qtbot, seed, ctx_for, sheet) -> None:  # noqa: ANN001
    _reviewed_and_reconciled(seed, sheet)
    reviewer = open_page(qtbot, ctx_for("qa"), sheet)  # the reviewer never approves: told so, in the service's words
    settle(qtbot)
    why = records.record_view(seed.db, seed.qa, sheet).why_not_approve
    assert why and reviewer.workspace.review.approve_why.text() == f"Approve is not offered: {why}."

    page = open_page(qtbot, ctx_for("qa2"), sheet)
    review = page.workspace.review
    settle(qtbot)
    assert review.view.approve_refused == ErrorCode.PAPER_FINDINGS_OPEN
    assert not review.approve_button.isEnabled() and review.approve_why.isVisible()
    assert "3 open paper findings" in review.approve_why.text()
    assert review.approve_button.toolTip() == review.approve_why.text()

    section = review.exceptions
    for finding in paper_views.findings_of_record(seed.db, seed.qa2, sheet).open:
        assert section.select_finding(finding.id)
        section.resolve()
        _submit(qtbot, section.panel, reason="checked on the paper original; GDP corrected per SOP-QA-002")
        assert section.panel is None
    qtbot.waitUntil(lambda: review.approve_button.isEnabled(), timeout=10_000)  # the record was read again
    settle(qtbot)
    assert review.view.may_approve and review.view.why_not_approve is None
    assert not review.approve_why.isVisible()
    assert section.exceptions is not None and section.exceptions.open_findings == 0
    assert review.exceptions_label.text() == "No exceptions: nothing on the paper or in the values needs a second " \
                                             "look."
    approved = records.sign_record(seed.db, seed.qa2, serial=sheet, meaning=M.APPROVED, username="qa2",
                                   password=PASSWORD)
    assert approved.state.value == "approved"


# -- Home ---------------------------------------------------------------------------------------------------------
def test_qa_home_counts_the_paper_findings_and_opens_them(qtbot, seed, open_window, sheet) -> None:  # noqa: ANN001
    window = open_window("qa")
    home = window.page_widgets["home"]
    settle(qtbot)
    assert home.tiles["paper_findings"].count_label.text() == "3"
    home.tiles["paper_findings"].click()
    settle(qtbot)
    page = window.current_page()
    assert window.current_key() == "scans" and page.tabs.currentWidget() is page.findings
    assert page.findings.show_combo.currentData() == "open" and page.findings.model.rowCount() == 3

    page.findings.table.selectRow(0)  # and from a finding, its record
    assert page.findings.open_button.isVisible()
    page.findings.open_button.click()
    settle(qtbot)
    assert window.current_key() == "records"
    assert window.current_page().workspace.view.serial == sheet

    operator = open_window("op")
    settle(qtbot)
    assert "paper_findings" not in operator.page_widgets["home"].tiles  # QA resolves them


def test_document_control_sees_the_findings_but_resolves_none(qtbot, ctx_for, seed, sheet) -> None:  # noqa: ANN001
    page = _findings_tab(qtbot, ctx_for("dc"))
    titles = [page.tabs.tabText(i) for i in range(page.tabs.count())]
    assert titles == ["Import", "Exceptions", "Paper findings (3)", "True copies"]
    assert page.findings.resolve_button.isHidden()  # Document Control links scans; QA resolves findings
    page.findings.table.selectRow(0)
    assert page.findings.model.row_at(0).why_not_resolve in page.findings.why_label.text()
