"""extra pages (BF-02), capture specification and device (SC-01, SC-03), true-copy checklist (SC-02), template version findings (ES-08)

Revision ID: 0013
Revises: 0012
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.models import checks_ddl, protect, server_trail
from app.models.checks import ColumnCheck

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

# The closed sets as 0007 / 0009 checked them, and as this revision checks them (a migration never follows later
# model changes): two new scan outcomes (SC-03) and one new paper finding kind (ES-08).
OUTCOMES = ("linked", "no-code", "foreign-code", "tag-invalid", "unknown-serial", "other-site", "page-out-of-range",
            "form-not-returnable", "possible-copy", "conflicting-codes", "blank", "unreadable-page",
            "not-a-controlled-form")
NEW_OUTCOMES = (*OUTCOMES, "below-capture-spec", "rescanned")
KINDS = ("required-blank", "missing-done-by", "missing-checked-by", "choice-conflict", "signature-empty",
         "unclear-box", "page-unread")
NEW_KINDS = (*KINDS, "older-template-version")

OLD_SETS = [ColumnCheck("scan_page", "outcome", values=OUTCOMES), ColumnCheck("paper_finding", "kind", values=KINDS)]
NEW_SETS = [ColumnCheck("scan_page", "outcome", values=NEW_OUTCOMES),
            ColumnCheck("paper_finding", "kind", values=NEW_KINDS)]
# The new columns' and the new table's length checks (app.models.checks).
COLUMNS = [ColumnCheck("issued_form", "true_copy_checklist", max_length=500),
           ColumnCheck("scan_source", "device", max_length=200)]
ADDITION = [ColumnCheck("form_page_addition", column, max_length=length)
            for column, length in (("serial", 20), ("reason", 2000), ("added_by", 64), ("added_by_name", 200))]


def upgrade() -> None:
    # Plain ADD COLUMNs (a batch rebuild would drop SQLite's protection triggers); their CHECKs are added the
    # way 0007 adds them (on SQLite a rebuild that keeps the table's triggers and indexes).
    op.add_column("issued_form", sa.Column("true_copy_checklist", sa.Text(), nullable=True))
    op.add_column("scan_source", sa.Column("device", sa.String(length=200), nullable=True))

    op.create_table('form_page_addition',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issued_form_id', sa.Integer(), nullable=False),
    sa.Column('serial', sa.String(length=20), nullable=False),
    sa.Column('first_page', sa.Integer(), nullable=False),
    sa.Column('last_page', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('added_by', sa.String(length=64), nullable=False),
    sa.Column('added_by_name', sa.String(length=200), nullable=False),
    sa.Column('pdf_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['issued_form_id'], ['issued_form.id'],
                            name=op.f('fk_form_page_addition_issued_form_id_issued_form')),
    sa.ForeignKeyConstraint(['pdf_id'], ['controlled_pdf.id'],
                            name=op.f('fk_form_page_addition_pdf_id_controlled_pdf')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_form_page_addition'))
    )
    op.create_index('ix_form_page_addition_issued_form_id', 'form_page_addition', ['issued_form_id'], unique=False)

    # The closed sets that grew: the old constraint goes, the new one (same name) comes; existing rows are
    # checked against the new set first, as every added CHECK is.
    checks_ddl.drop(OLD_SETS)
    checks_ddl.add([*NEW_SETS, *COLUMNS, *ADDITION])
    protect.protect_controlled("form_page_addition")
    server_trail.track("form_page_addition")


def downgrade() -> None:
    server_trail.untrack("form_page_addition")
    op.drop_table("form_page_addition")  # its indexes and triggers go with it
    # Rows with the new values cannot go back: the old constraint refuses them (ValuesRefused, nothing changed).
    checks_ddl.drop([*NEW_SETS, *COLUMNS])
    checks_ddl.add(OLD_SETS)
    op.execute('ALTER TABLE "scan_source" DROP COLUMN "device"')  # SQLite >= 3.35 drops it in place
    op.execute('ALTER TABLE "issued_form" DROP COLUMN "true_copy_checklist"')
