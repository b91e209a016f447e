"""Home page: who is logged in, what needs attention (dashboard counts that open their filtered list), where to
go, and what the user's roles allow.

A tile opens its page through ``ctx.navigate(key)`` and then calls ``show_filter(name)`` on that page's widget
when it has one (names: "outstanding", "overdue", "ready", "exceptions", "to-verify", "to-review")."""

from __future__ import annotations

import dataclasses
import datetime as dt

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.services.admin import backup
from app.services.identity.permissions import Permission, permissions_of
from app.services.integrity import integrity
from app.services.reports import dashboard
from app.services.reports.dashboard import Dashboard
from app.ui.kit.style import icon, set_role
from app.ui.kit.widgets import hint, title
from app.ui.kit.workers import Task, while_alive
from app.ui.pages.registry import PageContext, page, pages_for


@dataclasses.dataclass(frozen=True)
class TileSpec:
    field: str  # attribute of Dashboard
    title: str
    explanation: str
    targets: tuple[tuple[str, str], ...]  # (page key, filter name), the first the user may open wins
    tone: str  # "alert", "warn", "good" or "plain": the colour when the count is not zero


TILES = (
    TileSpec("outstanding_forms", "Forms still out", "Issued copies not yet returned, voided or declared missing.",
             (("reconcile", "outstanding"), ("register", "outstanding")), "plain"),
    TileSpec("overdue_issuances", "Overdue issuances", "Past their return date with forms not accounted for.",
             (("reconcile", "overdue"), ("register", "overdue")), "alert"),
    TileSpec("scan_exceptions", "Scan exceptions", "Scanned pages that could not be linked: waiting for a person.",
             (("scans", "exceptions"),), "warn"),
    TileSpec("ready_to_reconcile", "Ready to reconcile", "Every form accounted for: QA can close the reconciliation.",
             (("reconcile", "ready"),), "good"),
    TileSpec("records_to_verify", "Records to verify", "Transcribed records waiting for second-person verification.",
             (("records", "to-verify"),), "warn"),
    TileSpec("records_to_review", "Records to review", "Verified records waiting for review and approval.",
             (("records", "to-review"),), "warn"),
)

_TONES = {"alert": ("#fdecea", "#b00020"), "warn": ("#fff4d6", "#8a4b00"), "good": ("#e8f5ea", "#1b6e2d"),
          "plain": ("#eef3fb", "#1f2d3d")}
_QUIET = ("#ffffff", "#1f2d3d")


class Tile(QPushButton):
    """A count with its title and a one-line explanation; clicking opens the filtered list."""

    opened = Signal(str, str)  # page key, filter name

    def __init__(self, spec: TileSpec, target: tuple[str, str] | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec, self.target = spec, target
        self.count: int | None = None
        self.setMinimumSize(220, 112)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 10)
        layout.setSpacing(2)
        self.count_label = QLabel("…")
        self.count_label.setObjectName("count")
        self.title_label = QLabel(spec.title)
        self.title_label.setObjectName("tile-title")
        self.explanation = QLabel(spec.explanation)
        self.explanation.setObjectName("tile-explanation")
        self.explanation.setWordWrap(True)
        for label in (self.count_label, self.title_label, self.explanation):
            label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
            layout.addWidget(label)
        if target is None:
            self.setEnabled(False)
            self.setToolTip("Your roles do not include the page with this list.")
        else:
            self.setCursor(Qt.CursorShape.PointingHandCursor)
            self.setToolTip(f"Open the list ({spec.title.lower()})")
            self.clicked.connect(lambda: self.opened.emit(*target))
        self._paint()

    def set_count(self, count: int | None) -> None:
        self.count = count
        self.count_label.setText("—" if count is None else str(count))
        self.setAccessibleName(f"{self.spec.title}: {'unknown' if count is None else count}")
        self._paint()

    def _paint(self) -> None:
        background, colour = _TONES[self.spec.tone] if self.count else _QUIET
        # The tile's own style sheet wins over the application's (which sets every widget's font size).
        self.setStyleSheet(
            f"Tile {{ background: {background}; border: 1px solid #d3d9e0; border-radius: 6px; text-align: left; }}"
            f"Tile:hover {{ border: 1px solid #3a78d4; }} Tile:focus {{ border: 2px solid #3a78d4; }}"
            f"QLabel {{ color: {colour}; background: transparent; }}"
            "QLabel#count { font-size: 22pt; font-weight: 700; }"
            "QLabel#tile-title { font-size: 11pt; font-weight: 600; }"
            "QLabel#tile-explanation { color: #5b6573; }")


