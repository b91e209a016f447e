"""Open every page of the main window for every role on a given screen and report what does not fit.

Run in a process of its own (the screen is fixed when Qt starts)::

    QT_QPA_PLATFORM=offscreen:configfile=SCREEN.json QT_SCALE_FACTOR=2 \
        python -m tests.helpers.layout_probe OUT_DIR [--shots]

SCREEN.json describes one offscreen screen (its physical size), QT_SCALE_FACTOR the display scaling: e.g.
2560×1440 at 200 % is a 1280×720 logical screen whose windows paint at a device pixel ratio of 2.
Writes OUT_DIR/report.json: the screen, and per role and page the problems found — a window larger than the
screen, a widget squeezed below its minimum size, a button or a one-line label whose text is cut, widgets of one
layout that overlap. With --shots, OUT_DIR/<role>-<page>.png is a screenshot of the window at that page.
"""

from __future__ import annotations

import itertools
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from PySide6.QtCore import QRect
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QLabel,
    QTabBar,
    QTabWidget,
    QWidget,
)

ROLES = ("dc", "qa", "op", "admin")


def demo_site(home: Path):  # noqa: ANN201 - (Database, Seed, a serial with a record in progress)
    """A site with work on every page: issued forms, returned scans, an exception, a record in progress."""
    from app.runtime import RuntimeConfig, open_database
    from app.services.scans import intake
    from tests.helpers.records import fill
    from tests.helpers.seed import seed_site
    from tests.ui.helpers_scans import five_issued, scanned_back

    db = open_database(RuntimeConfig(home=home, db_url=f"sqlite:///{home / 'formtrail.db'}", workstation="WS-07",
                                     hasher_profile="fast"))
    seed = seed_site(db)
    issued = five_issued(seed)
    returned = scanned_back(seed, home / "in", issued, filled=True)
    intake.import_files(db, seed.op, returned.files)
    fill(seed, issued.serials[0])
    return db, seed, issued.serials[0]


def _visible(widget: QWidget) -> bool:
    return widget.isVisible() and widget.width() > 0 and widget.height() > 0


def _name(widget: QWidget) -> str:
    text = ""
    if isinstance(widget, (QAbstractButton, QLabel)):
        text = widget.text().replace("\n", " ")[:50]
    return f"{type(widget).__name__}({widget.objectName() or text!r})"


def problems(window: QWidget) -> list[str]:
    found: list[str] = []
    screen = window.screen().availableGeometry()
    frame = window.frameGeometry()
    if frame.width() > screen.width() or frame.height() > screen.height():
        found.append(f"window {frame.width()}×{frame.height()} larger than the screen {screen.width()}×"
                     f"{screen.height()}")
    for widget in window.findChildren(QWidget):
        if not _visible(widget) or widget.window() is not window:
            continue
        layout = widget.layout()
        if layout is not None:
            need = widget.minimumSizeHint()
            if widget.width() + 1 < need.width() or widget.height() + 1 < need.height():
                found.append(f"{_name(widget)} squeezed to {widget.width()}×{widget.height()}, needs "
                             f"{need.width()}×{need.height()}")
            items = [layout.itemAt(i).widget() for i in range(layout.count())]
            boxes = [(w, w.geometry()) for w in items if w is not None and _visible(w)]
            for (a, ra), (b, rb) in itertools.combinations(boxes, 2):
                overlap: QRect = ra.intersected(rb)
                if overlap.width() > 1 and overlap.height() > 1:
                    found.append(f"{_name(a)} overlaps {_name(b)}")
        if isinstance(widget, QAbstractButton) and widget.text() and not isinstance(widget.parentWidget(), QTabBar):
            if widget.width() + 1 < widget.sizeHint().width():
                found.append(f"{_name(widget)} cut: {widget.width()} px wide, needs {widget.sizeHint().width()}")
        elif isinstance(widget, QLabel) and widget.text() and not widget.wordWrap() and widget.pixmap().isNull():
            if widget.width() + 1 < widget.sizeHint().width():
                found.append(f"{_name(widget)} cut: {widget.width()} px wide, needs {widget.sizeHint().width()}")
    return found


def page_fits(window: QWidget) -> list[str]:
    """A page may scroll down (Home is long) but never sideways: what is off to the right is not seen."""
    page = window.current_page()
    area = page.parentWidget().parentWidget() if page is not None else None
    if page is None or area is None:
        return []
    need, have = page.minimumSizeHint().width(), area.viewport().width()
    return [f"page needs {need} px wide, the window gives it {have}: it scrolls sideways"] if need > have else []


def _views(window: QWidget, key: str, serial: str) -> Iterator[str]:
    """Each view of the current page: every tab of a tabbed page, a record opened on the Records page."""
    page = window.current_page()
    tabs = page.findChild(QTabWidget) if page is not None else None
    if key == "records":
        yield key
        if page.open_record(serial):
            tabs = page.findChild(QTabWidget)
            for index in range(tabs.count() if tabs is not None else 0):
                tabs.setCurrentIndex(index)
                yield f"record-tab{index + 1}"
        return
    if tabs is None or tabs.parentWidget() is not page:
        yield key
        return
    for index in range(tabs.count()):
        tabs.setCurrentIndex(index)
        yield f"{key}-tab{index + 1}"


def main(argv: list[str]) -> int:
    out = Path(argv[0])
    shots = "--shots" in argv
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("FORMTRAIL_HASH_PROFILE", "fast")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    from app.services.site import setup
    from app.ui.kit import style, workers
    from app.ui.kit import ui_state
    from app.ui.shell.main_window import MainWindow
    style.apply(app)
    ui_state.use_folder(out)
    report: dict = {"screen": None, "pages": {}}
    with tempfile.TemporaryDirectory() as tmp:
        db, seed, serial = demo_site(Path(tmp))
        site = setup.site_info(db)
        for role in ROLES:
            window = MainWindow(db, seed.actors[role], site)
            window.show()
            screen = window.screen()
            report["screen"] = {"logical": [screen.availableGeometry().width(), screen.availableGeometry().height()],
                                "dpr": window.devicePixelRatio()}
            for key in window.nav_keys():
                window.navigate(key)
                for _ in range(3):
                    workers.wait_for_all(20_000)
                    app.processEvents()
                for view in _views(window, key, serial):
                    for _ in range(3):
                        workers.wait_for_all(20_000)
                        app.processEvents()
                    report["pages"][f"{role}/{view}"] = page_fits(window) + problems(window)
                    if shots:
                        window.grab().save(str(out / f"{role}-{view}.png"))
            window.log_out()
            workers.wait_for_all(20_000)
        db.engine.dispose()
    (out / "report.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
