"""Tab order follows the form (issue 14, item 7): pressing Tab walks the inputs top to bottom, left to right, as
they are laid out, on the screens where people type the most."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QAbstractButton, QApplication, QWidget

from app.enums import SignatureMeaning
from app.ui.kit.reason import ReasonDialog
from app.ui.kit.signature import SignatureDialog
from app.ui.pages.issuance.issue import IssuePage
from app.ui.pages.templates.template_new import NewTemplateDialog
from tests.helpers.forms import effective_template
from tests.ui.conftest import settle


def _walk(qtbot, top: QWidget, first: QWidget, steps: int) -> list[QWidget]:  # noqa: ANN001
    top.activateWindow()
    qtbot.waitUntil(top.isActiveWindow, timeout=5_000)
    first.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is first, timeout=5_000)
    seen = [first]
    for _ in range(steps):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        seen.append(QApplication.focusWidget())
    return seen


def _reading_order(top: QWidget, widgets: list[QWidget]) -> list[QWidget]:
    def place(w: QWidget) -> tuple[int, int]:
        at = w.mapTo(top, QPoint(0, 0))
        return (at.y() // 12, at.x())  # one text line of slack: labels and fields of a row sit a few px apart
    return sorted(widgets, key=place)


def _inputs_in_order(qtbot, top: QWidget, first: QWidget, count: int) -> None:  # noqa: ANN001
    seen = [w for w in _walk(qtbot, top, first, count) if not isinstance(w, QAbstractButton)]
    distinct = list(dict.fromkeys(seen))
    assert distinct == _reading_order(top, distinct), [w.objectName() or type(w).__name__ for w in distinct]


def test_the_issue_form_tabs_top_to_bottom(qtbot, seed, ctx_for) -> None:  # noqa: ANN001
    effective_template(seed)
    page = IssuePage(ctx_for("dc"))
    qtbot.addWidget(page)
    page.resize(1200, 800)
    page.show()
    settle(qtbot)
    _inputs_in_order(qtbot, page, page.template_combo, 8)


def test_the_new_template_dialog_tabs_top_to_bottom(qtbot, ctx_for) -> None:  # noqa: ANN001
    dialog = NewTemplateDialog(ctx_for("dc"))
    qtbot.addWidget(dialog)
    dialog.show()
    _inputs_in_order(qtbot, dialog, dialog.code, 5)


def test_the_reason_and_signature_dialogs_tab_top_to_bottom(qtbot) -> None:  # noqa: ANN001
    reason = ReasonDialog(None, heading="Void 000001", action_text="Void form", explanation="why",
                          placeholder="why", perform=lambda text: text)
    qtbot.addWidget(reason)
    reason.show()
    _inputs_in_order(qtbot, reason, reason.reason, 2)
    sign = SignatureDialog(None, summary="Close", meaning=SignatureMeaning.RECONCILED, perform=lambda u, p: None)
    qtbot.addWidget(sign)
    sign.show()
    _inputs_in_order(qtbot, sign, sign.username, 3)
