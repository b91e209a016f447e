"""Periodic reviews page (QA): when the system audit-trail review and the user access review are next due; produce
a new review (its report is stored and opened), read it, then sign it with a conclusion ("reviewed"); every
review so far with its signature."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.enums import SignatureMeaning
from app.services.identity.permissions import Permission
from app.services.reports import reviews
from app.services.reports.reviews import ReviewDue, ReviewKind, ReviewView
from app.ui.kit import data_events, file_dialogs
from app.ui.kit.data_events import Topic
from app.ui.kit.dialogs import accepted, open_dialog
from app.ui.kit.list_model import ListTableModel
from app.ui.kit.operations import notify, run_op, run_query
from app.ui.kit.widgets import fit_to_contents, hint, setup_table, title
from app.ui.pages.registry import PageContext, register_page


class ReviewsModel(ListTableModel[ReviewView]):
    """Periodic reviews, newest first; ``UserRole`` gives the ReviewView."""

    COLUMNS = ("ID", "Review", "Period", "Generated", "Status", "Signature", "Conclusion")
    KEY = "id"

    def __init__(self, ctx: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(parent=parent)
        self._ctx = ctx

    def text(self, item: ReviewView, column: int) -> str:
        when = self._ctx.when
        period = f"{when(item.period_start, seconds=False) or 'start'} – {when(item.period_end, seconds=False)}"
        return (str(item.id), item.title, period, f"{when(item.generated_at, seconds=False)} by {item.generated_by}",
                item.status_text, item.signature or "", item.conclusion or "")[column]

    def role_data(self, item: ReviewView, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.ToolTipRole:
            return "\n".join(f"{k}: {v}" for k, v in item.summary.items()) + f"\nSHA-256 {item.report_sha256}"
        return None


class ConclusionDialog(QDialog):
    """The reviewer's conclusion, asked before the signature."""

    def __init__(self, review: ReviewView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Sign {review.title.lower()} {review.id}")
        layout = QVBoxLayout(self)
        layout.addWidget(title(f"{review.title} {review.id}"))
        layout.addWidget(hint("Write what the review found and what follows from it (deviations, incidents, "
                              "accounts to deactivate...). Your e-signature (\u201creviewed\u201d) binds this "
                              "conclusion to the report's SHA-256."))
        label = QLabel("&Conclusion (required):")
        self.conclusion = QPlainTextEdit()
        self.conclusion.setPlaceholderText("e.g. 'All failed log-ins explained; no unauthorised change found.'")
        label.setBuddy(self.conclusion)
        layout.addWidget(label)
        layout.addWidget(self.conclusion)
        buttons = QDialogButtonBox()
        self.sign_button = buttons.addButton("Sign…", QDialogButtonBox.ButtonRole.AcceptRole)
        self.sign_button.setEnabled(False)
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.conclusion.textChanged.connect(
            lambda: self.sign_button.setEnabled(bool(self.conclusion.toPlainText().strip())))
        fit_to_contents(self, min_width=480)
        self.conclusion.setFocus()


class ReviewsPage(QWidget):
    def __init__(self, ctx: PageContext) -> None:
        super().__init__()
        self._ctx = ctx
        self.dialog: ConclusionDialog | None = None
        self.opened: list[Path] = []  # the reports opened (tests read it)
        may_review = ctx.allowed(Permission.SIGN_PERIODIC_REVIEW)
        layout = QVBoxLayout(self)
        layout.addWidget(title("Periodic reviews"))
        layout.addWidget(hint("QA reviews the system audit trail (failed log-ins, lock-outs, refusals, configuration "
                              "and administrative acts since the last review) and user access (who holds which "
                              "role, dormant and never-used accounts) at set intervals: produce the report, read "
                              "it, then sign it with your conclusion."))
        self.due_label = QLabel()
        self.due_label.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.due_label)
        bar = QHBoxLayout()
        self.new_buttons: dict[ReviewKind, QPushButton] = {}
        for kind in ReviewKind:
            button = QPushButton(f"New {kind.title.lower()}")
            button.clicked.connect(lambda _checked=False, k=kind: self.generate(k))
            button.setVisible(may_review)
            self.new_buttons[kind] = button
            bar.addWidget(button)
        bar.addStretch(1)
        layout.addLayout(bar)
        self.model = ReviewsModel(ctx, self)
        self.table = QTableView()
        self.table.setModel(self.model)
        setup_table(self.table)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.doubleClicked.connect(self.open_report)
        layout.addWidget(self.table, 1)
        actions = QHBoxLayout()
        self.open_button = QPushButton("Open report")
        self.open_button.clicked.connect(self.open_report)
        self.save_button = QPushButton("Save report…")
        self.save_button.clicked.connect(self.save_report)
        self.sign_button = QPushButton("Sign…")
        self.sign_button.clicked.connect(self.sign_selected)
        self.sign_button.setVisible(may_review)
        for button in (self.open_button, self.save_button, self.sign_button):
            actions.addWidget(button)
        actions.addStretch(1)
        layout.addLayout(actions)
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        data_events.listen(self, {Topic.SETTINGS, Topic.USERS}, self.reload)
        self._update_buttons()
        self.reload()

    def page_shown(self) -> None:
        self.reload()

    def reload(self, *, select: int | None = None) -> None:
        ctx = self._ctx
        run_query(self, lambda: (reviews.due_reviews(ctx.db), reviews.list_reviews(ctx.db, ctx.actor)),
                  key="reviews", on_done=lambda result: self._show(result, select))

    def _show(self, result: tuple[tuple[ReviewDue, ...], list[ReviewView]], select: int | None) -> None:
        due, rows = result
        self.due_label.setText("\n".join(
            f"{d.title}: due {d.due_on.isoformat()}" + (" — OVERDUE" if d.overdue else "")
            + f" (last signed: {self._ctx.when(d.last_done, seconds=False) or 'never'})" for d in due))
        self.model.set_rows(rows)
        row = self.model.row_of(select) if select is not None else (0 if rows else None)
        if row is not None:
            self.table.selectRow(row)
        self._update_buttons()

    def selected(self) -> ReviewView | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.row_at(rows[0].row()) if rows else None

    def _update_buttons(self) -> None:
        review = self.selected()
        self.open_button.setEnabled(review is not None)
        self.save_button.setEnabled(review is not None)
        self.sign_button.setEnabled(review is not None and review.may_sign)
        self.sign_button.setToolTip("" if review is None or review.may_sign else (review.why_not or ""))

    # -- acts ----------------------------------------------------------------------------------------------------
    def generate(self, kind: ReviewKind) -> None:
        ctx = self._ctx

        def done(review: ReviewView) -> None:
            self.reload(select=review.id)
            self._open(review)
        run_op(self, lambda _progress, _cancelled: reviews.generate(ctx.db, ctx.actor, kind),
               title=f"New {kind.title.lower()}", label="Reading the data and laying out the report…",
               on_done=done, changes={Topic.SETTINGS})

    def open_report(self) -> None:
        review = self.selected()
        if review is not None:
            self._open(review)

    def _open(self, review: ReviewView) -> None:
        ctx = self._ctx
        out = Path(tempfile.gettempdir()) / "formtrail-reviews" / review.file_name

        def opened(path: Path) -> None:
            self.opened.append(path)
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))
        run_op(self, lambda _progress, _cancelled: reviews.export_report(ctx.db, ctx.actor, review.id, out=out),
               title="Open report", label="Checking the stored report…", on_done=opened)

    def save_report(self) -> None:
        review = self.selected()
        if review is None:
            return
        path = file_dialogs.ask_save_as(self, f"Save the report of {review.title.lower()} {review.id}",
                                        purpose="reports", name=review.file_name, filters="PDF (*.pdf)",
                                        suffixes=(".pdf",))
        if path is None:
            return
        ctx = self._ctx
        run_op(self, lambda _progress, _cancelled: reviews.export_report(ctx.db, ctx.actor, review.id, out=path),
               title="Save report", label="Saving the report…",
               on_done=lambda saved: self._saved(saved))

    def _saved(self, path: Path) -> None:
        notify(self, f"Report saved: {path}", path=path)

    def sign_selected(self) -> None:
        review = self.selected()
        if review is None or not review.may_sign:
            return
        dialog = ConclusionDialog(review, self)
        self.dialog = dialog

        def done(_dialog: ConclusionDialog, result: int) -> None:
            self.dialog = None
            if accepted(result):
                self._sign(review, dialog.conclusion.toPlainText().strip())
        open_dialog(dialog, done)

    def _sign(self, review: ReviewView, conclusion: str) -> None:
        ctx = self._ctx
        signed = ctx.sign(self, summary=f"{review.title} {review.id} (report SHA-256 {review.report_sha256[:16]}…)\n"
                                        f"Conclusion: {conclusion}",
                          meaning=SignatureMeaning.REVIEWED,
                          perform=lambda username, password: reviews.sign(
                              ctx.db, ctx.actor, review.id, conclusion=conclusion, username=username,
                              password=password))
        if signed is not None:
            data_events.announce({Topic.SETTINGS})
            self.reload(select=review.id)


def reviews_page(ctx: PageContext) -> QWidget:
    return ReviewsPage(ctx)


register_page("reviews", reviews_page, title="Periodic reviews", icon="audit",
              permissions=(Permission.SIGN_PERIODIC_REVIEW,), order=72,
              description="The periodic audit-trail and user access reviews: due dates, reports, QA's signed "
                          "conclusions.")
