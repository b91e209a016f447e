"""Snippets of the scan where people work: the crop of one field's boxes (its entry, ticks and initials) cut from
the current scan of its page (``paper_snippets.field_snippet``, image work: always read off the GUI thread).

``SnippetImage`` shows one crop scaled to the room it has. ``SnippetPanel`` is the one panel beside the entry form
that follows the field being typed in: its snippet, the page it comes from, what the paper reader says of it, and
"Show on the page" (the whole scan, that field outlined). The verification dialog (record_verify.py) shows one
snippet per value."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QImage, QPixmap, QResizeEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from app.services.records.record_views import RecordView
from app.services.scans.paper_hints import PaperHint
from app.services.scans.paper_snippets import Snippet, field_snippet
from app.ui.kit.messages import describe
from app.ui.kit.operations import run_query
from app.ui.kit.style import set_role
from app.ui.pages.registry import PageContext

MAX_UPSCALE = 2.0  # a tick box's crop is small: shown larger, but not so much that it turns into blur
PANEL_IMAGE_HEIGHT = 84


def why_no_snippet(view: RecordView, page: int) -> str:
    """Why a field printed on ``page`` has no snippet (the service said None), in a few words."""
    if not any(s.page_no == page for s in view.scans):
        return f"No scan of page {page} yet."
    return f"The scan of page {page} could not be placed on the form: read the field on the whole page."


def load_snippet(ctx: PageContext, owner: QWidget, *, serial: str, field: str, key: str,
                 on_done: Callable[[Snippet | None], None], on_failed: Callable[[BaseException], None]) -> None:
    """Read the snippet of ``field`` in the background (the latest read of ``owner`` under ``key`` wins)."""
    db, actor = ctx.db, ctx.actor
    run_query(owner, lambda: field_snippet(db, actor, serial=serial, field=field), key=key, on_done=on_done,
              on_failed=on_failed, name=f"snippet {serial} {field}")


class SnippetImage(QLabel):
    """One crop of the scan, scaled to the width it is given and to at most ``height`` pixels (never more than
    MAX_UPSCALE times its size); or a short text in its place (loading, why there is none)."""

    def __init__(self, *, height: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._image: QImage | None = None
        self._height = height
        # A fixed height and an ignored width: what is shown never moves the rows or panels around it.
        self.setFixedHeight(height)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.setWordWrap(True)
        self.setStyleSheet("QLabel { background: white; border: 1px solid #d3d9e0; color: #5b6573; padding: 2px; }")

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(200, self._height)

    def set_png(self, png: bytes) -> bool:
        """Show the crop; False when the bytes are no image (then the text says so)."""
        image = QImage.fromData(png)
        if image.isNull():
            self.set_message("The snippet cannot be shown (not an image).")
            return False
        self._image = image
        self.setText("")
        self._scale()
        return True

    def set_message(self, text: str) -> None:
        self._image = None
        self.setPixmap(QPixmap())
        self.setText(text)

    def has_image(self) -> bool:
        return self._image is not None and not self.pixmap().isNull()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self._scale()

    def _scale(self) -> None:
        image = self._image
        if image is None or image.width() == 0 or image.height() == 0:
            return
        room_w, room_h = max(20, self.width() - 6), max(20, self._height - 6)
        factor = min(room_w / image.width(), room_h / image.height(), MAX_UPSCALE)
        size = QSize(max(1, round(image.width() * factor)), max(1, round(image.height() * factor)))
        self.setPixmap(QPixmap.fromImage(image).scaled(size, Qt.AspectRatioMode.KeepAspectRatio,
                                                       Qt.TransformationMode.SmoothTransformation))


class SnippetPanel(QFrame):
    """The snippet of the field being typed in, with the page it is cut from and what the paper reader says;
    "Show on the page" asks for the whole scan with that field outlined (``show_requested``)."""

    show_requested = Signal(str)  # field name

    def __init__(self, ctx: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.view: RecordView | None = None
        self.field: str | None = None  # the field shown
        self.snippet: Snippet | None = None  # its snippet, once read (None: none, or not read yet)
        self.loading = False
        self._cache: dict[str, Snippet | None] = {}  # per field, for the scans of ``_scans_of``
        self._scans_of: tuple[str, object] | None = None
        self._hints: Mapping[str, PaperHint] = {}
        self._caption = ""  # in full; shown elided to the panel's width
        self.setObjectName("snippetpanel")
        self.setStyleSheet("QFrame#snippetpanel { border-top: 1px solid #d3d9e0; }")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.setSpacing(3)
        top = QHBoxLayout()
        self.caption = QLabel()
        self.caption.setTextFormat(Qt.TextFormat.PlainText)
        set_role(self.caption, "emphasis")
        self.caption.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        top.addWidget(self.caption, 1)
        self.show_button = QPushButton("Show on the page")
        self.show_button.setToolTip("Show the whole page of the scan with this field outlined. Click \"Whole "
                                    "page\" above the scan to follow the fields again.")
        self.show_button.setAutoDefault(False)
        self.show_button.clicked.connect(self._show_clicked)
        top.addWidget(self.show_button)
        layout.addLayout(top)
        self.image = SnippetImage(height=PANEL_IMAGE_HEIGHT)
        layout.addWidget(self.image)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setTextFormat(Qt.TextFormat.PlainText)
        set_role(self.note, "hint")
        layout.addWidget(self.note)
        self._show()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self._set_caption(self._caption)

    def _set_caption(self, text: str) -> None:
        self._caption = text
        width = max(40, self.caption.width())
        self.caption.setText(self.caption.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, width))
        self.caption.setToolTip(text if self.caption.text() != text else "")

    @property
    def caption_text(self) -> str:
        """The caption in full (it may be shown shortened)."""
        return self._caption

    # -- what is shown -----------------------------------------------------------------------------
    def set_record(self, view: RecordView) -> None:
        """The record as now read; its snippets are read again only when its scans changed."""
        scans_of = (view.serial, view.scans)
        if scans_of != self._scans_of:
            if self._scans_of is None or self._scans_of[0] != view.serial:
                self.field, self._hints = None, {}
            self._scans_of, self._cache = scans_of, {}
            self.view = view
            self.show_field(self.field)
            return
        self.view = view

    def set_hints(self, hints: Mapping[str, PaperHint]) -> None:
        self._hints = hints
        self._show_note()

    def show_field(self, name: str | None) -> None:
        """Show the snippet of ``name`` (None: none yet), read in the background unless read before."""
        self.field = name
        view = self.view
        if view is None or name is None or name not in {f.name for f in view.fields}:
            self.field, self.snippet, self.loading = None, None, False
            self._show()
            return
        if name in self._cache:
            self.snippet, self.loading = self._cache[name], False
            self._show()
            return
        self.snippet, self.loading = None, True
        self._show()
        if not any(s.page_no == view.field(name).page for s in view.scans):
            self._read(name, None)  # nothing to cut from: said at once, no background read
            return
        load_snippet(self._ctx, self, serial=view.serial, field=name, key="snippet",
                     on_done=lambda snippet: self._read(name, snippet),
                     on_failed=lambda exc: self._failed(name, exc))

    def _read(self, name: str, snippet: Snippet | None) -> None:
        self._cache[name] = snippet
        if name == self.field:
            self.snippet, self.loading = snippet, False
            self._show()

    def _failed(self, name: str, exc: BaseException) -> None:
        if name != self.field:
            return
        self.loading = False
        self.image.set_message(f"The snippet could not be made: {describe(exc)}")

    def _show(self) -> None:
        view, name = self.view, self.field
        has_scans = view is not None and bool(view.scans)
        self.image.setVisible(has_scans)
        if view is None or not has_scans:
            self._set_caption("No scan of this form yet: no snippets of its fields.")
            self.show_button.setEnabled(False)
            self._show_note()
            return
        if name is None:
            self._set_caption("From the scan")
            self.image.set_message("Click into a field: the piece of the scan it was written in shows here.")
            self.show_button.setEnabled(False)
            self._show_note()
            return
        field = view.field(name)
        number = next(i for i, f in enumerate(view.fields) if f.name == name) + 1
        self._set_caption(f"From the scan: page {field.page} · {number}. {field.label}")
        self.show_button.setEnabled(any(s.page_no == field.page for s in view.scans))
        if self.loading:
            self.image.set_message("Reading the snippet…")
        elif self.snippet is not None:
            self.image.set_png(self.snippet.png)
        else:
            self.image.set_message(why_no_snippet(view, field.page))
        self._show_note()

    def _show_note(self) -> None:
        hint = self._hints.get(self.field) if self.field is not None else None
        self.note.setText(f"Paper reader: {hint.say}" if hint is not None and hint.say else "")
        self.note.setVisible(bool(self.note.text()))

    def _show_clicked(self) -> None:
        if self.field is not None:
            self.show_requested.emit(self.field)
