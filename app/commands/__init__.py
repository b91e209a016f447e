"""Command groups of the `formtrail` CLI; each module registers its sub-commands."""

from app.commands import admin, audit, forms, integrity, ops, reconcile, records, scans

# records after reconcile: it adds to the `report` group that reconcile creates.
MODULES = (admin, audit, forms, scans, reconcile, records, ops, integrity)
