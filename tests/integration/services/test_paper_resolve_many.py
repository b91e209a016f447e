"""RC-07, issue 15: QA resolves several paper findings with one reason (``paper_review.resolve_findings``): each
on its own (its own transaction and audit rows, as one finding resolved alone); a finding no longer open is
refused on its own and the others go on; no reason and no reference, or no QA role, refuses the whole batch
before anything changes. On SQLite and PostgreSQL (``seed``)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.enums import PaperFindingStatus as S
from app.forms.scan.readings import BoxState as B
from app.models import AuditEvent
from app.services.core.error_codes import ErrorCode
from app.services.core.errors import PermissionDenied, ValidationError
from app.services.scans import paper_review, paper_views
from tests.helpers.forms import effective_template, issue, sample_layout
from tests.helpers.paper import linked_scans, reading

LAYOUT = sample_layout("QC-WS-014")


@pytest.fixture
def found(seed) -> list[int]:  # noqa: ANN001
    """Three open findings of one read sheet, by id."""
    effective_template(seed)
    serial = issue(seed, copies=1).serials[0]
    scan_id = linked_scans(seed, serial)[1]
    paper_review.store_reading(seed.db, seed.op, scan_page_id=scan_id, reading=reading(LAYOUT, 1, {
        ("balance_id", "done_by"): B.BLANK, ("sample_id", "checked_by"): B.BLANK,
        (None, "signature:reviewed"): B.BLANK}))
    return [f.id for f in paper_views.open_findings(seed.db, seed.qa)]


def test_each_finding_is_resolved_on_its_own_and_one_no_longer_open_is_refused_alone(seed, found) -> None:  # noqa: ANN001
    first, second, third = found
    paper_review.resolve_finding(seed.db, seed.qa2, second, reason="resolved earlier")
    result = paper_review.resolve_findings(seed.db, seed.qa, found, reason="initials added in the review meeting",
                                           deviation_ref="DEV-2026-020")
    assert result.done == (first, third)
    [(refused, code, _text)] = result.refused
    assert (refused, code) == (second, ErrorCode.FINDING_NOT_OPEN)
    views = {f.id: f for f in paper_views.open_findings(seed.db, seed.qa, include_closed=True)}
    assert {views[i].status for i in found} == {S.RESOLVED}
    assert (views[first].resolved_by, views[first].deviation_ref) == ("qa", "DEV-2026-020")
    assert views[second].resolved_by == "qa2"  # untouched
    with seed.db.read() as session:
        changes = session.scalars(select(AuditEvent).where(AuditEvent.entity == "paper_finding",
                                                           AuditEvent.field == "status")).all()
    assert sorted(e.entity_id.rsplit("#", 1)[1] for e in changes if e.username == "qa") == sorted(
        [str(first), str(third)])  # one status change per finding, each with the reason
    assert {e.reason for e in changes if e.username == "qa"} == {
        "paper finding resolved: initials added in the review meeting"}


def test_the_whole_batch_is_refused_without_a_reason_or_without_qa(seed, found) -> None:  # noqa: ANN001
    with pytest.raises(ValidationError) as refused:
        paper_review.resolve_findings(seed.db, seed.qa, found, reason="  ", deviation_ref="")
    assert refused.value.code == ErrorCode.REASON_REQUIRED
    with pytest.raises(PermissionDenied):
        paper_review.resolve_findings(seed.db, seed.op, found, reason="looks fine")
    with pytest.raises(ValidationError) as refused:
        paper_review.resolve_findings(seed.db, seed.qa, [], reason="nothing")
    assert refused.value.code == ErrorCode.NOTHING_SELECTED
    assert paper_views.count_open(seed.db, seed.qa) == 3