class HomePage(QWidget):
    def __init__(self, ctx: PageContext) -> None:
        super().__init__()
        self._ctx = ctx
        self.task: Task | None = None
        self._again = False
        self.counts: Dashboard | None = None
        actor = ctx.actor
        visible = pages_for(actor)
        visible_keys = {spec.key for spec in visible}
        layout = QVBoxLayout(self)
        layout.addWidget(title(f"Welcome, {actor.full_name}"))
        roles = ", ".join(sorted(r.title for r in actor.roles)) or "no role"
        layout.addWidget(hint(f"Logged in as {actor.username} · {roles} · site {ctx.site.name} ({ctx.site.code})"))

        self.tiles: dict[str, Tile] = {}
        self.dashboard_box: QGroupBox | None = None
        self.backup_label = QLabel()
        self.backup_label.setWordWrap(True)
        self.backup_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.verify_label = QLabel()
        self.verify_label.setWordWrap(True)
        self.verify_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.updated_label = hint("")
        self.updated_label.setWordWrap(False)
        if ctx.allowed(Permission.VIEW_DATA):
            layout.addWidget(self._dashboard(visible_keys))
        else:  # administrators: no GMP counts, but whether the data is backed up
            box = QGroupBox("System")
            system = QVBoxLayout(box)
            system.addWidget(self.backup_label)
            system.addWidget(self.verify_label)
            layout.addWidget(box)

        go = QGroupBox("Go to")
        grid = QGridLayout(go)
        self.shortcuts: dict[str, QToolButton] = {}
        for i, spec in enumerate(s for s in visible if s.key != "home"):
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

        can = QGroupBox("What your roles allow")
        can_layout = QVBoxLayout(can)
        allowed = sorted(p.value for p in permissions_of(actor.roles))
        text = " · ".join(f"{line[0].upper()}{line[1:]}" for line in allowed) or "Nothing yet: ask an administrator."
        can_label = QLabel(text)
        can_label.setWordWrap(True)
        can_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        can_layout.addWidget(can_label)
        layout.addWidget(can)
        layout.addStretch(1)
        self.refresh()

    def _dashboard(self, visible_keys: set[str]) -> QGroupBox:
        box = QGroupBox("Needs attention")
        self.dashboard_box = box
        column = QVBoxLayout(box)
        bar = QHBoxLayout()
        bar.addWidget(hint("Click a count to open its list."), 1)
        bar.addWidget(self.updated_label)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        bar.addWidget(self.refresh_button)
        column.addLayout(bar)
        grid = QGridLayout()
        grid.setSpacing(10)
        for i, spec in enumerate(TILES):
            target = next((t for t in spec.targets if t[0] in visible_keys), None)
            tile = Tile(spec, target)
            tile.opened.connect(self.open_list)
            grid.addWidget(tile, i // 3, i % 3)
            self.tiles[spec.field] = tile
        column.addLayout(grid)
        column.addWidget(self.backup_label)
        column.addWidget(self.verify_label)
        return box

    # -- counts --------------------------------------------------------------------------------------------
    def page_shown(self) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Count again in the background (the counts read every open issuance)."""
        if self.task is not None:
            self._again = True  # the running count may have started before the change: count once more after it
            return
        self._again = False
        ctx = self._ctx
        self.updated_label.setText("Counting…")
        counting = bool(self.tiles)

        def job(progress, cancelled):  # noqa: ANN001, ANN202 - worker signature
            checked = integrity.last_check(ctx.db)
            if counting:
                counts = dashboard.dashboard(ctx.db, ctx.actor)
                return counts, counts.last_backup, checked
            return None, backup.last_backup(ctx.db), checked

        self.task = ctx.run_task(job, name="dashboard")
        self.task.finished.connect(while_alive(self, lambda result: self._counted(*result)))
        self.task.failed.connect(while_alive(self, self._failed))

    def _counted(self, counts: Dashboard | None, last_backup: tuple[str, dt.datetime, str] | None,
                 checked: integrity.LastCheck | None = None) -> None:
        self.task = None
        if self._again:
            self.refresh()
            return
        self.counts = counts
        if counts is not None:
            for field, tile in self.tiles.items():
                tile.set_count(getattr(counts, field))
        self.updated_label.setText(f"Updated {dt.datetime.now(dt.UTC).astimezone():%H:%M:%S}")
        self._show_backup(last_backup)
        self._show_check(checked)

    def _show_backup(self, last: tuple[str, dt.datetime, str] | None) -> None:
        if last is None:
            self.backup_label.setText("No backup has been taken yet.")
            set_role(self.backup_label, "error" if self._ctx.allowed(Permission.BACKUP) else "hint")
            return
        outcome, when, where = last
        if outcome == "BACKUP":
            self.backup_label.setText(f"Last backup: {self._ctx.when(when, seconds=False)}, to {where}.")
            set_role(self.backup_label, "hint")
        else:
            self.backup_label.setText(f"⚠ The last backup FAILED ({self._ctx.when(when, seconds=False)}, to {where}). "
                                      "Tell your system administrator.")
            set_role(self.backup_label, "error")

    def _show_check(self, checked: integrity.LastCheck | None) -> None:
        if checked is None:
            self.verify_label.setText("No integrity check has been run yet (`formtrail verify`, or Audit trail → "
                                      "Verify everything).")
            set_role(self.verify_label, "hint")
        elif checked.ok:
            when = self._ctx.when(checked.at, seconds=False)
            self.verify_label.setText(f"Last integrity check: everything verified ({when}, {checked.by}).")
            set_role(self.verify_label, "hint")
        else:
            when = self._ctx.when(checked.at, seconds=False)
            self.verify_label.setText(f"⚠ The last integrity check FAILED ({when}, {checked.by}): "
                                      f"{checked.first_problem}. Tell QA: it is a data-integrity incident.")
            set_role(self.verify_label, "error")

    def _failed(self, exc: BaseException) -> None:
        self.task = None
        for tile in self.tiles.values():
            tile.set_count(None)
        self.updated_label.setText("The counts could not be read.")
        self._ctx.show_error(self, exc)

    def open_list(self, key: str, name: str) -> None:
        """Open page ``key`` and, when it can, its list filtered by ``name``."""
        self._ctx.navigate(key)
        widgets = getattr(self._ctx.window, "page_widgets", None) or {}
        widget = widgets.get(key)
        if widget is not None and hasattr(widget, "show_filter"):
            widget.show_filter(name)


@page("home", description="What needs attention, where to start, and what your roles allow.")
def home_page(ctx: PageContext) -> QWidget:
    return HomePage(ctx)
