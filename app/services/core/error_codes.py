"""Stable machine names of errors, beside their human text (``FormtrailError.code``).

Both the services and the UI import this module, so it imports nothing of SQLAlchemy or Qt. The values are
strings (a StrEnum) because they are also written to files and compared by older code and scripts: an
existing value never changes; a new case of an error gets a new member."""

from __future__ import annotations

import enum


class ErrorCode(enum.StrEnum):
    # The general kinds (the defaults of the classes in app/services/core/errors.py).
    ERROR = "error"
    NOT_FOUND = "not-found"
    INVALID_INPUT = "invalid-input"
    NOT_ALLOWED_NOW = "not-allowed-now"
    RULE_REFUSED = "rule-refused"
    ACCESS_DENIED = "access-denied"
    UNKNOWN_STORED_VALUE = "unknown-stored-value"
    # Input a record entry or correction needs in addition: the UI opens a line for it.
    JUSTIFICATION_REQUIRED = "justification-required"
    LATE_REASON_REQUIRED = "late-reason-required"
    NA_REASON_REQUIRED = "na-reason-required"
    # GMP refusals: the same person never takes two roles in one activity.
    SEPARATION_OF_DUTIES = "separation-of-duties"
    SELF_VERIFICATION = "self-verification"
    # A record signed before its time: not complete, verified, reviewed, or its issuance not reconciled.
    RECORD_NOT_READY = "record-not-ready"
    ISSUANCE_NOT_RECONCILED = "issuance-not-reconciled"
    # Closing a reconciliation refused by a site setting: returned forms whose true copies or records are still to
    # do, or a closer who voided or declared missing a form of the issuance.
    TRUE_COPIES_UNVERIFIED = "true-copies-unverified"
    RECORDS_NOT_TRANSCRIBED = "records-not-transcribed"
    CLOSER_NOT_INDEPENDENT = "closer-not-independent"
    # Codes in use before this enum existed (keep their values).
    TEXT_TOO_LONG = "text-too-long"
    ALREADY_RELEASED = "already-released"
    FILE_EXISTS = "file-exists"
    CANNOT_WRITE_FILE = "cannot-write-file"
    NOTHING_TO_IMPORT = "nothing-to-import"
    REASON_REQUIRED = "reason-required"
    FOLDER_NOT_EMPTY = "folder-not-empty"
    STORAGE_FAILED = "storage-failed"
    STORED_FILE_CORRUPT = "stored-file-corrupt"
    ISSUER_BUSY = "issuer-busy"
    ISSUE_CANCELLED = "issue-cancelled"
    SERIALS_MOVED = "serials-moved"
    KEYS_MISSING = "keys-missing"
    # Identity on paper: a site without a name; "issued to" outside the site's list when free text is not allowed.
    SITE_NAME_REQUIRED = "site-name-required"
    ISSUED_TO_NOT_LISTED = "issued-to-not-listed"
    # Authoring in the app: a new template's code already taken or not a valid code; a numbered preview cancelled.
    TEMPLATE_EXISTS = "template-exists"
    TEMPLATE_CODE_INVALID = "template-code-invalid"
    PREVIEW_CANCELLED = "preview-cancelled"
    # A scanned PREVIEW print offered as a controlled sheet (by hand: intake never links one).
    PREVIEW_NOT_CONTROLLED = "preview-not-controlled"
    # A batch act (many true copies, pages or values at once) given no item.
    NOTHING_SELECTED = "nothing-selected"
    # The serial label setting: a format whose labels would not read back as their number; a label typed with the
    # number of one form and the prefix of another (a mistyped number, caught by its template or site part).
    SERIAL_FORMAT_INVALID = "serial-format-invalid"
    SERIAL_LABEL_MISMATCH = "serial-label-mismatch"
    # Paper review by exception: a record approved while its sheets still have open paper findings; a finding
    # resolved that is no longer open (resolved already, or superseded by a later reading of its page).
    PAPER_FINDINGS_OPEN = "paper-findings-open"
    FINDING_NOT_OPEN = "finding-not-open"
    # Issue 16 / identity (training, workstations, dormant accounts).
    NOT_QUALIFIED = "not-qualified"  # no identity check / accountability statement / current training on record
    WORKSTATION_NOT_REGISTERED = "workstation-not-registered"  # an unregistered or retired station: read-only
    WORKSTATION_NAME_TAKEN = "workstation-name-taken"
    QUALIFICATION_NOT_CURRENT = "qualification-not-current"  # revoking a qualification already revoked
    LAST_ADMINISTRATOR = "last-administrator"  # the last active administrator is never disabled as dormant
    # Issue 16 / incidents, schedule, restore approval.
    # An incident closed without its assessment (root cause) or closing reason, or no longer open; an in-place
    # restore without a second person's approval, approved by the restorer, or by someone not allowed to; a
    # test-restore with no backup to test.
    INCIDENT_ASSESSMENT_REQUIRED = "incident-assessment-required"
    INCIDENT_REASON_REQUIRED = "incident-reason-required"
    INCIDENT_NOT_OPEN = "incident-not-open"
    RESTORE_APPROVAL_REQUIRED = "restore-approval-required"
    RESTORE_APPROVER_SAME_PERSON = "restore-approver-same-person"
    RESTORE_APPROVER_NOT_ALLOWED = "restore-approver-not-allowed"
    NO_BACKUP_TO_TEST = "no-backup-to-test"
    # Issue 16 / retention, holds, disposal, invalidation.
    # Disposal refused: an item not past its retention, or under an active legal hold; a hold released twice; a
    # disposal request approved twice; a value invalidated that is not a current result.
    RETENTION_NOT_EXPIRED = "retention-not-expired"
    LEGAL_HOLD_ACTIVE = "legal-hold-active"
    HOLD_NOT_ACTIVE = "hold-not-active"
    DISPOSAL_NOT_PENDING = "disposal-not-pending"
    RESULT_NOT_CURRENT = "result-not-current"
    # Issue 16 / paper intake (extra pages, capture spec, checklist, versions).
    FORM_NOT_IN_USE = "form-not-in-use"  # extra pages only for a form still out (issued, its issuance open)
    TOO_MANY_PAGES = "too-many-pages"  # extra pages beyond what one form may have
    BELOW_CAPTURE_SPEC = "below-capture-spec"  # a page below the capture specification is rescanned, not linked
    CHECKLIST_INCOMPLETE = "true-copy-checklist-incomplete"  # a true copy signed without every item confirmed
    # Issue 16 / signed outputs (PDF/A, PAdES, print copies).
    # The site's signing certificate: missing from the key folder (outputs cannot be signed), or a PKCS#12 file
    # offered to replace it that cannot be read, has no key, or whose key does not match its certificate.
    SIGNING_CERTIFICATE_MISSING = "signing-certificate-missing"
    CERTIFICATE_IMPORT_INVALID = "certificate-import-invalid"
    # Issue 16 / governance (configuration approval, periodic reviews).
    CONFIG_CHANGE_PENDING = "config-change-pending"  # another change of the same setting waits for QA
    CONFIG_CHANGE_NOT_PENDING = "config-change-not-pending"  # approving or rejecting a change already decided
    REVIEW_ALREADY_SIGNED = "review-already-signed"
    # Issue 16 / validation pack.
    VALIDATION_CHECKLIST_MISSING = "validation-checklist-missing"  # REQUIREMENTS.md not found or not a table
    VALIDATION_TESTS_MISSING = "validation-tests-missing"  # no test suite beside this build (a packaged build)
