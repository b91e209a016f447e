"""Pieces of paper review by exception (RC-07) that the Paper findings tab of the Scans page and a record's
review both show: a finding in words, the crop of a field on its scan (:class:`SnippetView`), and the panel in
which QA resolves findings with a reason or a deviation reference (:class:`ResolvePanel`)."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPixmap, QResizeEvent
from PySide6.QtWidgets import QLabel, QLineEdit, QSizePolicy, QVBoxLayout, QWidget

from app.enums import PaperFindingStatus
from app.services.core.error_codes import ErrorCode
from app.services.core.errors import FormtrailError
from app.services.identity.batch import BatchResult
from app.services.scans import paper_review, paper_snippets
from app.services.scans.paper_snippets import Snippet
from app.services.scans.paper_views import PaperFindingView
from app.textfmt import plural
from app.ui.kit import messages
from app.ui.kit.data_events import Topic
from app.ui.kit.operations import notify, run_op, run_query
from app.ui.kit.side_panel import SidePanel
from app.ui.kit.signature import batch_report
from app.ui.kit.style import set_role
from app.ui.kit.widgets import ErrorLine, hint
from app.ui.kit.workers import Task
from app.ui.pages.registry import PageContext

CLOSED_COLOUR = QColor("#8a94a0")
OPEN_COLOUR = QColor("#8a4b00")
_WHOLE = ("entry", "whole page", "signature")  # parts that need no naming beside the field's label
_LISTED = 10  # findings named in the resolve panel; the rest are counted
_SNIPPET_HEIGHT = 200  # px: the tallest a crop is shown (the page is beside it)
_EMPTY_HEIGHT = 56  # px: the crop's place while there is none (a line of text)


def where(finding: PaperFindingView) -> str:
    """The box in people's words: "Balance ID", "Balance ID · done by", "Reviewed by (QC)"."""
    if finding.part_label in _WHOLE:
        return finding.field_label
    return f"{finding.field_label} · {finding.part_label}"


def status_text(finding: PaperFindingView, *, short: bool = False) -> str:
    """Open, or how it was closed: by whom, with the reason and the deviation reference (``short``: who only)."""
    if finding.is_open:
        return "Open"
    if finding.status is PaperFindingStatus.SUPERSEDED:
        return "Superseded" if short else f"Superseded: {finding.resolution or 'no longer found'}"
    said = "; ".join(t for t in (finding.resolution or "",
                                 f"deviation {finding.deviation_ref}" if finding.deviation_ref else "") if t)
    if short or not said:
        return f"Resolved by {finding.resolved_by}"
    return f"Resolved by {finding.resolved_by}: {said}"


def one_line(finding: PaperFindingView) -> str:
    return f"{finding.label} p.{finding.page} · {where(finding)}: {finding.kind.title}"


