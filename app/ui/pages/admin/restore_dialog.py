"""Restore a backup in place (BK-03): the administrator names the backup and the reason, and a second person
(another administrator or QA) types their user name and password here, at this moment, to approve it. The service
decides everything (who may restore, who may approve, that the backup verifies) and writes the RESTORE event naming
both people, the replaced chain head and the records lost after the backup point. The session ends afterwards:
the database it was logged in to has been replaced."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.runtime import RuntimeConfig, open_database
from app.services.admin import restore
from app.services.core.db import Database
from app.ui.kit import file_dialogs, messages
from app.ui.kit.operations import run_op
from app.ui.kit.widgets import ErrorLine, hint, password_field
from app.ui.pages.registry import PageContext


def restore_in_place(ctx: PageContext, path: Path, *, reason: str, approver: str,
                     password: str) -> restore.RestoreResult:
    """The approval (re-authenticated now) and the restore, one after the other (off the GUI thread)."""
    db = ctx.db
    approval = restore.approve_restore(db, ctx.actor, username=approver, password=password)
    keys_folder = db.keys.folder if db.keys is not None else None

    def make_database(url: str, files: Path) -> Database:
        return open_database(RuntimeConfig(home=files.parent, db_url=url, workstation=db.workstation,
                                           files_dir=files, keys_dir=keys_folder))
    return restore.restore(path, ctx.actor, reason=reason, target_url=db.engine.url.render_as_string(False),
                           target_files=db.files.root, current=db, in_place=True, workstation=db.workstation,
                           make_database=make_database, keys=db.keys, approval=approval)


class RestoreDialog(QDialog):
    def __init__(self, parent: QWidget | None, ctx: PageContext) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.result_value: restore.RestoreResult | None = None
        self.setWindowTitle("Restore a backup")
        layout = QVBoxLayout(self)
        layout.addWidget(hint("Replaces this workstation's database with the backup. Nothing is deleted: the current "
                              "database file is kept beside it, and the audit trail records what is lost after the "
                              "backup point. A second person (another administrator or QA) approves with their "
                              "password."))
        form = QFormLayout()
        row = QHBoxLayout()
        self.folder = QLineEdit()
        choose = QPushButton("Choose…")
        choose.clicked.connect(self._choose)
        row.addWidget(self.folder, 1)
        row.addWidget(choose)
        form.addRow("Backup folder:", row)
        self.reason = QLineEdit()
        form.addRow("Reason:", self.reason)
        self.approver = QLineEdit()
        form.addRow("Approved by (user name):", self.approver)
        self.approver_password = password_field("the approver types their password")
        form.addRow("Approver's password:", self.approver_password)
        layout.addLayout(form)
        self.error = ErrorLine()
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.restore_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.restore_button.setText("Restore")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _choose(self) -> None:
        folder = file_dialogs.ask_folder(self, "Which backup?", purpose="backups")
        if folder is not None:
            self.folder.setText(str(folder))

    def accept(self) -> None:
        path, reason = self.folder.text().strip(), self.reason.text()
        approver, password = self.approver.text(), self.approver_password.text()
        self.approver_password.clear()  # typed once, for this restore only
        self.restore_button.setEnabled(False)
        ctx = self._ctx
        run_op(self, lambda progress, cancelled: restore_in_place(ctx, Path(path), reason=reason, approver=approver,
                                                                  password=password),
               title="Restore", label=f"Restoring {path}…", name="restore", on_done=self._restored,
               on_failed=self._failed)

    def _failed(self, exc: BaseException) -> None:
        self.restore_button.setEnabled(True)
        self.error.show_text(str(exc))

    def _restored(self, result: restore.RestoreResult) -> None:
        self.result_value = result
        lost = f" {result.events_lost} events recorded after the backup point are not in the restored data " \
               "(see the RESTORE event)." if result.events_lost else ""
        messages.info(self, f"Restored: chain head {result.chain_head_after}.{lost} Log in again.")
        super().accept()
        self._ctx.end_session("the database was restored from a backup")
