"""The Issue page says how the serials it just issued are printed when the site's serial format prints more than
the number (issue 14, item 5); the number itself is still shown as it is stored. The release step below it, and
the Register's list of an issuance's PDFs, name the copies as printed."""

from __future__ import annotations

import pytest

from app.services.issuance import replacement
from app.services.site import serial_format, settings
from app.ui.pages.issuance.issue import IssuePage
from app.ui.pages.issuance.register import RegisterPage
from tests.helpers.forms import effective_template, issue
from tests.helpers.seed import PASSWORD
from tests.ui.conftest import assert_usable, settle


def _issue_two(qtbot, ctx_for) -> IssuePage:  # noqa: ANN001
    page = IssuePage(ctx_for("dc"))
    qtbot.addWidget(page)
    page.show()
    settle(qtbot)
    page.template_combo.setCurrentIndex(page.template_combo.findData("QC-WS-014"))
    page.copies.setValue(2)
    page.purpose.setText("Batch 24-0117 dispensing")
    page.issued_to.setEditText("Otto Operator")
    page.issue_button.click()
    qtbot.waitUntil(lambda: page.task is None, timeout=20_000)
    assert_usable(page)
    return page


LONG = "{site}-{template}-{seq:06}"


def _set_format(seed, fmt: str) -> None:  # noqa: ANN001
    settings.change(seed.db, seed.admin, key=serial_format.KEY, value=fmt, reason="CC-2026-014 serial labels")


@pytest.mark.parametrize(("fmt", "printed", "to_release"), [
    (LONG, "000001–000002 (printed BSL-01-QC-WS-014-000001 … BSL-01-QC-WS-014-000002)",
     "Print serials BSL-01-QC-WS-014-000001 – BSL-01-QC-WS-014-000002 (2 pages)"),
    ("{seq:06}", "000001–000002 · ",  # the label is the number: nothing more to say
     "Print serials 000001–000002 (2 pages)"),
])
def test_the_result_line_shows_the_serials_as_printed(qtbot, seed, ctx_for, boxes, fmt, printed,  # noqa: ANN001
                                                      to_release, tmp_path) -> None:
    effective_template(seed)
    _set_format(seed, fmt)
    page = _issue_two(qtbot, ctx_for)
    assert page.result is not None and page.result.serials == ("000001", "000002")
    assert printed in page.result_text.text()
    # The release step under it names the PDF's copies as they are printed on the sheets.
    assert to_release in page.release.state.text()
    assert page.release.save_pdf(tmp_path / "copies.pdf") is not None
    assert f"Saved {to_release.removeprefix('Print ')}" in page.release.state.text()


def test_the_register_lists_an_issuances_pdfs_as_printed(qtbot, seed, ctx_for) -> None:  # noqa: ANN001
    effective_template(seed)
    _set_format(seed, LONG)
    result = issue(seed, copies=3)
    replacement.replace_form(seed.db, seed.qa, serial="000002", reason="torn while filling in", username="qa",
                             password=PASSWORD)
    _set_format(seed, serial_format.DEFAULT)  # later: the PDFs keep the labels they were printed with
    page = RegisterPage(ctx_for("dc"))
    qtbot.addWidget(page)
    page.show()
    assert page.select("000004")
    assert (f"PDFs of issuance #{result.issuance_id}: BSL-01-QC-WS-014-000001 – BSL-01-QC-WS-014-000003 NOT "
            "PRINTED YET; BSL-01-QC-WS-014-000004 NOT PRINTED YET") in page.pdf_label.text()
    assert "Print serial BSL-01-QC-WS-014-000004 (1 page)" in page.release.state.text()  # the selected one's PDF
    assert page.select("000001")
    assert "Print serials BSL-01-QC-WS-014-000001 – BSL-01-QC-WS-014-000003 (3 pages)" in page.release.state.text()
