"""The flow layout wraps a row of buttons onto more lines when narrow, and never overlaps them."""

from __future__ import annotations

import itertools

from PySide6.QtWidgets import QPushButton, QWidget

from app.ui.kit.flow_layout import FlowLayout, keep_together


def _panel(qtbot) -> tuple[QWidget, list[QPushButton]]:  # noqa: ANN001
    panel = QWidget()
    qtbot.addWidget(panel)
    layout = FlowLayout(panel)
    buttons = [QPushButton(f"Action number {i}") for i in range(6)]
    layout.addWidget(keep_together(buttons[0], buttons[1]))
    for button in buttons[2:]:
        layout.addWidget(button)
    panel.show()
    return panel, buttons


def test_one_line_when_wide_and_several_when_narrow(qtbot) -> None:  # noqa: ANN001
    panel, buttons = _panel(qtbot)
    panel.resize(panel.sizeHint().width() + 20, panel.layout().heightForWidth(panel.sizeHint().width() + 20))
    qtbot.waitUntil(lambda: len({b.mapTo(panel, b.rect().topLeft()).y() for b in buttons}) == 1)
    narrow = max(b.sizeHint().width() for b in buttons) * 2 + 30
    panel.resize(narrow, panel.layout().heightForWidth(narrow))
    qtbot.waitUntil(lambda: len({b.mapTo(panel, b.rect().topLeft()).y() for b in buttons}) > 2)
    rects = [b.geometry().translated(b.parentWidget().mapTo(panel, b.parentWidget().rect().topLeft()))
             for b in buttons]
    for a, b in itertools.combinations(rects, 2):
        assert not a.intersects(b)
    assert all(r.right() <= narrow for r in rects)
    assert buttons[0].mapTo(panel, buttons[0].rect().topLeft()).y() == \
        buttons[1].mapTo(panel, buttons[1].rect().topLeft()).y()  # a group stays on one line


def test_minimum_width_is_the_widest_item(qtbot) -> None:  # noqa: ANN001
    panel, buttons = _panel(qtbot)
    widest = max(buttons[0].sizeHint().width() + buttons[1].sizeHint().width(),
                 *(b.sizeHint().width() for b in buttons[2:]))
    assert panel.layout().minimumSize().width() <= widest + 10
    assert panel.layout().sizeHint().width() > 3 * widest
