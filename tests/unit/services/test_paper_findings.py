"""RC-07 paper review by exception: the GDP rules that turn what the reader saw in each box of a page into
findings for QA (pure: no database). Each kind, and what must not be flagged."""

from __future__ import annotations

import dataclasses
import json

import pytest

from app.enums import PaperFindingKind as K
from app.forms.layout.layout import FieldDef, FieldType, SignatureBlock, TemplateLayout
from app.forms.scan.readings import BoxState as B
from app.models import Base
from app.models.checks import column_checks
from app.models.paper import BOX_STATES
from app.services.core.limits import LIMITS
from app.services.reports import wording
from app.services.scans.paper_findings import DETAIL_LIMIT, OPTIONS, PAGE, field_text, findings_for, part_text
from tests.helpers.forms import sample_layout
from tests.helpers.paper import reading

LAYOUT = sample_layout("QC-WS-014")


def found(states=None, *, layout: TemplateLayout = LAYOUT, last_page: bool = True, **kw):  # noqa: ANN001, ANN201
    return findings_for(layout, reading(layout, 1, states, **kw), last_page=last_page)


def kinds(findings) -> list[tuple[str | None, str, K]]:  # noqa: ANN001
    return [f.key for f in findings]


def test_a_well_kept_sheet_has_no_findings() -> None:
    assert found() == ()


@pytest.mark.compliance
def test_rc07_a_required_entry_left_blank_is_found_and_an_optional_one_is_not() -> None:
    [finding] = found({("balance_id", "entry"): B.BLANK, ("comments", "entry"): B.BLANK})
    assert finding.key == ("balance_id", "entry", K.REQUIRED_BLANK) and finding.page == 1
    assert '“Balance ID” is required' in finding.detail


def test_na_written_in_a_box_is_ink_not_blank() -> None:
    assert found({("sample_id", "entry"): (B.INK, "N/A")}) == ()


def test_an_entry_without_its_done_by_is_found_but_a_blank_entry_needs_no_initials() -> None:
    assert kinds(found({("balance_id", "done_by"): B.BLANK})) == [("balance_id", "done_by", K.MISSING_DONE_BY)]
    assert kinds(found({("balance_id", "entry"): B.BLANK, ("balance_id", "done_by"): B.BLANK})) == [
        ("balance_id", "entry", K.REQUIRED_BLANK)]


def test_a_critical_entry_without_checked_by_is_found_but_not_a_non_critical_one() -> None:
    assert kinds(found({("sample_id", "checked_by"): B.BLANK})) == [("sample_id", "checked_by", K.MISSING_CHECKED_BY)]
    # printout_attached has a "checked by" cell but is not critical: no second-person check is required.
    assert found({("printout_attached", "checked_by"): B.BLANK}) == ()


def test_yes_and_no_both_ticked_or_neither_ticked_is_a_choice_conflict() -> None:
    [both] = found({("balance_level_ok", "option:No"): B.CHECKED})
    assert both.key == ("balance_level_ok", OPTIONS, K.CHOICE_CONFLICT) and "(Yes, No)" in both.detail
    [neither] = found({("balance_level_ok", "option:Yes"): B.UNCHECKED})
    assert neither.key == ("balance_level_ok", OPTIONS, K.CHOICE_CONFLICT) and "no option is ticked" in neither.detail


def _choice_layout(*, required: bool, done_by: bool = False) -> TemplateLayout:
    return dataclasses.replace(LAYOUT, fields=(
        FieldDef("result", "Appearance", type=FieldType.CHOICE, choices=("Clear", "Hazy", "Cloudy"),
                 required=required, done_by=done_by),))


def test_an_optional_choice_left_empty_is_fine_and_a_ticked_one_needs_its_done_by() -> None:
    optional = _choice_layout(required=False)
    assert found({("result", "option:Clear"): B.UNCHECKED}, layout=optional) == ()
    assert kinds(found({("result", "option:Clear"): B.UNCHECKED}, layout=_choice_layout(required=True))) == [
        ("result", OPTIONS, K.CHOICE_CONFLICT)]
    initialled = _choice_layout(required=True, done_by=True)
    assert kinds(found({("result", "done_by"): B.BLANK}, layout=initialled)) == [
        ("result", "done_by", K.MISSING_DONE_BY)]


