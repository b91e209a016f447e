"""Command groups of the `formtrail` CLI; each module registers its sub-commands."""

from app.commands import admin, audit, forms, reconcile, scans

MODULES = (admin, audit, forms, scans, reconcile)
