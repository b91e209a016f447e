"""The pages of the main window, one package per feature. Importing this package registers every built page
(see registry.py): every module below it is imported, and a page module registers itself with ``@page(...)``,
so adding a page is adding a module (PyInstaller collects them with collect_submodules("app.ui.pages"))."""

import importlib
import pkgutil

from app.ui.pages.registry import PageContext, PageSpec, all_pages, page, pages_for, register_page

for _module in pkgutil.walk_packages(__path__, prefix=f"{__name__}."):
    importlib.import_module(_module.name)

__all__ = ["PageContext", "PageSpec", "all_pages", "page", "pages_for", "register_page"]
