"""The pieces of Home: a count tile that opens its list, and the first-steps panel of a new site."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QGroupBox,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.services.admin.schedule import ScheduleStatus
from app.services.reports.work import FirstStep, FirstSteps, WorkCount
from app.ui.kit.style import set_role
from app.ui.kit.widgets import hint

_TONES = {"alert": ("#fdecea", "#b00020"), "warn": ("#fff4d6", "#8a4b00"), "good": ("#e8f5ea", "#1b6e2d"),
          "plain": ("#eef3fb", "#1f2d3d")}
_QUIET = ("#ffffff", "#1f2d3d")


class Tile(QPushButton):
    """A count with its title and a one-line explanation; clicking opens the list it counts."""

    opened = Signal(str, str)  # page key, filter name

    def __init__(self, item: WorkCount, *, can_open: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.item = item
        self.target: tuple[str, str] | None = (item.page, item.filter) if can_open else None
        self.count: int | None = None
        self.setMinimumSize(220, 112)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 10)
        layout.setSpacing(2)
        self.count_label = QLabel("…")
        self.count_label.setObjectName("count")
        self.title_label = QLabel(item.title)
        self.title_label.setObjectName("tile-title")
        self.explanation = QLabel(item.explanation)
        self.explanation.setObjectName("tile-explanation")
        self.explanation.setWordWrap(True)
        for label in (self.count_label, self.title_label, self.explanation):
            label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
            layout.addWidget(label)
        if self.target is None:
            self.setEnabled(False)
            self.setToolTip("Your roles do not include the page with this list.")
        else:
            self.setCursor(Qt.CursorShape.PointingHandCursor)
            self.setToolTip(f"Open the list ({item.title.lower()})")
            self.clicked.connect(self._open)
        self.set_count(item.count)

    def _open(self) -> None:
        if self.target is not None:
            self.opened.emit(*self.target)

    def set_count(self, count: int | None) -> None:
        self.count = count
        self.count_label.setText("—" if count is None else str(count))
        self.setAccessibleName(f"{self.item.title}: {'unknown' if count is None else count}")
        self._paint()

    def _paint(self) -> None:
        background, colour = _TONES.get(self.item.tone, _TONES["plain"]) if self.count else _QUIET
        # The tile's own style sheet wins over the application's (which sets every widget's font size).
        self.setStyleSheet(
            f"Tile {{ background: {background}; border: 1px solid #d3d9e0; border-radius: 6px; text-align: left; }}"
            f"Tile:hover {{ border: 1px solid #3a78d4; }} Tile:focus {{ border: 2px solid #3a78d4; }}"
            f"QLabel {{ color: {colour}; background: transparent; }}"
            "QLabel#count { font-size: 22pt; font-weight: 700; }"
            "QLabel#tile-title { font-size: 11pt; font-weight: 600; }"
            "QLabel#tile-explanation { color: #5b6573; }")


class FirstStepsPanel(QGroupBox):
    """The steps from a new site to its first issued forms, each ticked when the data shows it done, with a
    button to the page where it is done (for those whose roles do it). Hidden once every step is done."""

    open_requested = Signal(str, str)  # page key, filter name ("" for the page as it is)

    def __init__(self, page_titles: dict[str, str], parent: QWidget | None = None) -> None:
        super().__init__("First steps on this site", parent)
        self._titles = page_titles  # the pages the user may open, by key
        self.steps: FirstSteps | None = None
        self.buttons: dict[str, QPushButton] = {}
        self.marks: dict[str, QLabel] = {}
        column = QVBoxLayout(self)
        column.addWidget(hint("A new site goes from nothing to its first controlled copies in four steps, in "
                              "this order. Each is ticked as soon as it is done, whoever did it."))
        self._grid = QGridLayout()
        self._grid.setColumnStretch(1, 1)
        column.addLayout(self._grid)
        self.setVisible(False)

    def show_steps(self, steps: FirstSteps) -> None:
        self.steps = steps
        if steps.all_done:
            self.setVisible(False)
            return
        while self._grid.count():
            taken = self._grid.takeAt(0)
            widget = taken.widget() if taken is not None else None
            if widget is not None:
                widget.deleteLater()
        self.buttons.clear()
        self.marks.clear()
        following = next((s.key for s in steps.steps if not s.done), None)
        for row, (number, step) in enumerate(enumerate(steps.steps, 1)):
            self._add_row(row, number, step, is_next=step.key == following)
        self.setVisible(True)

    def _add_row(self, row: int, number: int, step: FirstStep, *, is_next: bool) -> None:
        mark = QLabel("✔" if step.done else f"{number}.")
        set_role(mark, "ok" if step.done else "subtitle")
        self.marks[step.key] = mark
        state = "done" if step.done else ("next" if is_next else "to do")
        text = QLabel(f"<b>{step.title}</b> ({state}) — {step.explanation} <i>{step.who} does this.</i>")
        text.setWordWrap(True)
        text.setTextFormat(Qt.TextFormat.RichText)
        self._grid.addWidget(mark, row, 0, Qt.AlignmentFlag.AlignTop)
        self._grid.addWidget(text, row, 1)
        if is_next and step.may_do and step.page in self._titles:  # the step to take now, if it is this user's
            button = QPushButton(f"Open {self._titles[step.page]}")
            button.setToolTip(f"{step.title}: on the {self._titles[step.page]} page")
            button.clicked.connect(lambda _=False, s=step: self.open_requested.emit(s.page, s.filter or ""))
            self._grid.addWidget(button, row, 2, Qt.AlignmentFlag.AlignTop)
            self.buttons[step.key] = button


def schedule_text(state: ScheduleStatus | None, when: Callable[..., str]) -> tuple[str, bool]:
    """What Home says of the headless schedule (BK-02): its last backup and test-restore, when and how they ended;
    True when one of them failed."""
    if state is None or (not state.backup_folder and state.last_test_restore is None):
        return "Scheduled backups are not set up (Settings → backup folder; `formtrail schedule install`).", False
    parts, failed = [], False
    for name, last in (("scheduled backup", state.last_backup), ("test-restore", state.last_test_restore)):
        if last is None:
            parts.append(f"no {name} yet")
            continue
        outcome = "ok" if last.ok else "FAILED" + (f" ({last.detail})" if last.detail else "")
        failed = failed or not last.ok
        parts.append(f"last {name} {when(last.at, seconds=False)}: {outcome}")
    text = "Schedule: " + "; ".join(parts) + "."
    if state.next_test_restore_due is not None:
        text += f" Next test-restore due {when(state.next_test_restore_due, seconds=False)}."
    return ("⚠ " + text + " An incident was opened for QA.") if failed else text, failed

