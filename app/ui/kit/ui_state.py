"""What the desktop remembers between sessions on this workstation (window geometry, the folder each kind of file
dialog opened last): not GMP data, so not in the database; an INI file in the user's configuration folder (tests
point it elsewhere with ``use_folder``)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QRect, QSettings
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

_folder: Path | None = None


def use_folder(folder: Path | None) -> None:
    """Keep the state in ``folder`` instead of the user's configuration folder (None: back to the default)."""
    global _folder
    _folder = folder


def _settings() -> QSettings:
    if _folder is not None:
        return QSettings(str(_folder / "formtrail-ui.ini"), QSettings.Format.IniFormat)
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "Formtrail", "formtrail-ui")


def save_geometry(name: str, widget: QWidget) -> None:
    settings = _settings()
    settings.setValue(f"{name}/geometry", widget.saveGeometry())
    settings.sync()


def restore_geometry(name: str, widget: QWidget, *, preferred: tuple[int, int]) -> None:
    """The geometry saved last time if it is still wholly on a screen; otherwise ``preferred`` (width, height),
    shrunk to fit the available screen area, centred."""
    saved = _settings().value(f"{name}/geometry")
    if isinstance(saved, QByteArray) and widget.restoreGeometry(saved) and _on_a_screen(widget.frameGeometry()):
        return
    screen = widget.screen() or QGuiApplication.primaryScreen()
    area = screen.availableGeometry()
    # A window frame (title bar, borders) is added by the window manager around this size.
    width = min(preferred[0], area.width() - 16)
    height = min(preferred[1], area.height() - 48)
    widget.resize(width, height)
    widget.move(area.x() + (area.width() - width) // 2, area.y() + max(0, (area.height() - height - 32) // 2))


def _on_a_screen(frame: QRect) -> bool:
    return any(screen.availableGeometry().contains(frame) for screen in QGuiApplication.screens())


def last_folder(purpose: str) -> Path:
    """The folder a file dialog for ``purpose`` ("scans", "exports", "templates"...) opened last time, when it still
    exists; the home folder otherwise."""
    saved = _settings().value(f"folders/{purpose}")
    folder = Path(saved) if isinstance(saved, str) and saved else None
    return folder if folder is not None and folder.is_dir() else Path.home()


def remember_folder(purpose: str, path: Path) -> None:
    """Remember the folder of ``path`` (a file, or a folder itself) for the next file dialog of ``purpose``."""
    folder = path if path.is_dir() else path.parent
    settings = _settings()
    settings.setValue(f"folders/{purpose}", str(folder))
    settings.sync()
