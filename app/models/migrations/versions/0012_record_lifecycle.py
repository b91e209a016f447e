"""retention, legal holds and disposal (BK-05); invalidated results (RC-05)

Revision ID: 0012
Revises: 0011
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.models import checks_ddl, protect, server_trail
from app.models.checks import ColumnCheck

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

SCOPES = ("issuance", "record", "template")
HOLD_STATUSES = ("active", "released")
DISPOSAL_STATUSES = ("requested", "approved", "completed")
# The new tables' CHECK constraints as the models ask for them at this revision (app.models.checks).
CHECKS: dict[str, dict[str, tuple[str, ...] | int]] = {
    "retention_rule": {"template_code": 40, "reason": 2000, "set_by": 64},
    "legal_hold": {"scope": SCOPES, "target": 120, "status": HOLD_STATUSES, "reason": 2000, "placed_by": 64,
                   "released_by": 64, "release_reason": 2000},
    "disposal_request": {"status": DISPOSAL_STATUSES, "reason": 2000, "requested_by": 64, "approved_by": 64,
                         "certificate_sha256": 64},
    "disposal_item": {"template_code": 40, "retention_basis": 40},
    "disposed_file": {"sha256": 64, "kind": 20, "original_name": 2000},
    "entry_invalidation": {"serial": 20, "field_name": 64, "reason": 2000, "invalidated_by": 64},
}
TABLES = tuple(CHECKS)


def column_checks() -> list[ColumnCheck]:
    return [ColumnCheck(table, column, values=rule) if isinstance(rule, tuple) else
            ColumnCheck(table, column, max_length=rule)
            for table, columns in CHECKS.items() for column, rule in columns.items()]


def _when(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _fk(column: str, table: str, target: str, ref: str = "id") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f'{target}.{ref}'], name=op.f(f'fk_{table}_{column}_{target}'))


def upgrade() -> None:
    op.create_table('retention_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('template_code', sa.String(length=40), nullable=False),
    sa.Column('years', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    _when('set_at'),
    sa.Column('set_by', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_retention_rule')),
    sa.UniqueConstraint('template_code', name=op.f('uq_retention_rule_template_code'))
    )

    op.create_table('legal_hold',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.Enum(*SCOPES, name='holdscope', native_enum=False, length=32), nullable=False),
    sa.Column('target', sa.String(length=120), nullable=False),
    sa.Column('status', sa.Enum(*HOLD_STATUSES, name='holdstatus', native_enum=False, length=32), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    _when('placed_at'),
    sa.Column('placed_by', sa.String(length=64), nullable=False),
    _when('released_at', nullable=True),
    sa.Column('released_by', sa.String(length=64), nullable=True),
    sa.Column('release_reason', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_legal_hold'))
    )
    op.create_index('ix_legal_hold_scope_target', 'legal_hold', ['scope', 'target'], unique=False)
    op.create_index('ix_legal_hold_status', 'legal_hold', ['status'], unique=False)

    op.create_table('disposal_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum(*DISPOSAL_STATUSES, name='disposalstatus', native_enum=False, length=32),
              nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    _when('requested_at'),
    sa.Column('requested_by', sa.String(length=64), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    _when('approved_at', nullable=True),
    sa.Column('approved_by', sa.String(length=64), nullable=True),
    sa.Column('signature_id', sa.Integer(), nullable=True),
    _when('completed_at', nullable=True),
    sa.Column('certificate_sha256', sa.String(length=64), nullable=True),
    _fk('certificate_sha256', 'disposal_request', 'stored_file', 'sha256'),
    _fk('requested_by_id', 'disposal_request', 'app_user'),
    _fk('signature_id', 'disposal_request', 'signature'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disposal_request'))
    )
    op.create_index('ix_disposal_request_status', 'disposal_request', ['status'], unique=False)

    op.create_table('disposal_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('issuance_id', sa.Integer(), nullable=False),
    sa.Column('template_code', sa.String(length=40), nullable=False),
    sa.Column('retention_years', sa.Integer(), nullable=False),
    sa.Column('retention_basis', sa.String(length=40), nullable=False),
    _when('retention_start'),
    _when('expires_at'),
    _fk('issuance_id', 'disposal_item', 'issuance'),
    _fk('request_id', 'disposal_item', 'disposal_request'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disposal_item'))
    )
    op.create_index('ix_disposal_item_issuance_id', 'disposal_item', ['issuance_id'], unique=False)
    op.create_index('ix_disposal_item_request_id', 'disposal_item', ['request_id'], unique=False)

    op.create_table('disposed_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('original_name', sa.Text(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    _fk('request_id', 'disposed_file', 'disposal_request'),
    _fk('sha256', 'disposed_file', 'stored_file', 'sha256'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disposed_file')),
    sa.UniqueConstraint('sha256', name=op.f('uq_disposed_file_sha256'))
    )
    op.create_index('ix_disposed_file_request_id', 'disposed_file', ['request_id'], unique=False)

    op.create_table('entry_invalidation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('serial', sa.String(length=20), nullable=False),
    sa.Column('field_name', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    _when('invalidated_at'),
    sa.Column('invalidated_by', sa.String(length=64), nullable=False),
    sa.Column('invalidated_by_id', sa.Integer(), nullable=False),
    sa.Column('signature_id', sa.Integer(), nullable=False),
    _fk('entry_id', 'entry_invalidation', 'record_entry'),
    _fk('invalidated_by_id', 'entry_invalidation', 'app_user'),
    _fk('record_id', 'entry_invalidation', 'record'),
    _fk('signature_id', 'entry_invalidation', 'signature'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_entry_invalidation')),
    sa.UniqueConstraint('entry_id', name=op.f('uq_entry_invalidation_entry_id'))
    )
    op.create_index('ix_entry_invalidation_record_id', 'entry_invalidation', ['record_id'], unique=False)

    # The CHECKs the way 0007 adds them, then the protection: all of it is controlled data (never deleted, on
    # the PostgreSQL server trail too); what records a decision as made is never changed either (an item's
    # retention basis, a destroyed file, an invalidation: a new row, never an edit).
    checks_ddl.add(column_checks())
    for table in TABLES:
        protect.protect_controlled(table)
    for table in ("disposal_item", "disposed_file", "entry_invalidation"):
        protect.refuse(table, ("UPDATE",), "a decision recorded is kept as recorded")
    for table in TABLES:
        server_trail.track(table)


def downgrade() -> None:
    for table in TABLES:
        server_trail.untrack(table)
    for table in ("entry_invalidation", "disposed_file", "disposal_item", "disposal_request", "legal_hold",
                  "retention_rule"):
        op.drop_table(table)  # its indexes and triggers go with it
