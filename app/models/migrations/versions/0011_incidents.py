"""the incident log (SE-03); scheduled backup and test-restore results (BK-02) and restore approvals (BK-03) are
audit events, so they need no table

Revision ID: 0011
Revises: 0010
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.models import checks_ddl, protect, server_trail
from app.models.checks import ColumnCheck

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

KINDS = ("clock-anomaly", "verify-failed", "backup-failed", "restore-test-failed", "lockout", "crash")
STATUSES = ("open", "closed")
CHECKS: dict[str, dict[str, tuple[str, ...] | int]] = {
    "incident": {"kind": KINDS, "subject": 200, "detail": 4000, "status": STATUSES, "opened_by": 64,
                 "assessment": 4000, "capa": 4000, "closed_by": 64, "closing_reason": 4000},
}


def column_checks() -> list[ColumnCheck]:
    return [ColumnCheck(table, column, values=rule) if isinstance(rule, tuple) else
            ColumnCheck(table, column, max_length=rule)
            for table, columns in CHECKS.items() for column, rule in columns.items()]


def upgrade() -> None:
    op.create_table('incident',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum(*KINDS, name='incidentkind', native_enum=False, length=32), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum(*STATUSES, name='incidentstatus', native_enum=False, length=32), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('opened_by', sa.String(length=64), nullable=False),
    sa.Column('first_event_seq', sa.Integer(), nullable=True),
    sa.Column('occurrences', sa.Integer(), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('assessment', sa.Text(), nullable=True),
    sa.Column('capa', sa.Text(), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_by', sa.String(length=64), nullable=True),
    sa.Column('closing_reason', sa.Text(), nullable=True),
    sa.Column('signature_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident'))
    )
    op.create_index('ix_incident_status', 'incident', ['status'], unique=False)
    op.create_index('ix_incident_kind_subject', 'incident', ['kind', 'subject'], unique=False)
    # Incidents are controlled data: never deleted, audited, and noted by the PostgreSQL server trail.
    checks_ddl.add(column_checks())
    protect.protect_controlled("incident")
    server_trail.track("incident")


def downgrade() -> None:
    server_trail.untrack("incident")
    op.drop_table("incident")  # its indexes and triggers go with it
