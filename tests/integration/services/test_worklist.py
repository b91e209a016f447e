"""Issue 14 item 1: each role's work on Home (``app.services.reports.work``): the counts a role has, each of what
that person may do now, the rows behind each count, and the first steps of a new site."""

from __future__ import annotations

import datetime as dt

import pytest
from PIL import Image

from app.forms.scan.readings import BoxState as B
from app.models import SignatureMeaning
from app.services.admin import backup
from app.services.core.errors import AuthenticationError, NotFound, PermissionDenied
from app.services.identity import auth
from app.services.reconciliation import reconciliation
from app.services.records import records
from app.services.reports import work
from app.services.scans import intake, paper_review, paper_views, true_copy
from app.services.site import settings
from app.services.templates import templates
from tests.helpers import scanlike as sl
from tests.helpers.forms import effective_template, issue, sample_layout
from tests.helpers.governance import set_setting
from tests.helpers.paper import linked_scans, reading
from tests.helpers.records import fill, verify_critical
from tests.helpers.scans import issued_page_images, write
from tests.helpers.seed import PASSWORD, add_users, seed_site

DPI = 150


def counts(seed, name: str) -> dict[str, int]:  # noqa: ANN001
    return {item.key: item.count for item in work.worklist(seed.db, seed.actors[name]).items}


def return_sheets(seed, tmp_path, issued, *, by: str = "op", only: list[str] | None = None) -> None:  # noqa: ANN001
    """Scan the (one-page) sheets of ``issued`` back in, imported by ``by``."""
    images = issued_page_images(seed.db, issued.pdf_sha256, dpi=DPI)
    wanted = only or list(issued.serials)
    paths = [write(tmp_path / by, f"{serial}.png", sl.png_bytes(sl.scanned(image, seed=i), dpi=DPI))
             for i, (serial, image) in enumerate(zip(issued.serials, images, strict=True)) if serial in wanted]
    assert intake.import_files(seed.db, seed.actors[by], paths).linked == len(wanted)


def test_each_role_has_its_own_counts(seed) -> None:  # noqa: ANN001
    assert list(counts(seed, "dc")) == ["due_back", "scan_exceptions", "drafts", "true_copies"]
    assert list(counts(seed, "qa")) == ["scan_exceptions", "drafts", "templates_to_approve", "values_to_verify",
                                        "true_copies", "ready_to_close", "records_to_review", "paper_findings",
                                        "records_to_approve", "overdue", "open_incidents"]
    assert list(counts(seed, "op")) == ["my_forms", "to_transcribe", "values_to_verify", "true_copies"]
    assert list(counts(seed, "admin")) == ["locked_accounts"]  # never GMP data
    assert list(counts(seed, "viewer")) == ["still_out", "overdue_issuances"]  # looks on: what is out, what is late
    items = work.worklist(seed.db, seed.qa).items
    assert all(i.title and i.explanation.endswith(".") and len(i.explanation) < 80 for i in items)
    assert {(i.page, i.filter) for i in items} >= {("scans", "true-copy-for-me"), ("records", "to-review"),
                                                    ("templates", "to-approve"), ("reconcile", "ready")}


def test_qa_sees_the_true_copies_waiting_but_not_what_they_imported(seed, tmp_path) -> None:  # noqa: ANN001
    """The observed bug: QA's Home showed zeros while 7 true copies and 7 records waited."""
    effective_template(seed, "QC-WS-014")
    issued = issue(seed, "QC-WS-014", copies=7)
    return_sheets(seed, tmp_path, issued, by="op")

    assert counts(seed, "qa")["true_copies"] == 7
    assert counts(seed, "qa")["ready_to_close"] == 1  # every sheet is back
    assert counts(seed, "op") == {"my_forms": 0, "to_transcribe": 7, "values_to_verify": 0,
                                  "true_copies": 0}  # op imported them: a second person verifies
    assert counts(seed, "op2")["true_copies"] == 7 and counts(seed, "op2")["to_transcribe"] == 7
    assert counts(seed, "dc")["true_copies"] == 7
    listed = work.members(seed.db, seed.qa, page="scans", name="true-copy-for-me")
    assert listed == frozenset(issued.serials)
    assert work.members(seed.db, seed.op, page="records", name="to-transcribe") == frozenset(issued.serials)

    true_copy.verify_true_copy(seed.db, seed.qa, serial=issued.serials[0], username="qa", password=PASSWORD,
        checklist=true_copy.Checklist.confirmed())
    assert counts(seed, "qa")["true_copies"] == 6 and counts(seed, "op2")["true_copies"] == 6
    fill(seed, issued.serials[1])  # transcribed: no longer waiting for its data
    assert counts(seed, "op")["to_transcribe"] == 6


