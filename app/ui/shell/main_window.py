"""The main window: role-aware navigation over the registered pages, status bar, session actions, idle lock and
the locked-account alert for administrators (AC-05)."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app import buildinfo
from app.enums import UserStatus
from app.services.admin import backup
from app.services.core.db import Actor, Database
from app.services.core.errors import FormtrailError
from app.services.identity import auth, users, workstations
from app.services.identity.permissions import Permission, allowed
from app.services.identity.users import UserInfo
from app.services.integrity import integrity, schedule
from app.services.site import settings
from app.services.site.setup import SiteInfo
from app.ui import pages
from app.ui.kit import data_events, messages, ui_state, workers
from app.ui.kit.data_events import Topic
from app.ui.kit.dialogs import accepted, open_dialog
from app.ui.kit.operations import Notice, notify, run_query
from app.ui.kit.style import icon, set_role
from app.ui.kit.widgets import hint
from app.ui.pages.placeholder import PlaceholderPage
from app.ui.pages.registry import PageContext, PageSpec
from app.ui.shell.idle import IdleWatcher, LockDialog
from app.ui.shell.notice_bar import NoticeLabel
from app.ui.shell.password import ChangePasswordDialog

KEY_ROLE = Qt.ItemDataRole.UserRole


def _idle_minutes(db: Database) -> float:
    return float(next(s.value for s in settings.list_settings(db) if s.key == "session.idle_lock_minutes"))


def _keys(named: str, standard: QKeySequence.StandardKey) -> list[QKeySequence]:
    keys = [QKeySequence(named)]
    return keys + [k for k in QKeySequence.keyBindings(standard) if k not in keys]


def _scroll_area_of(page: QWidget) -> QWidget:
    """The scroll area ``_scrollable`` put ``page`` in (page -> viewport -> area)."""
    viewport = page.parentWidget()
    area = viewport.parentWidget() if viewport is not None else None
    if area is None:
        raise RuntimeError("the page is not in its scroll area")
    return area


def _scrollable(page: QWidget) -> QScrollArea:
    """The page in a frameless scroll area: on a small screen or at a large scaling a page that needs more room
    than the window has scrolls instead of being squeezed, clipped or overlapping."""
    area = QScrollArea()
    area.setObjectName("page-scroll")
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setWidgetResizable(True)
    area.setWidget(page)
    page.setAutoFillBackground(False)  # setWidget turned it on: the page would be grey on the light content
    return area


class MainWindow(QMainWindow):
    """One logged-in session. ``logged_out`` asks for the log-in dialog again; ``closed`` ends the program.

    Args:
        idle_timeout_ms: idle time before the session locks; None reads ``session.idle_lock_minutes`` (tests
            pass a few milliseconds).
        lock_poll_ms: how often administrators' windows look for locked accounts.
    """

    logged_out = Signal()
    closed = Signal()

    def __init__(self, db: Database, actor: Actor, site: SiteInfo, *, idle_timeout_ms: int | None = None,
                 lock_poll_ms: int = 30_000, backup_poll_ms: int = 10 * 60_000, check_at_start: bool = False) -> None:
        super().__init__()
        self.db, self.actor, self.site = db, actor, site
        self.ended = False
        self.lock_dialog: LockDialog | None = None
        self.dialog: QDialog | None = None
        self.locked_accounts: list[UserInfo] = []
        self._poll_task: workers.Task | None = None
        self.ctx = PageContext(db=db, actor=actor, site=site, window=self, navigate=self.navigate,
                               end_session=self.end_session)
        self.setWindowTitle(f"Formtrail — {site.code} — {actor.full_name} ({actor.username})")

        self.specs = pages.pages_for(actor)
        self.page_widgets: dict[str, QWidget] = {}
        self.screens = QStackedWidget()
        self.workspace = self._build_workspace()
        self.cover = self._build_cover()
        self.screens.addWidget(self.workspace)
        self.screens.addWidget(self.cover)
        self.setCentralWidget(self.screens)
        self._build_actions()
        self._build_status_bar()

        minutes = _idle_minutes(db)
        self.idle_minutes = minutes if idle_timeout_ms is None else idle_timeout_ms / 60_000
        self.idle = IdleWatcher(idle_timeout_ms if idle_timeout_ms is not None else int(minutes * 60_000), self)
        self.idle.idle.connect(lambda: self.lock("idle timeout"))
        self.idle.start()

        self.poll_timer = QTimer(self)
        self.poll_timer.setInterval(lock_poll_ms)
        self.poll_timer.timeout.connect(self.poll_locked_accounts)
        if allowed(actor, Permission.MANAGE_USERS):
            self.poll_timer.start()
            QTimer.singleShot(0, self.poll_locked_accounts)
        # Scheduled backups (settings backup.folder / backup.interval_hours) run from whichever workstation is
        # in use when one is due; the result is in the audit trail and on the Home page.
        self._backup_task: workers.Task | None = None
        self.backup_timer = QTimer(self)
        self.backup_timer.setInterval(backup_poll_ms)
        self.backup_timer.timeout.connect(self.run_scheduled_backup)
        self.backup_timer.start()  # whoever is logged in: the schedule is the administrator's setting
        self.nav.setCurrentRow(0)
        ui_state.restore_geometry("main-window", self, preferred=(1360, 860))
        run_query(self, lambda: workstations.this_station(db), key="station", on_done=self._station_known,
                  on_failed=lambda _exc: None)
        if check_at_start:
            self.check_at_start()

    def _station_known(self, station: workstations.ThisStation) -> None:
        self.station_banner_label.setText(
            f"This workstation is not registered: read-only. Ask an administrator to register it (Admin → "
            f"Workstations) — it is listed as {station.label}." if not station.may_act else "")
        self.station_banner.setVisible(not station.may_act)

    def check_at_start(self) -> None:
        """SE-01: verify everything in the background as the application starts; a failure shows a banner (and
        the service has opened an incident for QA)."""
        self.integrity_banner_label.setText("Checking the data's integrity (audit chain, signatures, files)…")
        run_query(self, lambda: schedule.check_at_start(self.db), key="check-at-start", on_done=self._checked,
                  on_failed=lambda exc: self._checked(None, failure=str(exc)))

    def _checked(self, report: integrity.IntegrityReport | None, *, failure: str = "") -> None:
        first = next((f for f in report.findings if f.error), None) if report is not None else None
        if report is not None and first is None:
            self.integrity_banner_label.setText("")
            self.integrity_banner.hide()
            return
        why = str(first) if first is not None else f"the check could not run: {failure}"
        self.integrity_banner_label.setText(
            f"Integrity check at start FAILED — {why}. The data may have been changed outside Formtrail: tell QA "
            "(an incident is open for them), and do not rely on what you see until it is assessed.")
        self.integrity_banner.show()

    # -- layout -----------------------------------------------------------------------------------------
    def _build_workspace(self) -> QWidget:
        workspace = QWidget()
        row = QHBoxLayout(workspace)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        self.nav = QListWidget()
        self.nav.setObjectName("nav")
        self.nav.setIconSize(QSize(22, 22))
        self.nav.setFixedWidth(190)
        for spec in self.specs:
            item = QListWidgetItem(icon(spec.icon), spec.title)
            item.setData(KEY_ROLE, spec.key)
            item.setToolTip(spec.description)
            self.nav.addItem(item)
        self.nav.currentRowChanged.connect(self._show_row)
        row.addWidget(self.nav)

        right = QWidget()
        right.setObjectName("content")
        column = QVBoxLayout(right)
        column.setContentsMargins(16, 12, 16, 8)
        self.banner = QFrame()
        self.banner.setObjectName("alert")
        banner_row = QHBoxLayout(self.banner)
        self.banner_label = QLabel()
        self.banner_label.setWordWrap(True)
        banner_row.addWidget(self.banner_label, 1)
        self.banner_button = QPushButton("Open Users")
        self.banner_button.clicked.connect(lambda: self.navigate("users"))
        banner_row.addWidget(self.banner_button)
        self.banner.hide()
        column.addWidget(self.banner)
        # AC-08: on a station an administrator has not registered (or retired) the services refuse signing,
        # issuing, printing and importing; the banner says so before anyone tries.
        self.station_banner = QFrame()
        self.station_banner.setObjectName("alert")
        station_row = QHBoxLayout(self.station_banner)
        self.station_banner_label = QLabel()
        self.station_banner_label.setWordWrap(True)
        station_row.addWidget(self.station_banner_label, 1)
        self.station_banner.hide()
        column.addWidget(self.station_banner)
        self.integrity_banner = QFrame()
        self.integrity_banner.setObjectName("alert")
        integrity_row = QHBoxLayout(self.integrity_banner)
        self.integrity_banner_label = QLabel()
        self.integrity_banner_label.setWordWrap(True)
        integrity_row.addWidget(self.integrity_banner_label, 1)
        self.integrity_banner.hide()
        column.addWidget(self.integrity_banner)
        self.page_title = set_role(QLabel(), "title")
        self.page_description = hint("")
        column.addWidget(self.page_title)
        column.addWidget(self.page_description)
        self.stack = QStackedWidget()
        column.addWidget(self.stack, 1)
        row.addWidget(right, 1)
        return workspace

    def _build_cover(self) -> QWidget:
        cover = QWidget()
        cover.setObjectName("cover")
        column = QVBoxLayout(cover)
        column.addStretch(1)
        picture = QLabel()
        picture.setPixmap(icon("lock").pixmap(72, 72))
        picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        column.addWidget(picture)
        label = set_role(QLabel(f"Locked — {self.actor.full_name} ({self.actor.username})"), "title")
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        column.addWidget(label)
        column.addStretch(2)
        return cover

    def _build_actions(self) -> None:
        self.change_password_action = QAction(icon("password"), "Change &password…", self)
        self.change_password_action.triggered.connect(self.change_password)
        self.lock_action = QAction(icon("lock"), "&Lock now", self)
        self.lock_action.setShortcut(QKeySequence("Ctrl+L"))
        self.lock_action.setToolTip("Lock the screen now (Ctrl+L); only you can unlock it")
        self.lock_action.triggered.connect(lambda: self.lock("locked by the user"))
        self.logout_action = QAction(icon("logout"), "Log &out", self)
        self.logout_action.triggered.connect(lambda: self.log_out())
        session = self.menuBar().addMenu("&Session")
        for action in (self.change_password_action, self.lock_action, self.logout_action):
            session.addAction(action)
        self._build_go_menu()
        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction("&About Formtrail", self._about)
        toolbar = self.addToolBar("Session")
        toolbar.setObjectName("session-toolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.toolbar_user = QLabel(f"  {self.actor.full_name} ({self.actor.username})  ")
        toolbar.addWidget(self.toolbar_user)
        toolbar.addWidget(spacer)
        for action in (self.change_password_action, self.lock_action, self.logout_action):
            toolbar.addAction(action)
        self.toolbar = toolbar

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        roles = ", ".join(r.title for r in sorted(self.actor.roles, key=lambda r: r.value)) or "no role"
        self.status_user = QLabel(f"{self.actor.full_name} ({self.actor.username}) · {roles}")
        self.status_site = QLabel(f"Site {self.site.label}")
        self.status_db = QLabel(f"Database: {self.db.display_url}")
        self.status_db.setToolTip(f"Workstation: {self.db.workstation}")
        self.status_alert = set_role(QLabel(), "error")
        self.status_alert.hide()
        self.status_notice = NoticeLabel()
        for widget in (self.status_user, self.status_site, self.status_db):
            bar.addWidget(widget)
        bar.addPermanentWidget(self.status_notice)
        bar.addPermanentWidget(self.status_alert)

    def show_notice(self, notice: Notice) -> None:
        """Where :func:`app.ui.kit.operations.notify` reports what a page just did."""
        self.status_notice.show_notice(notice)

    # -- navigation -------------------------------------------------------------------------------------
    def _build_go_menu(self) -> None:
        """The keyboard's way round: Ctrl+1…9 open the pages in navigation order, F5 reads the page again, Ctrl+F
        puts the cursor in the page's search field. In a menu, so the shortcuts can be found without a manual."""
        go = self.menuBar().addMenu("&Go")
        for row, spec in enumerate(self.specs[:9]):
            action = go.addAction(spec.title)
            action.setShortcut(QKeySequence(f"Ctrl+{row + 1}"))
            action.triggered.connect(lambda _checked=False, row=row: self.nav.setCurrentRow(row))
        go.addSeparator()
        self.refresh_action = go.addAction("&Refresh this page")
        # Named keys as well as the platform's: some platforms give Refresh or Find no key at all.
        self.refresh_action.setShortcuts(_keys("F5", QKeySequence.StandardKey.Refresh))
        self.refresh_action.triggered.connect(self.refresh_page)
        self.find_action = go.addAction("&Find on this page")
        self.find_action.setShortcuts(_keys("Ctrl+F", QKeySequence.StandardKey.Find))
        self.find_action.triggered.connect(self.focus_search)

    def refresh_page(self) -> None:
        """Read the current page's data again (what showing the page does)."""
        page = self.current_page()
        shown = getattr(page, "page_shown", None)
        if callable(shown):
            shown()

    def focus_search(self) -> bool:
        """Put the cursor in the current page's search field (a line edit named "search"), if it shows one."""
        page = self.current_page()
        fields = [f for f in page.findChildren(QLineEdit, "search") if f.isVisible()] if page is not None else []
        if not fields:
            return False
        fields[0].setFocus(Qt.FocusReason.ShortcutFocusReason)
        fields[0].selectAll()
        return True

    def navigate(self, key: str) -> None:
        for row in range(self.nav.count()):
            if self.nav.item(row).data(KEY_ROLE) == key:
                self.nav.setCurrentRow(row)
                return

    def nav_keys(self) -> list[str]:
        return [self.nav.item(row).data(KEY_ROLE) for row in range(self.nav.count())]

    def current_key(self) -> str | None:
        item = self.nav.currentItem()
        return item.data(KEY_ROLE) if item else None

    def current_page(self) -> QWidget | None:
        key = self.current_key()
        return self.page_widgets.get(key) if key else None

    def _show_row(self, row: int) -> None:
        if row < 0:
            return
        spec = self.specs[row]
        widget = self.page_widgets.get(spec.key)
        created = widget is None
        if widget is None:
            widget = self._create_page(spec)
            self.page_widgets[spec.key] = widget
            self.stack.addWidget(_scrollable(widget))
        self.page_title.setText(spec.title)
        self.page_description.setText(spec.description)
        self.stack.setCurrentWidget(_scroll_area_of(widget))
        if not created and hasattr(widget, "page_shown"):
            widget.page_shown()

    def _create_page(self, spec: PageSpec) -> QWidget:
        if spec.factory is None:
            return PlaceholderPage(spec)
        try:
            return spec.factory(self.ctx)
        except FormtrailError as exc:
            self.ctx.show_error(self, exc, title=f"{spec.title} cannot be shown")
            return PlaceholderPage(spec)

    # -- locked accounts (AC-05) --------------------------------------------------------------------------
    def poll_locked_accounts(self) -> None:
        """Look for locked accounts off the GUI thread; the banner names them."""
        if self.ended or (self._poll_task is not None and self._poll_task.running):
            return
        db, actor = self.db, self.actor
        self._poll_task = workers.run_task(lambda progress, cancelled: users.list_users(db, actor), name="poll")
        self._poll_task.finished.connect(self._show_locked_accounts)

    def _show_locked_accounts(self, rows: list[UserInfo]) -> None:
        if self.ended:
            return
        locked = [u for u in rows if u.status is UserStatus.LOCKED]
        new = {u.username for u in locked} - {u.username for u in self.locked_accounts}
        self.locked_accounts = locked
        if not locked:
            self.banner.hide()
            self.status_alert.hide()
            return
        names = ", ".join(f"{u.full_name} ({u.username})" for u in locked)
        self.banner_label.setText(
            f"⚠ Locked account{'s' if len(locked) > 1 else ''}: {names}. Repeated wrong passwords locked "
            f"{'them' if len(locked) > 1 else 'it'}; check with the user before unlocking, it may be an attempt "
            "to guess a password.")
        self.status_alert.setText(f"⚠ {len(locked)} locked account{'s' if len(locked) > 1 else ''}")
        self.banner.show()
        self.status_alert.show()
        if new:
            QApplication.alert(self)
            data_events.announce({Topic.USERS})  # a lockout is a change to the accounts: their page reloads

    # -- scheduled backups -----------------------------------------------------------------------------
    def run_scheduled_backup(self) -> None:
        if self.ended or (self._backup_task is not None and self._backup_task.running):
            return
        db, actor = self.db, self.actor
        task = workers.run_task(lambda progress, cancelled: backup.run_scheduled_backup(
            db, actor, progress=progress, cancelled=cancelled), serial=True, name="scheduled backup")
        task.finished.connect(self._scheduled_backup_done)
        task.failed.connect(lambda exc: self.statusBar().showMessage(f"⚠ Scheduled backup failed: {exc}", 60_000))
        self._backup_task = task

    def _scheduled_backup_done(self, result: object) -> None:
        path = getattr(result, "path", None)  # None when no backup was due
        if path is not None:
            self.statusBar().showMessage(f"Scheduled backup written to {path}", 15_000)

    # -- session --------------------------------------------------------------------------------------
    def lock(self, why: str = "idle timeout") -> None:
        if self.ended or self.lock_dialog is not None:
            return
        self.idle.stop()
        try:
            auth.lock_session(self.db, self.actor, why=why)
        except FormtrailError:
            pass  # the screen locks whatever happens to the log entry
        self.screens.setCurrentWidget(self.cover)
        self.menuBar().setEnabled(False)
        self.toolbar.setEnabled(False)
        dialog = LockDialog(self.db, self.actor, idle_minutes=self.idle_minutes if why == "idle timeout" else None,
                            parent=self)
        dialog.resumed.connect(self._resumed)
        dialog.logged_out.connect(lambda: self.log_out())
        self.lock_dialog = dialog
        dialog.show()

    def _resumed(self) -> None:
        dialog, self.lock_dialog = self.lock_dialog, None
        if dialog is not None:
            dialog.deleteLater()
        self.screens.setCurrentWidget(self.workspace)
        self.menuBar().setEnabled(True)
        self.toolbar.setEnabled(True)
        self.idle.start()

    @property
    def is_locked(self) -> bool:
        return self.lock_dialog is not None

    def change_password(self) -> None:
        dialog = ChangePasswordDialog(self.db, self.actor, parent=self)
        self.dialog = dialog

        def done(dialog: ChangePasswordDialog, result: int) -> None:
            self.dialog = None
            if dialog.locked_out:
                self.end_session("account locked")
            elif accepted(result):
                notify(self, "Your password was changed")
        open_dialog(dialog, done)

    def end_session(self, why: str) -> None:
        """The account can no longer act (locked while signing or changing the password): back to log-in."""
        self.log_out()

    def log_out(self) -> None:
        if self._finish():
            self.close()
            self.logged_out.emit()

    def _finish(self) -> bool:
        """End the session once: stop the timers, record the log-out."""
        if self.ended:
            return False
        self.ended = True
        ui_state.save_geometry("main-window", self)
        self.idle.detach()
        self.poll_timer.stop()
        self.backup_timer.stop()
        if self.lock_dialog is not None:
            self.lock_dialog.finish(QDialog.DialogCode.Rejected)
            self.lock_dialog = None
        try:
            auth.logout(self.db, self.actor)
        except FormtrailError:
            pass
        return True

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        if self.lock_dialog is not None and not self.ended:
            event.ignore()  # a locked session is left through the lock screen
            return
        if self._finish():
            self.closed.emit()
        super().closeEvent(event)

    def _about(self) -> None:
        messages.info(self, f"Formtrail {buildinfo.text()}\nControlled blank forms for hybrid paper/electronic GMP "
                            f"records.\n\nDatabase: {self.db.display_url}\nWorkstation: {self.db.workstation}",
                      title="About Formtrail")
