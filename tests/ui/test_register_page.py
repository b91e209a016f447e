"""Issuance register: the lazy, service-sorted model, filters, overdue highlighting, export."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from PySide6.QtCore import Qt

from app.enums import FormState
from app.services.issuance import register, replacement
from app.services.issuance.register import RegisterFilter
from app.ui.pages.issuance.register import RegisterPage
from app.ui.pages.issuance.register_model import OVERDUE_BACKGROUND, RegisterTableModel
from tests.helpers.forms import effective_template, issue
from tests.helpers.seed import PASSWORD
from tests.ui.conftest import assert_usable


def _page(qtbot, ctx_for, name: str = "dc", **kwargs) -> RegisterPage:  # noqa: ANN001
    page = RegisterPage(ctx_for(name), **kwargs)
    qtbot.addWidget(page)
    page.show()
    return page


def _model(seed, flt: RegisterFilter = RegisterFilter(), *, page_size: int = 200,  # noqa: ANN001, B008
           calls: list[tuple[str, bool, int, int]] | None = None) -> RegisterTableModel:
    def fetch(sort: str, descending: bool, offset: int, limit: int) -> list[register.RegisterRow]:
        if calls is not None:
            calls.append((sort, descending, offset, limit))
        return register.fetch_forms(seed.db, seed.viewer, flt, sort=sort, descending=descending, offset=offset,
                                    limit=limit)
    return RegisterTableModel(lambda: register.count_forms(seed.db, seed.viewer, flt), fetch, page_size=page_size)


def _serials(page_or_model) -> list[str]:  # noqa: ANN001
    model = getattr(page_or_model, "model", page_or_model)
    return [model.row_at(r).serial for r in range(model.rowCount())]


def test_register_model_passes_the_model_tester(qtmodeltester, seed) -> None:  # noqa: ANN001
    effective_template(seed, "QC-WS-014")
    issue(seed, "QC-WS-014", 5)
    model = _model(seed, page_size=3)
    model.fetchMore()
    qtmodeltester.check(model)
    model.fetch_all()
    qtmodeltester.check(model)
    assert model.rowCount() == 5
    assert [model.data(model.index(0, c)) for c in range(6)] == [
        "BSL-01-000005", "QC-WS-014@1", "5 of 5", "issued (out)", "2026-03-18", "Otto Operator"]


def test_the_model_loads_pages_lazily_and_sorts_in_the_database(seed) -> None:  # noqa: ANN001
    effective_template(seed, "QC-WS-014")
    issue(seed, "QC-WS-014", 25, purpose="Batch A")
    issue(seed, "QC-WS-014", 5, purpose="Batch B")
    calls: list[tuple[str, bool, int, int]] = []
    model = _model(seed, page_size=10, calls=calls)
    assert model.total == 30 and model.rowCount() == 0 and calls == []  # nothing read before the view asks
    model.fetchMore()
    assert model.rowCount() == 10 and calls == [("serial", True, 0, 10)]
    assert _serials(model)[:2] == ["000030", "000029"]  # newest first
    model.fetch_all()
    assert model.rowCount() == 30 and calls[1:] == [("serial", True, 10, 10), ("serial", True, 20, 10)]

    model.sort(6, Qt.SortOrder.AscendingOrder)  # purpose
    assert model.rowCount() == 0 and model.canFetchMore()
    model.fetchMore()
    assert calls[-1] == ("purpose", False, 0, 10)
    assert model.row_at(0).purpose == "Batch A"
    orders: list[tuple[int, Qt.SortOrder]] = []
    model.sorted_by.connect(lambda column, order: orders.append((column, order)))
    model.sort(2, Qt.SortOrder.DescendingOrder)  # "Copy" cannot be sorted by the service: refused
    assert orders == [(6, Qt.SortOrder.AscendingOrder)] and model.rowCount() == 10


def test_the_view_fetches_as_the_user_scrolls(qtbot, seed, ctx_for) -> None:  # noqa: ANN001
    effective_template(seed, "QC-WS-014")
    issue(seed, "QC-WS-014", 60)
    page = _page(qtbot, ctx_for, page_size=10)
    qtbot.waitUntil(lambda: page.model.loaded >= 10)
    assert page.model.loaded < 60 and "scroll down for more" in page.count_label.text()
    page.table.scrollToBottom()
    qtbot.waitUntil(lambda: page.model.loaded > 10)
    page.table.horizontalHeader().setSortIndicator(0, Qt.SortOrder.AscendingOrder)  # click on "Serial"
    qtbot.waitUntil(lambda: page.model.loaded > 0)
    assert page.model.row_at(0).serial == "000001"


def test_filters_state_overdue_template_person_and_text(qtbot, seed, ctx_for) -> None:  # noqa: ANN001
    effective_template(seed, "QC-WS-014")
    effective_template(seed, "PRD-LOG-007")
    today = seed.db.clock.now().date()
    issue(seed, "QC-WS-014", 3)  # 000001-000003, due in 14 days
    issue(seed, "PRD-LOG-007", 2, purpose="Cleaning of blender BL-02", reference="EQ BL-02",
          issued_to="Production area 2", due=today + dt.timedelta(days=1))  # 000004-000005
    replacement.replace_form(seed.db, seed.qa, serial="000002", reason="torn", username="qa",
                             password=PASSWORD)  # 000006
    seed.db.clock.advance(days=3)
    page = _page(qtbot, ctx_for, "viewer")
    assert page.model.total == 6 and "6 issued forms match · 2 overdue" in page.count_label.text()

    page.state_combo.setCurrentIndex(page.state_combo.findData(FormState.REPLACED))
    assert _serials(page) == ["000002"]
    page.state_combo.setCurrentIndex(page.state_combo.findData(FormState.ISSUED))
    assert _serials(page) == ["000006", "000005", "000004", "000003", "000001"]

    page.overdue_check.setChecked(True)
    assert _serials(page) == ["000005", "000004"]
    index = page.model.index(0, 0)
    assert page.model.data(index, Qt.ItemDataRole.BackgroundRole).color() == OVERDUE_BACKGROUND
    assert page.model.data(page.model.index(0, 3)) == "OVERDUE"
    page.clear_filter()
    assert page.model.total == 6
    assert page.model.data(page.model.index(0, 0), Qt.ItemDataRole.BackgroundRole) is None  # 000006 is not late

    page.template_combo.setCurrentIndex(page.template_combo.findData("PRD-LOG-007"))
    assert _serials(page) == ["000005", "000004"]
    page.clear_filter()
    page.person_edit.setText("area 2")
    page.person_edit.textEdited.emit("area 2")
    qtbot.waitUntil(lambda: page.model.total == 2)  # applied a moment after typing
    page.clear_filter()
    page.text_edit.setText("BL-02")
    page.apply_filter()
    assert _serials(page) == ["000005", "000004"]
    page.text_edit.setText("3")
    page.apply_filter()
    assert "000003" in _serials(page)


def test_selecting_a_form_shows_its_issuance_and_pdfs(qtbot, seed, ctx_for) -> None:  # noqa: ANN001
    effective_template(seed, "QC-WS-014")
    issue(seed, "QC-WS-014", 3)
    issue(seed, "QC-WS-014", 2, purpose="Batch 24-0200")
    page = _page(qtbot, ctx_for, "viewer")
    assert page.select("000002")
    assert "Serial BSL-01-000002:" in page.detail.text() and "copy 2 of 3" in page.detail.text()
    assert "BSL-01-000001 – BSL-01-000003 NOT PRINTED YET" in page.pdf_label.text()
    assert not page.release.print_button.isVisible()  # a viewer prints nothing
    assert not page.replace_button.isVisible()
    page.issuance_button.click()
    assert _serials(page) == ["000003", "000002", "000001"] and page.issuance_chip.isVisible()
    page.issuance_chip.click()
    assert page.model.total == 5


def test_export_to_csv(qtbot, seed, ctx_for, boxes, tmp_path: Path) -> None:  # noqa: ANN001
    effective_template(seed, "QC-WS-014")
    issue(seed, "QC-WS-014", 4)
    page = _page(qtbot, ctx_for)
    page.text_edit.setText("3")
    page.apply_filter()
    page.export(tmp_path / "register.csv")
    qtbot.waitUntil(lambda: page.task is None, timeout=15_000)
    assert_usable(page)
    with (tmp_path / "register.csv").open(encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][0] == "serial" and [r[0] for r in rows[1:]] == ["000003"]
    assert boxes.notices and "Exported 1 issued form to" in boxes.notices[-1].text


def test_named_views_for_other_pages(qtbot, seed, ctx_for) -> None:  # noqa: ANN001
    effective_template(seed, "QC-WS-014")
    issue(seed, "QC-WS-014", 2, due=seed.db.clock.now().date() + dt.timedelta(days=1))
    replacement.replace_form(seed.db, seed.qa, serial="000001", reason="torn", username="qa", password=PASSWORD)
    seed.db.clock.advance(days=2)
    page = _page(qtbot, ctx_for, "op")
    page.show_filter("outstanding")
    assert _serials(page) == ["000003", "000002"]
    page.show_filter("overdue")
    assert page.overdue_check.isChecked() and _serials(page) == ["000003", "000002"]
    page.show_filter("all")
    assert page.model.total == 3 and not page.overdue_check.isChecked()


def test_replace_is_offered_exactly_where_the_service_accepts_it(qtbot, seed, ctx_for) -> None:  # noqa: ANN001
    """QA replaces copies still out; the register asks the service's rule (may_replace), never the state."""
    import pytest

    from app.services.core.errors import DomainError
    from app.services.reconciliation import reconciliation
    effective_template(seed, "QC-WS-014")
    issue(seed, "QC-WS-014", 2)
    reconciliation.void_form(seed.db, seed.dc, serial="000001", reason="spoiled while filling")
    page = _page(qtbot, ctx_for, "qa")
    assert page.replace_button.isVisible()
    page.select("000002")
    assert page.replace_button.isEnabled()
    page.select("000001")
    assert not page.replace_button.isEnabled()
    with pytest.raises(DomainError):  # what the button withholds, the service refuses
        replacement.replace_form(seed.db, seed.qa, serial="000001", reason="torn", username="qa", password=PASSWORD)
    rows = {r.serial: r for r in register.fetch_forms(seed.db, seed.dc, RegisterFilter())}
    assert not rows["000002"].may_replace and "role" in (rows["000002"].why_not_replace or "")
    assert "voided" in (rows["000001"].why_not_replace or "")


