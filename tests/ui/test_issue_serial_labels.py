"""The Issue page says how the serials it just issued are printed when the site's serial format prints more than
the number (issue 14, item 5); the number itself is still shown as it is stored."""

from __future__ import annotations

import pytest

from app.services.site import serial_format, settings
from app.ui.pages.issuance.issue import IssuePage
from tests.helpers.forms import effective_template
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


@pytest.mark.parametrize(("fmt", "printed"), [
    ("{site}-{template}-{seq:06}", "000001–000002 (printed BSL-01-QC-WS-014-000001 … BSL-01-QC-WS-014-000002)"),
    ("{seq:06}", "000001–000002 · "),  # the label is the number: nothing more to say
])
def test_the_result_line_shows_the_serials_as_printed(qtbot, seed, ctx_for, boxes, fmt, printed) -> None:  # noqa: ANN001
    effective_template(seed)
    settings.change(seed.db, seed.admin, key=serial_format.KEY, value=fmt, reason="CC-2026-014 serial labels")
    page = _issue_two(qtbot, ctx_for)
    assert page.result is not None and page.result.serials == ("000001", "000002")
    assert printed in page.result_text.text()
