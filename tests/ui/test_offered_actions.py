"""Each role is offered exactly what the services accept (DESIGN invariant 9, issue 13).

For every page that offers GMP acts, and every role that sees it: a button enabled and shown is an act the
service then accepts, and every act not offered is refused by the service (a refused GMP rule written to the
audit trail as RULE_REFUSED, a missing right as ACCESS_DENIED). The pages only read the services' ``may_*``
answers, so these tests fail as soon as a screen decides a rule on its own again, or a service stops saying."""

from __future__ import annotations

import shutil
from collections.abc import Callable

import pytest
from PySide6.QtWidgets import QPushButton

from app.enums import SignatureMeaning as M
from app.services.core.error_codes import ErrorCode
from app.services.core.errors import DomainError, FormtrailError, PermissionDenied, RuleViolation
from app.services.issuance import replacement
from app.services.reconciliation import reconciliation
from app.services.records import records
from app.services.scans import intake, paper_review, paper_views, scans, true_copy
from app.services.templates import templates
from app.ui.pages.reconciliation.reconcile import ReconcilePage
from app.ui.pages.scans.scans import ScansPage
from app.ui.pages.templates.templates import TemplatesPage
from tests.helpers import scanlike as sl
from tests.helpers.forms import sample_layout
from tests.helpers.records import fill, verify_critical
from tests.helpers.scans import write
from tests.helpers.seed import PASSWORD, Seed
from tests.ui.helpers_records import issued, open_page, reconcile, return_sheet, row
from tests.ui.conftest import settle
from tests.ui.helpers_scans import five_issued


def offered(button: QPushButton) -> bool:
    """Shown (not hidden by the page; its tab may be another than the current one) and enabled."""
    return not button.isHidden() and button.isEnabled()


def accepted(act: Callable[[], object]) -> bool:
    """Whether the service accepts the act; a refusal is one of the errors a user may meet (never a crash)."""
    try:
        act()
    except (DomainError, PermissionDenied, RuleViolation):
        return False
    return True


def _refusals(trail, username: str) -> list[str]:  # noqa: ANN001 - the trail fixture
    return [e.action for e in trail(username=username) if e.action in ("RULE_REFUSED", "ACCESS_DENIED")]


# -- Reconcile: void, declare missing, replace (per sheet) and close (per issuance) -------------------------
@pytest.mark.parametrize("who", ["dc", "qa"])
@pytest.mark.parametrize("act", ["void", "missing", "replace"])
def test_reconcile_sheet_actions_offered_are_accepted(qtbot, seed: Seed, ctx_for, who: str, act: str) -> None:  # noqa: ANN001
    result = five_issued(seed, copies=4)
    s = result.serials
    reconciliation.void_form(seed.db, seed.dc, serial=s[1], reason="spoiled")
    replacement.replace_form(seed.db, seed.qa2, serial=s[2], reason="torn", username="qa2", password=PASSWORD)
    page = ReconcilePage(ctx_for(who))
    qtbot.addWidget(page)
    page.show()
    settle(qtbot)
    button = {"void": page.void_button, "missing": page.missing_button, "replace": page.replace_button}[act]
    actor = seed.actors[who]
    perform = {
        "void": lambda serial: reconciliation.void_form(seed.db, actor, serial=serial, reason="spoiled"),
        "missing": lambda serial: reconciliation.declare_missing(seed.db, actor, serial=serial, reason="lost",
                                                                 deviation="DEV-1"),
        "replace": lambda serial: replacement.replace_form(seed.db, actor, serial=serial, reason="torn",
                                                           username=who, password=PASSWORD),
    }[act]
    serials = [r.serial for r in page.view.forms]  # issued, voided, replaced, issued, and the replacement
    shown = {serial: page.select_form(serial) and offered(button) for serial in serials}
    assert any(shown.values()) == (who == "qa" or act != "replace")  # the page offers something to compare
    assert {serial: accepted(lambda serial=serial: perform(serial)) for serial in serials} == shown


