"""Start the desktop application: open the database, first-run wizard, log-in, main window (and back to log-in)."""

from __future__ import annotations

import sys
import time
import traceback
from collections.abc import Callable
from types import TracebackType

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QApplication

from app.runtime import display_url, doctor_workstation, open_database, resolve_config
from app.services.admin import incident_log
from app.services.core.db import Actor, Database
from app.services.site import setup
from app.services.site.setup import SiteInfo
from app.ui.kit import messages, style, workers
from app.ui.kit.dialogs import accepted, keep_until_destroyed, open_dialog
from app.ui.pages.admin.doctor_panel import ChecksDialog
from app.ui.shell import gui_gc
from app.ui.shell.login import LoginDialog
from app.ui.shell.main_window import MainWindow
from app.ui.shell.wizard import SetupWizard


class Controller(QObject):
    """Walks one workstation through its screens: wizard (new database only) → log-in → main window; logging out
    returns to the log-in. ``finished(exit_code)`` when the user quits."""

    finished = Signal(int)

    def __init__(self, db: Database, *, idle_timeout_ms: int | None = None, lock_poll_ms: int = 30_000,
                 check_at_start: bool = False) -> None:
        super().__init__()
        self.db = db
        self._idle_timeout_ms, self._lock_poll_ms = idle_timeout_ms, lock_poll_ms
        # SE-01: the first main window of the process verifies everything in the background (once per start, not
        # at every log-in).
        self._check_pending = check_at_start
        self.site: SiteInfo | None = None
        self.wizard: SetupWizard | None = None
        self.login: LoginDialog | None = None
        self.window: MainWindow | None = None

    def start(self) -> None:
        self.site = setup.site_info(self.db)
        if self.site is not None:
            self.show_login()
            return
        self.wizard = open_dialog(SetupWizard(self.db), self._wizard_done, modal=False)

    def _wizard_done(self, wizard: SetupWizard, result: int) -> None:
        self.wizard = None
        if accepted(result) and wizard.site is not None:
            self.site = wizard.site
            self.show_login(username=wizard.field("admin_username"))
        else:
            self.finished.emit(0)

    def show_login(self, username: str = "") -> None:
        assert self.site is not None
        self.login = open_dialog(LoginDialog(self.db, self.site, username=username), self._login_done, modal=False)

    def _login_done(self, dialog: LoginDialog, result: int) -> None:
        self.login = None
        if accepted(result) and dialog.outcome is not None:
            self.open_main(dialog.outcome.actor)
        else:
            self.finished.emit(0)

    def open_main(self, actor: Actor) -> None:
        assert self.site is not None
        window = MainWindow(self.db, actor, self.site, idle_timeout_ms=self._idle_timeout_ms,
                            lock_poll_ms=self._lock_poll_ms, check_at_start=self._check_pending)
        self._check_pending = False
        # Qt deletes the window once closed; these slots do not refer to it (see app/ui/kit/dialogs.py for why).
        window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.window = keep_until_destroyed(window)
        window.logged_out.connect(self._logged_out)
        window.closed.connect(self._closed)
        window.show()

    def _logged_out(self) -> None:
        self.window = None
        self.show_login()

    def _closed(self) -> None:
        self.window = None
        self.finished.emit(0)


def crash_hook(db: Database) -> Callable[[type[BaseException], BaseException, TracebackType | None], None]:
    """The exception hook: an unexpected error in a slot is shown instead of dying silently, its trace kept on
    stderr, and recorded as a CRASH event, which opens an incident for QA (SE-03)."""
    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        traceback.print_exception(kind, exc, tb)
        incident_log.record_crash(db, error=f"{kind.__name__}: {exc}")
        try:
            messages.show_exception(QApplication.activeWindow(), exc)
        except Exception:  # noqa: BLE001 - never raise from the hook itself
            pass
    return hook


def create_application() -> QApplication:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Formtrail")
    app.setApplicationDisplayName("Formtrail")
    app.setOrganizationName("Formtrail")
    app.setWindowIcon(style.icon("formtrail"))
    app.setQuitOnLastWindowClosed(False)  # the controller decides when the program ends
    style.apply(app)
    gui_gc.install(app)
    return app


def main(home: str | None = None, db: str | None = None, *, smoke_test: bool = False) -> int:
    """Run the desktop application; returns the process exit code. ``smoke_test`` quits as soon as the first
    window (set-up wizard or log-in) is on screen, printing what was shown and when: the installer check and
    the cold-start benchmark use it."""
    started = time.perf_counter()
    app = create_application()
    try:
        config = resolve_config(home=home, db=db)
        where = display_url(config.db_url)
    except Exception as exc:  # noqa: BLE001 - a malformed --db URL or FORMTRAIL_DB
        messages.error(None, f"The database address is not valid:\n{db}\n\n{exc}", title="Formtrail cannot start")
        return 2
    try:
        database = open_database(config)
    except Exception as exc:  # noqa: BLE001 - any reason the database cannot be opened or migrated
        reason = getattr(exc, "orig", None) or exc
        if messages.error_offering(
            None,
            f"Formtrail cannot open its database:\n{where}\n\n{reason}\n\nCheck that the file or server is "
            "reachable and that you may write to it, or start Formtrail with --db pointing to the right "
            "database. \"Check this workstation\" runs the set-up checks (`formtrail doctor`) and says what to "
            "fix; ask your system administrator if it keeps failing.",
            action="Check this workstation…", title="Database not available",
            details="".join(traceback.format_exception(exc)),
        ):
            ChecksDialog(doctor_workstation(config)).exec()
        return 1
    previous_hook = sys.excepthook
    sys.excepthook = crash_hook(database)
    controller = Controller(database, check_at_start=True)
    controller.finished.connect(app.exit)
    controller.start()
    if smoke_test:
        shown = controller.login or controller.wizard
        name = "login" if controller.login is not None else "wizard"

        def report() -> None:
            print(f"formtrail: {name} window shown after {time.perf_counter() - started:.2f} s", flush=True)
            app.exit(0)
        if shown is not None and shown.isVisible():
            QTimer.singleShot(0, report)
        else:
            print("formtrail: no window could be shown", file=sys.stderr)
            return 3
    try:
        return app.exec()
    finally:
        sys.excepthook = previous_hook
        workers.wait_for_all()
        database.engine.dispose()
