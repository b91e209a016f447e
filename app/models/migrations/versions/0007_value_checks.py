"""value checks: CHECK constraints on every enum-like column and every bounded text, on both engines

Revision ID: 0007
Revises: 0006
"""
from __future__ import annotations

from app.models import checks_ddl
from app.models.checks import ColumnCheck

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

# The models as they were at this revision (a migration never follows later model changes): per table, each
# checked column with its closed set of values, or its maximum length in characters. Text limits are the
# services' (app.services.core.limits); String(n) lengths are the columns' own, which PostgreSQL enforced already.
CHECKS: dict[str, dict[str, tuple[str, ...] | int]] = {
    "app_user": {"username": 64, "full_name": 200, "status": ("active", "locked", "deactivated"),
                 "deactivation_reason": 2000},
    "audit_event": {"username": 64, "full_name": 200, "workstation": 200, "action": 40, "entity": 64,
                    "entity_id": 128, "field": 64, "prev_hash": 64, "hash": 64},
    "controlled_pdf": {"sha256": 64, "first_serial": 20, "last_serial": 20, "released_by": 64},
    "issuance": {"purpose": 300, "reference": 120, "issued_to": 200, "issued_by": 64, "issued_by_name": 200,
                 "state": ("open", "reconciled")},
    "issued_form": {"serial": 20, "state": ("issued", "returned", "voided", "missing", "replaced"),
                    "state_reason": 2000, "deviation_ref": 120, "state_changed_by": 64, "true_copy_verified_by": 64,
                    "paper_disposition": ("archived", "destroyed"), "disposition_by": 64},
    "record": {"serial": 20, "state": ("open", "transcribed", "verified", "reviewed", "approved"),
               "created_by": 64},
    "record_entry": {"field_name": 64, "value": 4000, "kind": ("original", "correction", "paper-correction"),
                     "reason": 2000, "entered_by": 64, "source": ("scan", "direct"), "late_reason": 2000,
                     "justification": 2000, "verified_by": 64},
    "role_grant": {"role": ("administrator", "document_control", "operator", "qa", "viewer"),
                   "granted_by": 64, "revoked_by": 64},
    "scan_page": {"colour_mode": 20, "method": 40,
                  "outcome": ("linked", "no-code", "foreign-code", "tag-invalid", "unknown-serial", "other-site",
                              "page-out-of-range", "form-not-returnable", "possible-copy", "conflicting-codes",
                              "blank", "unreadable-page", "not-a-controlled-form"),
                  "link_method": ("auto", "manual"), "linked_by": 64, "resolution": 2000, "resolved_by": 64},
    "scan_source": {"sha256": 64, "media_type": 40, "origin": ("file", "folder", "drop", "hot-folder"),
                    "status": ("pending", "read", "unreadable"), "error_code": 40, "imported_by": 64,
                    "workstation": 200},
    "setting": {"key": 80, "changed_by": 64},
    "signature": {"entity": 64, "entity_id": 128, "activity": 160,
                  "meaning": ("authored", "reviewed", "approved", "verified", "issued", "reconciled",
                              "true-copy-verified"),
                  "signer_username": 64, "signer_full_name": 200, "content_hash": 64, "binding": 64},
    "site": {"code": 16, "name": 200, "qr_key": 128},
    "stored_file": {"sha256": 64, "kind": ("issued-pdf", "scan", "report"), "media_type": 80, "stored_by": 64},
    "template": {"code": 40, "title": 200, "department": 100, "created_by": 64},
    "template_version": {"status": ("draft", "in_review", "effective", "superseded", "retired"), "title": 200,
                         "layout_sha256": 64, "change_reason": 2000, "author_username": 64, "approved_by": 64},
}


def column_checks() -> list[ColumnCheck]:
    return [ColumnCheck(table, column, values=rule) if isinstance(rule, tuple) else
            ColumnCheck(table, column, max_length=rule)
            for table, columns in CHECKS.items() for column, rule in columns.items()]


def upgrade() -> None:
    checks_ddl.add(column_checks())


def downgrade() -> None:
    checks_ddl.drop(column_checks())
