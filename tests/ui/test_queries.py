"""Reads off the GUI thread and "the data changed" (issue 13, item 3): run_query delivers only the latest answer,
never to a closed page; run_op announces what it changed; a page on screen reloads, a hidden one waits."""

from __future__ import annotations

import threading

from PySide6.QtWidgets import QApplication, QWidget

from app.services.reconciliation import reconciliation
from app.ui.kit import data_events, operations
from app.ui.kit.data_events import Topic
from app.ui.pages.reconciliation.reconcile import ReconcilePage
from tests.ui.conftest import settle
from tests.ui.helpers_scans import five_issued


def _widget(qtbot, *, shown: bool = True) -> QWidget:  # noqa: ANN001
    widget = QWidget()
    qtbot.addWidget(widget)
    if shown:
        widget.show()
    return widget


def test_only_the_latest_query_of_a_key_delivers(qtbot) -> None:  # noqa: ANN001
    owner = _widget(qtbot)
    gate = threading.Event()
    got: list[str] = []

    def slow() -> str:
        gate.wait(10)
        return "old"
    operations.run_query(owner, slow, on_done=got.append, key="list")
    operations.run_query(owner, lambda: "new", on_done=got.append, key="list")
    qtbot.waitUntil(lambda: got == ["new"], timeout=5_000)
    gate.set()
    settle(qtbot)
    assert got == ["new"]  # the older answer, arriving last, was dropped
    operations.run_query(owner, lambda: "other key", on_done=got.append, key="detail")
    settle(qtbot)
    assert got == ["new", "other key"]


def test_a_closed_page_gets_nothing(qtbot) -> None:  # noqa: ANN001
    owner = QWidget()
    gate = threading.Event()
    got: list[object] = []
    operations.run_query(owner, lambda: gate.wait(10), on_done=got.append, on_failed=got.append)
    owner.deleteLater()
    QApplication.sendPostedEvents(None, 0)
    qtbot.waitUntil(lambda: not _alive(owner), timeout=5_000)
    gate.set()
    settle(qtbot)
    assert got == []


def _alive(widget: QWidget) -> bool:
    from shiboken6 import isValid
    return isValid(widget)


def test_a_failed_query_reports_to_its_page(qtbot, boxes) -> None:  # noqa: ANN001
    owner = _widget(qtbot)

    def broken() -> None:
        raise OSError("the share went away")
    operations.run_query(owner, broken, on_done=lambda _r: None)
    settle(qtbot)
    assert any("the share went away" in text for text in boxes.errors)


def test_an_act_announces_what_it_changed_and_only_pages_on_screen_reload(qtbot) -> None:  # noqa: ANN001
    shown, hidden, other = _widget(qtbot), _widget(qtbot, shown=False), _widget(qtbot)
    reloads: list[str] = []
    data_events.listen(shown, {Topic.SCANS}, lambda: reloads.append("shown"))
    data_events.listen(hidden, {Topic.SCANS}, lambda: reloads.append("hidden"))
    data_events.listen(other, {Topic.USERS}, lambda: reloads.append("other"))

    def failing(progress, cancelled) -> None:  # noqa: ANN001
        raise OSError("disk full half way")  # a batch that failed may still have committed part of its work
    task = operations.run_op(shown, failing, title="Import", label="Importing…", changes={Topic.SCANS},
                             on_failed=lambda exc: None)
    qtbot.waitUntil(lambda: not task.running, timeout=5_000)
    qtbot.waitUntil(lambda: reloads == ["shown"], timeout=5_000)
    operations.run_op(shown, lambda p, c: None, title="Nothing", label="…")  # no changes: nobody reloads
    settle(qtbot)
    assert reloads == ["shown"]


def test_the_issuance_list_is_read_off_the_gui_thread(qtbot, seed, ctx_for, monkeypatch) -> None:  # noqa: ANN001
    issued = five_issued(seed, copies=1)
    gate, reader = threading.Event(), []
    real = reconciliation.list_issuances

    def slow_list(db, actor):  # noqa: ANN001, ANN202
        reader.append(threading.current_thread() is threading.main_thread())
        gate.wait(10)
        return real(db, actor)
    monkeypatch.setattr(reconciliation, "list_issuances", slow_list)
    page = ReconcilePage(ctx_for("qa"))  # returns at once: the list is still being read
    qtbot.addWidget(page)
    page.show()
    assert page.list_count.text() == "Reading issuances…" and page.issuance_model.rowCount() == 0
    QApplication.processEvents()  # the GUI keeps answering meanwhile
    gate.set()
    settle(qtbot)
    assert reader and not any(reader)  # never read on the GUI thread
    assert page.selected_issuance().issuance_id == issued.issuance_id
    assert page.view is not None and page.view.issuance_id == issued.issuance_id


def test_an_older_query_never_passes_for_a_newer_one_after_the_newest_answered(qtbot) -> None:  # noqa: ANN001
    """Read A is slow; B starts and answers; C starts: A, ending before C, must not be shown (it is older)."""
    owner = _widget(qtbot)
    gate_a, gate_c = threading.Event(), threading.Event()
    got: list[str] = []
    operations.run_query(owner, lambda: gate_a.wait(10) and "A", on_done=got.append, key="list")
    operations.run_query(owner, lambda: "B", on_done=got.append, key="list")
    qtbot.waitUntil(lambda: got == ["B"], timeout=5_000)
    operations.run_query(owner, lambda: gate_c.wait(10) and "C", on_done=got.append, key="list")
    gate_a.set()
    qtbot.wait(200)  # A has ended meanwhile
    gate_c.set()
    settle(qtbot)
    assert got == ["B", "C"]
