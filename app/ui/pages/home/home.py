"""Home page: who is logged in, the work their roles have (counts that open their list), the first steps of a
new site, the last backup (with Back up now for those who take backups) and the last integrity check.

Which counts a person sees, and what each counts, is decided by the service (``app.services.reports.work``);
a tile opens its page through ``ctx.navigate(key)`` and then calls ``show_filter(name)`` on that page's widget.
The counts are read in the background when the page is shown and whenever data changes (``data_events``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.services.admin import backup
from app.services.identity.permissions import permissions_of
from app.services.integrity import integrity
from app.services.reports import work
from app.services.reports.work import FirstSteps, Worklist
from app.ui.kit import data_events, file_dialogs
from app.ui.kit.data_events import Topic
from app.ui.kit.dialogs import open_dialog
from app.ui.kit.operations import notify, run_op, run_query
from app.ui.kit.style import icon, set_role
from app.ui.kit.widgets import hint, title
from app.ui.pages.admin.restore_dialog import RestoreDialog
from app.ui.pages.home.home_widgets import FirstStepsPanel, Tile, schedule_text
from app.ui.pages.registry import PageContext, PageSpec, page, pages_for

_COLUMNS = 3


class HomePage(QWidget):
    def __init__(self, ctx: PageContext) -> None:
        super().__init__()
        self._ctx = ctx
        self.work: Worklist | None = None
        self.steps: FirstSteps | None = None
        self.loading = False
        self.backing_up = False
        self.dialog: RestoreDialog | None = None
        actor = ctx.actor
        visible = pages_for(actor)
        self._page_titles = {spec.key: spec.title for spec in visible}
        layout = QVBoxLayout(self)
        layout.addWidget(title(f"Welcome, {actor.full_name}"))
        roles = ", ".join(sorted(r.title for r in actor.roles)) or "no role"
        layout.addWidget(hint(f"Logged in as {actor.username} · {roles} · site {ctx.site.label}"))

        self.first_steps = FirstStepsPanel(self._page_titles)
        self.first_steps.open_requested.connect(self.open_list)
        layout.addWidget(self.first_steps)
        layout.addWidget(self._work_box())
        layout.addWidget(self._system_box())
        layout.addWidget(self._go_to(visible))
        layout.addWidget(self._allowed_box())
        layout.addStretch(1)
        data_events.listen(self, set(Topic), self.refresh)
        self.refresh()

    # -- layout ----------------------------------------------------------------------------------------------
    def _work_box(self) -> QGroupBox:
        box = QGroupBox("Your work")
        self.work_box = box
        column = QVBoxLayout(box)
        bar = QHBoxLayout()
        bar.addWidget(hint("What your roles have to do now. Click a count to open its list."), 1)
        self.updated_label = hint("")
        self.updated_label.setWordWrap(False)
        bar.addWidget(self.updated_label)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        bar.addWidget(self.refresh_button)
        column.addLayout(bar)
        self.nothing_label = hint("Nothing is counted for your roles.")
        self.nothing_label.setVisible(False)
        column.addWidget(self.nothing_label)
        self._grid = QGridLayout()
        self._grid.setSpacing(10)
        for column_no in range(_COLUMNS):  # a lone tile keeps a tile's width
            self._grid.setColumnStretch(column_no, 1)
        column.addLayout(self._grid)
        self.tiles: dict[str, Tile] = {}
        return box

    def _system_box(self) -> QGroupBox:
        box = QGroupBox("System")
        column = QVBoxLayout(box)
        row = QHBoxLayout()
        self.backup_label = QLabel()
        self.backup_label.setWordWrap(True)
        self.backup_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row.addWidget(self.backup_label, 1)
        self.backup_button = QPushButton("Back up now")
        self.backup_button.clicked.connect(self.back_up_now)
        self.backup_button.setVisible(False)  # until the service says this user takes backups
        row.addWidget(self.backup_button, 0, Qt.AlignmentFlag.AlignTop)
        self.restore_button = QPushButton("Restore a backup…")
        self.restore_button.clicked.connect(self.restore_backup)
        self.restore_button.setVisible(False)  # until the service says this user may restore here
        row.addWidget(self.restore_button, 0, Qt.AlignmentFlag.AlignTop)
        column.addLayout(row)
        self.verify_label = QLabel()
        self.verify_label.setWordWrap(True)
        self.verify_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        column.addWidget(self.verify_label)
        self.schedule_label = QLabel()  # BK-02: the headless schedule's last backup and test-restore
        self.schedule_label.setWordWrap(True)
        self.schedule_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        column.addWidget(self.schedule_label)
        self.reviews_label = QLabel()  # the periodic reviews' due dates
        self.reviews_label.setWordWrap(True)
        column.addWidget(self.reviews_label)
        return box

    def _go_to(self, visible: list[PageSpec]) -> QGroupBox:
        go = QGroupBox("Go to")
        grid = QGridLayout(go)
        self.shortcuts: dict[str, QToolButton] = {}
        for i, spec in enumerate(s for s in visible if s.key != "home"):
            button = QToolButton()
            button.setText(spec.title)
            button.setIcon(icon(spec.icon))
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            button.setMinimumWidth(150)
            button.clicked.connect(lambda _=False, key=spec.key: self._ctx.navigate(key))
            grid.addWidget(button, i, 0)
            grid.addWidget(hint(spec.description), i, 1)
            self.shortcuts[spec.key] = button
        grid.setColumnStretch(1, 1)
        return go

    def _allowed_box(self) -> QGroupBox:
        can = QGroupBox("What your roles allow")
        can_layout = QVBoxLayout(can)
        allowed = sorted(p.value for p in permissions_of(self._ctx.actor.roles))
        text = " · ".join(f"{line[0].upper()}{line[1:]}" for line in allowed) or "Nothing yet: ask an administrator."
        can_label = QLabel(text)
        can_label.setWordWrap(True)
        can_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        can_layout.addWidget(can_label)
        return can

    # -- counts ------------------------------------------------------------------------------------------------
    def page_shown(self) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Count again in the background (the latest count wins when several start)."""
        ctx = self._ctx
        self.loading = True
        self.updated_label.setText("Counting…")

        def read() -> tuple[Worklist, FirstSteps, integrity.LastCheck | None]:
            return work.worklist(ctx.db, ctx.actor), work.first_steps(ctx.db, ctx.actor), integrity.last_check(ctx.db)
        run_query(self, read, key="home", on_done=lambda result: self._loaded(*result), on_failed=self._failed)

    def _loaded(self, counted: Worklist, steps: FirstSteps, checked: integrity.LastCheck | None) -> None:
        self.loading = False
        self.work, self.steps = counted, steps
        self._show_tiles(counted)
        self.first_steps.show_steps(steps)
        self.updated_label.setText(f"Updated {dt.datetime.now(dt.UTC).astimezone():%H:%M:%S}")
        self._show_backup(counted)
        self._show_check(checked)
        self._show_schedule(counted)

    def _show_tiles(self, counted: Worklist) -> None:
        keys = [item.key for item in counted.items]
        if keys != list(self.tiles):  # the first count, or the roles changed: lay the tiles out again
            for tile in self.tiles.values():
                self._grid.removeWidget(tile)
                tile.deleteLater()
            self.tiles = {}
            for i, item in enumerate(counted.items):
                tile = Tile(item, can_open=item.page in self._page_titles)
                tile.opened.connect(self.open_list)
                self._grid.addWidget(tile, i // _COLUMNS, i % _COLUMNS)
                self.tiles[item.key] = tile
        for item in counted.items:
            self.tiles[item.key].set_count(item.count)
        self.nothing_label.setVisible(not counted.items)

    def _failed(self, exc: BaseException) -> None:
        self.loading = False
        for tile in self.tiles.values():
            tile.set_count(None)
        self.updated_label.setText("The counts could not be read.")
        self._ctx.show_error(self, exc)

    def _show_backup(self, counted: Worklist) -> None:
        self.backup_button.setVisible(counted.may_back_up)
        self.backup_button.setEnabled(not self.backing_up)
        self.backup_button.setToolTip(
            f"Take a backup now into a new folder inside {counted.backup_folder}" if counted.backup_folder
            else "Take a backup now: you choose the folder (no folder for scheduled backups is set)")
        last = counted.last_backup
        if last is None:
            self.backup_label.setText("No backup has been taken yet.")
            set_role(self.backup_label, "error" if counted.may_back_up else "hint")
            return
        outcome, when, where = last
        if outcome == "BACKUP":
            self.backup_label.setText(f"Last backup: {self._ctx.when(when, seconds=False)}, to {where}.")
            set_role(self.backup_label, "hint")
        else:
            self.backup_label.setText(f"⚠ The last backup FAILED ({self._ctx.when(when, seconds=False)}, to {where}). "
                                      + ("Back up now, or find out why it failed." if counted.may_back_up
                                         else "Tell your system administrator."))
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

    def _show_schedule(self, counted: Worklist) -> None:
        self.restore_button.setVisible(counted.may_restore)
        text, alarming = schedule_text(counted.schedule, self._ctx.when)
        self.schedule_label.setText(text)
        set_role(self.schedule_label, "error" if alarming else "hint")
        due = [f"{r.title}: {'OVERDUE since' if r.overdue else 'due'} {r.due_on.isoformat()}" for r in counted.reviews]
        self.reviews_label.setText("Periodic reviews — " + "; ".join(due) + "." if due else "")
        self.reviews_label.setVisible(bool(due))
        set_role(self.reviews_label, "error" if any(r.overdue for r in counted.reviews) else "hint")

    # -- acts ------------------------------------------------------------------------------------------------
    def open_list(self, key: str, name: str = "") -> None:
        """Open page ``key`` and, when it can, its list filtered by ``name``."""
        self._ctx.navigate(key)
        widgets = getattr(self._ctx.window, "page_widgets", None) or {}
        widget = widgets.get(key)
        if name and widget is not None and hasattr(widget, "show_filter"):
            widget.show_filter(name)

    def back_up_now(self) -> None:
        """A backup into a new folder inside the configured backup folder (or one the user chooses)."""
        counted, ctx = self.work, self._ctx
        if counted is None or not counted.may_back_up or self.backing_up:
            return
        folder = Path(counted.backup_folder) if counted.backup_folder else file_dialogs.ask_folder(
            self, "Back up into which folder?", purpose="backups")
        if folder is None:
            return
        dest = work.backup_destination(ctx.db, folder)
        self.backing_up = True
        self.backup_button.setEnabled(False)
        run_op(self, lambda progress, cancelled: backup.backup(ctx.db, ctx.actor, dest, progress=progress,
                                                               cancelled=cancelled),
               title="Back up now", label=f"Backing up to {dest}…", cancellable=True, name="backup now",
               on_done=self._backed_up, on_failed=self._backup_failed, on_cancelled=self._backup_ended,
               changes={Topic.SETTINGS})

    def restore_backup(self) -> None:
        """BK-03: the restore dialog (the backup, the reason, and the approver's user name and password)."""
        if self.work is None or not self.work.may_restore:
            return
        self.dialog = open_dialog(RestoreDialog(self, self._ctx))

    def _backed_up(self, result: backup.BackupResult) -> None:
        self._backup_ended()
        problems = f" ({len(result.problems)} warnings: see the backup's manifest)" if result.problems else ""
        notify(self, f"Backup written to {result.path}{problems}", path=result.path)

    def _backup_failed(self, exc: BaseException) -> None:
        self._backup_ended()
        self._ctx.show_error(self, exc, title="Back up now")

    def _backup_ended(self) -> None:
        self.backing_up = False
        self.backup_button.setEnabled(True)
        self.refresh()  # the line shows the new backup (or the failure) even when Home is not listening


@page("home", description="What needs attention, where to start, and what your roles allow.")
def home_page(ctx: PageContext) -> QWidget:
    return HomePage(ctx)
