"""Command groups of the `formtrail` CLI; each module registers its sub-commands.

Modules are imported only when needed: a command loads the modules that register it (``NEEDS``), and only
``--help`` or an unknown command loads them all, so `formtrail --version` and a read-only command start
quickly. tests/unit/test_cli_commands.py checks that ``NEEDS`` matches what the modules register."""

from __future__ import annotations

import importlib
from types import ModuleType

# In registration order: records after reconcile (it adds to the `report` group that reconcile creates),
# ops after admin (it adds to `db`).
ORDER = ("admin", "audit", "forms", "scans", "paper", "reconcile", "records", "ops", "integrity", "doctor",
         # Issue 16: one module per part.
         "people", "safety", "lifecycle", "signing", "governance", "validation")

# Top-level command -> the modules that register it (the first one creates it).
NEEDS: dict[str, tuple[str, ...]] = {
    "init": ("admin",), "gui": ("admin",), "user": ("admin",), "roles": ("admin",),
    "db": ("admin", "ops"), "audit": ("audit",), "template": ("forms",), "issue": ("forms",),
    "release": ("forms",), "replace": ("forms",), "print-reference": ("forms",), "register": ("forms",),
    "scan": ("scans", "paper"), "verify": ("scans",), "reconcile": ("reconcile",), "form": ("reconcile",),
    "report": ("reconcile", "records"), "overdue": ("reconcile",),
    "backup": ("ops",), "restore": ("ops",), "archive": ("ops",), "keys": ("integrity",),
    "doctor": ("doctor",),
    # Issue 16 / people:
    "training": ("people",), "workstation": ("people",),
    # Issue 16 / safety:
    "incident": ("safety",), "schedule": ("safety",),
    # Issue 16 / lifecycle:
    "record": ("records", "lifecycle"), "retention": ("lifecycle",), "hold": ("lifecycle",),
    "disposal": ("lifecycle",),
    # Issue 16 / signing:
    "certificate": ("signing",),
    # Issue 16 / governance:
    "config": ("admin", "governance"), "review": ("governance",),
    # Issue 16 / validation:
    "validation-report": ("validation",),
}


# The one-line help of each command, for `formtrail --help` without loading the modules (a test checks it
# equals what the modules register).
SUMMARY: dict[str, str] = {
    'init': 'set up a new site and its first administrator',
    'gui': 'start the desktop application',
    'user': 'user accounts',
    'roles': 'print the role matrix',
    'config': 'settings',
    'db': 'database schema',
    'audit': 'audit trail',
    'template': 'templates (master forms)',
    'issue': 'issue numbered controlled copies of an effective template',
    'release': 'release controlled copies not yet printed or saved (once)',
    'replace': 'replace an issued copy with a new serial (reason + QA e-signature)',
    'print-reference': 'an UNCONTROLLED reference print (no serial, no valid code)',
    'register': 'the register of issued forms',
    'scan': 'scanned paper',
    'verify': 'check everything: audit chain and anchors, data against the trail, signatures, serials, stored files',
    'reconcile': 'reconcile issuances',
    'form': 'one issued form',
    'report': 'printed reports',
    'overdue': 'issuances past their return date with forms still out',
    'record': 'electronic records of issued forms',
    'backup': 'take a backup (`backup DEST`) or check one (`backup verify DEST`)',
    'restore': 'restore a backup (administrator, reason required)',
    'archive': 'archives readable without Formtrail',
    'keys': "the site's key file (outside the data): list, rotate, export",
    'doctor': ("check this workstation's set-up (database, TLS, schema, privileges, clock, file store, keys, last "
               "backup and verify); exit 1 if a check fails"),
    # Issue 16 / people:
    'training': 'qualification records: identity, accountability statement, training',
    'workstation': 'registered workstations',
    # Issue 16 / safety:
    'incident': 'the incident log: list, show, close (QA e-signature)',
    'schedule': 'scheduled backup, test-restore and account checks (headless)',
    # Issue 16 / lifecycle:
    'retention': 'retention periods per template (BK-05): list, set',
    'hold': 'legal holds on issuances, records or templates: place, release, list',
    'disposal': 'disposal of records past their retention: due, request, approve (QA e-signature), show',
    # Issue 16 / signing:
    'certificate': "the site's signing certificate (seal on reports and released PDFs)",
    # Issue 16 / governance:
    'review': 'periodic reviews: audit trail and user access (QA signs)',
    # Issue 16 / validation:
    'validation-report': ('run the compliance tests and write the validation pack (PDF, JSON, JUnit XML); exit 1 '
                          'if a test failed'),
}


# Modules that add to a group another module creates need that module registered first.
DEPENDS: dict[str, tuple[str, ...]] = {
    "records": ("reconcile",), "ops": ("admin",),
    # Issue 16: parts that add to another module's group say so here.
    "governance": ("admin",),  # Issue 16 / governance: approvals under `config`
    "lifecycle": ("reconcile", "records"),  # Issue 16 / lifecycle: `record invalidate` (records needs reconcile)
}


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
