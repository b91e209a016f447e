"""keyed integrity: audit rows, signatures and issuances say which key version tags them

Revision ID: 0005
Revises: 0004
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL: written before keys left the database (plain SHA-256 audit rows, unbound signatures, and
    # issuances tagged with the QR key that used to be a column of the site table).
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key_version', sa.Integer(), nullable=True))
    with op.batch_alter_table('signature', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key_version', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('binding', sa.String(length=64), nullable=True))
    with op.batch_alter_table('issuance', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key_version', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('issuance', schema=None) as batch_op:
        batch_op.drop_column('key_version')
    with op.batch_alter_table('signature', schema=None) as batch_op:
        batch_op.drop_column('binding')
        batch_op.drop_column('key_version')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_column('key_version')
