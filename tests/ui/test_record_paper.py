"""Issue 15, item 5: snippets where people work. Transcription shows the crop of the current field's boxes (cut
from the real scan, registered on the template's geometry) under the scan, and what the paper reader saw in each
field's boxes beside its entry: blank on paper pre-fills the NA reason, a ticked option is offered as the value —
suggestions only, saved by the transcriber's Enter. Verification "by snippets" shows each value beside its snippet
and verifies exactly the ticked ones, after one confirmation.

Sheets are real: the issued PDF rendered at 200 dpi, written on with the test pen, imported through the real
intake (which reads the boxes of every linked page)."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication

from app.forms.render.boxes import form_geometry
from app.forms.scan.readings import BoxState
from app.services.core.error_codes import ErrorCode
from app.services.issuance.issuance import IssuanceResult
from app.services.records import records
from app.services.scans import intake, paper_review
from app.services.scans.paper_hints import BLANK_REASON
from app.services.scans.paper_snippets import field_snippet
from app.ui.pages.records.record_verify import SnippetVerifyDialog
from app.ui.pages.records.records import RecordsPage
from tests.helpers import scanlike as sl
from tests.helpers.forms import sample_layout
from tests.helpers.handwriting import Pen
from tests.helpers.paper import linked_scans, reading
from tests.helpers.records import QC_WS_014, fill
from tests.helpers.scans import issued_page_images, write
from tests.ui.conftest import settle
from tests.ui.helpers_records import issued, open_page, row, type_value

DPI = 200
# What is written on the returned worksheet: values in entry boxes, initials, one option ticked.
WRITTEN = {"balance_id": "BAL-03", "check_weight_reading": "100.0003", "sample_id": "LOT 24-0117",
           "sample_weight_1": "0.1002", "sample_weight_2": "0.0998"}
TICKED = (("balance_level_ok", "option:Yes"),)


def scan_back(seed, form: IssuanceResult, serial: str, *, written: Mapping[str, str] = WRITTEN,  # noqa: ANN001
              ticked: tuple[tuple[str, str], ...] = TICKED, pages: tuple[int, ...] | None = None) -> None:
    """Write on the controlled sheet of ``serial`` as an analyst would, scan ``pages`` of it (all by default) and
    import them (intake links each page by its QR code and reads its boxes)."""
    per_form = form.pages // len(form.serials)  # the issued PDF holds every copy
    first = form.serials.index(serial) * per_form
    images = issued_page_images(seed.db, form.pdf_sha256, dpi=DPI)[first:first + per_form]
    geometry = form_geometry(sample_layout(form.template))
    folder = Path(tempfile.mkdtemp(prefix="ft-paper-"))
    paths = []
    for number in pages or tuple(range(1, per_form + 1)):
        pen = Pen(images[number - 1], DPI, np.random.default_rng(number))
        for box in geometry.page(number).boxes:
            r = box.rect
            if box.part == "entry" and box.field in written:
                pen.text(written[box.field], r.x_mm + 2, r.bottom_mm - 2, height_mm=4, width_mm=0.4, grey=30)
            elif box.part == "done_by" and box.field in written:
                pen.text("OO", r.x_mm + 2, r.bottom_mm - 2, height_mm=3.5, width_mm=0.4, grey=30)
            elif (box.field, box.part) in ticked:
                pen.tick(r.x_mm + r.w_mm / 2, r.y_mm + r.h_mm / 2, size_mm=3.5, width_mm=0.45, grey=20)
        image = sl.scanned(pen.done())
        paths.append(write(folder, f"{serial}-{number}.png", sl.png_bytes(image, dpi=DPI)))
    assert intake.import_files(seed.db, seed.op, paths).linked == len(paths)


@pytest.fixture
def returned(seed):  # noqa: ANN001, ANN201
    """Serial of a QC-WS-014 worksheet written on (WRITTEN, TICKED) and scanned back in."""
    form = issued(seed, copies=1)
    scan_back(seed, form, form.serials[0])
    return form.serials[0]


def _focus(qtbot, page: RecordsPage, name: str) -> None:  # noqa: ANN001
    page.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is page)
    row(page, name).input.setFocus()
    qtbot.waitUntil(lambda: page.workspace.entry.current_field == name)


def _snippet_shown(qtbot, page: RecordsPage, name: str) -> None:  # noqa: ANN001
    panel = page.workspace.snippets
    qtbot.waitUntil(lambda: panel.field == name and not panel.loading, timeout=20_000)


def _saved(seed, serial):  # noqa: ANN001, ANN202
    view = records.record_view(seed.db, seed.qa, serial)
    return {f.name: f.current for f in view.fields if f.current is not None}


# -- the snippet of the field being transcribed ----------------------------------------------------------------
def test_the_snippet_of_the_field_being_typed_shows_under_the_scan_and_follows_it(
        qtbot, seed, ctx_for, returned) -> None:  # noqa: ANN001
    page = open_page(qtbot, ctx_for("op"), returned)
    settle(qtbot)
    workspace, panel = page.workspace, page.workspace.snippets
    assert panel.field is None and not panel.image.has_image()  # nothing typed in yet

    _focus(qtbot, page, "sample_weight_1")
    _snippet_shown(qtbot, page, "sample_weight_1")
    first = field_snippet(seed.db, seed.op, serial=returned, field="sample_weight_1")
    assert first is not None and panel.snippet == first and panel.image.has_image()  # the service's crop, shown
    assert panel.caption_text.startswith("From the scan: page 1 · 7. Sample weight, replicate 1")
    assert panel.show_button.isEnabled()

    _focus(qtbot, page, "balance_level_ok")  # another field: its own snippet (the tick boxes)
    _snippet_shown(qtbot, page, "balance_level_ok")
    assert panel.snippet is not None and panel.snippet.field == "balance_level_ok"
    assert panel.snippet.png != first.png and panel.image.has_image()
    assert "3. Balance level" in panel.caption_text
    assert "Ticked on paper: Yes" in panel.note.text()  # what the reader saw, where the snippet is

    # "Show on the page": the whole scan, that field's row outlined on it.
    scan = workspace.scan
    settle(qtbot)  # where the rows are is read in the background
    assert scan.following
    panel.show_button.click()
    assert scan.whole_button.isChecked() and not scan.following
    assert scan.marker.isVisible() and scan.marker.rect().top() == pytest.approx(
        workspace.places["balance_level_ok"].y * scan.item.boundingRect().height())


def test_a_page_not_scanned_yet_says_so_where_its_snippet_would_be(qtbot, seed, ctx_for) -> None:  # noqa: ANN001
    form = issued(seed, copies=1, code="PRD-BR-102")
    serial = form.serials[0]
    scan_back(seed, form, serial, written={}, ticked=(), pages=(1,))  # page 2 is not back yet
    page = open_page(qtbot, ctx_for("op"), serial)
    panel = page.workspace.snippets
    on_page_two = next(r for r in page.workspace.entry.rows.values() if r.field.page == 2)
    _focus(qtbot, page, on_page_two.field.name)
    _snippet_shown(qtbot, page, on_page_two.field.name)
    assert panel.snippet is None and not panel.image.has_image()
    assert panel.image.text() == "No scan of page 2 yet." and not panel.show_button.isEnabled()
    on_page_one = next(r for r in page.workspace.entry.rows.values() if r.field.page == 1)
    _focus(qtbot, page, on_page_one.field.name)
    _snippet_shown(qtbot, page, on_page_one.field.name)
    assert panel.snippet is not None and panel.image.has_image() and panel.show_button.isEnabled()


# -- hints: suggestions the transcriber confirms -------------------------------------------------------------
@pytest.mark.compliance
def test_rc02_paper_hints_prefill_na_and_the_ticked_option_and_save_nothing_themselves(
        qtbot, seed, ctx_for, returned) -> None:  # noqa: ANN001
    page = open_page(qtbot, ctx_for("op"), returned)
    settle(qtbot)  # the hints are read in the background
    ticked, written = row(page, "balance_level_ok"), row(page, "balance_id")
    blank = row(page, "calibration_valid_until")
    assert ticked.paper_label.text() == "ticked on paper: yes" and ticked.paper_label.isVisibleTo(ticked)
    assert ticked.input.text() == "yes" and ticked.suggested == "yes" and not ticked.input.isReadOnly()
    assert not written.paper_label.isVisibleTo(written) and written.input.text() == ""  # ink on paper: no hint
    assert blank.paper_label.text() == "blank on paper" and "blank on paper" in blank.paper_label.toolTip()
    assert row(page, "printout_attached").paper_label.text() == "blank on paper"  # no option ticked

    blank.na_button.click()  # "NA…" on a box left blank: the reason is offered, not saved
    assert blank.input.text() == "NA" and blank.na_extra.edit.text() == BLANK_REASON
    assert _saved(seed, returned) == {}  # showing hints, a suggested value and a pre-filled reason saved nothing

    blank.na_extra.edit.returnPressed.emit()  # the transcriber's Enter saves it
    entry = _saved(seed, returned)["calibration_valid_until"]
    assert entry.is_na and entry.reason == BLANK_REASON and entry.entered_by == "op"
    assert not blank.paper_label.isVisibleTo(blank)  # a saved value: the hint has done its work

    ticked.input.setFocus()
    ticked.input.returnPressed.emit()  # confirmed with Enter
    confirmed = _saved(seed, returned)["balance_level_ok"]
    assert confirmed.value == "yes" and confirmed.source == "scan" and confirmed.entered_by == "op"
    assert ticked.suggested is None and ticked.input.styleSheet() == ""


def test_a_suggestion_typed_over_is_the_transcribers_value(qtbot, seed, ctx_for, returned) -> None:  # noqa: ANN001
    page = open_page(qtbot, ctx_for("op"), returned)
    settle(qtbot)
    ticked = row(page, "balance_level_ok")
    assert ticked.suggested == "yes"
    type_value(qtbot, page, "balance_level_ok", "no")  # the paper, read by a person, says otherwise
    assert _saved(seed, returned)["balance_level_ok"].value == "no" and ticked.suggested is None


def test_an_unclear_box_says_so_and_offers_nothing(qtbot, seed, ctx_for) -> None:  # noqa: ANN001
    """Hints only (a synthetic reading of the page): the reader could not tell which option is ticked."""
    serial = issued(seed, copies=1).serials[0]
    scan_id = linked_scans(seed, serial)[1]
    layout = sample_layout("QC-WS-014")
    paper_review.store_reading(seed.db, seed.op, scan_page_id=scan_id, reading=reading(
        layout, 1, {("balance_level_ok", "option:Yes"): BoxState.UNCLEAR, ("sample_id", "entry"): BoxState.BLANK}))
    page = open_page(qtbot, ctx_for("op"), serial)
    settle(qtbot)
    unclear = row(page, "balance_level_ok")
    assert unclear.paper_label.text() == "unclear on paper" and "not sure" in unclear.paper_label.toolTip()
    assert unclear.input.text() == "" and unclear.suggested is None
    assert row(page, "sample_id").paper_label.text() == "blank on paper"
    assert row(page, "printout_attached").input.text() == "yes"  # well kept: its first option ticked
    _focus(qtbot, page, "balance_level_ok")
    assert "not sure which box is ticked" in page.workspace.snippets.note.text()
    assert _saved(seed, serial) == {}


# -- verification by snippets ----------------------------------------------------------------------------------
def _open_snippets(qtbot, page: RecordsPage) -> SnippetVerifyDialog:  # noqa: ANN001
    entry = page.workspace.entry
    assert entry.snippets_button.isVisible() and entry.snippets_button.isEnabled()
    entry.snippets_button.click()
    dialog = page.workspace.dialog
    assert isinstance(dialog, SnippetVerifyDialog)
    qtbot.waitUntil(lambda: not dialog.pending, timeout=30_000)
    return dialog


@pytest.mark.compliance
def test_rc03_verify_by_snippets_verifies_exactly_the_ticked_values_after_one_confirmation(
        qtbot, seed, ctx_for, returned, boxes) -> None:  # noqa: ANN001
    fill(seed, returned, {**QC_WS_014, "balance_id": "BAL-03", "check_weight_reading": "100.0003",
                          "sample_weight_1": "0.1002", "sample_weight_2": "0.0998"})
    page = open_page(qtbot, ctx_for("op2"), returned)
    dialog = _open_snippets(qtbot, page)
    critical = ["check_weight_reading", "sample_id", "sample_weight_1", "sample_weight_2", "sample_weight_3"]
    assert list(dialog.items) == critical  # the run of values awaiting this person's verification
    weight = dialog.items["sample_weight_1"]
    assert weight.value_label.text() == "0.1002" and weight.unit_label.text() == "g"
    assert weight.limits_label.text() == "within limits 0.0950 – 0.1050 g"
    assert all(item.image.has_image() for item in dialog.items.values())  # every value beside its snippet
    assert weight.image.pixmap().height() > 40
    assert not dialog.verify_button.isEnabled()

    # Verified meanwhile by someone else: ticked here, refused by the service, and said so with why.
    records.verify_field(seed.db, seed.qa, serial=returned, field="sample_id")
    for name in ("check_weight_reading", "sample_weight_1", "sample_id"):
        dialog.items[name].check.setChecked(True)
    assert dialog.verify_button.text() == "Verify 3 ticked"
    dialog.verify_button.click()
    qtbot.waitUntil(lambda: dialog.task is None, timeout=20_000)
    assert len(boxes.confirms) == 1 and "0.1002 g" in boxes.confirms[0]  # one confirmation for the run

    saved = _saved(seed, returned)
    assert {n for n in critical if saved[n].verified_by == "op2"} == {"check_weight_reading", "sample_weight_1"}
    assert saved["sample_id"].verified_by == "qa"
    assert saved["sample_weight_2"].verified_at is None and saved["sample_weight_3"].verified_at is None
    assert [(name, code) for name, code, _ in dialog.last_result.refused] == [("sample_id", ErrorCode.NOT_ALLOWED_NOW)]
    assert "Sample ID / lot number" in dialog.error.text() and dialog.items["sample_id"].outcome.isVisible()
    assert "2 values verified" in dialog.done_label.text()
    assert not weight.check.isEnabled() and "Verified by op2" in weight.outcome.text()
    assert dialog.items["sample_weight_2"].check.isEnabled()  # unticked: still to verify
    assert "Verified by op2" in row(page, "sample_weight_1").flags_label.text()  # the form behind follows
    dialog.close()


@pytest.mark.compliance
def test_rc03_verify_by_snippets_is_offered_only_to_who_may_verify(qtbot, seed, ctx_for, returned) -> None:  # noqa: ANN001
    op2 = open_page(qtbot, ctx_for("op2"), returned)
    assert not op2.workspace.entry.snippets_button.isVisibleTo(op2)  # nothing entered: nothing to verify
    fill(seed, returned)
    own = open_page(qtbot, ctx_for("op"), returned)
    assert not own.workspace.entry.snippets_button.isVisibleTo(own)  # one's own values: never
    viewer = open_page(qtbot, ctx_for("viewer"), returned)
    assert not viewer.workspace.entry.snippets_button.isVisibleTo(viewer)
    other = open_page(qtbot, ctx_for("op2"), returned)
    assert other.workspace.entry.snippets_button.isVisibleTo(other)
