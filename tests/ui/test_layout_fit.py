"""Every page fits the screen: at 1280×720, at 200 % (2560×1440 physical) and at 150 % on a 1600×1000 screen
(1067×667 logical), no window larger than the screen, no page scrolling sideways, no button or one-line label
cut, no widget squeezed below its minimum, no widgets of one layout overlapping. Each screen is a real Qt
offscreen screen with that size and device pixel ratio, in a process of its own (tests/helpers/layout_probe.py);
every role opens every page, every tab and a record."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtWidgets import QWidget

from app.ui.kit import ui_state
from app.ui.shell.main_window import MainWindow

ROOT = Path(__file__).resolve().parents[2]
SCREENS = {  # name: physical width, height, scaling
    "1280x720": (1280, 720, 1.0),
    "2560x1440 at 200 %": (2560, 1440, 2.0),
    "1600x1000 at 150 %": (1600, 1000, 1.5),
}


def probe_env(config: Path, width: int, height: int, scale: float) -> dict[str, str]:
    """An offscreen screen of ``width``×``height`` physical pixels, scaled as a user's display setting would."""
    config.write_text(json.dumps({"screens": [{"name": "probe", "x": 0, "y": 0, "width": width, "height": height,
                                               "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}))
    return {**os.environ, "QT_QPA_PLATFORM": f"offscreen:configfile={config}", "QT_SCALE_FACTOR": str(scale),
            "FORMTRAIL_HASH_PROFILE": "fast"}


def probe(tmp_path: Path, width: int, height: int, scale: float) -> dict:
    env = probe_env(tmp_path / "screen.json", width, height, scale)
    out = tmp_path / "probe"
    result = subprocess.run([sys.executable, "-m", "tests.helpers.layout_probe", str(out)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads((out / "report.json").read_text())


@pytest.mark.slow
@pytest.mark.parametrize("screen", list(SCREENS))
def test_every_page_fits(tmp_path: Path, screen: str) -> None:
    width, height, scale = SCREENS[screen]
    report = probe(tmp_path, width, height, scale)
    assert report["screen"] == {"logical": [round(width / scale), round(height / scale)], "dpr": scale}
    assert len(report["pages"]) >= 25  # every role's pages, tabs and an open record were looked at
    problems = {page: found for page, found in report["pages"].items() if found}
    assert problems == {}


def test_the_probe_finds_a_window_too_large_and_a_cut_button(qtbot) -> None:  # noqa: ANN001
    from PySide6.QtWidgets import QHBoxLayout, QPushButton, QWidget

    from tests.helpers.layout_probe import problems
    window = QWidget()
    qtbot.addWidget(window)
    row = QHBoxLayout(window)
    button = QPushButton("A button whose words need room")
    button.setFixedWidth(40)
    row.addWidget(button)
    available = window.screen().availableGeometry()
    window.setFixedSize(available.width() + 50, 100)
    window.show()
    found = problems(window)
    assert any("larger than the screen" in p for p in found)
    assert any("cut" in p and "A button whose" in p for p in found)


def test_main_window_fits_the_screen_and_remembers_its_geometry(qtbot, seed, site) -> None:  # noqa: ANN001
    window = MainWindow(seed.db, seed.qa, site)
    qtbot.addWidget(window)
    window.show()
    available = window.screen().availableGeometry()
    assert window.width() <= available.width() and window.height() <= available.height()
    window.setGeometry(available.x() + 10, available.y() + 20, 700, 500)
    window.log_out()
    again = MainWindow(seed.db, seed.qa, site)
    qtbot.addWidget(again)
    again.show()
    assert (again.width(), again.height()) == (700, 500)
    again.log_out()
    # A geometry saved on a larger screen (or another monitor) is not reused where it would not fit.
    elsewhere = QWidget()
    elsewhere.setGeometry(available.x() + 3000, available.y(), 2500, 1600)  # a second, larger monitor
    ui_state.save_geometry("main-window", elsewhere)
    elsewhere.deleteLater()
    third = MainWindow(seed.db, seed.qa, site)
    qtbot.addWidget(third)
    third.show()
    assert third.width() <= available.width() and third.height() <= available.height()
    third.log_out()