def test_close_offered_only_to_qa_who_may_sign_it(qtbot, seed: Seed, ctx_for, trail) -> None:  # noqa: ANN001
    result = five_issued(seed, copies=1)
    outstanding = five_issued(seed, copies=1)
    reconciliation.void_form(seed.db, seed.dc, serial=result.serials[0], reason="spoiled")

    def close(who: str, issuance_id: int) -> Callable[[], object]:
        return lambda: reconciliation.close(seed.db, seed.actors[who], issuance_id, username=who, password=PASSWORD)
    for who, issuance_id, expected in (("dc", result.issuance_id, False), ("qa", outstanding.issuance_id, False),
                                       ("qa", result.issuance_id, True)):
        page = ReconcilePage(ctx_for(who))
        qtbot.addWidget(page)
        page.show()
        settle(qtbot)
        assert page.select_issuance(issuance_id)
        settle(qtbot)
        assert offered(page.close_button) is expected
        assert accepted(close(who, issuance_id)) is expected
    assert _refusals(trail, "dc") == ["ACCESS_DENIED"]


# -- Records: verify a value, sign as reviewed, sign as approved ------------------------------------------
@pytest.fixture
def filled(seed: Seed) -> tuple[object, str]:
    """A worksheet scanned back, its values entered by op."""
    form = issued(seed, copies=2)
    serial = form.serials[0]
    return_sheet(seed, form, serial)
    fill(seed, serial)
    return form, serial


@pytest.mark.parametrize("who", ["op", "op2", "qa", "dc", "viewer"])
def test_verify_offered_is_accepted(qtbot, seed: Seed, ctx_for, filled, trail, who: str) -> None:  # noqa: ANN001
    _form, serial = filled
    page = open_page(qtbot, ctx_for(who), serial)
    field = "sample_weight_1"
    shown = offered(row(page, field).verify_button)
    assert shown is (who in ("op2", "qa"))  # never the person who entered it (op)
    assert accepted(lambda: records.verify_field(seed.db, seed.actors[who], serial=serial, field=field)) is shown
    if who == "op":
        assert _refusals(trail, "op") == ["RULE_REFUSED"]


@pytest.mark.parametrize("who", ["qa", "qa2", "op2", "dc"])
def test_review_offered_is_accepted(qtbot, seed: Seed, ctx_for, filled, who: str) -> None:  # noqa: ANN001
    _form, serial = filled
    verify_critical(seed, serial, who="qa2")  # qa2 took part: may not review
    page = open_page(qtbot, ctx_for(who), serial)
    shown = offered(page.workspace.review.review_button)
    assert shown is (who == "qa")
    assert accepted(lambda: records.sign_record(seed.db, seed.actors[who], serial=serial, meaning=M.REVIEWED,
                                                username=who, password=PASSWORD)) is shown


def _reviewed(seed: Seed, form, serial: str, *, resolve: bool) -> None:  # noqa: ANN001
    """Verified, reviewed (qa), its issuance reconciled; the paper findings of its blank scanned sheet resolved
    (by qa, as QA does before approval) when ``resolve``."""
    verify_critical(seed, serial, who="op2")
    records.sign_record(seed.db, seed.qa, serial=serial, meaning=M.REVIEWED, username="qa", password=PASSWORD)
    reconcile(seed, form, serial)
    still_open = [f.id for f in paper_views.findings_of_record(seed.db, seed.qa, serial).open]
    assert still_open  # the sheet was scanned back blank: the reader found its entries empty
    if resolve:
        paper_review.resolve_findings(seed.db, seed.qa, still_open, reason="values taken from the printout")


@pytest.mark.parametrize("who", ["qa", "qa2", "dc"])
def test_approve_offered_is_accepted(qtbot, seed: Seed, ctx_for, filled, trail, who: str) -> None:  # noqa: ANN001
    form, serial = filled
    _reviewed(seed, form, serial, resolve=True)
    page = open_page(qtbot, ctx_for(who), serial)
    shown = offered(page.workspace.review.approve_button)
    assert shown is (who == "qa2")  # not the reviewer (qa), never Document Control
    assert accepted(lambda: records.sign_record(seed.db, seed.actors[who], serial=serial, meaning=M.APPROVED,
                                                username=who, password=PASSWORD)) is shown
    if who == "qa":
        assert _refusals(trail, "qa") == ["RULE_REFUSED"]


