"""Audit trail viewer: the lazily loading model (newest first, or oldest first on request), filters, the event
in words (issue 14, item 4), export (AT-07) and chain verification (AT-03)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from PySide6.QtCore import QDate

from app.enums import Role
from app.services.core import audit_chain
from app.services.identity import users
from app.services.reports import audit_log
from app.services.reports.audit_log import AuditFilter
from app.ui.pages.audit.audit import AuditPage
from app.ui.pages.audit.audit_model import AuditTableModel
from tests.helpers.seed import PASSWORD
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
    page.oldest_check.setChecked(True)
    page.model.fetchMore()
    page.table.selectRow(1)  # the set-up's first account: admin
    text = page.details.toPlainText()
    for needle in ("Event 2 · ", "Who: formtrail set-up (SYSTEM), at workstation TEST-WS-01", "Action: Created",
                   "What: User account Ada Admin (admin)", "Reason: first-run set-up", "User name: admin",
                   "Full name: Ada Admin", "Password: (secret: not recorded)", "Row hash: "):
        assert needle in text, needle
    assert "{" not in text and '":' not in text and "_" not in text.split("Row hash")[0]


def test_newest_first_by_default_and_oldest_first_on_request(qtbot, seed, ctx_for) -> None:  # noqa: ANN001
    total = audit_log.count_events(seed.db, seed.admin, AuditFilter())
    page = _page(qtbot, ctx_for, page_size=10)
    assert page.newest_first and not page.oldest_check.isChecked()
    page.model.fetchMore()
    page.model.fetchMore()
    assert [page.model.row_at(r).seq for r in range(20)] == list(range(total, total - 20, -1))  # pages join up
    page.oldest_check.setChecked(True)  # the toggle reads the trail again, in the order it happened
    page.model.fetchMore()
    page.model.fetchMore()
    assert [page.model.row_at(r).seq for r in range(20)] == list(range(1, 21))
    page.oldest_check.setChecked(False)
    page.model.fetchMore()
    assert page.model.row_at(0).seq == total


def test_newest_first_pages_stay_put_while_events_are_added(qtbot, seed, ctx_for) -> None:  # noqa: ANN001
    from app.services.identity import auth
    page = _page(qtbot, ctx_for, page_size=10)
    page.model.fetchMore()
    first = [page.model.row_at(r).seq for r in range(10)]
    auth.authenticate(seed.db, username="qa", password=PASSWORD)  # a new event on top meanwhile
    page.model.fetchMore()
    seqs = [page.model.row_at(r).seq for r in range(20)]
    assert seqs[:10] == first and seqs == list(range(first[0], first[0] - 20, -1))  # no row twice, none skipped
    page.apply_filter()
    page.model.fetchMore()
    assert page.model.row_at(0).seq == first[0] + 1  # read again: the new event is on top


def test_a_role_change_reads_as_labelled_old_and_new_values(qtbot, seed, ctx_for) -> None:  # noqa: ANN001
    users.set_roles(seed.db, seed.admin, username="op2", roles=[Role.QA], reason="moved to QA")
    page = _page(qtbot, ctx_for)
    _select(page.entity_combo, "role_grant")
    assert page.entity_combo.currentText() == "Role"  # the filter offers labels, not table names
    page.apply_filter()
    page.model.fetchMore()
    rows = [page.model.row_at(r) for r in range(page.model.rowCount())]
    assert {r.entity for r in rows} == {"role_grant"}
    cells = [[page.model.data(page.model.index(r, c)) for c in range(page.model.columnCount())] for r in range(3)]
    # newest first: the operator grant revoked (two fields), the QA grant created
    assert [c[4] for c in cells] == ["Changed", "Changed", "Created"]
    assert {c[5] for c in cells} == {"Role"} and cells[2][6] == "QA for Olga Operator (op2)"
    assert {c[6] for c in cells[:2]} == {"Operator for Olga Operator (op2)"}
    assert {c[7] for c in cells[:2]} == {"Revoked", "Revoked by"}
    revoked_by = next(r for r in range(2) if cells[r][7] == "Revoked by")
    assert cells[revoked_by][8:10] == ["(empty)", "Ada Admin (admin)"]
    page.table.selectRow(revoked_by)
    text = page.details.toPlainText()
    assert "What: Role Operator for Olga Operator (op2)" in text and "Reason: moved to QA" in text
    assert "Changes:\nRevoked by: (empty) → Ada Admin (admin)" in text
    page.table.selectRow(2)
    text = page.details.toPlainText()
    assert "Recorded:\nRole: QA\nUser: Olga Operator (op2)\n" in text and "Granted by: Ada Admin (admin)" in text
    assert not any(word in text for word in ("role_grant", "revoked_by", "user_id", "{", '":'))


def test_the_details_pane_is_tall_and_resizable(qtbot, ctx_for) -> None:  # noqa: ANN001
    page = _page(qtbot, ctx_for)
    page.resize(1200, 900)
    qtbot.waitUntil(lambda: page.details.height() > 0)
    lines = page.details.height() / page.details.fontMetrics().lineSpacing()
    assert lines >= 8  # not a 5-line slot
    assert not page.splitter.childrenCollapsible()
    table, details = page.splitter.sizes()
    page.splitter.moveSplitter(table - 150, 1)  # the user drags the bar up: the pane grows
    assert page.splitter.sizes()[1] > details


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
