"""The scanned sheet beside the entry form: a page selector, zoom (buttons, Ctrl+wheel), fit to width, and the
row of the field being typed in, zoomed to and outlined ("Whole page" shows the whole sheet instead).

Kept deliberately small and private to the records page: page images come from ``scans.page_png`` in a
background task and are cached per scan page while the record is open. Where a field's row is on the sheet
comes from the template's layout (``app.forms.render.field_places``, the renderer's own geometry) as fractions of
the page; a scan is a whole page, so the fractions of its image land on the row closely enough."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QImage, QPainter, QPen, QPixmap, QStandardItemModel, QWheelEvent
from PySide6.QtWidgets import (
    QComboBox,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsView,
    QLabel,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.forms.render.field_places import FieldPlace
from app.services.records.record_views import ScanRef
from app.services.scans import scans
from app.ui.kit.flow_layout import FlowLayout, keep_together
from app.ui.kit.image_viewer import SmoothPixmapItem
from app.ui.kit.messages import describe
from app.ui.kit.style import set_role
from app.ui.kit.workers import Task
from app.ui.pages.registry import PageContext

ZOOM_STEP = 1.25
ZOOM_RANGE = (0.1, 6.0)
# Around a field's row: a little of the table's sides, and this many row heights above and below it (at least
# ROW_AROUND_MIN of the page), so the rows next to it and the column heads nearby stay in sight.
ROW_SIDE = 0.02
ROW_AROUND = 2.5
ROW_AROUND_MIN = 0.04
WIDTH, PAGE, ROW, FREE = "width", "page", "row", "free"  # what the zoom follows when the view is resized


class _PageView(QGraphicsView):
    """A graphics view that zooms with Ctrl+wheel and scrolls otherwise, and says when its viewport is resized
    (also when a scroll bar comes or goes)."""

    zoomed = Signal(float)  # the factor to multiply the current zoom by
    resized = Signal()

    def resizeEvent(self, event) -> None:  # noqa: ANN001, N802 - Qt API
        super().resizeEvent(event)
        self.resized.emit()

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt API
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.zoomed.emit(ZOOM_STEP if event.angleDelta().y() > 0 else 1 / ZOOM_STEP)
            event.accept()
            return
        super().wheelEvent(event)


class ScanView(QWidget):
    """Shows the linked scans of one form, one page at a time."""

    page_changed = Signal(int)  # page number now shown (0: no scan)

    def __init__(self, ctx: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._scans: tuple[ScanRef, ...] = ()
        self._images: dict[int, QImage] = {}
        self._tasks: dict[int, Task] = {}
        self._zoom = 1.0
        self._mode = WIDTH
        self._place: FieldPlace | None = None  # the row of the field being typed in
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        bar = FlowLayout()
        self.page_combo = QComboBox()
        self.page_combo.setMinimumContentsLength(16)
        self.page_combo.setToolTip("The page of the sheet shown here; values you save are recorded as read "
                                   "from this page.")
        self.page_combo.currentIndexChanged.connect(self._page_selected)
        page_label = QLabel("Sca&n page:")
        page_label.setBuddy(self.page_combo)
        bar.addWidget(keep_together(page_label, self.page_combo))
        self.zoom_out_button = self._tool("−", "Zoom out (Ctrl+wheel down)", lambda: self.zoom_by(1 / ZOOM_STEP))
        self.zoom_label = QLabel("100 %")
        self.zoom_label.setMinimumWidth(48)
        self.zoom_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.zoom_in_button = self._tool("+", "Zoom in (Ctrl+wheel up)", lambda: self.zoom_by(ZOOM_STEP))
        self.fit_button = self._tool("Fit width", "Fit the page to the width of the view", self.fit_width)
        self.whole_button = self._tool("Whole page", "Show the whole page. Off: the view follows the field you "
                                                     "are typing in, zoomed to its row.", self._whole_toggled)
        self.whole_button.setCheckable(True)
        bar.addWidget(keep_together(self.zoom_out_button, self.zoom_label, self.zoom_in_button, self.fit_button,
                                    self.whole_button))
        layout.addLayout(bar)

        self.scene = QGraphicsScene(self)
        self.item = SmoothPixmapItem()
        self.scene.addItem(self.item)
        # The outline of the current field's row: a viewing aid drawn over the scan, never into it.
        self.marker = QGraphicsRectItem()
        pen = QPen(QColor(230, 120, 0), 2)
        pen.setCosmetic(True)
        self.marker.setPen(pen)
        self.marker.setBrush(QBrush(QColor(255, 200, 0, 40)))
        self.marker.setZValue(1)
        self.marker.hide()
        self.scene.addItem(self.marker)
        self.view = _PageView(self.scene)
        self.view.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        self.view.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.view.setBackgroundBrush(Qt.GlobalColor.gray)
        self.view.zoomed.connect(self.zoom_by)
        self.view.resized.connect(self._resized)
        layout.addWidget(self.view, 1)
        self.status = QLabel()
        self.status.setWordWrap(True)
        set_role(self.status, "hint")
        layout.addWidget(self.status)
        self._update_controls()

    def _tool(self, text: str, tip: str, slot) -> QToolButton:  # noqa: ANN001
        button = QToolButton()
        button.setText(text)
        button.setToolTip(tip)
        button.clicked.connect(slot)
        return button

    # -- which pages -------------------------------------------------------------------------------
    def set_scans(self, scans_: Sequence[ScanRef], *, pages: int) -> None:
        """The linked scans of the form (current versions) and its page count; keeps the page shown if it
        is still there."""
        scans_ = tuple(sorted(scans_, key=lambda s: s.page_no))
        if scans_ == self._scans and self.page_combo.count():
            return
        shown = self.current_page()
        self._scans = scans_
        by_page = {s.page_no: s for s in scans_}
        self.page_combo.blockSignals(True)
        self.page_combo.clear()
        for page_no in range(1, max([pages, *by_page]) + 1):
            scan = by_page.get(page_no)
            if scan is None:
                self.page_combo.addItem(f"Page {page_no} – not scanned", None)
                # A QComboBox's own model (never replaced here) is a QStandardItemModel.
                model = cast(QStandardItemModel, self.page_combo.model())
                model.item(self.page_combo.count() - 1).setEnabled(False)
            else:
                self.page_combo.addItem(f"Page {page_no}", scan.scan_page_id)
                tip = f"{scan.source_name}, page {scan.page_index + 1}\nSHA-256 {scan.sha256}"
                self.page_combo.setItemData(self.page_combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        self.page_combo.blockSignals(False)
        target = shown if shown in by_page else (min(by_page) if by_page else None)
        if target is None:
            self.item.setPixmap(QPixmap())
            self.marker.hide()
            self.scene.setSceneRect(0, 0, 1, 1)
            self.status.setText("No scan of this form is linked yet. Values are saved as direct entries; "
                                "import the returned sheet on the Scans page to transcribe beside its image.")
            self._update_controls()
            self.page_changed.emit(0)
            return
        self.show_page(target, force=True)

    def current_page(self) -> int | None:
        """The page number shown, or None when there is no scan to show."""
        scan = self._current_scan()
        return scan.page_no if scan else None

    def current_scan(self) -> ScanRef | None:
        return self._current_scan()

    def _current_scan(self) -> ScanRef | None:
        scan_id = self.page_combo.currentData()
        return next((s for s in self._scans if s.scan_page_id == scan_id), None)

    def show_page(self, page_no: int, *, force: bool = False) -> None:
        """Switch to a page (ignored when it has no scan)."""
        index = next((i for i in range(self.page_combo.count())
                      if self.page_combo.itemText(i) == f"Page {page_no}"), None)
        if index is None:
            return
        if index != self.page_combo.currentIndex():
            self.page_combo.setCurrentIndex(index)  # -> _page_selected
        elif force:
            self._page_selected(index)

    def _page_selected(self, _index: int) -> None:
        scan = self._current_scan()
        if scan is None:
            return
        self.status.setText(f"{scan.source_name}, page {scan.page_index + 1} · SHA-256 {scan.sha256[:16]}…")
        if scan.scan_page_id in self._images:
            self._display(self._images[scan.scan_page_id])
        else:
            self.item.setPixmap(QPixmap())
            self.marker.hide()
            self.status.setText(f"Loading page {scan.page_no}…")
            self._load(scan.scan_page_id)
        self._update_controls()
        self.page_changed.emit(scan.page_no)

    # -- loading -----------------------------------------------------------------------------------
    def _load(self, scan_page_id: int) -> None:
        if scan_page_id in self._tasks:
            return
        db, actor = self._ctx.db, self._ctx.actor

        def job(progress, cancelled) -> tuple[int, QImage | Exception]:  # noqa: ANN001 - see workers.Job
            try:
                return scan_page_id, QImage.fromData(scans.page_png(db, actor, scan_page_id))
            except Exception as exc:  # noqa: BLE001 - shown in the view, with the page it belongs to
                return scan_page_id, exc
        task = self._ctx.run_task(job, name=f"scan page {scan_page_id}")
        self._tasks[scan_page_id] = task
        task.finished.connect(self._loaded)  # a bound method: dropped if this view is deleted first

    def _loaded(self, result: tuple[int, QImage | Exception]) -> None:
        scan_page_id, image = result
        self._tasks.pop(scan_page_id, None)
        scan = self._current_scan()
        current = scan is not None and scan.scan_page_id == scan_page_id
        if isinstance(image, Exception):
            if current:
                self.status.setText(f"This page cannot be shown: {describe(image)}")
                set_role(self.status, "error")
            return
        self._images[scan_page_id] = image
        if current and scan is not None:
            self.status.setText(f"{scan.source_name}, page {scan.page_index + 1} · SHA-256 {scan.sha256[:16]}…")
            self._display(image)

    @property
    def loading(self) -> bool:
        return bool(self._tasks)

    def has_image(self) -> bool:
        return not self.item.pixmap().isNull()

    # -- zoom ----------------------------------------------------------------------------------------
    def _display(self, image: QImage) -> None:
        set_role(self.status, "hint")
        self.item.setPixmap(QPixmap.fromImage(image))
        self.scene.setSceneRect(self.item.boundingRect())
        self._refit()

    def _refit(self) -> None:
        """Zoom again as the mode says (after a page is shown or the view resized)."""
        self._mark()
        if self._mode == ROW and self._row_rect() is not None:
            self._zoom_to_row()
        elif self._mode == PAGE:
            self.fit_page()
        elif self._mode == WIDTH or self._mode == ROW:
            self._fit_width_now()
        else:
            self._apply_zoom()

    def fit_width(self) -> None:
        self._mode = WIDTH
        self._fit_width_now()

    def _fit_width_now(self) -> None:
        width = self.item.boundingRect().width()
        if width > 0:
            available = max(50, self.view.viewport().width() - 4)
            self._zoom = available / width
            self._apply_zoom()

    def fit_page(self) -> None:
        """The whole page in the view."""
        self._mode = PAGE
        bounds = self.item.boundingRect()
        if bounds.width() > 0 and bounds.height() > 0:
            viewport = self.view.viewport()
            self._zoom = min(max(50, viewport.width() - 4) / bounds.width(),
                             max(50, viewport.height() - 4) / bounds.height())
            self._apply_zoom()

    def zoom_by(self, factor: float) -> None:
        self._mode = FREE
        self._zoom = min(ZOOM_RANGE[1], max(ZOOM_RANGE[0], self._zoom * factor))
        self._apply_zoom()

    @property
    def zoom(self) -> float:
        return self._zoom

    @property
    def following(self) -> bool:
        """Whether the view follows the field being typed in (not "Whole page")."""
        return not self.whole_button.isChecked()

    def _apply_zoom(self) -> None:
        self.view.resetTransform()
        self.view.scale(self._zoom, self._zoom)
        self.zoom_label.setText(f"{round(self._zoom * 100)} %")

    # -- the field being typed in -------------------------------------------------------------------
    def show_field(self, place: FieldPlace | None) -> None:
        """Show the page of the field being typed in and zoom to its row (unless "Whole page" is on); None: the
        field's place is not known, the view stays as it is."""
        self._place = place
        if place is None:
            self._mark()
            return
        if self.following:
            self._mode = ROW
        if self.current_page() != place.page:
            self.show_page(place.page)  # displays, then zooms to the row
        if self.current_page() == place.page and self.has_image():
            self._refit()

    def _whole_toggled(self) -> None:
        if self.whole_button.isChecked():
            self.fit_page()
        elif self._place is not None:
            self.show_field(self._place)
        else:
            self.fit_width()

    def _row_rect(self) -> QRectF | None:
        """The current field's row on the page shown, in image pixels (None when it is not on this page)."""
        place = self._place
        bounds = self.item.boundingRect()
        if place is None or place.page != self.current_page() or bounds.isEmpty():
            return None
        return QRectF(place.x * bounds.width(), place.y * bounds.height(), place.w * bounds.width(),
                      place.h * bounds.height())

    def row_in_view(self) -> QRectF | None:
        """Where the current field's row is in the view's viewport (for tests and a glance), or None."""
        rect = self._row_rect()
        return None if rect is None else self.view.mapFromScene(rect).boundingRect().toRectF()

    def _mark(self) -> None:
        rect = self._row_rect()
        self.marker.setVisible(rect is not None)
        if rect is not None:
            self.marker.setRect(rect)

    def _zoom_to_row(self) -> None:
        rect = self._row_rect()
        if rect is None:
            return
        bounds = self.item.boundingRect()
        around = max(rect.height() * ROW_AROUND, bounds.height() * ROW_AROUND_MIN)
        side = bounds.width() * ROW_SIDE
        region = rect.adjusted(-side, -around, side, around)
        viewport = self.view.viewport()
        self._zoom = min(ZOOM_RANGE[1], max(ZOOM_RANGE[0], min(max(50, viewport.width() - 4) / region.width(),
                                                              max(50, viewport.height() - 4) / region.height())))
        self._apply_zoom()
        self.view.centerOn(rect.center())

    def _update_controls(self) -> None:
        has_scan = bool(self._scans)
        for widget in (self.zoom_in_button, self.zoom_out_button, self.fit_button, self.whole_button,
                       self.page_combo):
            widget.setEnabled(has_scan)

    def _resized(self) -> None:
        if self._mode != FREE and self.has_image():
            self._refit()
