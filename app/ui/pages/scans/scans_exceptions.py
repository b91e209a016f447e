"""The Exceptions tab of the Scans page: every page waiting for a person, with its reason and thumbnail,
a viewer, and the three ways out (link by hand, not a controlled form, read the code again). The forms of the
first two open beside the viewer, in place of the list, so the page stays in sight while they are filled in."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.enums import ScanOutcome
from app.services.core.errors import FormtrailError
from app.services.identity.batch import BatchResult
from app.services.identity.permissions import Permission
from app.services.scans import scans
from app.services.scans.scans import ScanPageInfo
from app.textfmt import plural
from app.ui.kit import data_events, messages
from app.ui.kit.data_events import Topic
from app.ui.kit.flow_layout import FlowLayout
from app.ui.kit.image_viewer import ImageViewer, ViewerPage, scan_page_loader
from app.ui.kit.operations import notify, run_op, run_query
from app.ui.kit.side_panel import PanelStack, ReasonPanel, SidePanel
from app.ui.kit.signature import batch_report
from app.ui.kit.widgets import hint, setup_table
from app.ui.kit.workers import Task, while_alive
from app.ui.pages.registry import PageContext
from app.ui.pages.scans.scans_dialogs import ADVICE, LinkPanel
from app.ui.pages.scans.scans_models import (
    THUMB_SIDE,
    ExceptionModel,
    allow_many,
    current_item,
    reselect,
    select_key,
    selected_items,
    selected_rows,
)

O = ScanOutcome  # noqa: E741 - the outcomes read as O.LINKED, O.BLANK
_THUMBS_AT_ONCE = 200


class ExceptionsPanel(QWidget):
    """``changed`` is emitted after any resolution (the page updates its counts and other tabs)."""

    changed = Signal()

    def __init__(self, ctx: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.task: Task | None = None
        self.last_result: BatchResult[int] | None = None  # of the last pages set aside together
        self._shown: ScanPageInfo | None = None  # the page in the viewer and the details
        self._thumbs_pending: set[int] = set()
        self._can_link = ctx.allowed(Permission.LINK_SCANS)
        self._can_retry = ctx.allowed(Permission.IMPORT_SCANS)
        layout = QVBoxLayout(self)
        explanation = ("Pages that could not be linked automatically, newest first. Select one to see it and the "
                       "reason, then resolve it. Several pages that are not controlled forms (Shift or Ctrl to "
                       "select them) can be set aside together, with one reason.")
        if not self._can_link:
            explanation += " Linking by hand and setting pages aside are for QA and Document Control."
        layout.addWidget(hint(explanation))

        bar = FlowLayout()
        self.link_button = QPushButton("Link to form…")
        self.link_button.setToolTip("Link this page to a serial and page by hand (reason required, audited)")
        self.link_button.clicked.connect(self.link)
        self.not_controlled_button = QPushButton("Not a controlled form…")
        self.not_controlled_button.setToolTip("Set the selected pages aside: they are not our issued forms (one "
                                              "reason for all, required). They stay stored.")
        self.not_controlled_button.clicked.connect(self.set_aside)
        self.retry_button = QPushButton("Read code again")
        self.retry_button.setToolTip("Decode the page again, trying harder (every region, filters, rotations)")
        self.retry_button.clicked.connect(self.retry)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.reload)
        for button in (self.link_button, self.not_controlled_button):
            button.setVisible(self._can_link)
            bar.addWidget(button)
        self.retry_button.setVisible(self._can_retry)
        bar.addWidget(self.retry_button)
        self.count_label = QLabel()
        bar.addWidget(self.refresh_button)
        bar.addWidget(self.count_label)
        layout.addLayout(bar)

        self.model = ExceptionModel(parent=self)
        self.table = allow_many(setup_table(QTableView()))
        self.table.setModel(self.model)
        self.table.setIconSize(self._thumb_size())
        self.table.verticalHeader().setDefaultSectionSize(THUMB_SIDE + 6)
        self.table.setWordWrap(True)
        header = self.table.horizontalHeader()
        header.resizeSection(0, THUMB_SIDE * 3 // 4 + 12)
        header.resizeSection(1, 190)
        header.resizeSection(2, 300)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
        self.table.selectionModel().selectionChanged.connect(self._selected)
        self.table.doubleClicked.connect(lambda _index: self.link() if self._can_link else None)

        left = QWidget()
        column = QVBoxLayout(left)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.table, 1)
        self.details = QLabel()
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setTextFormat(Qt.TextFormat.PlainText)
        self.details.setMinimumHeight(64)
        column.addWidget(self.details)
        self.viewer = ImageViewer(scan_page_loader(ctx.db, ctx.actor), self)
        self.panels = PanelStack(left, focus=self.table)  # the list, or the form open for the page shown
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.panels)
        splitter.addWidget(self.viewer)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([3000, 2000])
        layout.addWidget(splitter, 1)
        data_events.listen(self, {Topic.SCANS}, self.reload)
        self._update_buttons()

    @staticmethod
    def _thumb_size() -> QSize:
        return QSize(THUMB_SIDE, THUMB_SIDE)

    # -- loading -----------------------------------------------------------------------------------------
    def reload(self) -> None:
        """Read the pages waiting in the background (the queue may hold thousands)."""
        ctx = self._ctx
        run_query(self, lambda: scans.list_exceptions(ctx.db, ctx.actor), key="exceptions", on_done=self._listed,
                  on_failed=self._list_failed)

    def _list_failed(self, exc: BaseException) -> None:
        self._ctx.show_error(self, exc)
        self._listed([])

    def _listed(self, rows: list[ScanPageInfo]) -> None:
        # The selection stays on the pages still waiting; pages resolved hand it to the page now in their place.
        chosen = selected_rows(self.table)
        keys = [self.model.row_at(r).id for r in chosen]
        self.model.set_rows(rows)
        self.count_label.setText(f"{len(rows)} page{'s' if len(rows) != 1 else ''} waiting" if rows
                                 else "Nothing waiting ✔")
        self._load_thumbnails(rows[:_THUMBS_AT_ONCE])
        reselect(self.table, self.model, keys, anchor=chosen[0] if chosen else 0)
        if not rows:
            self._shown = None
            self.viewer.set_pages([])
            self.details.setText("")
        self._update_buttons()

    def _load_thumbnails(self, rows: list[ScanPageInfo]) -> None:
        """Thumbnails one after the other in a single background job (the viewer keeps a thread for itself);
        each appears as soon as it is ready."""
        wanted = [r.id for r in rows if not self.model.has_thumbnail(r.id) and r.id not in self._thumbs_pending]
        if not wanted:
            return
        self._thumbs_pending.update(wanted)
        ctx, ready = self._ctx, {}

        def job(progress, cancelled):  # noqa: ANN001, ANN202 - worker signature
            for done, key in enumerate(wanted, start=1):
                if cancelled():
                    return
                try:
                    ready[key] = scans.page_png(ctx.db, ctx.actor, key, max_side=THUMB_SIDE * 2)
                except FormtrailError:
                    ready[key] = b""  # the viewer says why when the page is opened
                progress(done, len(wanted))

        task = ctx.run_task(job, name="thumbnails")
        task.progressed.connect(while_alive(self, lambda *_: self._take_thumbnails(ready)))
        task.ended.connect(while_alive(self, lambda: self._take_thumbnails(ready, finished=wanted)))

    def _take_thumbnails(self, ready: dict[int, bytes], finished: list[int] | None = None) -> None:
        for key in list(ready):
            data = ready.pop(key)
            pixmap = QPixmap()
            if data and pixmap.loadFromData(data):
                self.model.set_thumbnail(key, pixmap.scaled(self._thumb_size(), Qt.AspectRatioMode.KeepAspectRatio,
                                                            Qt.TransformationMode.SmoothTransformation))
        if finished is not None:
            self._thumbs_pending.difference_update(finished)

    @property
    def panel(self) -> SidePanel | None:
        """The form open beside the viewer (link by hand, set aside), or None."""
        return self.panels.panel

    def selected(self) -> ScanPageInfo | None:
        """The page shown: the one last clicked of those selected."""
        return current_item(self.table, self.model)

    def selected_pages(self) -> list[ScanPageInfo]:
        """Every selected page, in list order."""
        return selected_items(self.table, self.model)

    def select(self, scan_page_id: int) -> bool:
        return select_key(self.table, self.model, scan_page_id)

    def _selected(self, *_selection: object) -> None:
        self._update_buttons()
        info = self.selected()
        if info is not None and info is self._shown:  # the selection grew or shrank around the page shown
            return
        self._shown = info
        if info is None:
            self.viewer.set_pages([])
            self.details.setText("")
            return
        # The form the code named, as printed on its paper (the reason, stored at import, gives the bare serial).
        form = f"Form {info.printed_as}" + (f", page {info.page_no}" if info.page_no else "") if info.serial else ""
        if info.sheet_version:  # the version the sheet itself was printed from (ES-08)
            form += f" (template {info.sheet_version})"
        capture = f" · {info.capture}" if info.capture else ""
        lines = [f"{info.outcome.title} — {info.location}", form, info.reason or "",
                 f"Imported by {info.imported_by}, {self._ctx.when(info.imported_at, seconds=False)}{capture}"]
        if info.outcome in ADVICE:
            lines.append("What to do: " + ADVICE[info.outcome])
        self.details.setText("\n".join(line for line in lines if line))
        self.viewer.set_pages(self._viewer_pages(info), 0)

    def _viewer_pages(self, info: ScanPageInfo) -> list[ViewerPage]:
        """This page first; then the pages already kept for the same form, to compare (possible copy), or,
        when no form is known, the other pages of the same file (the neighbours often tell which form it is)."""
        pages = [ViewerPage(info.id, f"This page — {info.location}")]
        db, actor = self._ctx.db, self._ctx.actor
        try:
            if info.serial:
                others = scans.pages_of_form(db, actor, info.serial)
            else:
                others = scans.pages_of_source(db, actor, info.source_id)
        except FormtrailError:
            others = []
        for other in others:
            if other.id == info.id:
                continue
            status = "linked" if other.outcome is O.LINKED else other.outcome.title
            form = f"{other.printed_as} p.{other.page_no or '?'} " if other.serial else ""
            pages.append(ViewerPage(other.id, f"{form}({status}{', superseded' if other.superseded else ''}) — "
                                              f"{other.location}"))
        return pages

    def _update_buttons(self) -> None:
        info = self.selected()
        idle = self.task is None and self.panel is None
        many = len(self.selected_pages())
        one = info is not None and many == 1  # linking and reading again: one page at a time
        self.link_button.setEnabled(one and idle and info is not None and info.linkable)
        self.not_controlled_button.setEnabled(info is not None and idle)
        self.not_controlled_button.setText("Not a controlled form…" if many <= 1 else
                                           f"Set {plural(many, 'page')} aside…")
        self.retry_button.setEnabled(one and idle and info is not None and info.retryable)
        if info is not None and not info.retryable:
            self.retry_button.setToolTip("Reading the code again would not change this outcome.")
        else:
            self.retry_button.setToolTip("Decode the page again, trying harder (every region, filters, rotations)")

    # -- actions -----------------------------------------------------------------------------------------
    def _open(self, panel: SidePanel, on_done: Callable[[SidePanel, bool], None] | None = None) -> None:
        def done(_panel: SidePanel, ok: bool) -> None:
            if ok:
                self.reload()
                self.changed.emit()
            self._update_buttons()
        self.panels.open(panel, on_done or done)
        self._update_buttons()

    def link(self) -> None:
        info = self.selected()
        if info is not None and self._can_link and len(self.selected_pages()) == 1 and self.panel is None:
            self._open(LinkPanel(self._ctx, info))

    def set_aside(self) -> None:
        info = self.selected()
        if info is None or not self._can_link or self.task is not None or self.panel is not None:
            return
        if len(self.selected_pages()) > 1:
            self.set_aside_many()
            return
        ctx = self._ctx
        self._open(ReasonPanel(
            heading="Not a controlled form", action_text="Set aside",
            explanation=f"{info.location}: {info.outcome.title}. The page leaves the queue but stays stored and "
                        "listed; this cannot be undone.",
            placeholder="Why? e.g. 'back side of a duplex scan' or 'supplier delivery note'",
            perform=lambda reason: scans.mark_not_controlled(ctx.db, ctx.actor, scan_page_id=info.id,
                                                             reason=reason),
        ))

    def set_aside_many(self) -> None:
        """Set every selected page aside with one reason (asked once); the service sets each aside on its own, in
        the background, and the summary says which were set aside and which were refused, and why."""
        pages = self.selected_pages()
        if not pages or not self._can_link or self.task is not None or self.panel is not None:
            return
        names = {p.id: p.location for p in pages}
        listed = "\n".join(f"• {p.location}: {p.outcome.title}" for p in pages[:12])
        more = f"\n… and {len(pages) - 12} more" if len(pages) > 12 else ""
        panel = ReasonPanel(
            heading="Not controlled forms", action_text=f"Set {plural(len(pages), 'page')} aside",
            explanation=f"{listed}{more}\n\nThese pages leave the queue, each with the reason below, but stay stored "
                        "and listed; this cannot be undone.",
            placeholder="Why? e.g. 'back sides of a duplex scan' or 'supplier delivery notes'",
            perform=lambda reason: reason)  # the pages are set aside after the panel, in the background

        def done(finished: SidePanel, ok: bool) -> None:
            if ok:
                self._start_set_aside(list(names), finished.result_value, names)
            self._update_buttons()
        self._open(panel, done)

    def _start_set_aside(self, ids: list[int], reason: str, names: dict[int, str]) -> None:
        ctx = self._ctx
        self.task = run_op(
            self, lambda progress, cancelled: scans.set_aside_many(ctx.db, ctx.actor, scan_page_ids=ids,
                                                                   reason=reason, progress=progress),
            title="Set pages aside", label=f"Setting {plural(len(ids), 'page')} aside…", changes={Topic.SCANS},
            on_done=lambda result: self._set_aside_done(result, names), on_failed=self._set_aside_failed)
        self._update_buttons()

    def _set_aside_done(self, result: BatchResult[int], names: dict[int, str]) -> None:
        self.task = None
        self.last_result = result
        text, refusals = batch_report(result, done="page set aside", done_plural="pages set aside",
                                      name=lambda key: names.get(key, str(key)))
        notify(self, text)
        if refusals:
            messages.info(self, f"{text}\n\n{refusals}", title="Set pages aside — not all")
        self.reload()
        self.changed.emit()

    def _set_aside_failed(self, exc: BaseException) -> None:
        self.task = None
        self._update_buttons()
        self._ctx.show_error(self, exc, title="Set pages aside")
        self.reload()  # pages set aside before the failure are out of the queue

    def retry(self) -> None:
        info = self.selected()
        if info is None or self.task is not None or len(self.selected_pages()) != 1:
            return
        ctx = self._ctx
        self.task = run_op(self, lambda progress, cancelled: scans.retry_decoding(ctx.db, ctx.actor,
                                                                                 scan_page_id=info.id),
                           title="Read code again", label=f"Reading the code of {info.location} again…",
                           changes={Topic.SCANS, Topic.ISSUANCE},
                           on_done=self._retried, on_failed=self._retry_failed)
        self.details.setText(f"Reading the code of {info.location} again…")
        self._update_buttons()

    def _retried(self, info: ScanPageInfo) -> None:
        self.task = None
        if info.outcome is O.LINKED:
            notify(self, f"{info.location} now reads: linked to {info.printed_as} page {info.page_no}")
        else:
            notify(self, f"{info.location} still cannot be linked: {info.outcome.title}. {info.reason or ''}".strip())
        self.reload()
        self.changed.emit()

    def _retry_failed(self, exc: BaseException) -> None:
        self.task = None
        self._update_buttons()
        self._ctx.show_error(self, exc, title="Read code again")
