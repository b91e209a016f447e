"""Invariant 1 and BF-02..BF-04: serials unique, sequential and gap-free; whole-or-nothing issuance; no reprints."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pypdfium2
import pytest
from sqlalchemy import func, select

from app.models import ControlledPdf, FormState, Issuance, IssuedForm, StoredFile
from app.services.core import audit_chain
from app.services.core.error_codes import ErrorCode
from app.services.core.errors import DomainError, PermissionDenied, ValidationError
from app.services.identity import users
from app.services.issuance import issuance, issued_to, printing, register, replacement
from app.services.reports import audit_log
from app.services.site import settings
from tests.helpers.forms import effective_template, issue
from tests.helpers.seed import PASSWORD

ROOT = Path(__file__).resolve().parents[3]


def serial_numbers(db) -> list[int]:
    with db.read() as s:
        return sorted(s.scalars(select(IssuedForm.serial_no)))


def test_bf02_issue_five_gives_five_sequential_serials_and_a_register_entry(seed):
    effective_template(seed)
    result = issue(seed, copies=5)
    assert result.serials == ("000001", "000002", "000003", "000004", "000005")
    again = issue(seed, copies=2)
    assert again.serials == ("000006", "000007")
    rows = register.fetch_forms(seed.db, seed.viewer, register.RegisterFilter(issuance_id=result.issuance_id),
                                sort="serial", descending=False)
    assert [r.serial for r in rows] == list(result.serials)
    first = rows[0]
    assert (first.issued_to, first.issued_by, first.purpose, first.copy_no, first.copies) == (
        "Otto Operator", "dc", "Batch 24-0117 dispensing", 1, 5)
    assert first.issued_at.tzinfo is not None and first.state is FormState.ISSUED
    creates = audit_log.fetch_events(seed.db, seed.admin, audit_log.AuditFilter(entity="issued_form"), limit=100)
    assert len([e for e in creates if e.action == "CREATE"]) == 7


def test_pdf_is_stored_content_addressed_and_verified(seed):
    effective_template(seed)
    result = issue(seed, copies=3)
    with seed.db.read() as s:
        stored = s.get(StoredFile, result.pdf_sha256)
    assert stored.kind == "issued-pdf" and stored.size > 0
    path = seed.db.files.verified_path(result.pdf_sha256)
    assert len(pypdfium2.PdfDocument(str(path))) == 3


def test_bf01_only_effective_versions_issue(seed):
    from app.services.templates import templates
    from tests.helpers.forms import sample_layout
    templates.import_layout(seed.db, seed.dc, sample_layout(), change_reason="CC-1")
    with pytest.raises(DomainError, match="no effective version"):
        issue(seed)


def test_administrator_cannot_issue(seed):
    effective_template(seed)
    with pytest.raises(PermissionDenied):
        issuance.issue_forms(seed.db, seed.admin, code="QC-WS-014", copies=1, purpose="x", reference=None,
                             issued_to="y", due=dt.date(2099, 1, 1))


@pytest.mark.parametrize("kwargs, message", [
    (dict(copies=0), "between 1"), (dict(purpose=" "), "purpose"), (dict(issued_to=""), "to whom"),
    (dict(due=dt.date(2000, 1, 1)), "in the past"),
])
def test_issue_validation(seed, kwargs, message):
    effective_template(seed)
    with pytest.raises(ValidationError, match=message):
        issue(seed, **kwargs)
    assert serial_numbers(seed.db) == []


def test_bf04_no_reprint(seed, tmp_path):
    effective_template(seed)
    result = issue(seed, copies=2)
    printing.release_to_printer(seed.db, seed.dc, result.pdf_id, printer="QC-Laser-2")
    with pytest.raises(DomainError, match="never printed twice"):
        printing.release_to_printer(seed.db, seed.dc, result.pdf_id, printer="QC-Laser-2")
    with pytest.raises(DomainError, match="never printed twice"):
        printing.save_to_file(seed.db, seed.dc, result.pdf_id, out=tmp_path / "again.pdf")
    [event] = audit_log.fetch_events(seed.db, seed.admin, audit_log.AuditFilter(action="PRINT"))
    assert '"printer":"QC-Laser-2"' in event.new_value and '"pages":2' in event.new_value


def test_bf04_replacement_needs_reason_and_qa_signature_and_links_serials(seed, tmp_path):
    effective_template(seed)
    result = issue(seed, copies=3)
    with pytest.raises(ValidationError, match="justification"):
        replacement.replace_form(seed.db, seed.qa, serial="000002", reason=" ", username="qa", password=PASSWORD)
    with pytest.raises(PermissionDenied):
        replacement.replace_form(seed.db, seed.dc, serial="000002", reason="torn", username="dc", password=PASSWORD)
    done = replacement.replace_form(seed.db, seed.qa, serial="BSL-01-000002", reason="coffee spilled on page 1",
                                    username="qa", password=PASSWORD)
    assert (done.old_serial, done.new_serial) == ("000002", "000004")
    rows = {r.serial: r for r in register.fetch_forms(seed.db, seed.qa, register.RegisterFilter(
        issuance_id=result.issuance_id))}
    assert rows["000002"].state is FormState.REPLACED and rows["000004"].replaces == "000002"
    assert rows["000004"].copy_no == 2
    with pytest.raises(DomainError, match="only a copy still out"):
        replacement.replace_form(seed.db, seed.qa, serial="000002", reason="again", username="qa", password=PASSWORD)
    out = printing.save_to_file(seed.db, seed.qa, done.pdf_id, out=tmp_path / "replacement.pdf")  # QA releases it
    text = pypdfium2.PdfDocument(str(out.path))[0].get_textpage().get_text_range()
    assert "000004" in text
    sigs = audit_log.fetch_events(seed.db, seed.admin, audit_log.AuditFilter(action="SIGN"))
    assert any("replace:000002" in (e.new_value or "") for e in sigs)


def test_reference_print_is_audited(seed, tmp_path):
    effective_template(seed)
    out = printing.print_reference(seed.db, seed.viewer, "QC-WS-014", out=tmp_path / "ref.pdf")
    text = pypdfium2.PdfDocument(str(out))[0].get_textpage().get_text_range()
    assert "UNCONTROLLED" in text
    assert audit_log.count_events(seed.db, seed.admin, audit_log.AuditFilter(action="PRINT")) == 1


def test_duplicate_serial_rejected_by_unique_constraint(seed):
    from sqlalchemy.exc import IntegrityError
    effective_template(seed)
    issue(seed, copies=1)
    with pytest.raises(IntegrityError):
        with seed.db.write(seed.dc) as s:
            form = s.scalars(select(IssuedForm)).one()
            s.add(IssuedForm(issuance_id=form.issuance_id, site_id=form.site_id, serial_no=form.serial_no,
                             serial=form.serial, copy_no=2, pages=1, state=FormState.ISSUED, pdf_id=form.pdf_id))


def _worker(db_url: str, home: Path, copies: int, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.helpers.issue_worker", db_url, str(home), "QC-WS-014", str(copies), *extra],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


@pytest.mark.slow
def test_inv1_four_processes_issuing_at_once_give_unique_gap_free_serials(seed, db_url, runtime_config):
    effective_template(seed)
    workers = [_worker(db_url, runtime_config.home, 250) for _ in range(4)]
    results = []
    for w in workers:
        out, err = w.communicate(timeout=300)
        assert w.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    serials = [s for r in results for s in r["serials"]]
    assert len(serials) == len(set(serials)) == 1000
    assert serial_numbers(seed.db) == list(range(1, 1001))
    for r in results:  # each issuance got a contiguous block
        numbers = [int(s) for s in r["serials"]]
        assert numbers == list(range(numbers[0], numbers[0] + 250))
    assert audit_chain.verify_chain(seed.db).ok


@pytest.mark.slow
def test_inv1_killed_mid_issue_leaves_nothing_and_no_gap(seed, db_url, runtime_config):
    effective_template(seed)
    issue(seed, copies=3)
    with seed.db.read() as s:
        counts_before = [s.scalar(select(func.count()).select_from(t)) for t in (Issuance, IssuedForm, ControlledPdf)]
    worker = _worker(db_url, runtime_config.home, 5000, "--progress")
    for line in worker.stdout:
        if line.startswith("progress") and int(line.split()[1]) >= 200:
            break
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=30)
    assert worker.returncode == -signal.SIGKILL
    with seed.db.read() as s:
        counts_after = [s.scalar(select(func.count()).select_from(t)) for t in (Issuance, IssuedForm, ControlledPdf)]
    assert counts_after == counts_before
    after = issue(seed, copies=2)
    assert after.serials == ("000004", "000005")
    assert audit_chain.verify_chain(seed.db).ok


def test_find_form_takes_a_serial_as_typed_or_printed(seed):
    """Issue 13: the replace dialog's look-up is a service query (it was a register search written in the UI)."""
    effective_template(seed)
    issued = issue(seed, copies=3, purpose="Batch 000002 cleaning")  # the serial's digits inside a purpose too
    second = issued.serials[1]
    for typed in (second, str(int(second)), f"  {int(second)} ", f"BSL-01-{second}"):
        row = register.find_form(seed.db, seed.qa, typed)
        assert row is not None and row.serial == second, typed
    assert register.find_form(seed.db, seed.qa, "999999") is None
    assert register.find_form(seed.db, seed.qa, "not a serial") is None


