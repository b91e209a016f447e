"""server trail: on PostgreSQL, triggers note every write to controlled data (who, which transaction)

Revision ID: 0006
Revises: 0005
"""
from __future__ import annotations

from app.models import server_trail

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    server_trail.install()


def downgrade() -> None:
    server_trail.uninstall()
