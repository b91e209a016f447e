"""Forms beside the scan instead of dialogs over it: a person resolving a scanned page or correcting a value must
keep looking at the image while filling in the form.

A :class:`SidePanel` is the form (a heading, its fields in ``body``, an action button and Cancel); a
:class:`PanelStack` shows its ``main`` widget (a list, the entry form) or, while a panel is open, the panel in its
place, in the same spot of the page's splitter, so the viewer beside it stays as large as it was. Enter submits
(when the action is enabled), Esc closes. ``finished(ok)`` tells the page; the stack then deletes the panel::

    stack = PanelStack(table_column)
    splitter.addWidget(stack)
    splitter.addWidget(viewer)
    stack.open(ReasonPanel(heading=..., explanation=..., action_text=..., perform=...), on_done)
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.services.core.errors import FormtrailError
from app.ui.kit import messages
from app.ui.kit.widgets import hint, title

_ENTER = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


class ReasonBox(QPlainTextEdit):
    """A reason field of a side panel: Enter submits the panel, Shift+Enter starts a new line (a reason is
    mostly one sentence); Tab moves on, as in every form."""

    submit_requested = Signal()

    def __init__(self, placeholder: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setPlaceholderText(placeholder)
        self.setToolTip("Enter: done · Shift+Enter: a new line")
        self.setTabChangesFocus(True)
        self.setFixedHeight(72)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        if event.key() in _ENTER and not event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            event.accept()
            self.submit_requested.emit()
            return
        super().keyPressEvent(event)


class SidePanel(QFrame):
    """See the module docstring. Subclasses fill ``body``, name the action (``action_button``), implement
    ``submit`` and call ``finish(True)`` when it succeeded; ``result_value`` is theirs to set."""

    finished = Signal(bool)  # True: submitted and done; False: closed without

    def __init__(self, heading: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sidepanel")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.heading_text = heading
        self.result_value: Any = None
        self.ok: bool | None = None  # None while the panel is open
        self.first_focus: QWidget | None = None  # where the cursor goes when the panel opens
        outer = QVBoxLayout(self)
        top = QHBoxLayout()
        self.heading = title(heading)
        self.heading.setWordWrap(True)
        top.addWidget(self.heading, 1)
        self.close_button = QToolButton()
        self.close_button.setText("✕")
        self.close_button.setToolTip("Close without saving (Esc)")
        self.close_button.setAutoRaise(True)
        self.close_button.clicked.connect(self.close_panel)
        top.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)
        outer.addLayout(top)
        self.body = QVBoxLayout()
        outer.addLayout(self.body)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.action_button = QPushButton("OK")
        self.action_button.setToolTip("Enter")
        self.action_button.clicked.connect(self.try_submit)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Close without saving (Esc)")
        self.cancel_button.clicked.connect(self.close_panel)
        buttons.addWidget(self.action_button)
        buttons.addWidget(self.cancel_button)
        outer.addLayout(buttons)
        outer.addStretch(1)

    def reason_box(self, placeholder: str, label: str = "&Reason (required, recorded in the audit trail):"
                   ) -> ReasonBox:
        """A labelled reason field added to ``body``; Enter in it submits."""
        caption = QLabel(label)
        box = ReasonBox(placeholder)
        caption.setBuddy(box)
        box.submit_requested.connect(self.try_submit)
        self.body.addWidget(caption)
        self.body.addWidget(box)
        return box

    def submit(self) -> None:
        raise NotImplementedError

    def try_submit(self) -> None:
        """Enter or the action button: submit when the form is complete (the action enabled)."""
        if self.ok is None and self.action_button.isEnabled():
            self.submit()

    def finish(self, ok: bool) -> None:
        if self.ok is None:
            self.ok = ok
            self.finished.emit(ok)

    def close_panel(self) -> None:
        self.finish(False)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        if event.key() == Qt.Key.Key_Escape:
            event.accept()
            self.close_panel()
            return
        if event.key() in _ENTER:
            event.accept()
            focused = QApplication.focusWidget()
            # Enter on another button of the panel presses that button, as in a dialog.
            if (isinstance(focused, (QPushButton, QToolButton)) and focused is not self.action_button
                    and self.isAncestorOf(focused)):
                focused.click()
            else:
                self.try_submit()
            return
        super().keyPressEvent(event)


class ReasonPanel(SidePanel):
    """Asks for a reason, optionally confirms, then runs ``perform(reason)`` (the side-panel form of
    app.ui.kit.reason.ReasonDialog). A service error is shown in a message box and the panel stays open with
    everything typed; ``result_value`` holds what ``perform`` returned."""

    def __init__(self, *, heading: str, explanation: str, action_text: str, perform: Callable[[str], Any],
                 confirm_text: str | None = None, placeholder: str | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(heading, parent)
        self._perform, self._confirm_text = perform, confirm_text
        self.body.addWidget(hint(explanation))
        self.reason = self.reason_box(placeholder or "Why?")
        self.action_button.setText(action_text)
        self.action_button.setEnabled(False)
        self.reason.textChanged.connect(
            lambda: self.action_button.setEnabled(bool(self.reason.toPlainText().strip())))
        self.first_focus = self.reason

    def submit(self) -> None:
        reason = self.reason.toPlainText().strip()
        if not reason:
            return
        if self._confirm_text and not messages.confirm(self, self._confirm_text, title=self.heading_text,
                                                       ok_text=self.action_button.text()):
            return
        try:
            self.result_value = self._perform(reason)
        except FormtrailError as exc:
            messages.show_exception(self, exc, title=self.heading_text)
            return
        self.finish(True)


class PanelStack(QStackedWidget):
    """``main`` alone, or the open side panel in its place (see the module docstring)."""

    def __init__(self, main: QWidget, *, focus: QWidget | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.main = main
        self._focus = focus or main  # where the cursor returns when a panel closes
        self.addWidget(main)
        self.panel: SidePanel | None = None

    def open(self, panel: SidePanel, on_done: Callable[[SidePanel, bool], None] | None = None) -> SidePanel:
        """Show ``panel`` in place of ``main`` (closing one still open); ``on_done(panel, ok)`` runs when it is
        finished, then the panel is deleted and ``main`` is back."""
        if self.panel is not None:
            self.panel.close_panel()
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(panel)
        self.addWidget(scroll)
        self.setCurrentWidget(scroll)
        self.panel = panel
        # Weak references: a closure holding the panel, connected to the panel's own signal, is the cycle
        # app.ui.kit.dialogs explains (Python could break it while Qt deletes the panel).
        stack_ref, panel_ref, scroll_ref = weakref.ref(self), weakref.ref(panel), weakref.ref(scroll)

        def finished(ok: bool) -> None:
            stack, done, area = stack_ref(), panel_ref(), scroll_ref()
            if stack is not None and done is not None and area is not None:
                stack.closed(done, area, ok, on_done)
        panel.finished.connect(finished)
        (panel.first_focus or panel).setFocus(Qt.FocusReason.OtherFocusReason)
        return panel

    def closed(self, panel: SidePanel, scroll: QScrollArea, ok: bool,
               on_done: Callable[[SidePanel, bool], None] | None) -> None:
        focused = QApplication.focusWidget()
        had_focus = focused is not None and panel.isAncestorOf(focused)
        if self.panel is panel:
            self.panel = None
            self.setCurrentWidget(self.main)
        self.removeWidget(scroll)
        scroll.hide()
        if on_done is not None:
            on_done(panel, ok)
        scroll.deleteLater()  # the panel with it, after ``finished`` was delivered everywhere
        if had_focus and self.panel is None:
            self._focus.setFocus(Qt.FocusReason.OtherFocusReason)
