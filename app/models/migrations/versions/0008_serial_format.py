"""serial format: each issuance keeps the format its serial labels were printed with

Revision ID: 0008
Revises: 0007
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.models import checks_ddl
from app.models.checks import ColumnCheck

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

# The column's length check, as 0007 gives every bounded text (app.models.checks).
CHECK = ColumnCheck("issuance", "serial_format", max_length=80)


def upgrade() -> None:
    # NULL: issued before the setting issuance.serial_format existed; those copies print the bare number.
    # A plain ADD COLUMN on both engines (a batch rebuild would drop SQLite's protection triggers); the CHECK is
    # then added the way 0007 adds them (on SQLite a rebuild that keeps the table's triggers and indexes).
    op.add_column("issuance", sa.Column("serial_format", sa.String(length=80), nullable=True))
    checks_ddl.add([CHECK])


def downgrade() -> None:
    checks_ddl.drop([CHECK])
    op.execute('ALTER TABLE "issuance" DROP COLUMN "serial_format"')  # SQLite >= 3.35 drops it in place
