"""training and qualification records (AC-07) and registered workstations (AC-08)

Revision ID: 0010
Revises: 0009
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.models import checks_ddl, protect, server_trail
from app.models.checks import ColumnCheck

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

KINDS = ("identity-verified", "accountability-statement", "training")
ACTIVITIES = ("signing", "verifying", "data-entry", "issuing", "scan-intake", "reconciliation", "review-approval",
              "template-authoring", "administration")
STATION_STATUSES = ("seen", "registered", "retired")
# The new tables' CHECK constraints as the models ask for them at this revision (app.models.checks).
CHECKS: dict[str, dict[str, tuple[str, ...] | int]] = {
    "qualification": {"username": 64, "kind": KINDS, "activity": ACTIVITIES, "reference": 120, "recorded_by": 64,
                      "revoked_by": 64, "revoke_reason": 2000},
    "workstation": {"station_id": 64, "host": 255, "name": 64, "status": STATION_STATUSES, "registered_by": 64,
                    "retired_by": 64, "retire_reason": 2000},
}
TABLES = ("qualification", "workstation")


def column_checks() -> list[ColumnCheck]:
    return [ColumnCheck(table, column, values=rule) if isinstance(rule, tuple) else
            ColumnCheck(table, column, max_length=rule)
            for table, columns in CHECKS.items() for column, rule in columns.items()]


def upgrade() -> None:
    op.create_table('qualification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.Enum(*KINDS, name='qualificationkind', native_enum=False, length=32), nullable=False),
    sa.Column('activity', sa.Enum(*ACTIVITIES, name='trainedactivity', native_enum=False, length=32), nullable=True),
    sa.Column('reference', sa.String(length=120), nullable=False),
    sa.Column('completed_on', sa.Date(), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_by', sa.String(length=64), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_by', sa.String(length=64), nullable=True),
    sa.Column('revoke_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_qualification_user_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_qualification'))
    )
    op.create_index('ix_qualification_user_id', 'qualification', ['user_id'], unique=False)

    op.create_table('workstation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('station_id', sa.String(length=64), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=True),
    sa.Column('status', sa.Enum(*STATION_STATUSES, name='stationstatus', native_enum=False, length=32),
              nullable=False),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('registered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('registered_by', sa.String(length=64), nullable=True),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('retired_by', sa.String(length=64), nullable=True),
    sa.Column('retire_reason', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workstation')),
    sa.UniqueConstraint('name', name=op.f('uq_workstation_name')),
    sa.UniqueConstraint('station_id', name=op.f('uq_workstation_station_id'))
    )

    # The CHECKs the way 0009 adds them, then the protection: both are controlled data (never deleted; written on
    # the PostgreSQL server trail too, so a row forged by SQL is caught).
    checks_ddl.add(column_checks())
    for table in TABLES:
        protect.protect_controlled(table)
        server_trail.track(table)


def downgrade() -> None:
    for table in TABLES:
        server_trail.untrack(table)
    for table in reversed(TABLES):
        op.drop_table(table)  # its indexes and triggers go with it