def test_an_empty_signature_block_is_found_on_the_last_page_only() -> None:
    [empty] = found({(None, "signature:checked"): B.BLANK})
    assert empty.key == (None, "signature:checked", K.SIGNATURE_EMPTY)
    assert '“Checked by (second analyst)”' in empty.detail
    assert found({(None, "signature:checked"): B.BLANK}, last_page=False) == ()


def test_two_blocks_of_one_role_are_named_by_their_own_labels() -> None:
    layout = dataclasses.replace(LAYOUT, signature_blocks=(
        SignatureBlock("performed", "Weighed by"), SignatureBlock("performed", "Dispensed by")))
    [empty] = found({(None, "signature:performed:2"): B.BLANK}, layout=layout)
    assert empty.part == "signature:performed:2" and '“Dispensed by”' in empty.detail
    assert field_text(layout, None, "signature:performed:1") == "Weighed by"


def test_an_unclear_box_is_a_finding_and_never_the_ground_for_another() -> None:
    unclear = found({("balance_id", "entry"): (B.UNCLEAR, "stroke overruns the box"),
                     ("sample_id", "checked_by"): B.UNCLEAR,
                     ("balance_level_ok", "option:Yes"): B.UNCLEAR})
    assert kinds(unclear) == [("balance_id", "entry", K.UNCLEAR_BOX), ("balance_level_ok", "option:Yes", K.UNCLEAR_BOX),
                              ("sample_id", "checked_by", K.UNCLEAR_BOX)]
    assert "stroke overruns the box" in unclear[0].detail and '“Balance ID”' in unclear[0].detail
    # An unclear entry with its "done by" empty: whether anything was done is the person's call, not a rule's.
    assert kinds(found({("balance_id", "entry"): B.UNCLEAR, ("balance_id", "done_by"): B.BLANK})) == [
        ("balance_id", "entry", K.UNCLEAR_BOX)]


def test_a_page_that_could_not_be_registered_is_one_finding_for_the_whole_page() -> None:
    [unread] = found(error="only one of the two codes could be read")
    assert unread.key == (None, PAGE, K.PAGE_UNREAD)
    assert "only one of the two codes" in unread.detail and "by eye" in unread.detail


def test_findings_of_one_page_never_share_a_key() -> None:
    states = {(b, p): B.BLANK for b, p in [("balance_id", "entry"), ("balance_id", "done_by"),
                                          ("sample_id", "checked_by"), (None, "signature:performed")]}
    result = found(states)
    assert len({f.key for f in result}) == len(result) == 3  # the blank entry needs no "done by"


def test_the_parts_in_words_and_the_stored_states_match_the_reader() -> None:
    assert [part_text(p) for p in ("entry", "done_by", "checked_by", "option:Yes", "signature:reviewed")] == [
        "entry", "done by", "checked by", "option Yes", "signature"]
    assert BOX_STATES == tuple(s.value for s in B)


def test_what_a_finding_stores_is_limited_as_the_services_limit_it() -> None:
    limits = {(c.table, c.column): c.max_length for c in column_checks(Base.metadata)}
    assert limits[("paper_finding", "resolution")] == LIMITS["reason"][1]
    assert limits[("paper_finding", "deviation_ref")] == LIMITS["reference"][1]
    assert limits[("paper_finding", "detail")] == DETAIL_LIMIT


def test_a_finding_reads_in_words_on_the_audit_trail() -> None:
    [finding] = found({("balance_id", "done_by"): B.BLANK})
    snapshot = {"id": 5, "scan_page_id": 3, "issued_form_id": 1, "serial": "000001", "page": 1,
                "field_name": finding.field, "part": finding.part, "kind": finding.kind.value, "detail": finding.detail,
                "status": "open", "opened_at": "2026-03-04T09:00:00+00:00", "opened_by": "op"}
    event = dataclasses.make_dataclass("Event", ["action", "entity", "entity_id", "field", "old_value", "new_value",
                                                 "username", "full_name"])
    created = wording.describe(event("CREATE", "paper_finding", "000001/p1#5", None, None, json.dumps(snapshot),
                                     "op", "Otto Operator"), wording.Names(forms={1: "000001"}))
    assert (created.what, created.subject) == ("Paper finding", "000001, page 1 (finding 5)")
    assert "Kind of finding: Done by missing" in created.changes
    assert not any("balance_id" in line or "done_by" in line or '":' in line for line in created.changes)
    resolved = wording.describe(event("STATE_CHANGE", "paper_finding", "000001/p1#5", "status", "open", "resolved",
                                      "qa", "Quinn Müller"), wording.Names())
    assert resolved.changes == ("Status: open → resolved",)
