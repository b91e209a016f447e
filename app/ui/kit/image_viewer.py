"""The scan viewer: one page image at a time with zoom, fit, rotation and a page selector.

The viewer only *shows*: rotating is a way of looking at the page, it never changes the stored scan (the
scanner's file is the original record). Images are loaded off the GUI thread through a ``load(key) -> bytes``
callable (PNG or JPEG bytes), normally :func:`scan_page_loader`::

    viewer = ImageViewer(scan_page_loader(ctx.db, ctx.actor))
    viewer.set_pages([ViewerPage(key=scan.id, label="000123 p.1 — scan.pdf p.3")])
"""

from __future__ import annotations

import dataclasses
import math
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import cast

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QImage, QKeySequence, QPainter, QPixmap, QShortcut, QTransform, QWheelEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QGraphicsPixmapItem,
    QGraphicsScene,
    QGraphicsView,
    QLabel,
    QStyleOptionGraphicsItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.services.core.db import Actor, Database
from app.services.scans import scans
from app.ui.kit import messages, workers
from app.ui.kit.flow_layout import FlowLayout, keep_together
from app.ui.kit.style import set_role

Loader = Callable[[int], bytes]
ZOOM_STEP = 1.25
MIN_ZOOM, MAX_ZOOM = 0.05, 8.0
_CACHED = 12  # decoded pages kept in memory (an A4 page at 2200 px is ~10 MB as a pixmap)
# Below this scale on screen a page is drawn from a copy shrunk with area averaging (see SmoothPixmapItem).
_PRESCALE_BELOW = 0.7


@dataclasses.dataclass(frozen=True)
class ViewerPage:
    """One entry of the page selector: ``key`` is what ``load`` receives (a scan page id)."""

    key: int
    label: str


def scan_page_loader(db: Database, actor: Actor, *, max_side: int = 2200) -> Loader:
    """Load a stored scanned page as PNG through the service (hash-checked, cached on disk)."""
    return lambda key: scans.page_png(db, actor, key, max_side=max_side)


class SmoothPixmapItem(QGraphicsPixmapItem):
    """A page image that keeps its thin lines when shown much smaller than its pixels (a whole page at Fit).

    Qt's smooth transformation is bilinear: each screen pixel blends the four image pixels nearest to where it
    samples, so at a scale of 0.12 eleven of every twelve image rows are never looked at and most 1-px table
    rules vanish. Below ``_PRESCALE_BELOW`` the item draws a copy shrunk to its size on screen with the item's
    transformation mode (smooth: ``QPixmap.scaled`` then averages every pixel it covers, so a 1-px rule stays a
    visibly darker line); the copy is kept until the scale or the image changes."""

    def __init__(self) -> None:
        super().__init__()
        self.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self._shrunk = QPixmap()

    def setPixmap(self, pixmap: QPixmap | QImage, /) -> None:  # noqa: N802 - Qt override
        self._shrunk = QPixmap()
        super().setPixmap(pixmap)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None, /) -> None:
        pixmap = self.pixmap()
        world = painter.worldTransform()
        device = painter.device()
        # The scale from image pixels to device pixels (rotation included; high-DPI screens have more).
        scale = math.hypot(world.m11(), world.m12()) * (device.devicePixelRatioF() if device is not None else 1.0)
        if pixmap.isNull() or scale >= _PRESCALE_BELOW:
            # Qt accepts no widget here; the stubs of QGraphicsPixmapItem alone say it is required.
            super().paint(painter, option, cast(QWidget, widget))
            return
        size = QSize(max(1, round(pixmap.width() * scale)), max(1, round(pixmap.height() * scale)))
        if self._shrunk.size() != size:
            self._shrunk = pixmap.scaled(size, Qt.AspectRatioMode.IgnoreAspectRatio, self.transformationMode())
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.drawPixmap(QRectF(self.offset(), pixmap.size().toSizeF()), self._shrunk,
                           QRectF(self._shrunk.rect()))

    @property
    def shrunk_size(self) -> QSize:
        """The size of the shrunk copy drawn last (empty when the image was drawn as it is)."""
        return self._shrunk.size()


class _View(QGraphicsView):
    """A graphics view that zooms with Ctrl + mouse wheel and tells its owner when it is resized."""

    wheel_zoomed = Signal(int)
    resized = Signal()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(360, 480)  # not the scene's size: a big page would take the whole splitter

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt override
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.wheel_zoomed.emit(1 if event.angleDelta().y() > 0 else -1)
            event.accept()
            return
        super().wheelEvent(event)

    def resizeEvent(self, event) -> None:  # noqa: ANN001, N802 - Qt override
        super().resizeEvent(event)
        self.resized.emit()


