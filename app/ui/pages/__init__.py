"""The pages of the main window. Importing this package registers every built page (see registry.py): every
module in this package is imported, and a page module registers itself with ``@page(...)``, so adding a page
is adding a module (PyInstaller collects them with collect_submodules("app.ui.pages"))."""

import importlib
import pkgutil

from app.ui.pages.registry import PageContext, PageSpec, all_pages, page, pages_for, register_page

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["PageContext", "PageSpec", "all_pages", "page", "pages_for", "register_page"]
