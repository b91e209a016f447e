"""Audit trail viewer: the lazily loading model, filters, export (AT-07) and chain verification (AT-03)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from PySide6.QtCore import QDate

from app.services.core import audit_chain
from app.services.reports import audit_log
from app.services.reports.audit_log import AuditFilter
from app.ui.pages.audit.audit import AuditPage
from app.ui.pages.audit.audit_model import AuditTableModel
from tests.ui.conftest import assert_usable

# WORKAROUND: audit_log.filter_choices uses column-level distinct(), which SQLAlchemy warns about and the
# project's pytest settings turn into an error; the fix (select(column).distinct()) is asked of the services.


def _page(qtbot, ctx_for, *, page_size: int = 200) -> AuditPage:  # noqa: ANN001
    page = AuditPage(ctx_for("admin"), page_size=page_size)
    qtbot.addWidget(page)
    page.show()
    return page


def _select(combo, value: str) -> None:  # noqa: ANN001
    index = combo.findData(value)
    assert index >= 0, f"{value!r} is not offered"
    combo.setCurrentIndex(index)


def test_audit_model_passes_the_model_tester(qtmodeltester, seed) -> None:  # noqa: ANN001
    flt = AuditFilter()
    model = AuditTableModel(lambda: audit_log.count_events(seed.db, seed.admin, flt),
                            lambda offset, limit: audit_log.fetch_events(seed.db, seed.admin, flt, offset=offset,
                                                                         limit=limit),
                            page_size=10)
    model.fetchMore()
    qtmodeltester.check(model)
    assert model.rowCount() >= 10
    assert model.data(model.index(0, 0)) == "1"
    assert model.data(model.index(0, 2)) == "formtrail set-up (SYSTEM)"
    assert "(UTC" in model.data(model.index(0, 1))


def test_model_loads_pages_lazily(seed) -> None:  # noqa: ANN001
    calls: list[tuple[int, int]] = []
    flt = AuditFilter()

    def fetch(offset: int, limit: int) -> list[audit_log.AuditEventView]:
        calls.append((offset, limit))
        return audit_log.fetch_events(seed.db, seed.admin, flt, offset=offset, limit=limit)
    model = AuditTableModel(lambda: audit_log.count_events(seed.db, seed.admin, flt), fetch, page_size=20)
    total = model.total
    assert total > 40  # the seeded site has more events than two pages
    assert model.rowCount() == 0 and model.canFetchMore() and calls == []
    model.fetchMore()
    assert model.rowCount() == 20 and calls == [(0, 20)]
    model.fetch_all()
    assert model.rowCount() == total and not model.canFetchMore()
    assert calls[1] == (20, 20) and len(calls) == -(-total // 20)
    assert [model.row_at(r).seq for r in range(total)] == list(range(1, total + 1))


def test_view_fetches_as_needed(qtbot, ctx_for) -> None:  # noqa: ANN001
    page = _page(qtbot, ctx_for, page_size=10)
    qtbot.waitUntil(lambda: page.model.loaded >= 10)
    assert page.model.loaded < page.model.total
    assert "scroll down for more" in page.count_label.text()
    page.table.scrollToBottom()
    qtbot.waitUntil(lambda: page.model.loaded > 10)


def test_filter_by_action_narrows_the_rows(qtbot, seed, ctx_for) -> None:  # noqa: ANN001
    page = _page(qtbot, ctx_for)
    everything = page.model.total
    _select(page.action_combo, "LOGIN_SUCCESS")
    page.apply_filter()
    page.model.fetch_all()
    logins = audit_log.count_events(seed.db, seed.admin, AuditFilter(action="LOGIN_SUCCESS"))
    assert 0 < page.model.total == logins < everything
    assert {page.model.row_at(r).action for r in range(page.model.rowCount())} == {"LOGIN_SUCCESS"}
    assert page.count_label.text().startswith(f"{logins} events match")
    page.clear_filter()
    assert page.model.total == everything


def test_filter_by_user_entity_text_and_dates(qtbot, seed, ctx_for) -> None:  # noqa: ANN001
    page = _page(qtbot, ctx_for)
    _select(page.user_combo, "dc")
    _select(page.entity_combo, "user")
    page.apply_filter()
    page.model.fetch_all()
    rows = [page.model.row_at(r) for r in range(page.model.rowCount())]
    assert rows and all(e.username == "dc" and e.entity == "user" for e in rows)
    page.clear_filter()
    page.text_edit.setText("Quinn Müller")
    page.apply_filter()
    assert page.model.total >= 1
    page.clear_filter()
    day = QDate(2026, 3, 4)  # the test clock's day (13:07 UTC)
    page.since_check.setChecked(True)
    page.since_date.setDate(day.addDays(1))
    page.apply_filter()
    assert page.model.total == 0
    page.since_date.setDate(day)
    page.until_check.setChecked(True)
    page.until_date.setDate(day)  # both days included
    page.apply_filter()
    assert page.model.total == audit_log.count_events(seed.db, seed.admin, AuditFilter())


def test_selecting_a_row_shows_the_whole_event(qtbot, ctx_for) -> None:  # noqa: ANN001
    page = _page(qtbot, ctx_for)
    page.model.fetchMore()
    page.table.selectRow(1)
    text = page.details.toPlainText()
    assert "Action: CREATE" in text and "Entity id: admin" in text and "Row hash: " in text


def test_at07_export_csv_is_recorded(qtbot, seed, ctx_for, boxes, trail, tmp_path: Path,  # noqa: ANN001
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    page = _page(qtbot, ctx_for)
    _select(page.action_combo, "LOGIN_SUCCESS")
    page.apply_filter()
    out = tmp_path / "trail.csv"
    monkeypatch.setattr(page, "_ask_export_path", lambda: (out, "csv"))
    page.export()
    qtbot.waitUntil(lambda: bool(boxes.notices or boxes.errors))
    assert boxes.errors == []
    assert_usable(page)
    with out.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == audit_log.count_events(seed.db, seed.admin, AuditFilter(action="LOGIN_SUCCESS"))
    assert {r["action"] for r in rows} == {"LOGIN_SUCCESS"}
    (export,) = trail(action="EXPORT")
    assert export.username == "admin" and '"format":"csv"' in export.new_value.replace(" ", "")
    assert boxes.notices[0].path.name == "trail.csv"


def test_export_cancelled_in_the_file_dialog_does_nothing(qtbot, ctx_for, trail,  # noqa: ANN001
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    page = _page(qtbot, ctx_for)
    monkeypatch.setattr(page, "_ask_export_path", lambda: None)
    page.export()
    assert page.task is None and trail(action="EXPORT") == []


def test_export_hidden_without_the_export_permission(qtbot, ctx_for) -> None:  # noqa: ANN001
    page = AuditPage(ctx_for("dc"))  # Document Control may read the trail but not export it
    qtbot.addWidget(page)
    assert page.export_button.isHidden()


def test_at03_verify_everything_reports_the_head(qtbot, seed, ctx_for) -> None:  # noqa: ANN001
    page = _page(qtbot, ctx_for)
    page.verify()
    qtbot.waitUntil(lambda: page.task is None, timeout=30_000)
    assert_usable(page)
    assert "Everything verifies" in page.chain_label.text()
    checked = page.chain_label.text().split("chain head ")[1].split(")")[0]
    assert audit_chain.verify_chain(seed.db, anchors=(audit_chain.parse_anchor(checked),)).ok


def test_at03_verify_everything_names_a_row_changed_behind_the_trail(qtbot, seed, ctx_for) -> None:  # noqa: ANN001
    from sqlalchemy import text
    with seed.db.engine.begin() as conn:  # an insider edits the file: triggers dropped, one row rewritten
        conn.execute(text("DROP TRIGGER trg_audit_event_no_update"))
        conn.execute(text("UPDATE audit_event SET reason = 'nothing to see' WHERE seq = 7"))
    page = _page(qtbot, ctx_for)
    page.verify()
    qtbot.waitUntil(lambda: page.task is None, timeout=30_000)
    assert_usable(page)
    assert "INTEGRITY CHECK FAILED" in page.chain_label.text() and "audit row 7" in page.chain_label.text()
    assert page.chain_label.property("role") == "error"
