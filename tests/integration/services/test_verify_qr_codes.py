"""`verify` checks the QR side: a page that linked itself by its code must carry a code whose tag verifies under
the key of its form's issuance and that names that form and page; every issuance's key version must be in the
key file. A real page is printed, scanned (as an image) and imported first."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.forms.layout import payload as qr_payload
from app.models import IssuedForm, ScanOutcome, ScanPage
from app.services.integrity import integrity
from app.services.scans import intake
from tests.helpers import scanlike as sl
from tests.helpers.forms import effective_template, issue
from tests.helpers.insider import findings, raw
from tests.helpers.scans import issued_page_images, write

DPI = 150


@pytest.fixture
def linked(seed, tmp_path):  # noqa: ANN001, ANN201
    effective_template(seed, "QC-WS-014")
    result = issue(seed, "QC-WS-014", copies=2)
    first_page = issued_page_images(seed.db, result.pdf_sha256, dpi=DPI)[0]
    path = write(tmp_path, "returned.png", sl.png_bytes(sl.scanned(first_page, seed=3), dpi=DPI))
    [line] = intake.import_files(seed.db, seed.op, [path]).outcomes
    assert line.outcome == ScanOutcome.LINKED.value, line
    with seed.db.read() as session:
        page_id = session.scalar(select(ScanPage.id).where(ScanPage.outcome == ScanOutcome.LINKED))
        other = session.scalar(select(IssuedForm.id).where(IssuedForm.serial == result.serials[1]))
    return seed, result, page_id, other


def test_an_intact_site_checks_every_linking_code(linked):
    seed, _result, _page, _other = linked
    report = integrity.verify_everything(seed.db, seed.qa)
    assert report.ok, report.findings
    assert report.codes_checked == 1


def test_a_page_moved_to_another_form_with_sql_is_named_by_its_code(linked):
    seed, result, page_id, other = linked
    raw(seed.db, f"UPDATE scan_page SET issued_form_id = {other} WHERE id = {page_id}")
    [finding] = findings(seed.db, seed.qa, "qr")
    assert finding.subject.startswith(f"scan page {page_id} (returned.png page 1)")
    assert f"names BSL-01 serial {result.serials[0]} page 1" in finding.detail
    assert f"linked to serial {result.serials[1]} page 1" in finding.detail


def test_a_code_minted_without_the_key_is_named(linked):
    """The insider writes the code text a scan of the other form would have given, tagged with a guessed key."""
    seed, result, page_id, other = linked
    with seed.db.read() as session:
        text = session.scalar(select(ScanPage.decoded_text).where(ScanPage.id == page_id))
    code, _tag = qr_payload.parse(text)
    minted = qr_payload.Payload(site=code.site, serial=result.serials[1], page=1, pages=code.pages,
                                template=code.template, version=code.version).encode(b"guessed-key" * 3)
    raw(seed.db, "UPDATE scan_page SET issued_form_id = :f, decoded_text = :t WHERE id = :p",
        f=other, t=minted, p=page_id)
    [finding] = findings(seed.db, seed.qa, "qr")
    assert f"serial {result.serials[1]} page 1 by a code whose tag does not verify" in finding.detail


def test_an_issuance_whose_key_version_is_not_in_the_key_file_is_named(linked):
    seed, _result, _page, _other = linked
    raw(seed.db, "UPDATE issuance SET key_version = 9")
    qr = findings(seed.db, seed.qa, "qr")
    assert [f.subject for f in qr] == ["issuance 1"]
    assert "key version 9, which the key file does not hold" in qr[0].detail
