"""Reconciling an issuance and closing it."""
