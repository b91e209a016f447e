"""The hot folder a scanner writes into, watched from the Scans page: choose it, start/stop, see what came in.

The folder is a setting of this workstation (QSettings), not of the site: each scanner writes to its own.
Polling runs on the serial worker (imports write to the database), never on the GUI thread."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.services.scans.hot_folder import HotFolder, HotFolderResult
from app.ui.kit import file_dialogs
from app.ui.kit.list_model import ListTableModel
from app.ui.kit.style import set_role
from app.ui.kit.widgets import hint, setup_table
from app.ui.kit.workers import Task, while_alive
from app.ui.pages.registry import PageContext
from app.ui.pages.scans.scans_models import FAILED_COLOUR, OK_COLOUR, PROBLEM_COLOUR

SETTING_KEY = "scans/hot_folder"
POLL_MS = 3000
SETTLE_S = 2.0


def workstation_settings() -> QSettings:
    """Settings of this workstation (per user, per machine); tests replace this function."""
    return QSettings("Formtrail", "Formtrail")


@dataclasses.dataclass(frozen=True)
class HotFolderEntry:
    """One file the hot folder took: when, what became of its pages, where the file was moved."""

    at: dt.datetime
    name: str
    moved_to: Path
    linked: int
    exceptions: int
    error: str | None

    @property
    def outcome(self) -> str:
        if self.error:
            return f"not imported: {self.error}"
        if self.moved_to.parent.name == "failed":
            return "file cannot be read (the reason is in a .reason.txt file beside it)"
        text = f"{self.linked} linked"
        return text + (f", {self.exceptions} to the exceptions queue" if self.exceptions else "")

    @classmethod
    def of(cls, result: HotFolderResult, at: dt.datetime) -> HotFolderEntry:
        report = result.report
        return cls(at=at, name=result.path.name, moved_to=result.moved_to,
                   linked=report.linked if report else 0, exceptions=report.exceptions if report else 0,
                   error=result.error)


class HotFolderModel(ListTableModel[HotFolderEntry]):
    COLUMNS = ("Time", "File", "Result", "Moved to")

    def add(self, entries: list[HotFolderEntry]) -> None:
        self.insert_rows(0, list(reversed(entries)))  # newest first

    def text(self, row: HotFolderEntry, column: int) -> str:
        if column == 0:
            return row.at.strftime("%H:%M:%S")
        if column == 1:
            return row.name
        if column == 2:
            return row.outcome
        return f"{row.moved_to.parent.name}/{row.moved_to.name}"

    def role_data(self, row: HotFolderEntry, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.ForegroundRole and column == 2:
            if row.error or row.moved_to.parent.name == "failed":
                return QBrush(FAILED_COLOUR)
            return QBrush(PROBLEM_COLOUR if row.exceptions else OK_COLOUR)
        if role == Qt.ItemDataRole.ToolTipRole and column == 3:
            return str(row.moved_to)
        return None


class HotFolderPanel(QGroupBox):
    """``imported`` carries the ImportReport of each file taken from the folder."""

    imported = Signal(object)
    watching_changed = Signal(bool)

    def __init__(self, ctx: PageContext, parent: QWidget | None = None, *, poll_ms: int = POLL_MS,
                 settle_s: float = SETTLE_S) -> None:
        super().__init__("Hot folder (where the scanner saves its files)", parent)
        self._ctx = ctx
        self.settle_s = settle_s
        self.hot: HotFolder | None = None
        self._retired: list[HotFolder] = []  # stopped while a look was running: closed when it ends
        self.task: Task | None = None
        layout = QVBoxLayout(self)
        layout.addWidget(hint(
            "While watching, each new file is imported once the scanner has finished writing it, then moved to "
            "done/ or failed/ inside the folder (never deleted). The folder is remembered on this workstation."))
        row = QHBoxLayout()
        self.folder_edit = QLineEdit()
        self.folder_edit.setReadOnly(True)
        self.folder_edit.setPlaceholderText("No folder chosen")
        self.choose_button = QPushButton("Choose folder…")
        self.choose_button.clicked.connect(self.choose)
        self.watch_button = QPushButton("Start watching")
        self.watch_button.setCheckable(True)
        self.watch_button.toggled.connect(self._toggled)
        row.addWidget(QLabel("Folder:"))
        row.addWidget(self.folder_edit, 1)
        row.addWidget(self.choose_button)
        row.addWidget(self.watch_button)
        layout.addLayout(row)
        self.state_label = set_role(QLabel("Not watching."), "hint")
        layout.addWidget(self.state_label)
        self.model = HotFolderModel(parent=self)
        self.table = setup_table(QTableView())
        self.table.setModel(self.model)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setMaximumHeight(130)
        self.table.hide()  # until something came in
        layout.addWidget(self.table)

        self.timer = QTimer(self)
        self.timer.setInterval(poll_ms)
        self.timer.timeout.connect(self.poll)
        saved = workstation_settings().value(SETTING_KEY, "")
        self.set_folder(Path(saved) if isinstance(saved, str) and saved else None, remember=False)

    @property
    def folder(self) -> Path | None:
        text = self.folder_edit.text()
        return Path(text) if text else None

    @property
    def watching(self) -> bool:
        return self.timer.isActive()

    def set_folder(self, folder: Path | None, *, remember: bool = True) -> None:
        if self.watching:
            self.watch_button.setChecked(False)
        self.folder_edit.setText(str(folder) if folder else "")
        self.folder_edit.setToolTip(str(folder) if folder else "")
        self.watch_button.setEnabled(folder is not None)
        if remember:
            settings = workstation_settings()
            settings.setValue(SETTING_KEY, str(folder) if folder else "")
            settings.sync()

    def choose(self) -> None:
        folder = file_dialogs.ask_folder(self, "Folder the scanner saves to", purpose="scans", start=self.folder)
        if folder is not None:
            self.set_folder(folder)

    def start(self) -> None:
        self.watch_button.setChecked(True)

    def stop(self) -> None:
        self.watch_button.setChecked(False)

    def _toggled(self, on: bool) -> None:
        if on and not self._start():
            self.watch_button.blockSignals(True)
            self.watch_button.setChecked(False)
            self.watch_button.blockSignals(False)
            return
        if not on:
            self.timer.stop()
            self._release(self.hot)
            self.hot = None
            self.state_label.setText("Not watching.")
            set_role(self.state_label, "hint")
        self.watch_button.setText("Stop watching" if on else "Start watching")
        self.choose_button.setEnabled(not on)
        self.watching_changed.emit(on)

    def _start(self) -> bool:
        folder = self.folder
        if folder is None:
            return False
        if not folder.is_dir():
            self._ctx.show_error(self, RuntimeError(f"the folder {folder} does not exist or cannot be reached"),
                                 title="Hot folder")
            return False
        try:
            self.hot = HotFolder(self._ctx.db, self._ctx.actor, folder, settle_s=self.settle_s)
        except OSError as exc:
            self._ctx.show_error(self, RuntimeError(f"cannot use {folder}: {exc.strerror or exc}"), title="Hot folder")
            return False
        self.timer.start()
        self.state_label.setText(f"Watching {folder} …")
        set_role(self.state_label, "ok")
        self.poll()
        return True

    def poll(self) -> None:
        """Look at the folder once (in the background); skipped while the previous look is still running."""
        hot = self.hot
        if hot is None or self.task is not None:
            return
        self.task = self._ctx.run_task(lambda progress, cancelled: hot.poll(), serial=True, name="hot folder")
        self.task.finished.connect(while_alive(self, self._polled))
        self.task.failed.connect(while_alive(self, self._poll_failed))

    def _release(self, hot: HotFolder | None) -> None:
        """Stop a watcher's decoder processes, once no look at the folder is running any more."""
        if hot is None:
            return
        if self.task is None:
            hot.close()
        else:
            self._retired.append(hot)

    def _polled(self, results: list[HotFolderResult]) -> None:
        self.task = None
        while self._retired:
            self._retired.pop().close()
        now = dt.datetime.now(dt.UTC).astimezone()  # when this workstation saw it (display only)
        self.model.add([HotFolderEntry.of(r, now) for r in results])
        self.table.setVisible(self.model.rowCount() > 0)
        if self.watching:
            self.state_label.setText(f"Watching {self.folder} — last checked {now:%H:%M:%S}.")
        for result in results:
            if result.report is not None:
                self.imported.emit(result.report)

    def _poll_failed(self, exc: BaseException) -> None:
        self.task = None
        while self._retired:
            self._retired.pop().close()
        self.state_label.setText(f"Watching {self.folder}, but the last check failed: {exc}. Trying again.")
        set_role(self.state_label, "error")
