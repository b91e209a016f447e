"""BF-01: template lifecycle, approval by QA e-signature, only effective versions issue."""

from __future__ import annotations

import dataclasses

import pytest

from app.models import TemplateStatus
from app.services.core.error_codes import ErrorCode
from app.services.core.errors import AuthenticationError, DomainError, PermissionDenied, RuleViolation, ValidationError
from app.services.identity import signatures
from app.services.reports import audit_log
from app.services.templates import templates
from tests.helpers.forms import effective_template, sample_layout, sample_path
from tests.helpers.seed import PASSWORD


def test_import_submit_approve(seed):
    info = templates.import_file(seed.db, seed.dc, sample_path("QC-WS-014"), change_reason="CC-2026-001")
    assert (info.version, info.status, info.author_username) == (1, TemplateStatus.DRAFT, "dc")
    templates.submit(seed.db, seed.dc, "QC-WS-014")
    approved = templates.approve(seed.db, seed.qa, "QC-WS-014", 1, username="qa", password=PASSWORD)
    assert approved.status is TemplateStatus.EFFECTIVE and approved.approved_by == "qa"
    [sig] = approved.signatures
    assert sig.meaning.value == "approved" and sig.signer_username == "qa"
    assert signatures.status(sig, {"template": "QC-WS-014", "version": 1, "title": approved.title,
                                   "layout_sha256": approved.layout_sha256}) is signatures.SignatureStatus.VALID
    listed = {t.code: t for t in templates.list_templates(seed.db, seed.viewer)}
    assert listed["QC-WS-014"].effective_version == 1


def test_new_version_needs_a_reason(seed):
    with pytest.raises(ValidationError, match="change-control"):
        templates.import_layout(seed.db, seed.dc, dataclasses.replace(sample_layout(), change_reason=None))


def test_author_cannot_approve_and_refusal_is_logged(seed):
    info = templates.import_layout(seed.db, seed.qa, sample_layout(), change_reason="CC-1")
    templates.submit(seed.db, seed.qa, info.code)
    with pytest.raises(RuleViolation) as refused:
        templates.approve(seed.db, seed.qa, info.code, 1, username="qa", password=PASSWORD)
    assert refused.value.code == ErrorCode.SEPARATION_OF_DUTIES
    assert audit_log.count_events(seed.db, seed.admin, audit_log.AuditFilter(action="RULE_REFUSED")) == 1
    templates.approve(seed.db, seed.qa2, info.code, 1, username="qa2", password=PASSWORD)


def test_only_qa_approves_and_wrong_password_refused(seed):
    templates.import_layout(seed.db, seed.dc, sample_layout(), change_reason="CC-1")
    templates.submit(seed.db, seed.dc, "QC-WS-014")
    with pytest.raises(PermissionDenied):
        templates.approve(seed.db, seed.dc, "QC-WS-014", 1, username="dc", password=PASSWORD)
    with pytest.raises(AuthenticationError):
        templates.approve(seed.db, seed.qa, "QC-WS-014", 1, username="qa", password="wrong")
    assert templates.get_version(seed.db, seed.qa, "QC-WS-014", 1).status is TemplateStatus.IN_REVIEW


def test_bf01_approving_v2_supersedes_v1_and_editing_creates_a_draft(seed):
    effective_template(seed)
    draft = templates.new_version(seed.db, seed.dc, "QC-WS-014", change_reason="CC-2026-020 add field")
    assert (draft.version, draft.status) == (2, TemplateStatus.DRAFT)
    assert templates.get_version(seed.db, seed.dc, "QC-WS-014", 1).status is TemplateStatus.EFFECTIVE
    changed = dataclasses.replace(draft.layout, title="Balance weighing worksheet (rev. B)", department="QC Lab 2")
    templates.save_draft(seed.db, seed.dc, "QC-WS-014", 2, changed)
    templates.submit(seed.db, seed.dc, "QC-WS-014")
    templates.approve(seed.db, seed.qa, "QC-WS-014", 2, username="qa", password=PASSWORD)
    assert templates.get_version(seed.db, seed.dc, "QC-WS-014", 1).status is TemplateStatus.SUPERSEDED
    assert templates.get_version(seed.db, seed.dc, "QC-WS-014", 2).status is TemplateStatus.EFFECTIVE
    with seed.db.read() as s:
        assert templates.effective_version(s, "QC-WS-014").version == 2
    [listed] = templates.list_templates(seed.db, seed.viewer)
    assert (listed.title, listed.department) == ("Balance weighing worksheet (rev. B)", "QC Lab 2")


def test_invalid_transitions_are_refused(seed):
    effective_template(seed)
    with pytest.raises(DomainError, match="only drafts"):
        templates.save_draft(seed.db, seed.dc, "QC-WS-014", 1, sample_layout())
    with pytest.raises(DomainError, match="only a draft"):
        templates.submit(seed.db, seed.dc, "QC-WS-014")
    templates.retire(seed.db, seed.qa, "QC-WS-014", 1, reason="replaced by electronic form")
    with seed.db.read() as s, pytest.raises(DomainError, match="no effective version"):
        templates.effective_version(s, "QC-WS-014")


