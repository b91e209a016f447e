"""Second-person verification of some values of a record, as both the entry list ("Verify all shown…") and
the snippet dialog ask for it: one confirmation listing them, then the service verifies each in the background
and the caller hears the batch's result with the record read again."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtWidgets import QWidget

from app.services.identity.batch import BatchResult
from app.services.records import records
from app.services.records.record_views import RecordView
from app.textfmt import noun, plural
from app.ui.kit import messages
from app.ui.kit.data_events import Topic
from app.ui.kit.operations import run_op
from app.ui.kit.workers import Progress, Task
from app.ui.pages.registry import PageContext

Verified = tuple[BatchResult[str], RecordView]


def verify_values(owner: QWidget, ctx: PageContext, *, serial: str, values: Sequence[tuple[str, str]],
                  against: str, on_done: Callable[[Verified], None],
                  on_failed: Callable[[BaseException], None]) -> Task | None:
    """Ask once whether ``values`` ((field name, "Label: value" as shown)) were checked against ``against``
    ("the sheet", "the paper"); if so verify them and return the running task, else None."""
    names = [name for name, _shown in values]
    lines = "\n".join(f"• {shown}" for _name, shown in values)
    these = f"{noun(len(names), 'this', 'these')} {plural(len(names), 'value')}"
    if not messages.confirm(owner, f"Verify {these} as checked by you against {against}?\n\n{lines}",
                            title="Second-person verification", ok_text="Verify"):
        return None

    def job(progress: Progress, _cancelled: object) -> Verified:
        result = records.verify_many(ctx.db, ctx.actor, serial=serial, fields=names, progress=progress)
        return result, records.record_view(ctx.db, ctx.actor, serial)
    return run_op(owner, job, title="Second-person verification", label=f"Verifying {plural(len(names), 'value')}…",
                  changes={Topic.RECORDS}, on_done=on_done, on_failed=on_failed)
