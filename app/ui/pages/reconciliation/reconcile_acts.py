"""What the reconcile page does (void, declare missing, replace, close, view scans, reports), apart from what it
shows (reconcile.py: the list of issuances and one issuance's detail). ``ReconcileActs`` is the page's base: the
page gives it the selection and the view through the hooks below."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from PySide6.QtWidgets import (
    QDialog,
    QWidget,
)
from shiboken6 import isValid

from app.enums import SignatureMeaning
from app.services.core.errors import FormtrailError
from app.services.identity.permissions import Permission
from app.services.issuance import printing, register, replacement
from app.services.reconciliation import reconciliation
from app.services.reconciliation.reconciliation import IssuanceSummary, ReconciliationView, ReconFormRow
from app.services.reports import reports
from app.textfmt import plural
from app.ui.kit import messages
from app.ui.kit.dialogs import accepted, open_dialog
from app.ui.kit.image_viewer import ImageViewerDialog, ViewerPage, scan_page_loader
from app.ui.kit.operations import notify, run_op
from app.ui.kit.reason import ReasonDialog
from app.ui.kit.workers import Task
from app.ui.pages.reconciliation import reconcile_dialogs
from app.ui.pages.reconciliation.reconcile_dialogs import MissingDialog, PeriodDialog
from app.ui.pages.registry import PageContext

P = Permission


class ReconcileActs(QWidget):
    """The acts of the reconcile page. Every rule is the service's: the page enables what the view's may_* say, and
    each act still goes to the service, which refuses (and logs) anything else."""

    _ctx: PageContext
    view: ReconciliationView | None
    dialog: QDialog | None
    viewer_dialog: ImageViewerDialog | None
    task: Task | None
    last_saved: Path | None

    # -- hooks the page fills in ------------------------------------------------------------------------
    def selected_form(self) -> ReconFormRow | None:
        raise NotImplementedError

    def selected_issuance(self) -> IssuanceSummary | None:
        raise NotImplementedError

    def reload(self, *, issuance: int | None = None, form: str | None = None) -> None:
        raise NotImplementedError

    def _update_actions(self) -> None:
        raise NotImplementedError

    @staticmethod
    def _leaves_text(view: ReconciliationView) -> str:
        """What closing now would leave behind (the service's warnings), as a sentence to append."""
        return f"\n⚠ If closed now: {'; '.join(view.close_warnings)}." if view.close_warnings else ""

    @staticmethod
    def _outstanding_text(view: ReconciliationView) -> str:
        lines = [f"{f.printed_as} — {f.note}" for f in view.outstanding]
        return "Not accounted for yet: " + "; ".join(lines)

    # -- actions -----------------------------------------------------------------------------------------
    def _open(self, dialog: QDialog, serial: str, then=None) -> None:  # noqa: ANN001 - callable
        self.dialog = dialog

        def done(dialog: QDialog, result: int) -> None:
            self.dialog = None
            if accepted(result):
                self.reload(form=serial)
                if then is not None:
                    then(dialog)
        open_dialog(dialog, done)

    def void(self) -> None:
        form = self.selected_form()
        if form is None or not form.may_void:
            return
        ctx = self._ctx
        self._open(ReasonDialog(
            self, heading=f"Void {form.printed_as}", action_text="Void form",
            explanation=f"A spoiled or erroneous sheet ({form.printed_as}, copy {form.copy_no}). Voiding is final: the "
                        "serial is accounted for as voided and can never be linked as valid. The spoiled sheet is "
                        "part of the record: it should still come back and be scanned.",
            placeholder="Why? e.g. 'wrong batch number written on the header; sheet spoiled'",
            perform=lambda reason: reconciliation.void_form(ctx.db, ctx.actor, serial=form.serial, reason=reason),
        ), form.serial)

    def declare_missing(self) -> None:
        form = self.selected_form()
        if form is None or not form.may_declare_missing:
            return
        self._open(MissingDialog(self._ctx, form, self), form.serial)

    def replace(self) -> None:
        form = self.selected_form()
        if form is None or not form.may_replace:
            return
        self._open(ReasonDialog(
            self, heading=f"Replace {form.printed_as}", action_text="Continue to signature…",
            explanation=f"A new serial is issued for copy {form.copy_no}, linked to {form.printed_as}. "
                        f"{form.printed_as} can never be linked as valid again, and its own paper must still come "
                        "back or be declared missing. QA approves the replacement with an e-signature.",
            placeholder="Why can the copy not be used? e.g. 'torn during use; sheet kept'",
            perform=lambda reason: reason,
        ), form.serial, then=lambda dialog: self._sign_replacement(form, dialog.result_value))

    def _sign_replacement(self, form: ReconFormRow, reason: str) -> None:
        ctx = self._ctx
        result = ctx.sign(self, summary=f"Replacement of {form.printed_as} (copy {form.copy_no}) by a new serial.\n"
                                        f"Reason: {reason}", meaning=SignatureMeaning.APPROVED,
                          perform=lambda username, password: replacement.replace_form(
                              ctx.db, ctx.actor, serial=form.serial, reason=reason, username=username,
                              password=password))
        if result is None:
            return
        self.reload(form=result.new_serial)
        new, old = result.new_label or result.new_serial, result.old_label or form.printed_as  # as printed
        if ctx.allowed(P.ISSUE_FORMS) or ctx.allowed(P.REPLACE_FORMS):  # QA releases what it replaced
            path = reconcile_dialogs.ask_save_path(self, f"Save the controlled PDF of {new}",
                                                   f"{result.new_serial}-replacement.pdf")
            if path is not None:
                try:
                    saved = printing.save_to_file(ctx.db, ctx.actor, result.pdf_id, out=path)
                except FormtrailError as exc:
                    ctx.show_error(self, exc)
                else:
                    self.last_saved = saved.path
                    messages.info(self, f"{new} replaces {old}. Its controlled PDF was saved to "
                                        f"{saved.path}; print it once.", title="Replacement issued")
                    return
        messages.info(self, f"{new} replaces {old}. Document Control releases the new copy's "
                            "controlled PDF once (Issue page); it is never printed twice.",
                      title="Replacement issued")

    def open_scans(self) -> None:
        form = self.selected_form()
        if form is None or not form.scans:
            return
        pages = [ViewerPage(s.scan_page_id, f"{form.printed_as} p.{s.page_no or '?'} — {s.outcome}"
                                            f"{' (superseded)' if s.superseded else ''} — {s.source_name}")
                 for s in form.scans]
        if self.viewer_dialog is not None and isValid(self.viewer_dialog):
            self.viewer_dialog.close()
        dialog = ImageViewerDialog(scan_page_loader(self._ctx.db, self._ctx.actor), pages,
                                   title=f"Scans of {form.printed_as}", parent=self,
                                   explanation=f"{form.printed_as}: {form.state.value}, {form.pages_back} of "
                                               f"{form.pages} pages back. Rotating only changes the view, never "
                                               "the stored scan.")
        self.viewer_dialog = dialog
        dialog.show()

    def close_reconciliation(self) -> None:
        """Sign the reconciliation, when the service's view says this actor may close it now."""
        summary = self.selected_issuance()
        ctx = self._ctx
        if summary is None:
            return
        try:
            view = reconciliation.reconciliation(ctx.db, ctx.actor, summary.issuance_id)
        except FormtrailError as exc:
            ctx.show_error(self, exc)
            return
        if not view.may_close:
            if view.why_not_close:  # it changed since the page was drawn: say why, and show it as it is now
                messages.error(self, f"{view.why_not_close[0].upper()}{view.why_not_close[1:]}.",
                               title="Close reconciliation — not possible now")
            self.reload()
            return
        counts = Counter(f.state.value for f in view.forms)
        summary_text = (
            f"Reconciliation of issuance {view.issuance_id}: {view.template} v{view.version} “{view.title}”, "
            f"{view.purpose}{f' / {view.reference}' if view.reference else ''}, issued to {view.issued_to} by "
            f"{view.issued_by_name}.\nAll {plural(view.total, 'form')} are accounted for: "
            + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
            + ". After signing the issuance is read-only."
            # The signer sees what closing leaves behind before typing the password (the site allows it).
            + self._leaves_text(view))
        closed = ctx.sign(self, summary=summary_text, meaning=SignatureMeaning.RECONCILED,
                          perform=lambda username, password: reconciliation.close(
                              ctx.db, ctx.actor, view.issuance_id, username=username, password=password))
        if closed is not None:
            self.reload(issuance=view.issuance_id)

    # -- reports -----------------------------------------------------------------------------------------
    def reconciliation_report(self) -> None:
        view = self.view
        if view is None:
            return
        path = reconcile_dialogs.ask_save_path(self, "Save the reconciliation report",
                                               f"reconciliation-{self._ctx.site.code}-{view.issuance_id}.pdf")
        if path is None:
            return
        ctx, issuance_id = self._ctx, view.issuance_id
        self._report(lambda progress, cancelled: reports.reconciliation_report(ctx.db, ctx.actor, issuance_id,
                                                                                out=path), path.name)

    def accountability_report(self) -> None:
        dialog = PeriodDialog(self, today=register.today(self._ctx.db))
        self.dialog = dialog

        def done(dialog: PeriodDialog, result: int) -> None:
            self.dialog = None
            if not accepted(result):
                return
            since, until = dialog.period
            path = reconcile_dialogs.ask_save_path(self, "Save the accountability report",
                                                   f"accountability-{since.isoformat()}-{until.isoformat()}.pdf")
            if path is None:
                return
            ctx = self._ctx
            self._report(lambda progress, cancelled: reports.accountability_report(
                ctx.db, ctx.actor, since=since, until=until, out=path), path.name)
        open_dialog(dialog, done)

    def _report(self, job, name: str) -> None:  # noqa: ANN001 - a worker job
        self.task = run_op(self, job, title="Report", label=f"Writing {name}…", on_done=self._report_saved,
                           on_failed=self._report_failed)
        self._update_actions()

    def _report_saved(self, path) -> None:  # noqa: ANN001 - Path
        self.task = None
        self.last_saved = path
        self._update_actions()
        notify(self, f"Report saved to {path.name}",
               path=path)

    def _report_failed(self, exc: BaseException) -> None:
        self.task = None
        self._update_actions()
        self._ctx.show_error(self, exc, title="Report")