def test_only_the_author_edits_a_draft(seed):
    templates.import_layout(seed.db, seed.dc, sample_layout(), change_reason="CC-1")
    with pytest.raises(PermissionDenied, match="only the author"):
        templates.save_draft(seed.db, seed.qa, "QC-WS-014", 1, sample_layout())


def test_export_round_trips(seed, tmp_path):
    effective_template(seed)
    out = templates.export_version(seed.db, seed.dc, "QC-WS-014", 1, tmp_path / "x.yaml")
    from app.forms.layout.layout import load_layout
    assert load_layout(out) == sample_layout()


def test_bad_file_gives_a_clear_error(seed, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("code: QC-1\ntitle: T\nfields: [{name: 'Bad Name', label: x}]\n")
    with pytest.raises(ValidationError, match="bad.yaml"):
        templates.import_file(seed.db, seed.dc, bad)


@pytest.mark.compliance
def test_bf01_a_template_authored_in_the_app_starts_as_a_draft_version_1(seed):
    info = templates.new_template(seed.db, seed.dc, code=" qc-ws-021 ", title="pH meter calibration",
                                  department="Quality Control", reason="CC-2026-031: new worksheet")
    assert (info.code, info.version, info.status, info.author_username) == ("QC-WS-021", 1, TemplateStatus.DRAFT, "dc")
    assert info.change_reason == "CC-2026-031: new worksheet" and info.may_edit and info.may_submit
    assert (info.layout.title, info.layout.department, len(info.layout.fields)) == (
        "pH meter calibration", "Quality Control", 1)
    assert info.layout == templates.starter_layout("QC-WS-021", "pH meter calibration", "Quality Control")
    created = audit_log.fetch_events(seed.db, seed.admin, audit_log.AuditFilter(entity="template_version",
                                                                                action="CREATE"))
    assert [(e.entity_id, e.username, e.reason) for e in created] == [
        ("QC-WS-021@1", "dc", "CC-2026-031: new worksheet")]
    # The author completes it like any draft; QA approves it; it can be issued.
    changed = dataclasses.replace(info.layout, fields=sample_layout().fields, pages=1)
    templates.save_draft(seed.db, seed.dc, "QC-WS-021", 1, changed)
    templates.submit(seed.db, seed.dc, "QC-WS-021")
    approved = templates.approve(seed.db, seed.qa, "QC-WS-021", 1, username="qa", password=PASSWORD)
    assert approved.status is TemplateStatus.EFFECTIVE and approved.layout.fields == sample_layout().fields


@pytest.mark.parametrize("code, error", [
    ("QC-WS-014", ErrorCode.TEMPLATE_EXISTS),  # imported below: a changed form is a new version, not a template
    ("qc-ws-014", ErrorCode.TEMPLATE_EXISTS),
    ("QC WS 1", ErrorCode.TEMPLATE_CODE_INVALID),
    ("-QC", ErrorCode.TEMPLATE_CODE_INVALID),
    ("Q" * 33, ErrorCode.TEMPLATE_CODE_INVALID),
    ("", ErrorCode.TEMPLATE_CODE_INVALID),
])
def test_new_template_refuses_a_taken_or_bad_code(seed, code, error):
    effective_template(seed)
    templates.retire(seed.db, seed.qa, "QC-WS-014", 1, reason="CC-9: replaced")  # retired codes stay taken
    with pytest.raises((DomainError, ValidationError)) as refused:
        templates.new_template(seed.db, seed.dc, code=code, title="Another", department="QC", reason="CC-2")
    assert refused.value.code == error
    assert [t.code for t in templates.list_templates(seed.db, seed.dc)] == ["QC-WS-014"]
    assert templates.version_count(seed.db) == 1


def test_new_template_needs_a_reason_a_title_and_the_right_to_author(seed):
    for kwargs in (dict(reason=" "), dict(title=""), dict(department=" ")):
        values = dict(code="QC-WS-030", title="T", department="QC", reason="CC-3") | kwargs
        with pytest.raises(ValidationError) as refused:
            templates.new_template(seed.db, seed.dc, **values)
        assert refused.value.code == ErrorCode.INVALID_INPUT, kwargs
    with pytest.raises(PermissionDenied):
        templates.new_template(seed.db, seed.viewer, code="QC-WS-030", title="T", department="QC", reason="CC-3")
    assert [e.username for e in audit_log.fetch_events(
        seed.db, seed.admin, audit_log.AuditFilter(action="ACCESS_DENIED"))] == ["viewer"]
    assert templates.list_templates(seed.db, seed.dc) == []
