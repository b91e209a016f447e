"""Invalidating a recorded result (RC-05): the reason first (refused before the password if the service says so),
then the e-signature. The value is never removed: the service flags it VOID and it stays shown with who, when and
why; the field then waits for a new value. Offered only where the view's ``may_invalidate`` says so."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QDialog, QWidget

from app.enums import SignatureMeaning
from app.services.records import invalidation
from app.services.records.record_views import RecordView
from app.ui.kit import data_events
from app.ui.kit.data_events import Topic
from app.ui.kit.dialogs import accepted, open_dialog
from app.ui.kit.reason import ReasonDialog
from app.ui.pages.registry import PageContext


def invalidate_value(ctx: PageContext, parent: QWidget, view: RecordView, name: str,
                     on_view: Callable[[RecordView], None]) -> ReasonDialog | None:
    """Ask why, check, then sign; ``on_view`` gets the record as the service returns it."""
    field = view.field(name)
    current = field.current
    if current is None or not field.may_invalidate:
        return None
    shown = "NA" if current.is_na else f"{current.value}{f' {field.unit}' if field.unit else ''}"
    serial = view.serial

    def check(reason: str) -> str:
        invalidation.check_invalidate(ctx.db, ctx.actor, serial=serial, field=name, reason=reason)
        return reason

    dialog = ReasonDialog(
        parent, heading=f"Invalidate {field.label} on {view.label or serial}", action_text="Continue to signature…",
        explanation=f"The result {shown} (entered by {current.entered_by}) is taken back: it stays in the record, "
                    "shown flagged VOID with your name, the time and the reason, and no longer counts as the "
                    "field's result. A required field then needs a new value; signatures over the record no longer "
                    "match it. You sign the invalidation with your password.",
        placeholder="Why is the result invalid? e.g. 'balance found out of calibration, DEV-2026-044'",
        perform=check)

    def done(finished: QDialog, result: int) -> None:
        if not accepted(result):
            return
        reason = str(getattr(finished, "result_value", "") or "")
        signed = ctx.sign(parent, summary=f"Invalidate the result {shown} of {field.label} on {view.label or serial}."
                                          f"\nReason: {reason}", meaning=SignatureMeaning.APPROVED,
                          perform=lambda username, password: invalidation.invalidate_result(
                              ctx.db, ctx.actor, serial=serial, field=name, reason=reason, username=username,
                              password=password))
        if signed is not None:
            on_view(signed)
            data_events.announce({Topic.RECORDS})
    return open_dialog(dialog, done)