# -- "Issued to": free text, a user, or an area/equipment of the site's list (issue 14, item 5) -------------------

def _issued_to(seed, mode: str, entries: list[str] | None = None) -> None:
    if entries is not None:
        settings.change(seed.db, seed.admin, key=issued_to.LIST_KEY, value=entries, reason="CC-14 areas")
    settings.change(seed.db, seed.admin, key=issued_to.MODE_KEY, value=mode, reason="CC-14 issued to")


PEOPLE = ("Dora Control (dc)", "Olga Operator (op2)", "Otto Operator (op)", "Quentin Øster (qa2)",
          "Quinn Müller (qa)", "Vera Viewer (viewer)")  # by full name; the administrator-only account is not offered


def test_issued_to_is_free_text_by_default_with_the_sites_list_as_suggestions(seed):
    offered = issued_to.issued_to_choices(seed.db, seed.dc)
    assert (offered.mode, offered.texts, offered.may_type_free_text) == ("free", (), True)
    _issued_to(seed, "free", ["QC lab 2", "Line 3"])
    offered = issued_to.issued_to_choices(seed.db, seed.dc)
    assert (offered.texts, offered.may_type_free_text) == (("QC lab 2", "Line 3"), True)
    effective_template(seed)
    assert issue(seed, copies=1, issued_to="Otto at the bench").serials == ("000001",)  # anything typed
    before = len(audit_log.fetch_events(seed.db, seed.admin, audit_log.AuditFilter(entity="setting"), limit=1000))
    _issued_to(seed, "free", [])  # the site's list may be emptied again (it starts empty); the mode stays
    changed = audit_log.fetch_events(seed.db, seed.admin, audit_log.AuditFilter(entity="setting"), limit=1000)
    assert [e.entity_id for e in changed[before:]] == [issued_to.LIST_KEY]  # "free" again wrote nothing
    assert issued_to.issued_to_choices(seed.db, seed.dc).texts == ()
    with pytest.raises(ValidationError, match="at least one entry"):  # a list that starts full may not
        settings.change(seed.db, seed.admin, key="records.correction_reasons", value=[], reason="CC-14")


