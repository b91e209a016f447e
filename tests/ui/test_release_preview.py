"""The release step's Preview… (issue 14, item 6): the numbered preview on screen before the one release, drawn in
the background, shown with QtPdf from a temporary file that goes away with the dialog; the release stays."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtPdf import QPdfDocument

from app.services.reports import audit_log
from app.ui.pages.issuance.issue_release import PdfToRelease, PreviewDialog, ReleasePanel
from tests.helpers.forms import effective_template, issue
from tests.ui.conftest import assert_usable
from tests.ui.helpers_issuance import pdf_pages, pdf_text


def _panel(qtbot, ctx_for, name: str = "dc") -> ReleasePanel:  # noqa: ANN001
    panel = ReleasePanel(ctx_for(name))
    qtbot.addWidget(panel)
    panel.show()
    return panel


def test_preview_shows_the_numbered_pages_then_the_release_still_works(  # noqa: ANN001
        qtbot, seed, ctx_for, trail, tmp_path: Path) -> None:
    effective_template(seed, "PRD-BR-102")
    result = issue(seed, "PRD-BR-102", copies=2)
    panel = _panel(qtbot, ctx_for)
    panel.set_pdf(PdfToRelease(pdf_id=result.pdf_id, serials="000001–000002", pages=4))
    assert panel.preview_button.isVisible() and panel.preview_button.isEnabled()

    shown: list[Path] = []
    panel.previewed.connect(shown.append)
    panel.preview_button.click()
    qtbot.waitUntil(lambda: panel.preview is not None, timeout=20_000)
    dialog = panel.preview
    assert isinstance(dialog, PreviewDialog)
    qtbot.waitUntil(lambda: dialog.document.status() == QPdfDocument.Status.Ready, timeout=15_000)
    assert dialog.document.pageCount() == 4 and "serials BSL-01-000001 – BSL-01-000002" in dialog.windowTitle()
    [path] = shown
    assert pdf_pages(path) == 4 and "PREVIEW" in pdf_text(path, 3) and "000002" in pdf_text(path, 3)
    assert [e.action for e in trail(entity="controlled_pdf")] == ["CREATE", "PREVIEW"]  # no release (PRINT)

    dialog.reject()  # Close
    qtbot.waitUntil(lambda: panel.preview is None)
    assert not path.exists()  # the temporary preview goes with the dialog
    assert_usable(panel)
    assert panel.save_button.isEnabled() and panel.preview_button.isEnabled()

    out = panel.save_pdf(tmp_path / "copies.pdf")  # the one release is still there
    assert out is not None and pdf_pages(out) == 4 and "PREVIEW" not in pdf_text(out, 0)
    assert not panel.preview_button.isEnabled()  # after the release there is nothing to preview


def test_who_may_not_release_gets_no_preview(qtbot, seed, ctx_for, boxes) -> None:  # noqa: ANN001
    effective_template(seed)
    result = issue(seed, copies=1)
    panel = _panel(qtbot, ctx_for, "viewer")
    panel.set_pdf(PdfToRelease(pdf_id=result.pdf_id, serials="000001", pages=1))
    assert not panel.preview_button.isVisible()
    assert panel.show_preview() is not None  # not offered; called anyway, the service refuses it
    qtbot.waitUntil(lambda: panel.preview_task is None, timeout=20_000)
    assert panel.preview is None and len(boxes.errors) == 1
    assert [e.username for e in audit_log.fetch_events(
        seed.db, seed.admin, audit_log.AuditFilter(action="ACCESS_DENIED"))] == ["viewer"]
