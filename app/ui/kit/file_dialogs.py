"""File dialogs that open where the user went last time for the same purpose (scans in the scanner's share,
exports in the QA folder), instead of the home folder every time. The purpose is a short word ("scans",
"exports", "templates", "controlled-pdfs"); the folder is remembered per workstation user (ui_state)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QWidget

from app.ui.kit import ui_state


def ask_save(parent: QWidget | None, caption: str, *, purpose: str, name: str, filters: str = "",
             selected: str = "") -> tuple[Path, str] | None:
    """Where to save a file called ``name`` by default; the chosen path and filter, or None when cancelled."""
    start = ui_state.last_folder(purpose) / name
    chosen, chosen_filter = QFileDialog.getSaveFileName(parent, caption, str(start), filters, selected)
    if not chosen:
        return None
    path = Path(chosen)
    ui_state.remember_folder(purpose, path)
    return path, chosen_filter


def ending(path: Path, *suffixes: str) -> Path:
    """``path`` ending in one of ``suffixes`` (".pdf", ".yaml"...): the first is added when it ends in none."""
    return path if path.suffix.lower() in suffixes else path.with_name(path.name + suffixes[0])


def ask_save_as(parent: QWidget | None, caption: str, *, purpose: str, name: str, filters: str,
                suffixes: tuple[str, ...]) -> Path | None:
    """Where to save a file of one of ``suffixes`` (the first is added to a name typed without it); None when
    cancelled."""
    answer = ask_save(parent, caption, purpose=purpose, name=name, filters=filters)
    return ending(answer[0], *suffixes) if answer is not None else None


def ask_open_files(parent: QWidget | None, caption: str, *, purpose: str, filters: str = "") -> list[Path]:
    """Files to open (empty when cancelled)."""
    names, _chosen = QFileDialog.getOpenFileNames(parent, caption, str(ui_state.last_folder(purpose)), filters)
    paths = [Path(name) for name in names]
    if paths:
        ui_state.remember_folder(purpose, paths[0])
    return paths


def ask_open_file(parent: QWidget | None, caption: str, *, purpose: str, filters: str = "") -> Path | None:
    name, _chosen = QFileDialog.getOpenFileName(parent, caption, str(ui_state.last_folder(purpose)), filters)
    if not name:
        return None
    ui_state.remember_folder(purpose, Path(name))
    return Path(name)


def ask_folder(parent: QWidget | None, caption: str, *, purpose: str, start: Path | None = None) -> Path | None:
    """A folder (None when cancelled); ``start`` overrides where the dialog opens (e.g. the folder set now)."""
    folder = QFileDialog.getExistingDirectory(parent, caption, str(start or ui_state.last_folder(purpose)))
    if not folder:
        return None
    ui_state.remember_folder(purpose, Path(folder))
    return Path(folder)