@pytest.mark.parametrize("mode, expected", [
    ("users", PEOPLE),
    ("list", ("QC lab 2", "Line 3")),
    ("users+list", (*PEOPLE, "QC lab 2", "Line 3")),
])
def test_issued_to_choices_per_mode(seed, mode, expected):
    users.deactivate(seed.db, seed.admin, username="op2", reason="left the company")
    _issued_to(seed, mode, ["QC lab 2", "Line 3"])
    offered = issued_to.issued_to_choices(seed.db, seed.dc)
    assert offered.mode == mode and not offered.may_type_free_text
    assert offered.texts == tuple(t for t in expected if "(op2)" not in t)  # a deactivated user is not offered
    assert "does not accept other names" in offered.hint


@pytest.mark.parametrize("mode", ["users", "list", "users+list"])
def test_issuing_to_a_name_not_offered_is_refused_when_free_text_is_not_allowed(seed, mode):
    effective_template(seed)
    _issued_to(seed, mode, ["QC lab 2"])
    with pytest.raises(ValidationError) as refused:
        issue(seed, issued_to="Somebody Else")
    assert refused.value.code == ErrorCode.ISSUED_TO_NOT_LISTED
    assert serial_numbers(seed.db) == []


@pytest.mark.parametrize("mode, typed, stored", [
    ("users", "Otto Operator (op)", "Otto Operator (op)"),
    ("users", "op", "Otto Operator (op)"),  # a user name, as typed on the command line
    ("list", "QC lab 2", "QC lab 2"),
    ("users+list", "qc LAB 2", "QC lab 2"),  # spelled as the list has it
])
def test_issuing_to_an_offered_choice_is_accepted_and_printed_as_offered(seed, mode, typed, stored):
    effective_template(seed)
    _issued_to(seed, mode, ["QC lab 2"])
    result = issue(seed, copies=1, issued_to=typed)
    [row] = register.fetch_forms(seed.db, seed.viewer, register.RegisterFilter(issuance_id=result.issuance_id))
    assert row.issued_to == stored
    text = pypdfium2.PdfDocument(str(seed.db.files.verified_path(result.pdf_sha256)))[0].get_textpage()
    assert stored in text.get_text_range()


def test_a_list_mode_with_an_empty_list_says_what_to_do(seed):
    _issued_to(seed, "list")
    offered = issued_to.issued_to_choices(seed.db, seed.dc)
    assert offered.texts == () and not offered.may_type_free_text and "issuance.issued_to_list" in offered.hint


def test_only_a_known_mode_can_be_set_and_only_issuers_read_the_choices(seed):
    with pytest.raises(ValidationError, match="not one of"):
        settings.change(seed.db, seed.admin, key=issued_to.MODE_KEY, value="everyone", reason="typo")
    with pytest.raises(PermissionDenied):
        issued_to.issued_to_choices(seed.db, seed.viewer)
