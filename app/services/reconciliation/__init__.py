"""Reconciliation: every issued sheet accounted for, then closed by QA's signature."""
