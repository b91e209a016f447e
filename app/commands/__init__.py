"""Command groups of the `formtrail` CLI; each module registers its sub-commands.

Modules are imported only when needed: a command loads the modules that register it (``NEEDS``), and only
``--help`` or an unknown command loads them all, so `formtrail --version` and a read-only command start
quickly. tests/unit/test_cli_commands.py checks that ``NEEDS`` matches what the modules register."""

from __future__ import annotations

import importlib
from types import ModuleType

# In registration order: records after reconcile (it adds to the `report` group that reconcile creates),
# ops after admin (it adds to `db`).
ORDER = ("admin", "audit", "forms", "scans", "reconcile", "records", "ops", "integrity", "doctor")

# Top-level command -> the modules that register it (the first one creates it).
NEEDS: dict[str, tuple[str, ...]] = {
    "init": ("admin",), "gui": ("admin",), "user": ("admin",), "roles": ("admin",), "config": ("admin",),
    "db": ("admin", "ops"), "audit": ("audit",), "template": ("forms",), "issue": ("forms",),
    "release": ("forms",), "replace": ("forms",), "print-reference": ("forms",), "register": ("forms",),
    "scan": ("scans",), "verify": ("scans",), "reconcile": ("reconcile",), "form": ("reconcile",),
    "report": ("reconcile", "records"), "overdue": ("reconcile",), "record": ("records",),
    "backup": ("ops",), "restore": ("ops",), "archive": ("ops",), "keys": ("integrity",),
    "doctor": ("doctor",),
}


# Modules that add to a group another module creates need that module registered first.
DEPENDS: dict[str, tuple[str, ...]] = {"records": ("reconcile",), "ops": ("admin",)}


def modules_for(command: str | None) -> list[ModuleType]:
    """The command modules to register for ``command``: all of them when it is None or unknown (help), none
    for "" (`--version`)."""
    if command == "":
        return []
    names = set(NEEDS.get(command or "", ORDER))
    names |= {dep for name in list(names) for dep in DEPENDS.get(name, ())}
    return [importlib.import_module(f"app.commands.{name}") for name in ORDER if name in names]


def all_modules() -> list[ModuleType]:
    return modules_for(None)
