"""The friendly stand-in for a page that is not built yet."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from app.ui.kit.style import icon, set_role
from app.ui.kit.widgets import hint
from app.ui.pages.registry import PageSpec


class PlaceholderPage(QWidget):
    def __init__(self, spec: PageSpec) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        picture = QLabel()
        picture.setPixmap(icon(spec.icon).pixmap(64, 64))
        picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(picture)
        heading = set_role(QLabel(f"{spec.title} is coming"), "title")
        heading.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(heading)
        for text in (spec.description,
                     "This part of Formtrail is not available in this version yet. Nothing is missing from "
                     "your data: pages appear here as they are released."):
            label = hint(text)
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            layout.addWidget(label)
        layout.addStretch(2)
