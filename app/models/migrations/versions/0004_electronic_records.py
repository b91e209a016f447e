"""electronic records

Revision ID: 0004
Revises: 0003
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.models import protect

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issued_form_id', sa.Integer(), nullable=False),
    sa.Column('serial', sa.String(length=20), nullable=False),
    sa.Column('template_version_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('open', 'transcribed', 'verified', 'reviewed', 'approved', name='recordstate', native_enum=False, length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['issued_form_id'], ['issued_form.id'], name=op.f('fk_record_issued_form_id_issued_form')),
    sa.ForeignKeyConstraint(['template_version_id'], ['template_version.id'], name=op.f('fk_record_template_version_id_template_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_record')),
    sa.UniqueConstraint('issued_form_id', name=op.f('uq_record_issued_form_id'))
    )
    with op.batch_alter_table('record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_record_serial'), ['serial'], unique=False)
        batch_op.create_index('ix_record_state', ['state'], unique=False)

    op.create_table('record_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('field_name', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Text(), nullable=True),
    sa.Column('is_na', sa.Boolean(), nullable=False),
    sa.Column('kind', sa.Enum('original', 'correction', 'paper-correction', name='entrykind', native_enum=False, length=32), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('activity_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('entered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('entered_by', sa.String(length=64), nullable=False),
    sa.Column('entered_by_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('scan_page_id', sa.Integer(), nullable=True),
    sa.Column('late', sa.Boolean(), nullable=False),
    sa.Column('late_reason', sa.Text(), nullable=True),
    sa.Column('out_of_limits', sa.Boolean(), nullable=False),
    sa.Column('justification', sa.Text(), nullable=True),
    sa.Column('supersedes_id', sa.Integer(), nullable=True),
    sa.Column('superseded_by_id', sa.Integer(), nullable=True),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('verified_by', sa.String(length=64), nullable=True),
    sa.Column('verified_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['entered_by_id'], ['app_user.id'], name=op.f('fk_record_entry_entered_by_id_app_user')),
    sa.ForeignKeyConstraint(['record_id'], ['record.id'], name=op.f('fk_record_entry_record_id_record')),
    sa.ForeignKeyConstraint(['scan_page_id'], ['scan_page.id'], name=op.f('fk_record_entry_scan_page_id_scan_page')),
    sa.ForeignKeyConstraint(['superseded_by_id'], ['record_entry.id'], name=op.f('fk_record_entry_superseded_by_id_record_entry')),
    sa.ForeignKeyConstraint(['supersedes_id'], ['record_entry.id'], name=op.f('fk_record_entry_supersedes_id_record_entry')),
    sa.ForeignKeyConstraint(['verified_by_id'], ['app_user.id'], name=op.f('fk_record_entry_verified_by_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_record_entry'))
    )
    with op.batch_alter_table('record_entry', schema=None) as batch_op:
        batch_op.create_index('ix_record_entry_entered_at', ['entered_at'], unique=False)
        batch_op.create_index('ix_record_entry_record_field', ['record_id', 'field_name'], unique=False)

    for table in ("record", "record_entry"):
        protect.protect_controlled(table)


def downgrade() -> None:
    raise NotImplementedError("controlled data is never rolled back by dropping schema")