class SnippetView(QWidget):
    """The crop of one field's boxes on its scanned page (read in the background, never on the GUI thread),
    scaled to the width it has; or a line saying why there is none (the whole page is beside it)."""

    def __init__(self, ctx: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.loading = False
        self.snippet: Snippet | None = None
        self._pixmap: QPixmap | None = None
        self._wanted: tuple[str, str] | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.caption = QLabel()
        set_role(self.caption, "emphasis")
        self.caption.setWordWrap(True)
        layout.addWidget(self.caption)
        self.image = QLabel()
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image.setFixedHeight(_EMPTY_HEIGHT)
        self.image.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.image.setStyleSheet("background: white; border: 1px solid #d3d9e0; color: #5b6573;")
        self.image.setWordWrap(True)
        layout.addWidget(self.image)
        self.clear("Select a finding to see its field on the scan.")

    def clear(self, message: str, caption: str = "") -> None:
        self._wanted, self.snippet, self._pixmap, self.loading = None, None, None, False
        self.caption.setText(caption)
        self.image.setPixmap(QPixmap())
        self.image.setFixedHeight(_EMPTY_HEIGHT)
        self.image.setText(message)

    def show_field(self, serial: str, field: str | None, *, caption: str) -> None:
        """Show the crop of ``field`` of form ``serial``; None (a signature block, the whole page): say so."""
        if field is None:
            self.clear("No single field to crop here: read the page beside.", caption)
            return
        if self._wanted == (serial, field) and (self.loading or self.snippet is not None):
            self.caption.setText(caption)
            return
        self.clear("Cropping the field from the scan…", caption)
        self._wanted, self.loading = (serial, field), True
        ctx = self._ctx
        run_query(self, lambda: paper_snippets.field_snippet(ctx.db, ctx.actor, serial=serial, field=field),
                  key="snippet", on_done=self._loaded, on_failed=self._failed)

    def _loaded(self, snippet: Snippet | None) -> None:
        self.loading = False
        if snippet is None:
            self.image.setText("No crop: the page could not be placed on its template. Read the page beside.")
            return
        pixmap = QPixmap()
        if not pixmap.loadFromData(snippet.png):
            self.image.setText("The crop could not be shown. Read the page beside.")
            return
        self.snippet, self._pixmap = snippet, pixmap
        self._scale()

    def _failed(self, exc: BaseException) -> None:
        self.loading = False
        self.image.setText(f"No crop: {messages.describe(exc)}")

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._scale()

    def _scale(self) -> None:
        if self._pixmap is None:
            return
        # As large as the view allows (a field row is wide and low), never more than twice the scan's own pixels:
        # a blurred crop helps nobody.
        pixmap = self._pixmap
        factor = min((self.image.width() - 6) / pixmap.width(), _SNIPPET_HEIGHT / pixmap.height(), 2.0)
        shown = pixmap.scaled(max(1, round(pixmap.width() * factor)), max(1, round(pixmap.height() * factor)),
                              Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
        self.image.setFixedHeight(max(_EMPTY_HEIGHT, shown.height() + 6))
        self.image.setPixmap(shown)


class ResolvePanel(SidePanel):
    """QA resolves one or several findings with one reason and/or deviation reference, beside the scan. The
    act runs in the background (``run_op``); a refusal is shown in the panel by its code, with what was typed
    kept. ``result_value``: the finding's view (one) or the batch's result (several)."""

    def __init__(self, ctx: PageContext, findings: Sequence[PaperFindingView], *,
                 left_out: Sequence[PaperFindingView] = (), parent: QWidget | None = None) -> None:
        count = len(findings)
        super().__init__("Resolve paper finding" if count == 1 else f"Resolve {count} paper findings", parent)
        self._ctx = ctx
        self.findings = list(findings)
        self.task: Task | None = None
        self.refused_code: str | None = None
        listed = "\n".join(f"• {one_line(f)}" for f in self.findings[:_LISTED])
        if count > _LISTED:
            listed += f"\n… and {count - _LISTED} more"
        if count == 1:
            listed += f"\n{self.findings[0].detail}"
        self.body.addWidget(hint(listed))
        if left_out:
            self.body.addWidget(hint(f"Left out ({len(left_out)}): not open, or not yours to resolve — "
                                     f"{left_out[0].why_not_resolve or 'not offered'}."))
        self.reason = self.reason_box("What was done, and why it is acceptable, e.g. 'initials added and dated by "
                                      "the operator, see SOP-QA-002'",
                                      label="&Reason (what was done, why it is acceptable):")
        caption = QLabel("&Deviation reference (if one was raised):")
        self.deviation = QLineEdit()
        self.deviation.setPlaceholderText("e.g. DEV-2026-014")
        self.deviation.returnPressed.connect(self.try_submit)
        caption.setBuddy(self.deviation)
        self.body.addWidget(caption)
        self.body.addWidget(self.deviation)
        self.body.addWidget(hint("A reason, a deviation reference, or both. Recorded in the audit trail with your "
                                 "name and the time."))
        self.error = ErrorLine()
        self.body.addWidget(self.error)
        self.action_button.setText("Resolve" if count == 1 else f"Resolve {count}")
        self.first_focus = self.reason

    def submit(self) -> None:
        if self.task is not None:
            return
        ctx, ids = self._ctx, [f.id for f in self.findings]
        reason = self.reason.toPlainText().strip() or None
        ref = self.deviation.text().strip() or None
        self.error.clear_text()
        self.refused_code = None

        def job(progress, cancelled) -> PaperFindingView | BatchResult[int]:  # noqa: ANN001 - see workers.Job
            if len(ids) == 1:
                return paper_review.resolve_finding(ctx.db, ctx.actor, ids[0], reason=reason, deviation_ref=ref)
            return paper_review.resolve_findings(ctx.db, ctx.actor, ids, reason=reason, deviation_ref=ref,
                                                 progress=progress)
        self.task = run_op(self, job, title=self.heading_text, label=f"Resolving {plural(len(ids), 'finding')}…",
                           changes={Topic.PAPER, Topic.RECORDS}, on_done=self._done, on_failed=self._failed)
        self.action_button.setEnabled(False)

    def _done(self, result: PaperFindingView | BatchResult[int]) -> None:
        self.task, self.result_value = None, result
        self.finish(True)

    def _failed(self, exc: BaseException) -> None:
        self.task = None
        self.action_button.setEnabled(True)
        if not isinstance(exc, FormtrailError):
            messages.show_exception(self, exc, title=self.heading_text)
            return
        self.refused_code = exc.code
        if exc.code == ErrorCode.REASON_REQUIRED:
            self.error.show_text("Give a reason, or the reference of the deviation raised for it.")
            self.reason.setFocus(Qt.FocusReason.OtherFocusReason)
        elif exc.code == ErrorCode.FINDING_NOT_OPEN:
            self.error.show_text(f"{exc}. Close this form: the list shows the finding as it is now.")
        else:
            self.error.show_text(str(exc))

    def close_panel(self) -> None:
        if self.task is None:  # a resolution under way finishes first (its result closes the panel)
            super().close_panel()


def report_resolved(owner: QWidget, result: object) -> None:
    """After a resolution: a line in the status bar; the refusals of a batch in a box, one a line."""
    if isinstance(result, BatchResult):
        text, refusals = batch_report(result, done="paper finding resolved", done_plural="paper findings resolved",
                                      name=lambda key: f"finding {key}")
        notify(owner, text)
        if refusals:
            messages.info(owner, f"{text}\n\n{refusals}", title="Paper findings — not all resolved")
    elif isinstance(result, PaperFindingView):
        notify(owner, f"Paper finding resolved: {one_line(result)}")