def test_records_count_what_the_person_may_verify_review_and_approve(seed, tmp_path) -> None:  # noqa: ANN001
    effective_template(seed, "QC-WS-014")
    issued = issue(seed, "QC-WS-014", copies=2)  # to "Otto Operator": op's forms
    first, second = issued.serials
    assert counts(seed, "op")["my_forms"] == 2 and counts(seed, "op2")["my_forms"] == 0
    assert work.members(seed.db, seed.op, page="records", name="mine") == {first, second}

    fill(seed, first, who="op")  # complete, its critical values not verified yet
    assert counts(seed, "op")["values_to_verify"] == 0  # never one's own values
    assert counts(seed, "op2")["values_to_verify"] == 1 and counts(seed, "qa")["values_to_verify"] == 1
    verify_critical(seed, first, who="op2")
    fill(seed, second, who="op")
    verify_critical(seed, second, who="qa")  # qa took part in the second record: may not review it
    assert counts(seed, "op2")["values_to_verify"] == 0
    assert counts(seed, "qa")["records_to_review"] == 1 and counts(seed, "qa2")["records_to_review"] == 2
    assert work.members(seed.db, seed.qa, page="records", name="to-review") == {first}

    records.sign_record(seed.db, seed.qa, serial=first, meaning=SignatureMeaning.REVIEWED, username="qa",
                        password=PASSWORD)
    assert counts(seed, "qa2")["records_to_approve"] == 0  # the issuance is not reconciled yet
    return_sheets(seed, tmp_path, issued, by="dc", only=[first])
    reconciliation.void_form(seed.db, seed.dc, serial=second, reason="spoiled: coffee")
    reconciliation.close(seed.db, seed.qa2, issued.issuance_id, username="qa2", password=PASSWORD)
    assert counts(seed, "qa")["records_to_approve"] == 0  # the reviewer never approves the same record
    # The sheet came back blank on paper: approval waits until QA has resolved what the scan shows (RC-07).
    found = [f.id for f in paper_views.open_findings(seed.db, seed.qa)]
    assert found and counts(seed, "qa2")["records_to_approve"] == 0
    paper_review.resolve_findings(seed.db, seed.qa, found, reason="values taken from the balance printout")
    assert counts(seed, "qa2")["records_to_approve"] == 1
    assert work.members(seed.db, seed.qa2, page="records", name="to-approve") == {first}
    assert counts(seed, "op")["my_forms"] == 0  # the issuance is closed


