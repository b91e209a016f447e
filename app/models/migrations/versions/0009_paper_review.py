"""paper review by exception: readings of every box of a linked scan page, and the GDP findings QA resolves

Revision ID: 0009
Revises: 0008
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.models import checks_ddl, protect, server_trail
from app.models.checks import ColumnCheck

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

KINDS = ("required-blank", "missing-done-by", "missing-checked-by", "choice-conflict", "signature-empty",
         "unclear-box", "page-unread")
STATUSES = ("open", "resolved", "superseded")
# The new tables' CHECK constraints as the models ask for them at this revision (app.models.checks): values of
# the closed sets, lengths of the bounded texts.
CHECKS: dict[str, dict[str, tuple[str, ...] | int]] = {
    "scan_reading": {"error": 2000, "read_by": 64},
    "scan_box_reading": {"field_name": 64, "part": 64, "state": ("blank", "ink", "checked", "unchecked", "unclear"),
                         "note": 500},
    "paper_finding": {"serial": 20, "field_name": 64, "part": 64,
                      "kind": KINDS, "detail": 2000, "status": STATUSES, "opened_by": 64,
                      "resolved_by": 64, "resolution": 2000, "deviation_ref": 120},
}


def column_checks() -> list[ColumnCheck]:
    return [ColumnCheck(table, column, values=rule) if isinstance(rule, tuple) else
            ColumnCheck(table, column, max_length=rule)
            for table, columns in CHECKS.items() for column, rule in columns.items()]


def upgrade() -> None:
    op.create_table('scan_reading',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scan_page_id', sa.Integer(), nullable=False),
    sa.Column('page', sa.Integer(), nullable=False),
    sa.Column('residual_mm', sa.Double(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_by', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['scan_page_id'], ['scan_page.id'], name=op.f('fk_scan_reading_scan_page_id_scan_page')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scan_reading'))
    )
    op.create_index('ix_scan_reading_scan_page_id', 'scan_reading', ['scan_page_id'], unique=False)

    op.create_table('scan_box_reading',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reading_id', sa.Integer(), nullable=False),
    sa.Column('field_name', sa.String(length=64), nullable=True),
    sa.Column('part', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('confidence', sa.Double(), nullable=False),
    sa.Column('ink', sa.Double(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['reading_id'], ['scan_reading.id'],
                            name=op.f('fk_scan_box_reading_reading_id_scan_reading')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scan_box_reading'))
    )
    op.create_index('ix_scan_box_reading_reading_id', 'scan_box_reading', ['reading_id'], unique=False)

    op.create_table('paper_finding',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scan_page_id', sa.Integer(), nullable=False),
    sa.Column('issued_form_id', sa.Integer(), nullable=False),
    sa.Column('serial', sa.String(length=20), nullable=False),
    sa.Column('page', sa.Integer(), nullable=False),
    sa.Column('field_name', sa.String(length=64), nullable=True),
    sa.Column('part', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.Enum(*KINDS, name='paperfindingkind', native_enum=False, length=32), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum(*STATUSES, name='paperfindingstatus', native_enum=False, length=32),
              nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('opened_by', sa.String(length=64), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_by', sa.String(length=64), nullable=True),
    sa.Column('resolution', sa.Text(), nullable=True),
    sa.Column('deviation_ref', sa.String(length=120), nullable=True),
    sa.ForeignKeyConstraint(['issued_form_id'], ['issued_form.id'],
                            name=op.f('fk_paper_finding_issued_form_id_issued_form')),
    sa.ForeignKeyConstraint(['scan_page_id'], ['scan_page.id'], name=op.f('fk_paper_finding_scan_page_id_scan_page')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_paper_finding'))
    )
    op.create_index('ix_paper_finding_issued_form_status', 'paper_finding', ['issued_form_id', 'status'],
                    unique=False)
    op.create_index('ix_paper_finding_scan_page_id', 'paper_finding', ['scan_page_id'], unique=False)
    op.create_index('ix_paper_finding_status', 'paper_finding', ['status'], unique=False)

    # The CHECKs the way 0007 adds them (on SQLite a rebuild of the still empty tables), then the protection:
    # findings are controlled data (never deleted; written on the PostgreSQL server trail too); readings are
    # derived data, kept as read (a page read again gets a new reading), so neither changed nor deleted.
    checks_ddl.add(column_checks())
    protect.protect_controlled("paper_finding")
    for table in ("scan_reading", "scan_box_reading"):
        protect.refuse(table, ("UPDATE", "DELETE", "TRUNCATE"), "a reading is kept as read; a new reading is added")
    server_trail.track("paper_finding")


def downgrade() -> None:
    server_trail.untrack("paper_finding")
    for table in ("paper_finding", "scan_box_reading", "scan_reading"):
        op.drop_table(table)  # its indexes and triggers go with it
