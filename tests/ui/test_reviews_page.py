"""Periodic reviews page (QA): due dates, a new review's report produced and opened, signed with a conclusion
through the signature dialog ("reviewed"), the history; the page is QA's only."""

from __future__ import annotations

from pathlib import Path

import pypdfium2
import pytest
from PySide6.QtGui import QDesktopServices

from app.services.reports import reviews
from app.services.reports.reviews import ReviewKind
from app.ui.pages.audit.reviews import ReviewsModel, ReviewsPage
from app.ui.pages.registry import pages_for
from tests.ui.conftest import assert_usable, settle
from tests.ui.helpers_scans import sign_when_asked


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    urls: list[str] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: urls.append(url.toLocalFile()) or True)
    return urls


def _page(qtbot, ctx) -> ReviewsPage:  # noqa: ANN001
    page = ReviewsPage(ctx)
    qtbot.addWidget(page)
    page.show()
    settle(qtbot)
    return page


def _text(path: str) -> str:
    doc = pypdfium2.PdfDocument(path)
    try:
        return "\n".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
    finally:
        doc.close()


def test_reviews_model_passes_the_model_tester(qtmodeltester, seed, ctx_for) -> None:  # noqa: ANN001
    reviews.generate(seed.db, seed.qa, ReviewKind.ACCESS)
    model = ReviewsModel(ctx_for("qa"))
    model.set_rows(reviews.list_reviews(seed.db, seed.qa))
    qtmodeltester.check(model)


def test_only_qa_sees_the_page(seed) -> None:  # noqa: ANN001
    assert "reviews" in {p.key for p in pages_for(seed.qa)}
    assert "reviews" not in {p.key for p in pages_for(seed.admin)} | {p.key for p in pages_for(seed.op)}


def test_ar_generate_open_and_sign_an_audit_trail_review(qtbot, seed, ctx_for, opened, boxes) -> None:  # noqa: ANN001
    page = _page(qtbot, ctx_for("qa"))
    assert "Audit-trail review: due" in page.due_label.text() and "last signed: never" in page.due_label.text()
    assert page.model.rowCount() == 0 and not page.sign_button.isEnabled()
    page.generate(ReviewKind.AUDIT_TRAIL)
    qtbot.waitUntil(lambda: len(opened) == 1, timeout=20_000)
    settle(qtbot)
    assert_usable(page)
    assert "Periodic review: system audit trail" in _text(opened[0])
    assert page.model.rowCount() == 1 and page.sign_button.isEnabled()

    page.sign_selected()
    dialog = page.dialog
    assert dialog is not None and not dialog.sign_button.isEnabled()
    dialog.conclusion.setPlainText("Nothing unexpected: the failures are the seed's own test log-ins.")
    sign_when_asked("qa")
    dialog.accept()
    qtbot.waitUntil(lambda: page.model.rowCount() == 1 and bool(page.model.row_at(0).signed), timeout=20_000)
    settle(qtbot)
    row = page.model.row_at(0)
    assert row.conclusion == "Nothing unexpected: the failures are the seed's own test log-ins."
    assert "Quinn Müller (qa), Reviewed" in page.model.data(page.model.index(0, 5))
    assert not page.sign_button.isEnabled() and page.sign_button.toolTip() == "signed already"
    assert "last signed: never" not in page.due_label.text().split("\n")[0]
    assert boxes.errors == []


def test_access_review_opens_its_report(qtbot, seed, ctx_for, opened, tmp_path: Path) -> None:  # noqa: ANN001
    page = _page(qtbot, ctx_for("qa2"))
    page.generate(ReviewKind.ACCESS)
    qtbot.waitUntil(lambda: len(opened) == 1, timeout=20_000)
    text = _text(opened[0])
    assert "Periodic review: user access" in text and "Quinn Müller" in text
