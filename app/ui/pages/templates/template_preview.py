"""The template editor's live preview: the draft PDF (watermarked, no valid code) rendered in a worker, shown
with QtPdf, refreshed a moment after the last edit, with how much room each page has left."""

from __future__ import annotations

import io

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QTimer, Signal
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPdfWidgets import QPdfView
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from app.forms.layout.layout import TemplateLayout
from app.forms.render import render
from app.ui.kit import workers
from app.ui.kit.style import set_role
from app.ui.pages.registry import PageContext

DEBOUNCE_MS = 400


Rendered = tuple[bytes, int, tuple[render.PageSpace, ...], str]


def _render(layout: TemplateLayout, site_code: str, site_name: str, version_label: str) -> Rendered:
    """The draft PDF's bytes, its page count, the room on each page and the paper (runs in a worker)."""
    out = io.BytesIO()
    pages = render.render_preview(out, layout, site_code=site_code, site_name=site_name, version_label=version_label)
    return out.getvalue(), pages, render.measure_pages(layout), layout.paper.value


def space_text(spaces: tuple[render.PageSpace, ...]) -> tuple[str, bool]:
    """"Page 1: 34 mm free · page 2: 12 mm too full", and whether everything fits."""
    parts = []
    for space in spaces:
        left = space.available_mm - space.needed_mm
        parts.append(f"page {space.page}: {left:.0f} mm free" if space.fits
                     else f"page {space.page}: {-left:.0f} mm TOO FULL")
    fits = all(space.fits for space in spaces)
    text = " · ".join(parts)
    return (text[0].upper() + text[1:] if text else ""), fits


class PreviewPane(QWidget):
    """Shows ``layout`` as the draft PDF. ``show_layout`` schedules a render ``DEBOUNCE_MS`` after the last call;
    only one render runs at a time and only the newest layout is shown. ``rendered(pages)`` follows each one."""

    rendered = Signal(int)

    def __init__(self, ctx: PageContext, *, version_label: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._version_label = version_label
        self._pending: TemplateLayout | None = None
        self._task: workers.Task | None = None
        self._buffer: QBuffer | None = None
        self.pages = 0
        self.fits = True
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        self.caption = set_role(QLabel("Preview — updating…"), "hint")
        self.caption.setWordWrap(True)
        column.addWidget(self.caption)
        self.document = QPdfDocument(self)
        self.view = QPdfView(self)
        self.view.setDocument(self.document)
        self.view.setPageMode(QPdfView.PageMode.MultiPage)
        self.view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        column.addWidget(self.view, 1)
        self.space = QLabel()
        self.space.setWordWrap(True)
        column.addWidget(self.space)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self._start)

    @property
    def busy(self) -> bool:
        return self._timer.isActive() or self._task is not None

    def show_layout(self, layout: TemplateLayout, *, now: bool = False) -> None:
        self._pending = layout
        self.caption.setText("Preview — updating…")
        if now:
            self._timer.stop()
            self._start()
        else:
            self._timer.start()

    def _start(self) -> None:
        if self._task is not None or self._pending is None:
            return  # the running render starts the next one when it ends
        layout, self._pending = self._pending, None
        site, label = self._ctx.site, self._version_label
        self._task = self._ctx.run_task(lambda progress, cancelled: _render(layout, site.code, site.name, label),
                                        name="template preview")
        self._task.finished.connect(self._show)
        self._task.failed.connect(self._failed)
        self._task.ended.connect(self._ended)

    def _ended(self) -> None:
        self._task = None
        if self._pending is not None and not self._timer.isActive():
            self._start()

    def _show(self, result: Rendered) -> None:
        if self._pending is not None:
            return  # an edit came in meanwhile: its render follows
        data, pages, spaces, paper = result
        scroll = self.view.verticalScrollBar().value()
        buffer = QBuffer(self)
        buffer.setData(QByteArray(data))
        buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        self.document.load(buffer)
        if self._buffer is not None:
            self._buffer.deleteLater()
        self._buffer = buffer
        QTimer.singleShot(0, lambda: self.view.verticalScrollBar().setValue(scroll))
        self.pages = pages
        text, self.fits = space_text(spaces)
        self.caption.setText(f"Preview — {pages} page{'s' if pages != 1 else ''}, {paper}. Draft watermark, no valid "
                             "QR code.")
        set_role(self.caption, "hint")
        if self.fits:
            self.space.setText(f"Room left for handwriting: {text}.")
            set_role(self.space, "hint")
        else:
            self.space.setText(f"{text}. The content does not fit: move fields to another page, raise the number "
                               "of pages or shorten texts. Copies of this layout cannot be issued.")
            set_role(self.space, "error")
        self.rendered.emit(pages)

    def _failed(self, exc: BaseException) -> None:
        self.caption.setText(f"The preview could not be made: {exc}")
        set_role(self.caption, "error")