@pytest.mark.parametrize("who", ["qa", "qa2"])
def test_approve_is_not_offered_while_paper_findings_are_open_and_says_why(  # noqa: ANN001
        qtbot, seed: Seed, ctx_for, filled, trail, who: str) -> None:  # noqa: ANN001
    form, serial = filled
    _reviewed(seed, form, serial, resolve=False)
    review = open_page(qtbot, ctx_for(who), serial).workspace.review
    settle(qtbot)
    view = records.record_view(seed.db, seed.actors[who], serial)
    assert not offered(review.approve_button) and not view.may_approve
    # The reviewer is told they never approve it; the approver, that the findings come first.
    expected = ErrorCode.SEPARATION_OF_DUTIES if who == "qa" else ErrorCode.PAPER_FINDINGS_OPEN
    assert view.approve_refused == expected and review.approve_why.isVisible()
    with pytest.raises(RuleViolation) as refused:
        records.sign_record(seed.db, seed.actors[who], serial=serial, meaning=M.APPROVED, username=who,
                            password=PASSWORD)
    assert refused.value.code == expected
    assert _refusals(trail, who) == ["RULE_REFUSED"]


# -- Batches: many true copies, many values, many pages at once (issue 14) ----------------------------------
def _all_returned(seed: Seed, tmp_path, copies: int) -> list[str]:  # noqa: ANN001
    """``copies`` forms returned, their scans imported by op (the issued PDF itself: every code reads)."""
    result = five_issued(seed, copies=copies)
    scan = tmp_path / "returned.pdf"
    shutil.copy(seed.db.files.path_for(result.pdf_sha256), scan)
    assert intake.import_files(seed.db, seed.op, [scan]).linked == copies
    return list(result.serials)


def _scans_page(qtbot, ctx) -> ScansPage:  # noqa: ANN001
    page = ScansPage(ctx)
    qtbot.addWidget(page)
    page.show()
    settle(qtbot)
    return page


@pytest.mark.parametrize("who", ["op", "op2", "dc", "qa", "viewer"])
def test_batch_true_copies_offered_are_the_ones_signed(qtbot, seed: Seed, ctx_for, tmp_path, who: str) -> None:  # noqa: ANN001
    serials = _all_returned(seed, tmp_path, 3)
    panel = _scans_page(qtbot, ctx_for(who)).true_copies
    panel.show_only("to-verify")
    qtbot.waitUntil(lambda: panel.model.rowCount() == 3, timeout=10_000)
    panel.table.selectAll()
    shown = offered(panel.verify_button)
    assert shown is (who in ("op2", "dc", "qa"))  # never the importer (op); a viewer verifies nothing
    try:
        signed = true_copy.verify_many(seed.db, seed.actors[who], serials=serials, username=who,
                                       password=PASSWORD, checklist=true_copy.Checklist.confirmed()).signed
    except PermissionDenied:
        signed = ()
    assert len(signed) == (3 if shown else 0)
    assert panel.verify_button.text() == ("Verify 3 true copies…" if shown else "Verify 0 true copies…")


@pytest.mark.parametrize("who", ["op", "op2", "qa", "dc", "viewer"])
def test_batch_verify_values_offered_are_the_ones_accepted(qtbot, seed: Seed, ctx_for, filled, trail,  # noqa: ANN001
                                                           who: str) -> None:
    _form, serial = filled
    entry = open_page(qtbot, ctx_for(who), serial).workspace.entry
    shown = entry.to_verify() if offered(entry.verify_all_button) else []
    assert bool(shown) is (who in ("op2", "qa"))
    pending = [f.name for f in records.record_view(seed.db, seed.qa, serial).fields if f.needs_verification]
    try:
        done = records.verify_many(seed.db, seed.actors[who], serial=serial, fields=pending).signed
    except PermissionDenied:
        done = ()
    assert list(done) == shown
    if who == "op":  # every own value refused, each logged as a refusal of one value is
        assert _refusals(trail, "op") == ["RULE_REFUSED"] * len(pending)


@pytest.mark.parametrize("who", ["dc", "qa", "op"])
def test_batch_set_aside_offered_is_accepted(qtbot, seed: Seed, ctx_for, tmp_path, who: str) -> None:  # noqa: ANN001
    five_issued(seed, copies=1)
    letter = sl.png_bytes(sl.make_page("https://example.org", dpi=150).image, dpi=150)
    paths = [write(tmp_path, f"letter-{i}.png", letter + bytes([i])) for i in range(2)]
    ids = [o.scan_page_id for o in intake.import_files(seed.db, seed.op, paths).outcomes]
    panel = _scans_page(qtbot, ctx_for(who)).exceptions
    qtbot.waitUntil(lambda: panel.model.rowCount() == 2, timeout=10_000)
    panel.table.selectAll()
    shown = offered(panel.not_controlled_button)
    assert shown is (who != "op") and panel.not_controlled_button.text() == "Set 2 pages aside…"
    assert accepted(lambda: scans.set_aside_many(seed.db, seed.actors[who], scan_page_ids=ids,
                                                 reason="supplier letters")) is shown


