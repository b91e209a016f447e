"""the incident log (SE-03), scheduled backup and test-restore results (BK-02), restore approvals (BK-03)

Revision ID: 0011
Revises: 0010
"""
from __future__ import annotations

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
