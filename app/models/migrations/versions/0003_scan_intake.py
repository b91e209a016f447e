"""scan intake

Revision ID: 0003
Revises: 0002
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.models import protect

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('scan_source',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('original_name', sa.Text(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('media_type', sa.String(length=40), nullable=False),
    sa.Column('origin', sa.String(length=40), nullable=False),
    sa.Column('status', sa.Enum('pending', 'read', 'unreadable', name='sourcestatus', native_enum=False, length=32), nullable=False),
    sa.Column('error_code', sa.String(length=40), nullable=True),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.Column('page_count', sa.Integer(), nullable=True),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('imported_by', sa.String(length=64), nullable=False),
    sa.Column('imported_by_id', sa.Integer(), nullable=True),
    sa.Column('workstation', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['imported_by_id'], ['app_user.id'], name=op.f('fk_scan_source_imported_by_id_app_user')),
    sa.ForeignKeyConstraint(['sha256'], ['stored_file.sha256'], name=op.f('fk_scan_source_sha256_stored_file')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scan_source')),
    sa.UniqueConstraint('sha256', name=op.f('uq_scan_source_sha256'))
    )
    op.create_table('scan_page',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('page_index', sa.Integer(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('dpi', sa.Double(), nullable=True),
    sa.Column('colour_mode', sa.String(length=20), nullable=True),
    sa.Column('method', sa.String(length=40), nullable=True),
    sa.Column('decoded_text', sa.Text(), nullable=True),
    sa.Column('outcome', sa.Enum('linked', 'no-code', 'foreign-code', 'tag-invalid', 'unknown-serial', 'other-site', 'page-out-of-range', 'form-not-returnable', 'possible-copy', 'conflicting-codes', 'blank', 'unreadable-page', 'not-a-controlled-form', name='scanoutcome', native_enum=False, length=32), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('issued_form_id', sa.Integer(), nullable=True),
    sa.Column('page_no', sa.Integer(), nullable=True),
    sa.Column('link_method', sa.String(length=20), nullable=True),
    sa.Column('linked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('linked_by', sa.String(length=64), nullable=True),
    sa.Column('resolution', sa.Text(), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_by', sa.String(length=64), nullable=True),
    sa.Column('superseded_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['issued_form_id'], ['issued_form.id'], name=op.f('fk_scan_page_issued_form_id_issued_form')),
    sa.ForeignKeyConstraint(['source_id'], ['scan_source.id'], name=op.f('fk_scan_page_source_id_scan_source')),
    sa.ForeignKeyConstraint(['superseded_by_id'], ['scan_page.id'], name=op.f('fk_scan_page_superseded_by_id_scan_page')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scan_page')),
    sa.UniqueConstraint('source_id', 'page_index', name='uq_scan_page_source_page')
    )
    with op.batch_alter_table('scan_page', schema=None) as batch_op:
        batch_op.create_index('ix_scan_page_issued_form_id', ['issued_form_id'], unique=False)
        batch_op.create_index('ix_scan_page_outcome', ['outcome'], unique=False)

    with op.batch_alter_table('issued_form', schema=None) as batch_op:
        batch_op.add_column(sa.Column('true_copy_verified_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('true_copy_verified_by', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('paper_disposition', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('paper_location', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('disposition_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('disposition_by', sa.String(length=64), nullable=True))

    for table in ("scan_source", "scan_page"):
        protect.protect_controlled(table)


def downgrade() -> None:
    raise NotImplementedError("controlled data is never rolled back by dropping schema")
