"""A layout that lines its widgets up like words: a row of buttons wraps onto a second line when the window is
narrow (a small screen, 150–200 % scaling) instead of forcing the whole page wider than the window.

A port of Qt's Flow Layout example (BSD licence), with the item's alignment in its row kept simple: left."""

from __future__ import annotations

from PySide6.QtCore import QMargins, QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import QHBoxLayout, QLayout, QLayoutItem, QWidget


class FlowLayout(QLayout):
    def __init__(self, parent: QWidget | None = None, *, spacing: int = 6) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._spacing = spacing
        self.setContentsMargins(QMargins(0, 0, 0, 0))

    def addItem(self, item: QLayoutItem) -> None:  # noqa: N802 - Qt override
        self._items.append(item)

    def addWidgets(self, *widgets: QWidget) -> None:  # noqa: N802 - beside Qt's addWidget
        for widget in widgets:
            self.addWidget(widget)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:  # noqa: N802 - Qt override
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:  # noqa: N802 - Qt override
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:  # noqa: N802 - Qt override
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt override
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 - Qt override
        return self._arrange(QRect(0, 0, width, 0), apply=False)

    def setGeometry(self, rect: QRect) -> None:  # noqa: N802 - Qt override
        super().setGeometry(rect)
        self._arrange(rect, apply=True)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        """All items on one line."""
        items = self._visible()
        width = sum(item.sizeHint().width() for item in items) + self._spacing * max(0, len(items) - 1)
        height = max((item.sizeHint().height() for item in items), default=0)
        margins = self.contentsMargins()
        return QSize(width + margins.left() + margins.right(), height + margins.top() + margins.bottom())

    def minimumSize(self) -> QSize:  # noqa: N802 - Qt override
        """The widest single item: everything else may wrap."""
        size = QSize()
        for item in self._visible():
            size = size.expandedTo(item.minimumSize())
        margins = self.contentsMargins()
        return size + QSize(margins.left() + margins.right(), margins.top() + margins.bottom())

    def _visible(self) -> list[QLayoutItem]:
        return [item for item in self._items if not ((widget := item.widget()) and widget.isHidden())]

    def _gap(self, item: QLayoutItem, orientation: Qt.Orientation) -> int:
        widget = item.widget()
        if self._spacing >= 0 or widget is None:
            return max(self._spacing, 0)
        kind = widget.sizePolicy().controlType()
        return widget.style().layoutSpacing(kind, kind, orientation)

    def _arrange(self, rect: QRect, *, apply: bool) -> int:
        """Place the items line by line (each centred vertically in its line); returns the height used."""
        margins = self.contentsMargins()
        area = rect.marginsRemoved(margins)
        lines: list[list[tuple[QLayoutItem, int]]] = [[]]
        x = area.x()
        for item in self._visible():
            width = item.sizeHint().width()
            if x + width > area.right() + 1 and lines[-1]:
                lines.append([])
                x = area.x()
            lines[-1].append((item, x))
            x += width + self._gap(item, Qt.Orientation.Horizontal)
        y = area.y()
        for number, line in enumerate(lines):
            if not line:
                continue
            height = max(item.sizeHint().height() for item, _x in line)
            if apply:
                for item, left in line:
                    hint = item.sizeHint()
                    top = y + (height - hint.height()) // 2
                    item.setGeometry(QRect(QPoint(left, top), QSize(min(hint.width(), area.width()), hint.height())))
            y += height + (self._gap(line[0][0], Qt.Orientation.Vertical) if number < len(lines) - 1 else 0)
        return y - rect.y() + margins.bottom()

def keep_together(*widgets: QWidget, spacing: int = 4) -> QWidget:
    """Widgets that stay together on one line of a FlowLayout (e.g. ◀ page ▶)."""
    box = QWidget()
    row = QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    row.setSpacing(spacing)
    for widget in widgets:
        row.addWidget(widget)
    return box