def test_the_serial_column_shows_the_label_printed_on_the_paper(qtbot, seed, ctx_for) -> None:  # noqa: ANN001
    """Issue 14, item 5: each serial as its issuance printed it (a later format change renames nothing); the bare
    number and the label both still find the form."""
    from app.services.site import serial_format, settings
    effective_template(seed, "QC-WS-014")
    issue(seed, "QC-WS-014", 1)  # 000001 with the default format
    settings.change(seed.db, seed.admin, key=serial_format.KEY, value="{site}-{template}-{seq:06}",
                    reason="CC-2026-014 serial labels")
    issue(seed, "QC-WS-014", 2)  # 000002-000003
    replacement.replace_form(seed.db, seed.qa, serial="000003", reason="torn", username="qa",
                             password=PASSWORD)  # 000004, in the second issuance: its format
    page = _page(qtbot, ctx_for, "viewer")
    page.model.fetch_all()
    model = page.model
    shown = {model.row_at(r).serial: (model.data(model.index(r, 0)), model.data(model.index(r, 10)))
             for r in range(model.rowCount())}
    assert shown == {"000001": ("BSL-01-000001", ""), "000002": ("BSL-01-QC-WS-014-000002", ""),
                     "000003": ("BSL-01-QC-WS-014-000003", ""),
                     "000004": ("BSL-01-QC-WS-014-000004", "BSL-01-QC-WS-014-000003")}
    assert model.data(model.index(0, 0), Qt.ItemDataRole.ToolTipRole) == \
        "Replacement copy of serial BSL-01-QC-WS-014-000003."
    for typed in ("000002", "BSL-01-QC-WS-014-000002", "bsl-01-qc-ws-014-2"):
        page.text_edit.setText(typed)
        page.apply_filter()
        assert _serials(page) == ["000002"], typed
    assert page.select("000002") and "Serial BSL-01-QC-WS-014-000002:" in page.detail.text()
