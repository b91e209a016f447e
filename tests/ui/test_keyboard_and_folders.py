"""Keyboard and habits (issue 14, item 7): Ctrl+1…9 open the pages, F5 reads the page again, Ctrl+F goes to the
search field; file dialogs open where the same kind of file was taken from or saved to last time."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QFileDialog

from app.ui.kit import file_dialogs, ui_state
from app.ui.pages.records.records import RecordsPage
from tests.ui.conftest import settle


def _active(qtbot, window) -> None:  # noqa: ANN001
    """Shortcuts reach the active window only (as on a desktop, where it is the one the user types into)."""
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5_000)


def test_ctrl_digits_open_the_pages_in_navigation_order(qtbot, open_window) -> None:  # noqa: ANN001
    window = open_window("qa")
    _active(qtbot, window)
    keys = window.nav_keys()
    for row in (2, 0, 1):
        qtbot.keyClick(window, Qt.Key.Key_1 + row, Qt.KeyboardModifier.ControlModifier)
        assert window.current_key() == keys[row]


def test_f5_reads_the_page_again_and_ctrl_f_finds_its_search_field(qtbot, open_window, monkeypatch) -> None:  # noqa: ANN001
    window = open_window("op")
    window.navigate("records")
    page = window.current_page()
    assert isinstance(page, RecordsPage)
    settle(qtbot)
    _active(qtbot, window)
    reads: list[int] = []
    monkeypatch.setattr(page.list, "reload", lambda: reads.append(1))
    qtbot.keyClick(window, Qt.Key.Key_F5)
    assert reads == [1]
    page.list.search.setText("000123")
    window.nav.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.focusWidget() is page.list.search and page.list.search.selectedText() == "000123"
    window.navigate("home")  # no search field there: nothing happens, nothing breaks
    assert window.focus_search() is False


@pytest.fixture
def dialogs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    """The folder each file dialog would open in; the user picks a file in tmp_path/<purpose>."""
    opened: list[str] = []

    def save(parent, caption, start, filters="", selected=""):  # noqa: ANN001, ANN202
        opened.append(str(Path(start).parent))
        return str(tmp_path / "exports" / Path(start).name), selected
    monkeypatch.setattr(QFileDialog, "getSaveFileName", save)

    def folder(parent, caption, start):  # noqa: ANN001, ANN202
        opened.append(start)
        return str(tmp_path / "scans")
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", folder)
    for name in ("exports", "scans"):
        (tmp_path / name).mkdir()
    return opened


def test_file_dialogs_start_where_the_same_purpose_went_last(dialogs, tmp_path) -> None:  # noqa: ANN001
    assert file_dialogs.ask_save(None, "Export", purpose="exports", name="a.pdf") == (tmp_path / "exports" / "a.pdf", "")
    assert file_dialogs.ask_folder(None, "Scans", purpose="scans") == tmp_path / "scans"
    file_dialogs.ask_save(None, "Export", purpose="exports", name="b.pdf")
    file_dialogs.ask_folder(None, "Scans", purpose="scans")
    home = str(Path.home())
    assert dialogs == [home, home, str(tmp_path / "exports"), str(tmp_path / "scans")]
    (tmp_path / "scans").rmdir()  # a folder that went away: back to the home folder, no error
    assert ui_state.last_folder("scans") == Path.home()


def test_a_name_typed_without_its_ending_gets_it() -> None:
    assert file_dialogs.ending(Path("/x/report"), ".pdf") == Path("/x/report.pdf")
    assert file_dialogs.ending(Path("/x/report.PDF"), ".pdf") == Path("/x/report.PDF")
    assert file_dialogs.ending(Path("/x/QC-WS-014-v2.yml"), ".yaml", ".yml", ".json") == Path("/x/QC-WS-014-v2.yml")
    assert file_dialogs.ending(Path("/x/batch.2024"), ".csv") == Path("/x/batch.2024.csv")
