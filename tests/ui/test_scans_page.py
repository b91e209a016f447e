"""Scans page (issue 4 §7, "Done when"): drop returned sheets, 5 linked and 1 possible copy, the exceptions
queue and its actions, true copy by a second person, paper disposition, hot folder, the image viewer."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from PySide6.QtCore import QMimeData, QPoint, QPointF, QSettings, Qt, QUrl
from PySide6.QtGui import QColor, QDragEnterEvent, QDropEvent, QImage
from PySide6.QtWidgets import QApplication

from app.enums import FormState, ScanOutcome
from app.services.core.error_codes import ErrorCode
from app.services.core.errors import RuleViolation
from app.services.issuance import register
from app.services.reports import audit_log
from app.services.reports.audit_log import AuditFilter
from app.services.scans import intake, scans, true_copy
from app.services.scans.intake import ImportReport, PageOutcome
from app.ui.kit import workers
from app.ui.kit.image_viewer import ImageViewer, ViewerPage
from app.ui.kit.side_panel import ReasonPanel
from app.ui.pages.scans import scans_hot_folder
from app.ui.pages.scans.scans import ScansPage
from app.ui.pages.scans.scans_dialogs import DispositionDialog, LinkPanel
from app.ui.pages.scans.scans_hot_folder import HotFolderEntry, HotFolderModel
from app.ui.pages.scans.scans_models import ExceptionModel, ImportResultModel, ReturnedFormModel
from tests.helpers import scanlike as sl
from tests.helpers.scans import write
from tests.ui.conftest import assert_usable, settle
from tests.ui.helpers_scans import DPI, five_issued, import_as, scanned_back, sign_when_asked, verify_checked


@pytest.fixture(autouse=True)
def workstation(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The hot-folder setting goes to a file of this test, never to the real user's settings."""
    ini = tmp_path / "workstation.ini"
    monkeypatch.setattr(scans_hot_folder, "workstation_settings",
                        lambda: QSettings(str(ini), QSettings.Format.IniFormat))
    return ini


def _page(qtbot, ctx_for, name: str) -> ScansPage:  # noqa: ANN001
    page = ScansPage(ctx_for(name))
    qtbot.addWidget(page)
    page.resize(1200, 800)
    page.show()
    settle(qtbot)
    return page


