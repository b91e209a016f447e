"""The pages of the main window. Importing this package registers every built page (see registry.py);
a new page module registers itself with ``@page(...)`` and is imported here."""

from app.ui.pages import audit, home, settings, users  # noqa: F401 - registration by import
from app.ui.pages.registry import PageContext, PageSpec, all_pages, page, pages_for, register_page

__all__ = ["PageContext", "PageSpec", "all_pages", "page", "pages_for", "register_page"]
