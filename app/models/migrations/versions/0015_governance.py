"""versioned configuration changes with approval (SE-02) and periodic reviews

Revision ID: 0015
Revises: 0014
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.models import checks_ddl, protect, server_trail
from app.models.checks import ColumnCheck

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

CHANGE_STATUSES = ("pending", "applied", "approved", "rejected")
REVIEW_KINDS = ("audit-trail", "access")
REVIEW_STATUSES = ("generated", "signed")
# The new tables' CHECK constraints as the models ask for them at this revision (app.models.checks).
CHECKS: dict[str, dict[str, tuple[str, ...] | int]] = {
    "config_change": {"key": 80, "reason": 2000, "status": CHANGE_STATUSES, "requested_by": 64, "decided_by": 64,
                      "decision_reason": 2000},
    "periodic_review": {"kind": REVIEW_KINDS, "report_sha256": 64, "status": REVIEW_STATUSES, "generated_by": 64,
                        "signed_by": 64, "conclusion": 4000},
}
TABLES = ("config_change", "periodic_review")


def column_checks() -> list[ColumnCheck]:
    return [ColumnCheck(table, column, values=rule) if isinstance(rule, tuple) else
            ColumnCheck(table, column, max_length=rule)
            for table, columns in CHECKS.items() for column, rule in columns.items()]


def upgrade() -> None:
    op.create_table('config_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('old_value', sa.Text(), nullable=False),
    sa.Column('new_value', sa.Text(), nullable=False),
    sa.Column('gmp', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum(*CHANGE_STATUSES, name='configchangestatus', native_enum=False, length=32),
              nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('requested_by', sa.String(length=64), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_config_change')),
    sa.UniqueConstraint('version', name=op.f('uq_config_change_version'))
    )
    op.create_index('ix_config_change_key', 'config_change', ['key'], unique=False)
    op.create_index('ix_config_change_status', 'config_change', ['status'], unique=False)

    op.create_table('periodic_review',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum(*REVIEW_KINDS, name='reviewkind', native_enum=False, length=32), nullable=False),
    sa.Column('period_start', sa.DateTime(timezone=True), nullable=True),
    sa.Column('period_end', sa.DateTime(timezone=True), nullable=False),
    sa.Column('report_sha256', sa.String(length=64), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum(*REVIEW_STATUSES, name='reviewstatus', native_enum=False, length=32),
              nullable=False),
    sa.Column('generated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('generated_by', sa.String(length=64), nullable=False),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('signed_by', sa.String(length=64), nullable=True),
    sa.Column('conclusion', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['report_sha256'], ['stored_file.sha256'],
                            name=op.f('fk_periodic_review_report_sha256_stored_file')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_periodic_review'))
    )
    op.create_index('ix_periodic_review_kind_status', 'periodic_review', ['kind', 'status'], unique=False)

    # The CHECKs the way 0007 adds them (on SQLite a rebuild of the still empty tables), then the protection:
    # both are controlled data (never deleted; noted on the PostgreSQL server trail too).
    checks_ddl.add(column_checks())
    for table in TABLES:
        protect.protect_controlled(table)
        server_trail.track(table)


def downgrade() -> None:
    for table in reversed(TABLES):
        server_trail.untrack(table)
        op.drop_table(table)  # its indexes and triggers go with it
