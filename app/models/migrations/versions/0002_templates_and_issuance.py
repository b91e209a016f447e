"""templates and issuance

Revision ID: 0002
Revises: 0001
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.models import protect

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('stored_file',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('media_type', sa.String(length=80), nullable=False),
    sa.Column('original_name', sa.Text(), nullable=False),
    sa.Column('stored_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('stored_by', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('sha256', name=op.f('pk_stored_file'))
    )
    op.create_table('template',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('department', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_template')),
    sa.UniqueConstraint('code', name=op.f('uq_template_code'))
    )
    op.create_table('serial_counter',
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('next_serial', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_serial_counter_site_id_site')),
    sa.PrimaryKeyConstraint('site_id', name=op.f('pk_serial_counter'))
    )
    op.create_table('template_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('template_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'in_review', 'effective', 'superseded', 'retired', name='templatestatus', native_enum=False, length=32), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('layout_json', sa.Text(), nullable=False),
    sa.Column('layout_sha256', sa.String(length=64), nullable=False),
    sa.Column('change_reason', sa.Text(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('author_username', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('effective_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('effective_date', sa.Date(), nullable=True),
    sa.Column('approved_by', sa.String(length=64), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['app_user.id'], name=op.f('fk_template_version_author_id_app_user')),
    sa.ForeignKeyConstraint(['template_id'], ['template.id'], name=op.f('fk_template_version_template_id_template')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_template_version')),
    sa.UniqueConstraint('template_id', 'version', name='uq_template_version_template_id_version')
    )
    with op.batch_alter_table('template_version', schema=None) as batch_op:
        batch_op.create_index('ix_template_version_status', ['status'], unique=False)

    op.create_table('issuance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('template_version_id', sa.Integer(), nullable=False),
    sa.Column('copies', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('reference', sa.String(length=120), nullable=True),
    sa.Column('issued_to', sa.String(length=200), nullable=False),
    sa.Column('issued_by_id', sa.Integer(), nullable=False),
    sa.Column('issued_by', sa.String(length=64), nullable=False),
    sa.Column('issued_by_name', sa.String(length=200), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('state', sa.Enum('open', 'reconciled', name='issuancestate', native_enum=False, length=32), nullable=False),
    sa.ForeignKeyConstraint(['issued_by_id'], ['app_user.id'], name=op.f('fk_issuance_issued_by_id_app_user')),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_issuance_site_id_site')),
    sa.ForeignKeyConstraint(['template_version_id'], ['template_version.id'], name=op.f('fk_issuance_template_version_id_template_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_issuance'))
    )
    with op.batch_alter_table('issuance', schema=None) as batch_op:
        batch_op.create_index('ix_issuance_due_date', ['due_date'], unique=False)
        batch_op.create_index('ix_issuance_issued_at', ['issued_at'], unique=False)
        batch_op.create_index('ix_issuance_issued_to', ['issued_to'], unique=False)
        batch_op.create_index('ix_issuance_state', ['state'], unique=False)
        batch_op.create_index('ix_issuance_template_version_id', ['template_version_id'], unique=False)

    op.create_table('controlled_pdf',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issuance_id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('pages', sa.Integer(), nullable=False),
    sa.Column('first_serial', sa.String(length=20), nullable=False),
    sa.Column('last_serial', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('released_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('released_by', sa.String(length=64), nullable=True),
    sa.Column('released_to', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['issuance_id'], ['issuance.id'], name=op.f('fk_controlled_pdf_issuance_id_issuance')),
    sa.ForeignKeyConstraint(['sha256'], ['stored_file.sha256'], name=op.f('fk_controlled_pdf_sha256_stored_file')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_controlled_pdf'))
    )
    with op.batch_alter_table('controlled_pdf', schema=None) as batch_op:
        batch_op.create_index('ix_controlled_pdf_issuance_id', ['issuance_id'], unique=False)

    op.create_table('issued_form',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issuance_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('serial_no', sa.BigInteger(), nullable=False),
    sa.Column('serial', sa.String(length=20), nullable=False),
    sa.Column('copy_no', sa.Integer(), nullable=False),
    sa.Column('pages', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('issued', 'returned', 'voided', 'missing', 'replaced', name='formstate', native_enum=False, length=32), nullable=False),
    sa.Column('state_reason', sa.Text(), nullable=True),
    sa.Column('deviation_ref', sa.String(length=120), nullable=True),
    sa.Column('state_changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('state_changed_by', sa.String(length=64), nullable=True),
    sa.Column('replaces_id', sa.Integer(), nullable=True),
    sa.Column('pdf_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['issuance_id'], ['issuance.id'], name=op.f('fk_issued_form_issuance_id_issuance')),
    sa.ForeignKeyConstraint(['pdf_id'], ['controlled_pdf.id'], name=op.f('fk_issued_form_pdf_id_controlled_pdf')),
    sa.ForeignKeyConstraint(['replaces_id'], ['issued_form.id'], name=op.f('fk_issued_form_replaces_id_issued_form')),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_issued_form_site_id_site')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_issued_form')),
    sa.UniqueConstraint('site_id', 'serial_no', name='uq_issued_form_site_serial')
    )
    with op.batch_alter_table('issued_form', schema=None) as batch_op:
        batch_op.create_index('ix_issued_form_issuance_id', ['issuance_id'], unique=False)
        batch_op.create_index('ix_issued_form_serial', ['serial'], unique=False)
        batch_op.create_index('ix_issued_form_state', ['state'], unique=False)

    for table in ("serial_counter", "template", "template_version", "issuance", "issued_form", "stored_file",
                  "controlled_pdf"):
        protect.protect_controlled(table)


def downgrade() -> None:
    raise NotImplementedError("controlled data is never rolled back by dropping schema")
