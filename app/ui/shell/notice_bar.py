"""The status-bar notice: what was just done, non-modally, with links to open the file written or its folder."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QLabel, QWidget

from app.services.core.clock import Clock, SystemClock
from app.ui.kit.operations import Notice


class NoticeLabel(QLabel):
    """Shows the latest :class:`Notice` until the next one ("✔ 14:07 Saved … — Open · Show in folder")."""

    def __init__(self, parent: QWidget | None = None, *, clock: Clock | None = None) -> None:
        super().__init__(parent)
        # The workstation's clock service: a status line's "when" must not wait for (or fail with) the server
        # clock's resync, which the database clock of a site server may do on the GUI thread.
        self._clock = clock or SystemClock()
        self.setObjectName("notice")
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse
                                     | Qt.TextInteractionFlag.LinksAccessibleByKeyboard)
        self.linkActivated.connect(self.open_link)
        self.notice: Notice | None = None
        self.hide()

    def show_notice(self, notice: Notice) -> None:
        self.notice = notice
        when = self._clock.now().astimezone().strftime("%H:%M")
        parts = [f"✔ {when} {html.escape(notice.text)}"]
        if notice.path is not None:
            file_url = QUrl.fromLocalFile(str(notice.path)).toString()
            folder_url = QUrl.fromLocalFile(str(notice.path.parent)).toString()
            parts.append(f' — <a href="{html.escape(file_url)}">Open</a> · '
                         f'<a href="{html.escape(folder_url)}">Show in folder</a>')
        self.setText("".join(parts))
        # Every export and print is in the audit trail; the tooltip says so without crowding the bar.
        self.setToolTip(f"{notice.text}{f' — {notice.path}' if notice.path else ''}")
        self.show()

    @staticmethod
    def open_link(link: str) -> None:
        QDesktopServices.openUrl(QUrl(link))
