"""Templates page and editor: import, submit, QA approval by signature, reasons, reference print, editing with
the live preview."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from PySide6.QtPdf import QPdfDocument

from app.enums import SignatureMeaning, TemplateStatus
from app.forms.layout.layout import FieldType, dump_layout, load_layout
from app.services.core.error_codes import ErrorCode
from app.services.templates import templates
from app.ui.kit.reason import ReasonDialog
from app.ui.pages.templates.template_editor import TemplateEditor
from app.ui.pages.templates.template_model import TemplateTableModel
from app.ui.pages.templates.template_new import NewTemplateDialog
from app.ui.pages.templates.templates import TemplatesPage
from tests.helpers.forms import effective_template, sample_layout, sample_path
from tests.ui.helpers_issuance import answer_signature, pdf_pages, pdf_text

S = TemplateStatus


def _page(qtbot, ctx_for, name: str = "dc") -> TemplatesPage:  # noqa: ANN001
    page = TemplatesPage(ctx_for(name))
    qtbot.addWidget(page)
    page.show()
    return page


def _reason(qtbot, page: TemplatesPage, text: str, *, then_editor: bool = False) -> None:  # noqa: ANN001
    dialog = page.dialog
    assert isinstance(dialog, ReasonDialog)
    dialog.reason.setPlainText(text)
    dialog.action_button.click()
    if then_editor:  # a new draft opens in the editor
        qtbot.waitUntil(lambda: isinstance(page.dialog, TemplateEditor))
        return
    qtbot.waitUntil(lambda: page.dialog is None)


def _close(qtbot, page: TemplatesPage) -> None:  # noqa: ANN001
    editor = page.dialog
    assert isinstance(editor, TemplateEditor)
    qtbot.waitUntil(lambda: not editor.preview.busy, timeout=15_000)
    editor.close_button.click()
    qtbot.waitUntil(lambda: page.dialog is None)


def _editor(qtbot, page: TemplatesPage) -> TemplateEditor:  # noqa: ANN001
    page.open_editor()
    editor = page.dialog
    assert isinstance(editor, TemplateEditor)
    qtbot.waitUntil(lambda: editor.preview.document.status() == QPdfDocument.Status.Ready, timeout=15_000)
    return editor


def test_template_model_passes_the_model_tester(qtmodeltester, seed) -> None:  # noqa: ANN001
    effective_template(seed, "QC-WS-014")
    templates.import_layout(seed.db, seed.dc, sample_layout("PRD-LOG-007"), change_reason="CC-1")
    model = TemplateTableModel(templates.list_templates(seed.db, seed.dc))
    qtmodeltester.check(model)
    assert [model.data(model.index(r, 0)) for r in range(2)] == ["PRD-LOG-007", "QC-WS-014"]
    assert model.data(model.index(0, 2)) == "none"
    assert model.data(model.index(1, 2)).startswith("v1 since ")
    assert model.data(model.index(0, 3)) == "v1 · Draft"


def test_import_submit_and_approve_through_the_signature_dialog(qtbot, seed, ctx_for) -> None:  # noqa: ANN001
    page = _page(qtbot, ctx_for, "dc")
    page.import_file(sample_path("QC-WS-014"))  # the sample carries its change reason: no question asked
    assert page.selected().code == "QC-WS-014" and page.info.status is S.DRAFT
    assert "imported as a draft" in page.status_line.text()
    assert page.buttons["submit"].isEnabled() and page.buttons["edit"].isEnabled()
    assert "approve" not in page.buttons  # Document Control cannot approve

    page.buttons["submit"].click()
    assert page.info.status is S.IN_REVIEW
    assert not page.buttons["edit"].isEnabled() and not page.buttons["submit"].isEnabled()

    qa = _page(qtbot, ctx_for, "qa")
    qa.select("QC-WS-014")
    assert qa.buttons["approve"].isEnabled()
    seen: list[str] = []
    answer_signature(seen=seen)
    qa.buttons["approve"].click()
    assert "QC-WS-014 version 1" in seen[0] and qa.info.layout_sha256 in seen[0]
    assert qa.info.status is S.EFFECTIVE and qa.info.approved_by == "qa"
    assert "Quinn Müller (qa), Approved" in qa.fields["approval"].text()
    summary = templates.list_templates(seed.db, seed.qa)[0]
    assert summary.effective_version == 1
    assert [s.meaning for s in qa.info.signatures] == [SignatureMeaning.APPROVED]


def test_the_author_cannot_approve_their_own_version(qtbot, seed, ctx_for) -> None:  # noqa: ANN001
    templates.import_layout(seed.db, seed.qa, sample_layout("QC-WS-014"), change_reason="CC-1")
    templates.submit(seed.db, seed.qa, "QC-WS-014")
    page = _page(qtbot, ctx_for, "qa")
    assert page.info.status is S.IN_REVIEW
    assert not page.buttons["approve"].isEnabled()
    assert "never by its author" in page.buttons["approve"].toolTip()


def test_a_file_without_change_reason_asks_for_one(qtbot, seed, ctx_for, tmp_path: Path) -> None:  # noqa: ANN001
    path = tmp_path / "new.yaml"
    dump_layout(dataclasses.replace(sample_layout("PRD-LOG-007"), change_reason=None), path)
    page = _page(qtbot, ctx_for)
    page.import_file(path)
    assert isinstance(page.dialog, ReasonDialog)
    _reason(qtbot, page, "CC-2026-044: cleaning log for line 3")
    info = templates.get_version(seed.db, seed.dc, "PRD-LOG-007")
    assert info.change_reason == "CC-2026-044: cleaning log for line 3"
    assert page.selected().code == "PRD-LOG-007"


def test_an_invalid_file_is_refused_with_the_reason(qtbot, seed, ctx_for, boxes, tmp_path: Path) -> None:  # noqa: ANN001
    path = tmp_path / "broken.yaml"
    path.write_text(sample_path("QC-WS-014").read_text(encoding="utf-8").replace("type: checkbox", "type: tickbox",
                                                                                 1), encoding="utf-8")
    page = _page(qtbot, ctx_for)
    page.import_file(path)
    assert len(boxes.errors) == 1 and "tickbox" in boxes.errors[0] and "Nothing was imported" in boxes.errors[0]
    assert templates.list_templates(seed.db, seed.dc) == []


def test_return_to_draft_new_version_and_retire_need_reasons(qtbot, seed, ctx_for) -> None:  # noqa: ANN001
    effective_template(seed, "QC-WS-014")
    dc = _page(qtbot, ctx_for, "dc")
    dc.buttons["new"].click()
    _reason(qtbot, dc, "CC-2026-050: tighter limits", then_editor=True)
    assert dc.info.version == 2 and dc.info.status is S.DRAFT
    editor = dc.dialog
    assert isinstance(editor, TemplateEditor)  # the new version opens in the editor, editable
    assert (editor.info.version, editor.read_only) == (2, False)
    _close(qtbot, dc)
    templates.submit(seed.db, seed.dc, "QC-WS-014")

    qa = _page(qtbot, ctx_for, "qa")
    assert qa.info.version == 2 and qa.info.status is S.IN_REVIEW
    qa.buttons["return"].click()
    _reason(qtbot, qa, "limits do not match SOP-QC-005")
    assert qa.info.status is S.DRAFT

    qa.version_combo.setCurrentIndex(qa.version_combo.findData(1))
    assert qa.info.version == 1 and qa.info.status is S.EFFECTIVE
    qa.buttons["retire"].click()
    _reason(qtbot, qa, "CC-2026-060: replaced by QC-WS-020")
    assert templates.get_version(seed.db, seed.qa, "QC-WS-014", 1).status is S.RETIRED


def test_reference_print_and_export(qtbot, seed, ctx_for, tmp_path: Path) -> None:  # noqa: ANN001
    effective_template(seed, "QC-WS-014")
    page = _page(qtbot, ctx_for, "viewer")
    assert set(page.buttons) == {"preview", "export", "reference"}  # a viewer changes nothing
    out = page.reference_print(tmp_path / "ref.pdf")
    assert out is not None and pdf_pages(out) == 1
    assert "UNCONTROLLED COPY" in pdf_text(out)
    exported = page.export(tmp_path / "QC-WS-014-v1.yaml")
    assert load_layout(exported) == sample_layout("QC-WS-014")


def test_editor_adds_reorders_and_saves_with_a_live_preview(qtbot, seed, ctx_for) -> None:  # noqa: ANN001
    templates.import_layout(seed.db, seed.dc, sample_layout("QC-WS-014"), change_reason="CC-1")
    page = _page(qtbot, ctx_for)
    editor = _editor(qtbot, page)
    assert editor.preview.document.pageCount() == 1 and not editor.dirty
    count = len(editor.field_names())

    editor.select_field(count - 1)
    editor.add_field()
    assert editor.current_field() == count and editor.field_names()[-1] == "field_1"
    form = editor.field_editor
    form.name.setText("room_temperature")
    form.name.textEdited.emit("room_temperature")
    form.label.setText("Room temperature")
    form.label.textEdited.emit("Room temperature")
    form.type.setCurrentIndex(form.type.findData(FieldType.NUMBER.value))
    form.unit.setText("°C")
    form.unit.textEdited.emit("°C")
    editor.move_field(-1)
    assert editor.field_names()[-2:] == ["room_temperature", "comments"]
    assert editor.dirty and editor.state_label.text() == "Unsaved changes"

    editor.pages.setValue(2)
    form.page.setValue(2)  # the selected (new) field moves to page 2
    qtbot.waitUntil(lambda: not editor.preview.busy and editor.preview.pages == 2, timeout=15_000)
    qtbot.waitUntil(lambda: editor.preview.document.pageCount() == 2, timeout=15_000)

    editor.save_button.click()
    assert not editor.dirty and editor.state_label.text() == "All changes saved"
    stored = templates.get_version(seed.db, seed.dc, "QC-WS-014").layout
    assert stored.pages == 2
    field = stored.field("room_temperature")
    assert (field.type, field.unit, field.page) == (FieldType.NUMBER, "°C", 2)
    assert [f.name for f in stored.fields][-2:] == ["room_temperature", "comments"]
    editor.close_button.click()
    qtbot.waitUntil(lambda: page.dialog is None)


def test_editor_shows_errors_inline_and_loses_nothing(qtbot, seed, ctx_for, boxes) -> None:  # noqa: ANN001
    templates.import_layout(seed.db, seed.dc, sample_layout("QC-WS-014"), change_reason="CC-1")
    page = _page(qtbot, ctx_for)
    editor = _editor(qtbot, page)
    editor.select_field(2)
    form = editor.field_editor
    form.type.setCurrentIndex(form.type.findData(FieldType.CHOICE.value))
    form.choices.setPlainText("Level")  # one option is not a choice
    assert "field #3" in editor.error.text() and "at least 2 choices" in editor.error.text()
    editor.select_field(0)
    assert not editor.save()
    assert editor.current_field() == 2  # the save took the author to the field in error
    assert form.choices.toPlainText() == "Level" and editor.error.text().startswith("Not saved:")
    form.choices.setPlainText("Level\nNot level")
    assert not editor.error.isVisible()
    assert editor.save()
    assert templates.get_version(seed.db, seed.dc, "QC-WS-014").layout.fields[2].choices == ("Level", "Not level")
    editor.department.setText("QC")
    editor.department.textEdited.emit("QC")
    boxes.answer = False
    editor.close_button.click()  # unsaved changes: asked first, and the answer "no" keeps the editor open
    assert "Close without saving?" in boxes.confirms[-1] and editor.isVisible()
    boxes.answer = True
    editor.close_button.click()
    qtbot.waitUntil(lambda: page.dialog is None)
    assert templates.get_version(seed.db, seed.dc, "QC-WS-014").layout.department == "Quality Control"


def test_editor_submits_and_others_only_preview(qtbot, seed, ctx_for, boxes) -> None:  # noqa: ANN001
    templates.import_layout(seed.db, seed.dc, sample_layout("QC-WS-014"), change_reason="CC-1")
    qa = _page(qtbot, ctx_for, "qa")
    assert not qa.buttons["edit"].isEnabled()  # only the author edits a draft
    qa.open_preview()
    preview = qa.dialog
    assert isinstance(preview, TemplateEditor) and preview.read_only
    assert not preview.save_button.isVisible() and not preview.field_editor.name.isEnabled()
    preview.close_button.click()
    qtbot.waitUntil(lambda: qa.dialog is None)

    dc = _page(qtbot, ctx_for, "dc")
    editor = _editor(qtbot, dc)
    editor.title_edit.setText("Balance weighing worksheet (analytical)")
    editor.title_edit.textEdited.emit("x")
    editor.submit_button.click()
    qtbot.waitUntil(lambda: dc.dialog is None)
    info = templates.get_version(seed.db, seed.dc, "QC-WS-014")
    assert info.status is S.IN_REVIEW and info.title == "Balance weighing worksheet (analytical)"
    assert any("Submit QC-WS-014 version 1" in text for text in boxes.confirms)


def _new_template(qtbot, page: TemplatesPage, code: str) -> NewTemplateDialog:  # noqa: ANN001
    page.new_button.click()
    dialog = page.dialog
    assert isinstance(dialog, NewTemplateDialog)
    assert not dialog.create_button.isEnabled()  # nothing typed yet
    qtbot.keyClicks(dialog.code, code)
    dialog.title_edit.setText("pH meter calibration worksheet")
    dialog.department.setText("Quality Control")
    dialog.reason.setPlainText("CC-2026-031: new worksheet for the pH meter (SOP-QC-012)")
    assert dialog.create_button.isEnabled()
    return dialog


def test_new_template_opens_the_editor_on_its_version_1_draft(qtbot, seed, ctx_for) -> None:  # noqa: ANN001
    page = _page(qtbot, ctx_for, "dc")
    assert page.new_button.isVisibleTo(page)
    dialog = _new_template(qtbot, page, "QC-WS-021")
    dialog.create_button.click()
    qtbot.waitUntil(lambda: isinstance(page.dialog, TemplateEditor))
    editor = page.dialog
    assert isinstance(editor, TemplateEditor) and not editor.read_only
    assert (editor.info.code, editor.info.version, editor.info.status) == ("QC-WS-021", 1, S.DRAFT)
    assert editor.title_edit.text() == "pH meter calibration worksheet" and len(editor.field_names()) == 1
    qtbot.waitUntil(lambda: editor.preview.document.status() == QPdfDocument.Status.Ready, timeout=15_000)
    assert page.selected().code == "QC-WS-021" and "started as a draft" in page.status_line.text()

    editor.select_field(0)  # the author makes it a real form in the editor
    form = editor.field_editor
    form.label.setText("pH buffer 7.00 reading")
    form.label.textEdited.emit("pH buffer 7.00 reading")
    assert editor.save()
    stored = templates.get_version(seed.db, seed.dc, "QC-WS-021", 1)
    assert stored.status is S.DRAFT and stored.change_reason.startswith("CC-2026-031")
    assert stored.layout.fields[0].label == "pH buffer 7.00 reading"
    _close(qtbot, page)


def test_new_template_with_a_taken_code_is_refused_in_the_dialog(qtbot, seed, ctx_for) -> None:  # noqa: ANN001
    effective_template(seed, "QC-WS-014")
    page = _page(qtbot, ctx_for, "dc")
    dialog = _new_template(qtbot, page, "qc-ws-014")
    assert dialog.code.text() == "QC-WS-014"  # codes are capitals, as typed
    dialog.create_button.click()
    assert page.dialog is dialog and dialog.isVisible()  # refused: the dialog stays with everything typed
    assert dialog.error_code == ErrorCode.TEMPLATE_EXISTS
    assert dialog.error.isVisible() and "QC-WS-014" in dialog.error.text()
    assert dialog.title_edit.text() == "pH meter calibration worksheet" and dialog.reason.toPlainText()
    assert [t.code for t in templates.list_templates(seed.db, seed.dc)] == ["QC-WS-014"]

    dialog.code.setText("QC WS 21")
    dialog.create_button.click()
    assert dialog.error_code == ErrorCode.TEMPLATE_CODE_INVALID and page.dialog is dialog

    dialog.code.setText("QC-WS-021")
    dialog.create_button.click()
    qtbot.waitUntil(lambda: isinstance(page.dialog, TemplateEditor))
    assert page.dialog.info.label == "QC-WS-021@1"
    _close(qtbot, page)


def test_who_may_not_author_gets_no_new_template(qtbot, ctx_for) -> None:  # noqa: ANN001
    for name in ("viewer", "op"):
        page = _page(qtbot, ctx_for, name)
        assert not page.new_button.isVisibleTo(page) and not page.import_button.isVisibleTo(page)
    qa = _page(qtbot, ctx_for, "qa")  # QA authors too (and never approves its own version)
    assert qa.new_button.isVisibleTo(qa)
