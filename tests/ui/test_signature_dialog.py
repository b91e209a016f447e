"""The reusable signature dialog: credentials every time (ES-02), failures inline, lockout closes it (ES-03)."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialog

from app.enums import SignatureMeaning
from app.services.identity import signatures
from app.services.identity.signatures import SignatureInfo
from app.ui.kit.signature import SignatureDialog
from tests.helpers.seed import PASSWORD

LEFT = Qt.MouseButton.LeftButton
SUMMARY = "Record R-1 of QC-WS-014 v3, serial BSL-01-000123"


def _perform(seed):  # noqa: ANN001, ANN202
    def perform(username: str, password: str) -> SignatureInfo:
        return signatures.sign(seed.db, seed.qa, username=username, password=password,
                               meaning=SignatureMeaning.REVIEWED, entity="record", entity_id="R-1",
                               content={"value": "7.2"}, activity="record R-1")
    return perform


def _dialog(qtbot, seed) -> SignatureDialog:  # noqa: ANN001
    dialog = SignatureDialog(None, summary=SUMMARY, meaning=SignatureMeaning.REVIEWED, perform=_perform(seed),
                             username="qa")
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def _sign(qtbot, dialog: SignatureDialog, password: str) -> None:  # noqa: ANN001
    dialog.password.setText(password)
    qtbot.mouseClick(dialog.sign_button, LEFT)


def test_dialog_shows_what_is_signed_and_the_meaning(qtbot, seed) -> None:  # noqa: ANN001
    dialog = _dialog(qtbot, seed)
    assert dialog.summary.toPlainText() == SUMMARY
    assert "Reviewed" in dialog.meaning.text()
    assert dialog.username.text() == "qa" and dialog.username.isEnabled()  # pre-filled but editable
    assert dialog.password.text() == ""  # asked every time


def test_es02_wrong_password_keeps_the_dialog_open_with_the_error(qtbot, seed, trail) -> None:  # noqa: ANN001
    dialog = _dialog(qtbot, seed)
    _sign(qtbot, dialog, "wrong-password")
    assert dialog.isVisible()
    assert dialog.error.text() == "Not signed: wrong user name or password"
    assert dialog.password.text() == ""
    assert [e.action for e in trail(action="SIGN_FAIL")] == ["SIGN_FAIL"]


def test_es02_correct_credentials_sign(qtbot, seed) -> None:  # noqa: ANN001
    dialog = _dialog(qtbot, seed)
    _sign(qtbot, dialog, PASSWORD)
    assert dialog.result() == QDialog.DialogCode.Accepted
    info = dialog.result_value
    assert isinstance(info, SignatureInfo)
    assert info.signer_username == "qa" and info.meaning is SignatureMeaning.REVIEWED
    assert info.manifestation().startswith("Quinn Müller (qa), Reviewed, ")


def test_signing_under_another_name_is_refused_inline(qtbot, seed) -> None:  # noqa: ANN001
    dialog = _dialog(qtbot, seed)
    dialog.username.setText("qa2")
    _sign(qtbot, dialog, PASSWORD)
    assert dialog.isVisible() and "sign with your own user name" in dialog.error.text()


def test_es03_lockout_while_signing_says_so_and_closes(qtbot, seed, boxes, trail) -> None:  # noqa: ANN001
    dialog = _dialog(qtbot, seed)
    for _ in range(5):
        _sign(qtbot, dialog, "wrong-password")
    assert dialog.locked_out
    assert not dialog.isVisible() and dialog.result() == QDialog.DialogCode.Rejected
    assert len(boxes.errors) == 1 and "locked" in boxes.errors[0] and "Nothing was signed" in boxes.errors[0]
    assert len(trail(action="SIGN_FAIL")) == 5
    assert [e.entity_id for e in trail(action="LOCKOUT")] == ["qa"]


def test_run_returns_the_result_of_perform(qtbot, seed) -> None:  # noqa: ANN001
    def answer() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, SignatureDialog)
        dialog.password.setText(PASSWORD)
        dialog.sign_button.click()
    QTimer.singleShot(0, answer)
    info = SignatureDialog.run(None, summary=SUMMARY, meaning=SignatureMeaning.REVIEWED, perform=_perform(seed),
                               username="qa")
    assert isinstance(info, SignatureInfo) and info.entity_id == "R-1"


def test_run_calls_back_after_a_lockout_and_returns_none(qtbot, seed) -> None:  # noqa: ANN001
    ended: list[bool] = []

    def answer() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, SignatureDialog)
        for _ in range(5):
            dialog.password.setText("wrong-password")
            dialog.sign_button.click()
    QTimer.singleShot(0, answer)
    result = SignatureDialog.run(None, summary=SUMMARY, meaning=SignatureMeaning.REVIEWED, perform=_perform(seed),
                                 username="qa", on_locked_out=lambda: ended.append(True))
    assert result is None and ended == [True]
