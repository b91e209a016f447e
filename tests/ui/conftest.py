"""Fixtures for the desktop tests: message boxes recorded instead of shown, pages and windows for a seeded site."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator

import pytest
import pytestqt.qtbot
from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtWidgets import QApplication, QProgressDialog, QWidget
from shiboken6 import isValid

from app.services.reports import audit_log
from app.services.reports.audit_log import AuditFilter
from app.services.site import setup
from app.services.site.setup import SiteInfo
from app.ui.kit import messages, operations, workers
from app.ui.pages.registry import PageContext
from app.ui.kit import ui_state
from app.ui.shell import gui_gc
from app.ui.shell.main_window import MainWindow
from tests.helpers.seed import Seed


@dataclasses.dataclass
class Boxes:
    """What the message boxes would have shown; ``answer`` is what confirmations reply."""

    errors: list[str] = dataclasses.field(default_factory=list)
    infos: list[str] = dataclasses.field(default_factory=list)
    confirms: list[str] = dataclasses.field(default_factory=list)
    answer: bool = True
    take_offer: bool = False  # whether an error's offered action ("Check this workstation…") is chosen

    @property
    def notices(self) -> list[operations.Notice]:
        """What went to the status bar instead of a box (app.ui.kit.operations.notify), oldest first."""
        return list(operations.HISTORY)


@pytest.fixture(scope="session", autouse=True)
def collect_on_the_gui_thread(qapp: QApplication) -> None:
    """As in the application (app.ui.shell.launch): cycles are collected on the GUI thread only."""
    gui_gc.install(qapp)


@pytest.fixture(autouse=True)
def boxes(monkeypatch: pytest.MonkeyPatch) -> Iterator[Boxes]:
    """Modal message boxes would block a test: record them instead (every UI test gets this)."""
    recorded = Boxes()
    operations.HISTORY.clear()
    # Every background operation shows its progress window at once, as a slow one would on a user's machine.
    monkeypatch.setattr(operations, "SHOW_AFTER_MS", 0)
    monkeypatch.setattr(messages, "error", lambda parent, text, **kw: recorded.errors.append(text))
    monkeypatch.setattr(messages, "warning", lambda parent, text, **kw: recorded.errors.append(text))
    monkeypatch.setattr(messages, "info", lambda parent, text, **kw: recorded.infos.append(text))

    def error_offering(parent: object, text: str, **kw: object) -> bool:
        recorded.errors.append(text)
        return recorded.take_offer
    monkeypatch.setattr(messages, "error_offering", error_offering)

    def confirm(parent: object, text: str, **kw: object) -> bool:
        recorded.confirms.append(text)
        return recorded.answer
    monkeypatch.setattr(messages, "confirm", confirm)
    yield recorded
    assert workers.wait_for_all(10_000), "background work still running at the end of the test"


@pytest.fixture(autouse=True)
def plain_look(qapp) -> Iterator[None]:  # noqa: ANN001
    """A test that starts the real application (launch.main) applies its stylesheet to the one QApplication of
    the worker: taken off afterwards, so the tests after it measure the same widgets (it cost two rows of the
    record entry, and a layout test failed only when it ran after such a test)."""
    yield
    if qapp.styleSheet():
        qapp.setStyleSheet("")


@pytest.fixture(autouse=True)
def ui_state_in_tmp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Window geometry is remembered in a folder of the test's, never in the user's configuration."""
    ui_state.use_folder(tmp_path_factory.mktemp("ui-state"))
    yield
    ui_state.use_folder(None)


@pytest.fixture(autouse=True)
def widgets_die_in_qt(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """pytest-qt holds the widgets of ``qtbot.addWidget`` weakly, so a page was deleted by Python the moment
    the test function returned, with Qt events still pending for its dialogs: the "shared QObject was deleted
    directly" crash of whole test workers. Here they stay referenced until pytest-qt has closed them and Qt
    has deleted them, as in the application (app/ui/kit/dialogs.py)."""
    kept: list[QWidget] = []
    original = pytestqt.qtbot._add_widget

    def add_widget(item: pytest.Item, widget: QWidget, **kwargs: object) -> None:
        kept.append(widget)
        original(item, widget, **kwargs)
    monkeypatch.setattr(pytestqt.qtbot, "_add_widget", add_widget)
    yield
    for widget in kept:  # pytest-qt closed them before this teardown, and asked Qt to delete them
        if isValid(widget):
            widget.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    kept.clear()


@pytest.fixture
def site(seed: Seed) -> SiteInfo:
    info = setup.site_info(seed.db)
    assert info is not None
    return info


@pytest.fixture
def ctx_for(seed: Seed, site: SiteInfo) -> Callable[[str], PageContext]:
    """The page context a page of the main window would get, for one of the seeded users."""
    return lambda name: PageContext(db=seed.db, actor=seed.actors[name], site=site)


@pytest.fixture
def open_window(qtbot, seed: Seed, site: SiteInfo) -> Iterator[Callable[..., MainWindow]]:  # noqa: ANN001
    windows: list[MainWindow] = []

    def make(name: str, **kwargs: object) -> MainWindow:
        window = MainWindow(seed.db, seed.actors[name], site, **kwargs)
        qtbot.addWidget(window)
        window.show()
        windows.append(window)
        return window
    yield make
    for window in windows:
        window.log_out()
    workers.wait_for_all()


@pytest.fixture
def trail(seed: Seed) -> Callable[..., list[audit_log.AuditEventView]]:
    """``trail(action="LOCKOUT")``: the audit events matching a filter, read through the service."""
    return lambda **flt: audit_log.fetch_events(seed.db, seed.admin, AuditFilter(**flt), limit=10_000)


def settle(qtbot) -> None:  # noqa: ANN001 - pytest-qt's qtbot
    """Wait until every background read has delivered: pages read their lists and views with run_query, so
    what a test asserts next is on screen only after this (as a user sees it a moment after the click)."""
    qtbot.waitUntil(lambda: operations.queries_in_flight() == 0, timeout=20_000)


def assert_usable(widget: QWidget) -> None:
    """After a background operation: no progress window left (deleted, so none can come back later), no modal
    dialog open over the widget's window, and that window takes input."""
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    QApplication.processEvents()
    left = [w for w in QApplication.topLevelWidgets() if isinstance(w, QProgressDialog) and isValid(w)]
    assert left == [], f"progress windows left: {[w.windowTitle() for w in left]}"
    modal = QApplication.activeModalWidget()
    assert modal is None or modal is widget.window(), modal.windowTitle()  # the page's own dialog may stay
    assert widget.window().isEnabled() and not QApplication.overrideCursor()