def test_qa_counts_the_open_paper_findings_they_resolve(seed) -> None:  # noqa: ANN001
    """Issue 15: QA's "Paper findings to resolve" counts the open findings (any QA resolves any of them), lists
    them for the Scans page's findings tab, and goes down as they are resolved; nobody else has the count."""
    effective_template(seed, "QC-WS-014")
    serial = issue(seed, "QC-WS-014", copies=1).serials[0]
    scan_id = linked_scans(seed, serial)[1]
    layout = sample_layout("QC-WS-014")
    paper_review.store_reading(seed.db, seed.op, scan_page_id=scan_id, reading=reading(layout, 1, {
        ("balance_id", "done_by"): B.BLANK, ("sample_id", "checked_by"): B.BLANK}))
    found = sorted(f.id for f in paper_views.open_findings(seed.db, seed.qa))
    assert len(found) == 2
    assert counts(seed, "qa")["paper_findings"] == 2 and counts(seed, "qa2")["paper_findings"] == 2
    assert all("paper_findings" not in counts(seed, who) for who in ("op", "dc", "viewer", "admin"))
    assert work.members(seed.db, seed.qa, page="scans", name="paper-findings") == {str(i) for i in found}
    with pytest.raises(PermissionDenied):
        work.members(seed.db, seed.dc, page="scans", name="paper-findings")

    paper_review.resolve_finding(seed.db, seed.qa2, found[0], deviation_ref="DEV-2026-014")
    assert counts(seed, "qa")["paper_findings"] == 1
    paper_review.store_reading(seed.db, seed.op, scan_page_id=scan_id, reading=reading(layout, 1))  # read again: fine
    assert counts(seed, "qa")["paper_findings"] == 0  # the other was superseded, not left for QA


def test_my_forms_match_the_issued_to_text(seed) -> None:  # noqa: ANN001
    effective_template(seed, "QC-WS-014")
    issue(seed, "QC-WS-014", copies=1, issued_to="otto operator")
    issue(seed, "QC-WS-014", copies=2, issued_to="Otto Operator (op)")  # as the Issue page stores a user
    issue(seed, "QC-WS-014", copies=3, issued_to="Line 3")  # an area: nobody's own
    issue(seed, "QC-WS-014", copies=1, issued_to="Otto")  # a name spelled otherwise is not matched
    assert counts(seed, "op")["my_forms"] == 3 and counts(seed, "op2")["my_forms"] == 0


def test_templates_to_approve_are_not_ones_own(seed) -> None:  # noqa: ANN001
    info = templates.import_layout(seed.db, seed.dc, sample_layout("QC-WS-014"), change_reason="CC-1")
    assert counts(seed, "dc")["drafts"] == 1 and counts(seed, "qa")["drafts"] == 0
    assert work.members(seed.db, seed.dc, page="templates", name="drafts") == {info.code}
    templates.submit(seed.db, seed.dc, info.code)
    assert counts(seed, "dc")["drafts"] == 0 and counts(seed, "qa")["templates_to_approve"] == 1
    own = templates.import_layout(seed.db, seed.qa, sample_layout("QC-CAL-021"), change_reason="CC-2")
    templates.submit(seed.db, seed.qa, own.code)
    assert counts(seed, "qa")["templates_to_approve"] == 1  # qa authored QC-CAL-021: another QA approves it
    assert work.members(seed.db, seed.qa2, page="templates", name="to-approve") == {info.code, own.code}
    templates.approve(seed.db, seed.qa2, own.code, own.version, username="qa2", password=PASSWORD)
    assert counts(seed, "qa")["templates_to_approve"] == 1  # QC-WS-014, still in review
    assert counts(seed, "qa2")["templates_to_approve"] == 1


def test_due_back_overdue_and_exceptions(seed, clock, tmp_path) -> None:  # noqa: ANN001
    effective_template(seed, "QC-WS-014")
    today = clock.now().astimezone().date()
    soon = issue(seed, "QC-WS-014", copies=2, due=today + dt.timedelta(days=2))
    issue(seed, "QC-WS-014", copies=2, due=today + dt.timedelta(days=10))
    assert counts(seed, "dc")["due_back"] == 1  # within the 3 days of issuance.due_soon_days
    settings.change(seed.db, seed.admin, key="issuance.due_soon_days", value=10, reason="CC-3: chase earlier")
    assert counts(seed, "dc")["due_back"] == 2
    assert counts(seed, "qa")["overdue"] == 0
    clock.advance(days=5)
    assert counts(seed, "qa")["overdue"] == 1 and counts(seed, "viewer")["overdue_issuances"] == 1
    assert counts(seed, "viewer")["still_out"] == 4
    for serial in soon.serials:
        reconciliation.void_form(seed.db, seed.dc, serial=serial, reason="batch cancelled")
    assert counts(seed, "qa")["overdue"] == 0 and counts(seed, "dc")["due_back"] == 1

    blank = write(tmp_path, "blank.png", sl.png_bytes(Image.new("L", (1240, 1754), 255), dpi=DPI))
    intake.import_files(seed.db, seed.op, [blank])
    assert counts(seed, "dc")["scan_exceptions"] == 1 and counts(seed, "qa")["scan_exceptions"] == 1