# -- Templates: the lifecycle acts on one version ----------------------------------------------------------
def _template_acts(seed: Seed, who: str, code: str, version: int) -> dict[str, Callable[[], object]]:
    actor, db = seed.actors[who], seed.db
    return {
        "edit": lambda: templates.save_draft(db, actor, code, version, sample_layout(code)),
        "submit": lambda: templates.submit(db, actor, code),
        "new": lambda: templates.new_version(db, actor, code, change_reason="CC-1"),
        "approve": lambda: templates.approve(db, actor, code, version, username=who, password=PASSWORD),
        "return": lambda: templates.return_to_draft(db, actor, code, version, reason="limits"),
        "retire": lambda: templates.retire(db, actor, code, version, reason="CC-2"),
    }


@pytest.mark.parametrize("state", ["draft", "in_review", "effective"])
@pytest.mark.parametrize("who", ["qa", "qa2", "dc", "op"])
def test_template_acts_offered_are_accepted(qtbot, seed: Seed, ctx_for, who: str, state: str) -> None:  # noqa: ANN001
    code = "QC-WS-014"
    info = templates.import_layout(seed.db, seed.qa, sample_layout(code), change_reason="CC-0")  # qa is the author
    if state != "draft":
        templates.submit(seed.db, seed.qa, code)
    if state == "effective":
        templates.approve(seed.db, seed.qa2, code, info.version, username="qa2", password=PASSWORD)
    page = TemplatesPage(ctx_for(who))
    qtbot.addWidget(page)
    page.show()
    page.select(code)
    acts = _template_acts(seed, who, code, info.version)
    shown = {key: key in page.buttons and offered(page.buttons[key]) for key in acts}
    # Each act on a fresh copy of the state would be cleaner; one at a time, the first accepted one changes
    # the state for the rest, so compare each act in a state the previous ones did not change.
    for key in acts:
        if shown[key]:
            continue
        assert not accepted(acts[key]), f"{who} was not offered {key} on a {state} version, yet it was accepted"
    offered_keys = [key for key in acts if shown[key]]
    if offered_keys:
        assert accepted(acts[offered_keys[0]]), f"{who} was offered {offered_keys[0]} on a {state} version"
    expected = {("qa", "draft"): ["edit", "submit"], ("qa2", "draft"): ["submit"], ("dc", "draft"): ["submit"],
                ("qa", "in_review"): ["return"], ("qa2", "in_review"): ["approve", "return"],
                ("qa", "effective"): ["new", "retire"], ("qa2", "effective"): ["new", "retire"],
                ("dc", "effective"): ["new"]}
    assert offered_keys == expected.get((who, state), [])


def test_refusal_of_a_template_approval_by_its_author_is_logged(seed: Seed, trail) -> None:  # noqa: ANN001
    info = templates.import_layout(seed.db, seed.qa, sample_layout(), change_reason="CC-0")
    templates.submit(seed.db, seed.qa, info.code)
    with pytest.raises(FormtrailError):
        templates.approve(seed.db, seed.qa, info.code, info.version, username="qa", password="never asked")
    assert _refusals(trail, "qa") == ["RULE_REFUSED"]
    assert [e.action for e in trail(username="qa", action="SIGN_FAIL")] == []  # refused before the password


def test_document_control_is_told_who_approves_not_to_ask_for_the_role(seed: Seed, trail) -> None:  # noqa: ANN001
    """Separation of duties: Document Control lacks template approval on purpose (issue 13)."""
    info = templates.import_layout(seed.db, seed.dc, sample_layout(), change_reason="CC-0")
    templates.submit(seed.db, seed.dc, info.code)
    with pytest.raises(PermissionDenied) as refused:
        templates.approve(seed.db, seed.dc, info.code, info.version, username="dc", password=PASSWORD)
    assert refused.value.code == ErrorCode.SEPARATION_OF_DUTIES
    assert "administrator" not in str(refused.value) and "QA" in str(refused.value)
    assert _refusals(trail, "dc") == ["ACCESS_DENIED"]