class ImageViewer(QWidget):
    """Zoom in/out/fit, rotate 90°, previous/next and a page selector over ``set_pages``.

    ``page_loaded(key)`` is emitted when a page is on screen; ``zoom`` and ``rotation`` give the view state."""

    page_loaded = Signal(int)
    page_failed = Signal(int, str)

    def __init__(self, load: Loader | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._load = load
        self._pages: list[ViewerPage] = []
        self._cache: OrderedDict[int, QPixmap] = OrderedDict()
        self._wanted: int | None = None
        self._shown: int | None = None
        self._zoom = 1.0
        self._rotation = 0
        self._fitting = True

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        bar = FlowLayout()
        self.previous_button = self._tool("◀", "Previous page (Page Up)", lambda: self.step(-1))
        self.page_combo = QComboBox()
        self.page_combo.setMinimumContentsLength(14)
        self.page_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.page_combo.setToolTip("Choose the page to show")
        self.page_combo.currentIndexChanged.connect(self._combo_changed)
        self.next_button = self._tool("▶", "Next page (Page Down)", lambda: self.step(1))
        self.zoom_out_button = self._tool("−", "Zoom out (Ctrl+minus, or Ctrl+wheel)", self.zoom_out)
        self.zoom_label = QLabel("100 %")
        self.zoom_label.setMinimumWidth(48)
        self.zoom_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.zoom_in_button = self._tool("+", "Zoom in (Ctrl+plus, or Ctrl+wheel)", self.zoom_in)
        self.fit_button = self._tool("Fit", "Fit the whole page in the window (Ctrl+0)", self.fit)
        self.actual_button = self._tool("1:1", "Actual size: one image pixel per screen pixel", self.actual_size)
        self.rotate_button = self._tool("⟳ 90°", "Rotate the view 90° clockwise (R). The stored scan is not "
                                                 "changed.", self.rotate)
        # Two groups that wrap onto two lines when the viewer is narrow.
        bar.addWidget(keep_together(self.previous_button, self.page_combo, self.next_button))
        bar.addWidget(keep_together(self.zoom_out_button, self.zoom_label, self.zoom_in_button, self.fit_button,
                            self.actual_button, self.rotate_button))
        layout.addLayout(bar)

        self.scene = QGraphicsScene(self)
        self.item = SmoothPixmapItem()
        self.scene.addItem(self.item)
        self.view = _View(self.scene)
        self.view.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        self.view.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.view.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.view.setBackgroundBrush(Qt.GlobalColor.darkGray)
        self.view.setMinimumSize(220, 220)
        self.view.wheel_zoomed.connect(lambda direction: self.zoom_in() if direction > 0 else self.zoom_out())
        self.view.resized.connect(self._refit)
        layout.addWidget(self.view, 1)
        self.status = set_role(QLabel(), "hint")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)

        for keys, slot in ((QKeySequence.StandardKey.ZoomIn, self.zoom_in),
                           (QKeySequence.StandardKey.ZoomOut, self.zoom_out),
                           (QKeySequence("Ctrl+0"), self.fit), (QKeySequence("R"), self.rotate),
                           (QKeySequence(Qt.Key.Key_PageUp), lambda: self.step(-1)),
                           (QKeySequence(Qt.Key.Key_PageDown), lambda: self.step(1))):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)
        self._update_controls()
        self.set_message("No page selected.")

    @staticmethod
    def _tool(text: str, tip: str, slot: Callable[[], None]) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setToolTip(tip)
        button.setAutoRaise(False)
        button.clicked.connect(slot)
        return button

    # -- state -------------------------------------------------------------------------------------------
    @property
    def zoom(self) -> float:
        return self._zoom

    @property
    def rotation(self) -> int:
        return self._rotation

    @property
    def fitting(self) -> bool:
        return self._fitting

    @property
    def pages(self) -> list[ViewerPage]:
        return list(self._pages)

    @property
    def current_index(self) -> int:
        return self.page_combo.currentIndex()

    @property
    def current_key(self) -> int | None:
        index = self.page_combo.currentIndex()
        return self._pages[index].key if 0 <= index < len(self._pages) else None

    @property
    def shown_key(self) -> int | None:
        """The page whose image is on screen now (None while loading or when empty)."""
        return self._shown

    def set_loader(self, load: Loader) -> None:
        self._load = load

    def set_message(self, text: str) -> None:
        self.status.setText(text)

    # -- pages -------------------------------------------------------------------------------------------
    def set_pages(self, pages: Sequence[ViewerPage], current: int = 0) -> None:
        """Replace the page list and show page ``current`` (or nothing for an empty list)."""
        self._pages = list(pages)
        self.page_combo.blockSignals(True)
        self.page_combo.clear()
        for entry in self._pages:
            self.page_combo.addItem(entry.label, entry.key)
        self.page_combo.setCurrentIndex(current if self._pages else -1)
        self.page_combo.blockSignals(False)
        self._update_controls()
        if self._pages:
            self.show_page(max(0, min(current, len(self._pages) - 1)))
        else:
            self.clear()

    def clear(self, message: str = "No page selected.") -> None:
        self._wanted = self._shown = None
        self.item.setPixmap(QPixmap())
        self.scene.setSceneRect(QRectF())
        self.set_message(message)

    def show_page(self, index: int) -> None:
        if not 0 <= index < len(self._pages):
            return
        if self.page_combo.currentIndex() != index:
            self.page_combo.setCurrentIndex(index)  # comes back here through _combo_changed
            return
        key = self._pages[index].key
        self._wanted = key
        self._update_controls()
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            self._display(key, cached)
            return
        if self._load is None:
            self.set_message("No image source.")
            return
        self._shown = None
        self.item.setPixmap(QPixmap())
        self.set_message(f"Loading {self._pages[index].label}…")
        load = self._load
        task = workers.run_task(lambda progress, cancelled: load(key), name="viewer")
        # Lambdas are not disconnected when the viewer is deleted: check it is still there.
        task.finished.connect(workers.while_alive(self, lambda data, key=key: self._loaded(key, data)))
        task.failed.connect(workers.while_alive(self, lambda exc, key=key: self._failed(key, exc)))

    def step(self, delta: int) -> None:
        if self._pages:
            self.show_page(max(0, min(len(self._pages) - 1, self.current_index + delta)))

    def _combo_changed(self, index: int) -> None:
        if index >= 0:
            self.show_page(index)

    def _loaded(self, key: int, data: bytes) -> None:
        pixmap = QPixmap()
        if not pixmap.loadFromData(data):
            self._failed(key, ValueError("the image data cannot be decoded"))
            return
        self._cache[key] = pixmap
        while len(self._cache) > _CACHED:
            self._cache.popitem(last=False)
        if key == self._wanted:
            self._display(key, pixmap)

    def _failed(self, key: int, exc: BaseException) -> None:
        if key == self._wanted:
            self._shown = None
            self.item.setPixmap(QPixmap())
            self.set_message(f"This page cannot be shown: {messages.describe(exc)}")
        self.page_failed.emit(key, messages.describe(exc))

    def _display(self, key: int, pixmap: QPixmap) -> None:
        self._shown = key
        self.item.setPixmap(pixmap)
        self.item.setTransformOriginPoint(pixmap.width() / 2, pixmap.height() / 2)
        self.scene.setSceneRect(QRectF(pixmap.rect()))
        index = self.current_index
        label = self._pages[index].label if 0 <= index < len(self._pages) else ""
        self.set_message(f"{label} · {pixmap.width()} × {pixmap.height()} px · page {index + 1} of "
                         f"{len(self._pages)}")
        if self._fitting:
            self.fit()
        else:
            self._apply()
        self.page_loaded.emit(key)

    def _update_controls(self) -> None:
        count, index = len(self._pages), self.page_combo.currentIndex()
        self.previous_button.setEnabled(index > 0)
        self.next_button.setEnabled(0 <= index < count - 1)
        self.page_combo.setEnabled(count > 1)

    # -- zoom and rotation -----------------------------------------------------------------------------------
    def zoom_in(self) -> None:
        self.set_zoom(self._zoom * ZOOM_STEP)

    def zoom_out(self) -> None:
        self.set_zoom(self._zoom / ZOOM_STEP)

    def actual_size(self) -> None:
        self.set_zoom(1.0)

    def set_zoom(self, zoom: float) -> None:
        self._fitting = False
        self._zoom = max(MIN_ZOOM, min(MAX_ZOOM, zoom))
        self._apply()

    def rotate(self) -> None:
        """Turn the view 90° clockwise (four turns are back to the start)."""
        self._rotation = (self._rotation + 90) % 360
        if self._fitting:
            self.fit()
        else:
            self._apply()

    def fit(self) -> None:
        """Show the whole page, as large as the window allows; stays fitted when the window is resized."""
        self._fitting = True
        pixmap = self.item.pixmap()
        if pixmap.isNull():
            self._apply()
            return
        w, h = pixmap.width(), pixmap.height()
        if self._rotation % 180:
            w, h = h, w
        viewport = self.view.viewport().size()
        margin = 8
        self._zoom = max(MIN_ZOOM, min(MAX_ZOOM, min((viewport.width() - margin) / w,
                                                     (viewport.height() - margin) / h)))
        self._apply()

    def _refit(self) -> None:
        if self._fitting and not self.item.pixmap().isNull():
            self.fit()

    def _apply(self) -> None:
        self.view.setTransform(QTransform().rotate(self._rotation).scale(self._zoom, self._zoom))
        self.view.centerOn(self.item)
        self.zoom_label.setText(f"{round(self._zoom * 100)} %")
        self.zoom_in_button.setEnabled(self._zoom < MAX_ZOOM)
        self.zoom_out_button.setEnabled(self._zoom > MIN_ZOOM)


class ImageViewerDialog(QDialog):
    """The viewer in a window of its own (not modal: the user can keep working beside it)."""

    def __init__(self, load: Loader, pages: Sequence[ViewerPage], *, title: str, explanation: str = "",
                 parent: QWidget | None = None, current: int = 0) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        layout = QVBoxLayout(self)
        if explanation:
            note = set_role(QLabel(explanation), "hint")
            note.setWordWrap(True)
            layout.addWidget(note)
        self.viewer = ImageViewer(load, self)
        layout.addWidget(self.viewer, 1)
        self.resize(820, 900)
        self.viewer.set_pages(pages, current)
