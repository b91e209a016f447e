"""Identity on paper (issue 14, item 5): the site is printed once, "Basel QC laboratory (BSL-01)", and a site
whose name is its code (set up before the name was required) prints "BSL-01", never "BSL-01 (BSL-01)"."""

from __future__ import annotations

import datetime as dt
import io

import pypdfium2 as pdfium
import pytest

from app.forms.layout.layout import load_layout
from app.forms.render.render import (
    CopyInfo,
    IssueInfo,
    render_issued,
    render_preview,
    render_reference,
    site_line,
)
from app.forms.resources import resource

KEY = bytes.fromhex("5a" * 32)
WHEN = dt.datetime(2025, 3, 4, 13, 7, tzinfo=dt.UTC)


def _layout():  # noqa: ANN202 - a TemplateLayout
    return load_layout(resource("templates", "QC-WS-014.yaml"))


def _issue(site_name: str) -> IssueInfo:
    return IssueInfo(site_code="BSL-01", site_name=site_name, version=1, effective_date=dt.date(2025, 1, 15),
                     issued_to="Otto Operator (op)", issued_by_name="Dora Control", issued_by_username="dc",
                     issued_at=WHEN, purpose="Batch 24-0117 dispensing", reference=None,
                     due_date=dt.date(2025, 3, 18), issuance_id=7, tz=dt.UTC)


def _texts(data: bytes) -> str:
    document = pdfium.PdfDocument(data)
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in document)
    finally:
        document.close()


def _issued_pdf(site_name: str) -> str:
    out = io.BytesIO()
    render_issued(out, _layout(), _issue(site_name), [CopyInfo(serial="000001", copy_no=1, copy_count=1)], key=KEY,
                  helper=False)
    return _texts(out.getvalue())


@pytest.mark.parametrize("code, name, printed", [
    ("BSL-01", "Basel QC laboratory", "Basel QC laboratory (BSL-01)"),
    ("BSL-01", "BSL-01", "BSL-01"),  # a site made before the name was required: its name is its code
    ("BSL-01", "", "BSL-01"),
    ("BSL-01", None, "BSL-01"),
    ("BSL-01", "  ", "BSL-01"),
])
def test_the_site_line_names_the_code_once(code: str, name: str | None, printed: str) -> None:
    assert site_line(code, name) == printed


def test_an_issued_copy_of_a_site_named_by_its_code_prints_the_code_once() -> None:
    text = _issued_pdf("BSL-01")
    assert "BSL-01 (BSL-01)" not in text
    assert "BSL-01" in text and "CONTROLLED COPY" in text  # the site is still printed, and the page is read


def test_an_issued_copy_prints_the_site_name_beside_the_code() -> None:
    text = _issued_pdf("Basel QC laboratory")
    assert "Basel QC laboratory (BSL-01)" in text
    assert "BSL-01 (BSL-01)" not in text and "Otto Operator (op)" in text


def test_the_draft_preview_and_the_reference_print_name_the_code_once() -> None:
    layout = _layout()
    preview, reference = io.BytesIO(), io.BytesIO()
    render_preview(preview, layout, site_code="BSL-01", site_name="BSL-01", version_label="Version 2 (draft)")
    render_reference(reference, layout, site_code="BSL-01", site_name="BSL-01", version=1,
                     printed_by="Dora Control (dc)", printed_at=WHEN, tz=dt.UTC)
    for data in (preview.getvalue(), reference.getvalue()):
        text = _texts(data)
        assert "BSL-01" in text and "BSL-01 (BSL-01)" not in text
    named = io.BytesIO()
    render_preview(named, layout, site_code="BSL-01", site_name="Basel QC laboratory", version_label="Version 2")
    assert "Basel QC laboratory (BSL-01)" in _texts(named.getvalue())