def test_administrators_see_locked_accounts_and_the_last_backup(seed, tmp_path) -> None:  # noqa: ANN001
    board = work.worklist(seed.db, seed.admin)
    assert board.may_back_up and board.last_backup is None and board.backup_folder == ""
    assert not work.worklist(seed.db, seed.qa).may_back_up
    set_setting(seed, "login.max_failures", 2, reason="CC-4")  # approved by QA (SE-02)
    for _ in range(2):
        with pytest.raises(AuthenticationError):
            auth.authenticate(seed.db, username="op", password="wrong")
    assert counts(seed, "admin") == {"locked_accounts": 1}
    assert work.members(seed.db, seed.admin, page="users", name="locked") == {"op"}

    settings.change(seed.db, seed.admin, key="backup.folder", value=str(tmp_path / "backups"), reason="CC-5")
    dest = work.backup_destination(seed.db, tmp_path / "backups")
    assert dest.parent == tmp_path / "backups" and not dest.exists()
    backup.backup(seed.db, seed.admin, dest)
    board = work.worklist(seed.db, seed.admin)
    assert board.backup_folder == str(tmp_path / "backups")
    assert board.last_backup is not None and board.last_backup[0] == "BACKUP" and board.last_backup[2] == str(dest)


def test_a_list_is_read_only_by_those_whose_roles_have_it(seed) -> None:  # noqa: ANN001
    with pytest.raises(PermissionDenied):
        work.members(seed.db, seed.op, page="templates", name="to-approve")
    with pytest.raises(NotFound):
        work.members(seed.db, seed.qa, page="records", name="everything")
    assert work.page_filters(seed.op, "records") == (
        ("mine", "Issued to me, still out"), ("to-transcribe", "To transcribe (returned)"),
        ("to-verify", "Values for me to verify"))
    assert [name for name, _text in work.page_filters(seed.qa, "records")] == ["to-verify", "to-review", "to-approve"]
    assert work.page_filters(seed.viewer, "records") == ()


def test_first_steps_flip_as_the_data_appears(db) -> None:  # noqa: ANN001
    seed = seed_site(db, names=("admin",))

    def done(name: str = "admin") -> dict[str, bool]:
        return {step.key: step.done for step in work.first_steps(db, seed.actors[name]).steps}

    steps = work.first_steps(db, seed.admin)
    assert [s.key for s in steps.steps] == ["users", "template", "approve", "issue"] and not steps.all_done
    assert [s.may_do for s in steps.steps] == [True, False, False, False]
    assert done() == {"users": False, "template": False, "approve": False, "issue": False}
    seed.actors.update(add_users(db, seed.admin, ("dc", "qa")))
    assert done() == {"users": True, "template": False, "approve": False, "issue": False}
    assert [s.may_do for s in work.first_steps(db, seed.dc).steps] == [False, True, False, True]
    info = templates.import_layout(db, seed.dc, sample_layout("QC-WS-014"), change_reason="CC-1")
    assert done("dc") == {"users": True, "template": True, "approve": False, "issue": False}
    templates.submit(db, seed.dc, info.code)
    templates.approve(db, seed.qa, info.code, info.version, username="qa", password=PASSWORD)
    assert done("qa") == {"users": True, "template": True, "approve": True, "issue": False}
    issue(seed, "QC-WS-014", copies=1)
    assert work.first_steps(db, seed.admin).all_done
