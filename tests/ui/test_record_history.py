"""The history view of record values: every entry, superseded ones struck through, with who, when, why, source."""

from __future__ import annotations

from PySide6.QtCore import Qt

from app.services.records import records
from app.ui.pages.records.record_history import HistoryDialog, HistoryModel, field_rows
from tests.helpers.records import fill
from tests.ui.helpers_records import issued, open_page, return_sheet, row


def _corrected(seed):  # noqa: ANN001, ANN202
    form = issued(seed, copies=1)
    serial = form.serials[0]
    return_sheet(seed, form, serial)
    fill(seed, serial)
    records.correct_value(seed.db, seed.op, serial=serial, field="sample_weight_1", value="0.1003",
                          reason="Transcription error: 2 misread for 3", source_page=1)
    records.correct_value(seed.db, seed.op2, serial=serial, field="sample_weight_1", value="0.1004",
                          reason="Value confirmed with the performer: printout reads 0.1004", source_page=1)
    return serial, records.record_view(seed.db, seed.qa, serial)


def test_history_model_passes_the_model_tester(qtmodeltester, seed) -> None:  # noqa: ANN001
    _serial, view = _corrected(seed)
    model = HistoryModel(field_rows(view.fields), pages={s.scan_page_id: s.page_no for s in view.scans})
    qtmodeltester.check(model)
    assert model.rowCount() == len(view.fields) + 2


def test_rc01_superseded_values_are_struck_through_with_who_and_why(seed) -> None:  # noqa: ANN001
    _serial, view = _corrected(seed)
    field = view.field("sample_weight_1")
    model = HistoryModel(field_rows([field]), pages={s.scan_page_id: s.page_no for s in view.scans},
                         show_field=False)
    column = model.column_of
    values = [model.index(r, column("Value")).data() for r in range(model.rowCount())]
    assert values == ["0.1002 g", "0.1003 g", "0.1004 g"]
    struck = [bool(model.index(r, column("Value")).data(Qt.ItemDataRole.FontRole)
                   and model.index(r, column("Value")).data(Qt.ItemDataRole.FontRole).strikeOut())
              for r in range(3)]
    assert struck == [True, True, False]
    assert [model.index(r, column("Entered by")).data() for r in range(3)] == ["op", "op", "op2"]
    assert "superseded" in model.index(0, column("Why / notes")).data()
    assert model.index(2, column("Why / notes")).data() == \
        "Why: Value confirmed with the performer: printout reads 0.1004"
    assert model.index(2, column("Kind")).data() == "Correction"
    assert model.index(1, column("Source")).data() == "Scan, page 1"
    assert model.index(0, column("Source")).data() == "Direct entry"
    assert model.index(2, column("Verified by")).data() == "awaiting verification"
    assert model.index(0, 0).data(Qt.ItemDataRole.UserRole).superseded


def test_history_dialog_opens_from_the_field_beside_the_scan(qtbot, seed, ctx_for) -> None:  # noqa: ANN001
    serial, _view = _corrected(seed)
    page = open_page(qtbot, ctx_for("op"), serial)
    weight = row(page, "sample_weight_1")
    assert weight.history_button.text() == "History (3)"
    weight.history_button.click()
    dialog = page.workspace.dialog
    assert isinstance(dialog, HistoryDialog) and dialog.isVisible()
    assert not dialog.isModal()  # the scan and the form stay usable beside it
    assert dialog.model.rowCount() == 3
    dialog.close()
    assert page.workspace.dialog is None


def test_review_panel_lists_every_entry_of_the_record(qtbot, seed, ctx_for) -> None:  # noqa: ANN001
    serial, view = _corrected(seed)
    page = open_page(qtbot, ctx_for("qa"), serial)
    model = page.workspace.review.data_model
    assert model.rowCount() == len(view.fields) + 2
    assert "values changed after entry: 2" in page.workspace.review.facts_label.text()
