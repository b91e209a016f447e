"""Look and feel: the application stylesheet (resources/style.qss) and the navigation icons."""

from __future__ import annotations

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QLabel, QStyle

from app.forms.resources import resource

# Icons drawn for Formtrail (resources/icons/<name>.svg); anything else falls back to a Qt standard icon.
_FALLBACK = {
    "lock": QStyle.StandardPixmap.SP_DialogNoButton,
    "warning": QStyle.StandardPixmap.SP_MessageBoxWarning,
}


def apply(app: QApplication) -> None:
    """Fusion style (the same on every platform) plus our small stylesheet."""
    app.setStyle("Fusion")
    qss = resource("style.qss")
    if qss.exists():
        app.setStyleSheet(qss.read_text(encoding="utf-8"))


def icon(name: str) -> QIcon:
    path = resource("icons", f"{name}.svg")
    if path.exists():
        return QIcon(str(path))
    app = QApplication.instance()
    standard = _FALLBACK.get(name, QStyle.StandardPixmap.SP_FileIcon)
    return app.style().standardIcon(standard) if isinstance(app, QApplication) else QIcon()


def set_role(label: QLabel, role: str) -> QLabel:
    """Mark a label for the stylesheet: "error", "hint", "title", "subtitle", "ok", "banner"."""
    label.setProperty("role", role)
    label.style().unpolish(label)
    label.style().polish(label)
    return label