def _drop(page: ScansPage, files: list[Path]) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in files])
    enter = QDragEnterEvent(QPoint(20, 20), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    page.dragEnterEvent(enter)
    assert enter.isAccepted()
    page.dropEvent(QDropEvent(QPointF(20, 20), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                              Qt.KeyboardModifier.NoModifier))


def _blacked_out(image: Image.Image) -> Image.Image:
    """Ink over both codes: nothing left to decode, the serial must be read by eye."""
    out = image.copy()
    draw = ImageDraw.Draw(out)
    side = sl.mm_to_px(45, DPI)
    draw.rectangle((out.width - side, 0, out.width, side), fill=0)
    draw.rectangle((0, out.height - side, side, out.height), fill=0)
    return out


def test_models_pass_the_model_tester(qtmodeltester, seed, tmp_path) -> None:  # noqa: ANN001
    issued = five_issued(seed)
    report = import_as(seed, "op", scanned_back(seed, tmp_path / "in", issued).files)
    results = ImportResultModel(report.outcomes)
    qtmodeltester.check(results)
    assert results.data(results.index(0, 2)) == "✔ Linked"
    linked = report.outcomes[0]  # the form named as printed on the sheet (the site's default format)
    assert results.data(results.index(0, 3)) == f"BSL-01-{linked.serial} page {linked.page_no}"
    assert results.data(results.index(5, 2)) == "⚠ Page already returned: possible uncontrolled copy"
    assert "may be an uncontrolled copy" in results.data(results.index(5, 3))
    exceptions = ExceptionModel(scans.list_exceptions(seed.db, seed.dc))
    qtmodeltester.check(exceptions)
    assert exceptions.rowCount() == 1 and exceptions.data(exceptions.index(0, 3)) == "06-photocopy.png p.1"
    qtmodeltester.check(ReturnedFormModel(true_copy.returned_forms(seed.db, seed.dc)))
    qtmodeltester.check(HotFolderModel([HotFolderEntry.of(
        scans_hot_folder.HotFolderResult(Path("a.pdf"), Path("/x/done/a.pdf"), report), seed.db.clock.now())]))


def test_done_when_drop_five_sheets_and_a_photocopy(qtbot, seed, ctx_for, tmp_path) -> None:  # noqa: ANN001
    issued = five_issued(seed)
    returned = scanned_back(seed, tmp_path / "in", issued)
    page = _page(qtbot, ctx_for, "dc")
    assert page.tabs.currentWidget() is page.importer
    _drop(page, returned.files)
    assert page.importer.busy and not page.importer.files_button.isEnabled()  # the GUI thread is free meanwhile
    qtbot.waitUntil(lambda: not page.importer.busy, timeout=60_000)
    settle(qtbot)
    assert_usable(page.importer)

    report = page.importer.last_report
    assert (report.linked, report.exceptions) == (5, 1)
    assert [o.outcome for o in page.importer.model.rows] == ["linked"] * 5 + ["possible-copy"]
    assert page.importer.summary.text().startswith("6 pages from 6 files: 5 linked, 1 in the exceptions queue")
    assert "1 × Page already returned: possible uncontrolled copy" in page.importer.summary.text()
    sources = audit_log.fetch_events(seed.db, seed.admin, AuditFilter(entity="scan_source"), limit=100)
    assert sources and all(e.username == "dc" for e in sources)
    assert {s.origin for s in _sources(seed)} == {"drop"}

    # The exceptions queue shows the photocopy with its reason and a thumbnail.
    assert page.tabs.tabText(page.tabs.indexOf(page.exceptions)) == "Exceptions (1)"
    page.show_filter("exceptions")
    model = page.exceptions.model
    [info] = model.rows
    assert info.outcome is ScanOutcome.POSSIBLE_COPY and info.serial == returned.serials[0]
    assert model.data(model.index(0, 1)) == "Page already returned: possible uncontrolled copy"
    assert model.data(model.index(0, 4)) == "dc"
    qtbot.waitUntil(lambda: model.has_thumbnail(info.id), timeout=20_000)
    assert model.data(model.index(0, 0), Qt.ItemDataRole.DecorationRole) is not None
    assert "raise a deviation" in page.exceptions.details.text()
    # The viewer offers this page and the page already linked for the same form, to compare.
    labels = [p.label for p in page.exceptions.viewer.pages]
    # the form named as printed on its paper (the serial's label)
    assert labels[0].startswith("This page") and labels[1].startswith(f"{issued.labels[0]} p.1 (linked")
    assert f"Form {issued.labels[0]}, page 1" in page.exceptions.details.text()
    qtbot.waitUntil(lambda: page.exceptions.viewer.shown_key == info.id, timeout=20_000)

    # Results: selecting a line shows that page.
    page.importer.table.selectRow(1)
    qtbot.waitUntil(lambda: page.importer.viewer.shown_key == report.outcomes[1].scan_page_id, timeout=20_000)
    states = {r.serial: r.state for r in register.fetch_forms(seed.db, seed.dc, register.RegisterFilter())}
    assert set(states.values()) == {FormState.RETURNED}


def _sources(seed):  # noqa: ANN001, ANN202
    from sqlalchemy import select

    from app.models import ScanSource  # test-side check of what the service stored
    with seed.db.read() as session:
        return list(session.scalars(select(ScanSource)))


def test_manual_link_needs_a_reason_and_is_audited(qtbot, seed, ctx_for, tmp_path, boxes) -> None:  # noqa: ANN001
    issued = five_issued(seed, copies=2)
    from tests.helpers.scans import issued_page_images
    images = issued_page_images(seed.db, issued.pdf_sha256, dpi=DPI)
    path = write(tmp_path, "inked.png", sl.png_bytes(sl.scanned(_blacked_out(images[1])), dpi=DPI))
    [line] = import_as(seed, "op", [path]).outcomes
    assert line.outcome == "no-code"

    operator = _page(qtbot, ctx_for, "op")  # operators import and retry, but do not link by hand
    assert operator.exceptions.link_button.isHidden()
    assert not operator.exceptions.retry_button.isHidden()

    page = _page(qtbot, ctx_for, "dc")
    page.show_filter("exceptions")
    assert page.exceptions.selected().id == line.scan_page_id
    assert page.exceptions.link_button.isEnabled()
    page.exceptions.link()
    panel = page.exceptions.panel
    # The form opens beside the viewer, in place of the list: the scan stays in sight, as large as it was.
    assert isinstance(panel, LinkPanel) and panel.isVisible() and not panel.isWindow()
    assert page.exceptions.viewer.isVisible() and not page.exceptions.table.isVisible()
    assert page.exceptions.panels.isAncestorOf(panel) and panel.width() <= page.exceptions.panels.width()
    assert not page.exceptions.panels.geometry().intersects(page.exceptions.viewer.geometry())  # splitter siblings
    assert not page.exceptions.link_button.isEnabled()  # one form at a time
    panel.serial.setText(issued.serials[1])
    assert not panel.link_button.isEnabled()  # no reason yet
    panel.page_no.setValue(2)  # wrong page: refused by the service, the panel stays open with what was typed
    qtbot.keyClicks(panel.reason, "both codes inked over; serial readable by eye")
    qtbot.keyClick(panel.reason, Qt.Key.Key_Return)  # Enter submits
    settle(qtbot)
    assert boxes.errors and "pages 1 to 1" in boxes.errors[-1] and panel.isVisible()
    assert panel.reason.toPlainText() == "both codes inked over; serial readable by eye"
    panel.page_no.setValue(1)
    qtbot.keyClick(panel.page_no, Qt.Key.Key_Enter)
    settle(qtbot)
    assert page.exceptions.panel is None and page.exceptions.model.rowCount() == 0
    assert page.exceptions.table.isVisible()
    assert page.tabs.tabText(page.tabs.indexOf(page.exceptions)) == "Exceptions"
    info = scans.get_page(seed.db, seed.dc, line.scan_page_id)
    assert info.outcome is ScanOutcome.LINKED and info.link_method == "manual" and info.linked_by == "dc"
    events = audit_log.fetch_events(seed.db, seed.admin, AuditFilter(entity="scan_page", text="inked over"))
    assert {(e.reason, e.username) for e in events} == {("manual link: both codes inked over; serial readable by eye",
                                                        "dc")}


def test_set_aside_and_read_again(qtbot, seed, ctx_for, tmp_path, boxes) -> None:  # noqa: ANN001
    five_issued(seed, copies=1)
    letter = write(tmp_path, "letter.png", sl.png_bytes(sl.scanned(sl.make_page("https://example.org", dpi=DPI)
                                                                   .image), dpi=DPI))
    blank = write(tmp_path, "blank.png", sl.png_bytes(Image.new("L", (1240, 1754), 255), dpi=DPI))
    report = import_as(seed, "op", [letter, blank])
    assert [o.outcome for o in report.outcomes] == ["foreign-code", "blank"]
    page = _page(qtbot, ctx_for, "dc")
    page.show_filter("exceptions")
    assert page.exceptions.select(report.outcomes[1].scan_page_id)
    page.exceptions.retry()
    qtbot.waitUntil(lambda: page.exceptions.task is None, timeout=20_000)
    settle(qtbot)
    assert_usable(page.exceptions)
    assert boxes.notices[-1].text.startswith("blank.png p.1 still cannot be linked: Blank page")

    assert page.exceptions.select(report.outcomes[0].scan_page_id)
    page.exceptions.set_aside()
    panel = page.exceptions.panel
    assert isinstance(panel, ReasonPanel) and page.exceptions.viewer.isVisible()
    qtbot.keyClick(panel.reason, Qt.Key.Key_Escape)  # Esc closes the panel: nothing set aside
    assert page.exceptions.panel is None and page.exceptions.model.rowCount() == 2
    page.exceptions.set_aside()
    panel = page.exceptions.panel
    assert not panel.action_button.isEnabled()
    qtbot.keyClick(panel.reason, Qt.Key.Key_Return)  # Enter with no reason: nothing happens
    assert page.exceptions.panel is panel and panel.ok is None
    qtbot.keyClicks(panel.reason, "supplier letter, not a controlled form")
    panel.action_button.click()
    settle(qtbot)
    remaining = page.exceptions.model.rows
    assert [r.id for r in remaining] == [report.outcomes[1].scan_page_id]
    assert scans.get_page(seed.db, seed.dc, report.outcomes[0].scan_page_id).outcome is ScanOutcome.NOT_CONTROLLED


def test_true_copy_by_a_second_person_then_paper_archived(qtbot, seed, ctx_for, tmp_path, boxes, trail) -> None:  # noqa: ANN001
    issued = five_issued(seed, copies=2)
    returned = scanned_back(seed, tmp_path / "in", issued)
    import_as(seed, "op", returned.files[:2])
    serial = issued.serials[0]

    importer = _page(qtbot, ctx_for, "op")
    importer.show_filter("true-copy")
    qtbot.waitUntil(lambda: importer.true_copies.model.rowCount() == 2, timeout=10_000)
    assert importer.true_copies.select(serial)
    assert "another person must sign" in importer.true_copies.next_step.text()
    assert not importer.true_copies.verify_button.isEnabled()  # the service says: not the importer
    importer.true_copies.show_only("for-me")  # what Home counts for the importer: none of these
    assert importer.true_copies.model.rowCount() == 0
    importer.true_copies.show_only("to-verify")
    assert importer.true_copies.select(serial)
    importer.true_copies.verify()
    assert QApplication.activeModalWidget() is None  # nothing to sign
    with pytest.raises(RuleViolation) as refused:  # and refuses, logged, should the screen be bypassed
        true_copy.verify_true_copy(seed.db, seed.op, serial=serial, username="op", password="not asked",
            checklist=true_copy.Checklist.confirmed())
    assert refused.value.code == ErrorCode.SEPARATION_OF_DUTIES
    assert [e.username for e in trail(action="RULE_REFUSED")] == ["op"]

    page = _page(qtbot, ctx_for, "op2")
    page.show_filter("true-copy")
    panel = page.true_copies
    qtbot.waitUntil(lambda: panel.model.rowCount() == 2, timeout=10_000)
    assert panel.select(serial)
    assert panel.fields["importers"].text() == "op" and "01-sheet.png p.1" in panel.fields["pages"].text()
    qtbot.waitUntil(lambda: panel.viewer.shown_key is not None, timeout=20_000)
    assert panel.verify_button.isEnabled() and panel.disposition_button.isHidden()  # operators: no
    seen: list = []
    sign_when_asked("op2", seen=seen)
    verify_checked(panel)
    assert "true copy verified" in seen[0].meaning.text().lower()
    # The list stays on its filter (issue 14): the verified form leaves it, the next one is selected.
    qtbot.waitUntil(lambda: panel.model.rowCount() == 1, timeout=10_000)
    assert panel.show_combo.currentData() == "to-verify"
    assert panel.selected() is not None and panel.selected().serial == issued.serials[1]
    assert true_copy.status(seed.db, seed.dc, serial).verified_by == "op2"

    clerk = _page(qtbot, ctx_for, "dc")
    clerk.show_filter("true-copy")
    clerk.true_copies.show_only("to-file")
    qtbot.waitUntil(lambda: clerk.true_copies.model.rowCount() == 1, timeout=10_000)
    assert clerk.true_copies.disposition_button.isEnabled()
    clerk.true_copies.record_disposition()
    dialog = clerk.true_copies.dialog
    assert isinstance(dialog, DispositionDialog) and not dialog.destroyed_option.isEnabled()  # QA approves destruction
    qtbot.keyClicks(dialog.reason, "filed after true-copy verification")
    assert not dialog.record_button.isEnabled()  # where?
    qtbot.keyClicks(dialog.location, "Archive B, cabinet 4, box 12")
    dialog.accept()
    settle(qtbot)
    assert true_copy.status(seed.db, seed.dc, serial).location == "Archive B, cabinet 4, box 12"


def test_paper_destroyed_with_qa_signature(qtbot, seed, ctx_for, tmp_path) -> None:  # noqa: ANN001
    issued = five_issued(seed, copies=1)
    import_as(seed, "op", scanned_back(seed, tmp_path / "in", issued).files[:1])
    from tests.helpers.seed import PASSWORD
    true_copy.verify_true_copy(seed.db, seed.op2, serial=issued.serials[0], username="op2", password=PASSWORD,
        checklist=true_copy.Checklist.confirmed())
    page = _page(qtbot, ctx_for, "qa")
    assert page.importer is None and page.tabs.count() == 3  # QA does not import
    page.show_filter("true-copy")
    page.true_copies.show_only("to-file")
    qtbot.waitUntil(lambda: page.true_copies.model.rowCount() == 1, timeout=10_000)
    page.true_copies.record_disposition()
    dialog = page.true_copies.dialog
    dialog.destroyed_option.setChecked(True)
    assert not dialog.location.isEnabled() and dialog.record_button.text() == "Sign and record…"
    qtbot.keyClicks(dialog.reason, "retention period ended")
    sign_when_asked("qa")
    dialog.accept()
    settle(qtbot)
    assert true_copy.status(seed.db, seed.qa, issued.serials[0]).disposition == "destroyed"


def test_import_runs_in_the_background_and_can_be_cancelled(qtbot, seed, ctx_for, tmp_path, monkeypatch) -> None:  # noqa: ANN001
    seen_cancel: list[bool] = []

    def slow_import(db, actor, paths, *, origin, progress, cancelled):  # noqa: ANN001, ANN202
        done = 0
        while not cancelled() and done < 1000:  # (never hangs the suite if cancelling were broken)
            done += 1
            progress(min(done, 99), 100)
            import time
            time.sleep(0.01)  # stands in for decoding pages in worker processes
        seen_cancel.append(True)
        return ImportReport(outcomes=(PageOutcome(source=str(paths[0]), page=1, sha256="ab", outcome="linked",
                                                  serial="000001", page_no=1, scan_page_id=None),), cancelled=True)

    monkeypatch.setattr(intake, "import_files", slow_import)
    page = _page(qtbot, ctx_for, "dc")
    task = page.importer.import_paths([tmp_path / "a.pdf"], origin="file")
    progressed: list[tuple[int, int]] = []
    task.progressed.connect(lambda done, total: progressed.append((done, total)))
    qtbot.waitUntil(lambda: len(progressed) > 3, timeout=10_000)  # the GUI thread keeps handling events
    from app.ui.kit.workers import ProgressDialog
    dialog = page.importer.findChild(ProgressDialog)
    assert dialog is not None
    dialog.canceled.emit()  # what its Cancel button does
    qtbot.waitUntil(lambda: not page.importer.busy, timeout=10_000)
    settle(qtbot)
    assert seen_cancel == [True]
    assert page.importer.summary.text().startswith("Import stopped before the end.")
    assert page.importer.model.rowCount() == 1


def test_hot_folder_imports_moves_and_is_remembered(qtbot, seed, ctx_for, tmp_path, workstation) -> None:  # noqa: ANN001
    issued = five_issued(seed, copies=2)
    returned = scanned_back(seed, tmp_path / "made", issued)
    folder = tmp_path / "scanner"
    folder.mkdir()
    page = _page(qtbot, ctx_for, "dc")
    hot = page.importer.hot_folder
    assert not hot.watch_button.isEnabled()  # no folder yet
    hot.set_folder(folder)
    hot.settle_s = 0.0
    hot.timer.setInterval(50)
    hot.start()
    assert hot.watching and hot.watch_button.text() == "Stop watching" and not hot.choose_button.isEnabled()
    (folder / "scan-0001.png").write_bytes(returned.files[0].read_bytes())
    (folder / "scan-0002.png").write_bytes(returned.files[-1].read_bytes())  # the photocopy of sheet 1
    qtbot.waitUntil(lambda: hot.model.rowCount() == 2, timeout=30_000)
    rows = sorted(hot.model.rows, key=lambda r: r.name)
    assert [r.outcome for r in rows] == ["1 linked", "0 linked, 1 to the exceptions queue"]
    assert (folder / "done" / "scan-0001.png").exists() and not (folder / "scan-0001.png").exists()
    qtbot.waitUntil(lambda: page.exceptions.model.rowCount() == 1, timeout=10_000)
    hot.stop()
    assert not hot.watching and hot.watch_button.text() == "Start watching"
    workers.wait_for_all()

    again = _page(qtbot, ctx_for, "dc")
    assert again.importer.hot_folder.folder == folder  # remembered on this workstation
    assert QSettings(str(workstation), QSettings.Format.IniFormat).value("scans/hot_folder") == str(folder)


def test_image_viewer_zoom_rotate_fit_and_pages(qtbot, tmp_path) -> None:  # noqa: ANN001
    pictures = {1: Image.new("L", (400, 600), 255), 2: Image.new("L", (600, 300), 128)}

    def load(key: int) -> bytes:
        if key == 3:
            raise ValueError("gone")
        return sl.png_bytes(pictures[key])

    viewer = ImageViewer(load)
    qtbot.addWidget(viewer)
    viewer.resize(500, 700)
    viewer.show()
    viewer.set_pages([ViewerPage(1, "first"), ViewerPage(2, "second"), ViewerPage(3, "broken")])
    qtbot.waitUntil(lambda: viewer.shown_key == 1, timeout=5_000)
    assert viewer.fitting and 0 < viewer.zoom < 1.5 and not viewer.previous_button.isEnabled()
    fitted = viewer.zoom
    viewer.zoom_in()
    assert viewer.zoom == pytest.approx(fitted * 1.25) and not viewer.fitting
    assert viewer.zoom_label.text() == f"{round(fitted * 125)} %"
    viewer.zoom_out()
    viewer.zoom_out()
    assert viewer.zoom == pytest.approx(fitted / 1.25)
    viewer.actual_size()
    assert viewer.zoom == 1.0
    viewer.rotate()
    assert viewer.rotation == 90
    assert viewer.view.transform().m12() == pytest.approx(1.0)  # turned a quarter clockwise at 100 %
    viewer.fit()
    assert viewer.fitting
    for _ in range(3):
        viewer.rotate()
    assert viewer.rotation == 0
    viewer.step(1)
    qtbot.waitUntil(lambda: viewer.shown_key == 2, timeout=5_000)
    assert viewer.fitting and "600 × 300 px" in viewer.status.text() and "page 2 of 3" in viewer.status.text()
    viewer.page_combo.setCurrentIndex(2)
    qtbot.waitUntil(lambda: "cannot be shown: Unexpected problem" in viewer.status.text(), timeout=5_000)
    assert viewer.shown_key is None and not viewer.next_button.isEnabled()
    viewer.step(-2)
    qtbot.waitUntil(lambda: viewer.shown_key == 1, timeout=5_000)  # from the cache


def _darkest_along(image: QImage, points: list[QPoint]) -> list[int]:
    """For each point, the darkest grey within one pixel of it (where a rule drawn through it should be)."""
    return [min(QColor(image.pixel(x, y)).value() for x in range(p.x() - 1, p.x() + 2)
                for y in range(p.y() - 1, p.y() + 2)) for p in points]


def test_thin_rules_stay_visible_when_the_page_is_fitted_into_a_small_viewer(qtbot) -> None:  # noqa: ANN001
    """At Fit a 2000 × 2800 px page is shown about 0.12 times its size: 1-px table rules must stay visible (a
    bilinear or nearest-pixel shrink skips most image rows and loses them)."""
    page = Image.new("L", (2000, 2800), 255)
    draw = ImageDraw.Draw(page)
    rows = [560, 843, 1151, 1484, 1879, 2213, 2517]  # not multiples of the scale step: no lucky samples
    columns = [263, 741, 1222, 1663]
    for y in rows:
        draw.line([(0, y), (1999, y)], fill=0, width=1)
    for x in columns:
        draw.line([(x, 0), (x, 2799)], fill=0, width=1)
    data = sl.png_bytes(page)
    viewer = ImageViewer(lambda key: data)
    qtbot.addWidget(viewer)
    viewer.resize(300, 420)
    viewer.show()
    viewer.set_pages([ViewerPage(1, "ruled")])
    qtbot.waitUntil(lambda: viewer.shown_key == 1, timeout=5_000)
    assert viewer.fitting and viewer.zoom < 0.2

    def lines_seen() -> tuple[list[int], list[int]]:
        viewer.view.viewport().repaint()
        shot = viewer.view.viewport().grab().toImage()
        across = [viewer.view.mapFromScene(QPointF(1000 + 37 * i, y)) for y in rows for i in (-9, 0, 9)]
        down = [viewer.view.mapFromScene(QPointF(x, 1400 + 41 * i)) for x in columns for i in (-9, 0, 9)]
        between = [viewer.view.mapFromScene(QPointF(1000, (a + b) / 2)) for a, b in zip(rows, rows[1:], strict=False)]
        return _darkest_along(shot, across + down), _darkest_along(shot, between)

    on_rules, paper = lines_seen()
    assert min(paper) > 245  # the white paper between the rules stays white
    assert max(on_rules) < 235, on_rules  # every rule is visibly darker, at every place looked at
    assert viewer.item.shrunk_size.width() < 300  # drawn from a copy shrunk to the size on screen

    viewer.rotate()  # a quarter turn: the rules still show (now the horizontal ones run down)
    on_rules, _paper = lines_seen()
    assert max(on_rules) < 235, on_rules

    # The same check fails with nearest-pixel shrinking: it is what shows the lines lost before.
    viewer.rotate()
    viewer.rotate()
    viewer.rotate()
    viewer.item.setTransformationMode(Qt.TransformationMode.FastTransformation)
    viewer.item.setPixmap(viewer.item.pixmap())  # drops the copy shrunk the smooth way
    on_rules, _paper = lines_seen()
    assert sum(value > 245 for value in on_rules) > len(on_rules) // 2


def test_an_unidentified_page_is_shown_with_the_other_pages_of_its_file(qtbot, seed, ctx_for, tmp_path) -> None:  # noqa: ANN001
    issued = five_issued(seed, copies=1)
    from tests.helpers.scans import issued_page_images
    [sheet] = issued_page_images(seed.db, issued.pdf_sha256, dpi=DPI)
    back_side = Image.new("L", sheet.size, 255)
    path = write(tmp_path, "duplex.tif", sl.tiff_bytes([sl.scanned(sheet), back_side], dpi=DPI))
    assert [o.outcome for o in import_as(seed, "op", [path]).outcomes] == ["linked", "blank"]
    page = _page(qtbot, ctx_for, "dc")
    page.show_filter("exceptions")
    labels = [p.label for p in page.exceptions.viewer.pages]
    assert labels == ["This page — duplex.tif p.2", f"{issued.labels[0]} p.1 (linked) — duplex.tif p.1"]
