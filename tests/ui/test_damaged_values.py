"""A value Formtrail never writes (an insider removed SQLite's check and set issued_form.state='void'): the GUI
names it in a message, from the page itself and from a background task, and goes on; nothing crashes."""

from __future__ import annotations

from app.services.core.errors import DamagedData
from app.ui.pages.issuance.register import RegisterPage
from tests.helpers.forms import effective_template, issue
from tests.helpers.insider import raw, without_check

SAID = "issued_form.state is 'void'"


def _damaged(seed) -> None:  # noqa: ANN001
    effective_template(seed, "QC-WS-014")
    issue(seed, "QC-WS-014", 3)
    without_check(seed.db, "issued_form", "ck_issued_form_state_value")
    raw(seed.db, "UPDATE issued_form SET state = 'void' WHERE serial = '000002'")


def test_the_register_names_the_value_instead_of_failing(qtbot, seed, ctx_for, boxes) -> None:  # noqa: ANN001
    _damaged(seed)
    page = RegisterPage(ctx_for("dc"))
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: bool(boxes.errors))
    assert len(boxes.errors) == 1 and SAID in boxes.errors[0] and "formtrail verify" in boxes.errors[0]
    assert page.model.loaded == 0 and not page.model.canFetchMore()


def test_a_background_task_that_meets_the_value_reports_it(qtbot, seed, ctx_for, boxes, tmp_path) -> None:  # noqa: ANN001
    """The register export runs on a worker thread (run_op): its failure is the service error, shown as such."""
    _damaged(seed)
    page = RegisterPage(ctx_for("dc"))
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: bool(boxes.errors))
    task = page.export(tmp_path / "register.csv", "csv")
    assert task is not None
    qtbot.waitUntil(lambda: not task.running and len(boxes.errors) == 2, timeout=10_000)
    assert isinstance(task.error, DamagedData) and task.error.code == "unknown-stored-value"
    assert SAID in boxes.errors[-1] and "Unexpected problem" not in boxes.errors[-1]
    assert page.export_button.isEnabled() and not (tmp_path / "register.csv").exists()
