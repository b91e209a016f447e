"""extra pages (BF-02), capture specification and device (SC-01, SC-03), true-copy checklist (SC-02), template version findings (ES-08)

Revision ID: 0013
Revises: 0012
"""
from __future__ import annotations

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
