"""Home page: who is logged in, with which roles, what they may do, and where to start."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QGroupBox, QLabel, QToolButton, QVBoxLayout, QWidget

from app.services.permissions import permissions_of
from app.ui.pages.registry import PageContext, page, pages_for
from app.ui.style import icon
from app.ui.widgets import hint, title


class HomePage(QWidget):
    def __init__(self, ctx: PageContext) -> None:
        super().__init__()
        actor = ctx.actor
        layout = QVBoxLayout(self)
        layout.addWidget(title(f"Welcome, {actor.full_name}"))
        roles = ", ".join(sorted(r.title for r in actor.roles)) or "no role"
        layout.addWidget(hint(f"Logged in as {actor.username} · {roles} · site {ctx.site.name} ({ctx.site.code})"))

        can = QGroupBox("What your roles allow")
        can_layout = QVBoxLayout(can)
        allowed = sorted(p.value for p in permissions_of(actor.roles))
        text = "\n".join(f"• {line[0].upper()}{line[1:]}" for line in allowed) or "Nothing yet: ask an administrator."
        can_label = QLabel(text)
        can_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        can_layout.addWidget(can_label)
        layout.addWidget(can)

        go = QGroupBox("Go to")
        grid = QGridLayout(go)
        self.shortcuts: dict[str, QToolButton] = {}
        others = [spec for spec in pages_for(actor) if spec.key != "home"]
        for i, spec in enumerate(others):
            button = QToolButton()
            button.setText(spec.title)
            button.setIcon(icon(spec.icon))
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            button.setMinimumWidth(150)
            button.clicked.connect(lambda _=False, key=spec.key: ctx.navigate(key))
            grid.addWidget(button, i, 0)
            grid.addWidget(hint(spec.description), i, 1)
            self.shortcuts[spec.key] = button
        grid.setColumnStretch(1, 1)
        layout.addWidget(go)
        layout.addStretch(1)


@page("home")
def home_page(ctx: PageContext) -> QWidget:
    return HomePage(ctx)
