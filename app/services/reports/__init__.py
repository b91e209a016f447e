"""Reports and exports people read: reconciliation, records, the audit trail, archives, the Home counts."""
