"""The page registry: what the main window's navigation offers, and to whom.

A page is a ``PageSpec``: key, title, icon, the permissions that show it (any one of them), and a factory
that builds its widget from a :class:`PageContext`. Every page of the product is declared below with a
placeholder, so the navigation is complete from day one; a feature replaces its placeholder by
registering a factory under the same key::

    # app/ui/pages/templates/templates.py
    from app.ui.pages.registry import PageContext, page

    @page("templates")                      # keeps the declared title, icon, permissions and order
    def templates_page(ctx: PageContext) -> QWidget:
        return TemplatesPage(ctx)

(every module of the package is imported, so a new page module needs no other change). ``register_page`` takes
the same keyword arguments as ``page`` (title=, icon=, permissions=, description=, order=) to change the declaration.

The widget is built the first time the user opens the page. If it has a ``page_shown()`` method, the main
window calls it every time the page is brought to the front (refresh lists there).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from PySide6.QtWidgets import QWidget

from app.enums import SignatureMeaning
from app.services.core.db import Actor, Database
from app.services.core.timefmt import local_text
from app.services.identity.permissions import Permission, allowed
from app.services.site.setup import SiteInfo
from app.ui.kit import messages, workers
from app.ui.kit.data_events import Topic
from app.ui.kit.signature import SignatureDialog

T = TypeVar("T")
P = Permission


@dataclasses.dataclass(frozen=True)
class PageContext:
    """What a page gets: the database, the logged-in user, the site, and helpers bound to the main window.

    Pages call services with ``ctx.db`` and ``ctx.actor``; they never read the clock (services do) and show
    times with ``ctx.when``."""

    db: Database
    actor: Actor
    site: SiteInfo
    window: QWidget | None = None
    navigate: Callable[[str], None] = lambda key: None
    end_session: Callable[[str], None] = lambda why: None

    def allowed(self, permission: Permission) -> bool:
        return allowed(self.actor, permission)

    @staticmethod
    def when(moment: dt.datetime | None, *, seconds: bool = True) -> str:
        """Local time with zone and UTC offset, or "" for None."""
        return local_text(moment, seconds=seconds) if moment is not None else ""

    def show_error(self, parent: QWidget | None, exc: BaseException, *, title: str = "Formtrail") -> None:
        messages.show_exception(parent or self.window, exc, title=title)

    def sign(self, parent: QWidget | None, *, summary: str, meaning: SignatureMeaning,
             perform: Callable[[str, str], T]) -> T | None:
        """The signature dialog, pre-filled with this user's name; a lockout while signing ends the session."""
        return SignatureDialog.run(
            parent or self.window, summary=summary, meaning=meaning, perform=perform, username=self.actor.username,
            on_locked_out=lambda: self.end_session("account locked after failed signature attempts"),
        )

    def sign_many(self, parent: QWidget | None, *, summary: str, meaning: SignatureMeaning, progress_label: str,
                  changes: Iterable[Topic], perform: Callable[[str, str, workers.Progress], T]) -> T | None:
        """:meth:`sign` for a batch (one password entry, one signature per item): ``perform(username, password,
        progress)`` runs in the background behind a progress window, then the pages showing ``changes`` reload."""
        return SignatureDialog.run(
            parent or self.window, summary=summary, meaning=meaning, perform=perform, username=self.actor.username,
            on_locked_out=lambda: self.end_session("account locked after failed signature attempts"),
            progress_label=progress_label, changes=changes,
        )

    @staticmethod
    def run_task(job: workers.Job, *, serial: bool = False, name: str = "") -> workers.Task:
        return workers.run_task(job, serial=serial, name=name)


PageFactory = Callable[[PageContext], QWidget]


@dataclasses.dataclass(frozen=True)
class PageSpec:
    key: str
    title: str
    icon: str
    permissions: tuple[Permission, ...]  # any one of them shows the page; empty: every logged-in user
    description: str
    order: int
    factory: PageFactory | None = None  # None: the friendly "coming" placeholder

    def visible_to(self, actor: Actor) -> bool:
        return not self.permissions or any(allowed(actor, p) for p in self.permissions)

    @property
    def is_placeholder(self) -> bool:
        return self.factory is None


_PAGES: dict[str, PageSpec] = {}


def _declare(key: str, title: str, icon: str, permissions: Iterable[Permission], order: int, description: str) -> None:
    _PAGES[key] = PageSpec(key=key, title=title, icon=icon, permissions=tuple(permissions), order=order,
                           description=description)


_declare("home", "Home", "home", (), 0, "Your account, your roles and what you can do here.")
_declare("templates", "Templates", "templates", (P.VIEW_DATA,), 10,
         "Master forms and their versions: author, review, approve, supersede.")
_declare("issue", "Issue", "issue", (P.ISSUE_FORMS,), 20,
         "Issue numbered, QR-coded controlled copies of an effective template version and print them.")
_declare("register", "Register", "register", (P.VIEW_DATA,), 30,
         "Every issued form by serial: to whom, for what, when it is due back, and its state.")
_declare("scans", "Scans", "scans", (P.IMPORT_SCANS, P.LINK_SCANS, P.VERIFY_TRUE_COPY), 40,
         "Import returned sheets, link them by QR code, work the exceptions queue, verify true copies.")
_declare("reconcile", "Reconcile", "reconcile", (P.RECONCILE, P.CLOSE_RECONCILIATION), 50,
         "Account for every issued serial: returned, voided, missing; QA signs the reconciliation.")
_declare("records", "Records", "records", (P.VIEW_DATA,), 60,
         "Electronic records of returned forms: entries, corrections with reasons, verification, review.")
_declare("audit", "Audit trail", "audit", (P.VIEW_AUDIT,), 70,
         "Every change and system event, hash-chained: filter, export, verify.")
_declare("users", "Users", "users", (P.MANAGE_USERS,), 80,
         "User accounts and roles: add, change roles, unlock, reset passwords, deactivate.")
_declare("settings", "Settings", "settings", (P.MANAGE_SETTINGS,), 90,
         "Site rules (passwords, lockout, idle lock, clock tolerance; every change needs a reason) and this "
         "workstation's set-up checks.")


def register_page(key: str, factory: PageFactory, **changes: Any) -> PageSpec:
    """Give page ``key`` its widget factory (replacing the placeholder); ``changes`` may set title, icon,
    permissions (a tuple of Permission), description or order. A new key needs all of them."""
    if "permissions" in changes:
        changes["permissions"] = tuple(changes["permissions"])
    current = _PAGES.get(key)
    if current is None:
        spec = PageSpec(key=key, factory=factory, **{"description": "", "order": 100, "permissions": (), **changes})
    else:
        spec = dataclasses.replace(current, factory=factory, **changes)
    _PAGES[key] = spec
    return spec


def page(key: str, **changes: Any) -> Callable[[PageFactory], PageFactory]:
    """Decorator form of :func:`register_page`."""
    def decorate(factory: PageFactory) -> PageFactory:
        register_page(key, factory, **changes)
        return factory
    return decorate


def all_pages() -> list[PageSpec]:
    return sorted(_PAGES.values(), key=lambda s: (s.order, s.key))


def pages_for(actor: Actor) -> list[PageSpec]:
    """The pages this user's roles allow, in navigation order."""
    return [spec for spec in all_pages() if spec.visible_to(actor)]


def get(key: str) -> PageSpec:
    return _PAGES[key]
