"""States and controlled lists shared by models and services."""

from __future__ import annotations

import enum


class Role(enum.Enum):
    ADMINISTRATOR = "administrator"
    DOCUMENT_CONTROL = "document_control"
    OPERATOR = "operator"
    QA = "qa"
    VIEWER = "viewer"

    @property
    def title(self) -> str:
        return _ROLE_TITLES[self]


_ROLE_TITLES = {
    Role.ADMINISTRATOR: "Administrator",
    Role.DOCUMENT_CONTROL: "Document Control",
    Role.OPERATOR: "Operator",
    Role.QA: "QA",
    Role.VIEWER: "Viewer",
}


class UserStatus(enum.Enum):
    ACTIVE = "active"
    LOCKED = "locked"
    DEACTIVATED = "deactivated"


class SignatureMeaning(enum.Enum):
    """The controlled list of what a signature means (21 CFR 11.50(a)(3))."""

    AUTHORED = "authored"
    REVIEWED = "reviewed"
    APPROVED = "approved"
    VERIFIED = "verified"
    ISSUED = "issued"
    RECONCILED = "reconciled"
    TRUE_COPY_VERIFIED = "true-copy-verified"

    @property
    def title(self) -> str:
        return self.value.replace("-", " ").capitalize()


class TemplateStatus(enum.Enum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    EFFECTIVE = "effective"
    SUPERSEDED = "superseded"
    RETIRED = "retired"


class IssuanceState(enum.Enum):
    OPEN = "open"
    RECONCILED = "reconciled"


class FormState(enum.Enum):
    ISSUED = "issued"
    RETURNED = "returned"
    VOIDED = "voided"
    MISSING = "missing"
    REPLACED = "replaced"


class FileKind(enum.Enum):
    ISSUED_PDF = "issued-pdf"
    SCAN = "scan"
    REPORT = "report"


class SourceStatus(enum.Enum):
    PENDING = "pending"  # stored, pages not read yet (an import that was interrupted resumes from here)
    READ = "read"
    UNREADABLE = "unreadable"


class ScanOutcome(enum.Enum):
    """What happened to one scanned page: linked, or the precise reason it is in the exceptions queue."""

    LINKED = "linked"
    NO_CODE = "no-code"
    FOREIGN_CODE = "foreign-code"
    TAG_INVALID = "tag-invalid"
    UNKNOWN_SERIAL = "unknown-serial"
    OTHER_SITE = "other-site"
    PAGE_OUT_OF_RANGE = "page-out-of-range"
    NOT_RETURNABLE = "form-not-returnable"
    POSSIBLE_COPY = "possible-copy"
    CONFLICTING_CODES = "conflicting-codes"
    BLANK = "blank"
    UNREADABLE_PAGE = "unreadable-page"
    NOT_CONTROLLED = "not-a-controlled-form"
    # SC-03: the page was identified but its capture is below the site's specification (resolution, colour):
    # never linked; a rescan that meets the specification links and closes it as RESCANNED.
    BELOW_SPEC = "below-capture-spec"
    RESCANNED = "rescanned"

    @property
    def title(self) -> str:
        return _OUTCOME_TITLES[self]


_OUTCOME_TITLES = {
    ScanOutcome.LINKED: "Linked",
    ScanOutcome.NO_CODE: "No code found",
    ScanOutcome.FOREIGN_CODE: "Foreign code (not a Formtrail form)",
    ScanOutcome.TAG_INVALID: "Code does not verify (possible forgery)",
    ScanOutcome.UNKNOWN_SERIAL: "Unknown serial",
    ScanOutcome.OTHER_SITE: "Form of another site",
    ScanOutcome.PAGE_OUT_OF_RANGE: "Page number out of range",
    ScanOutcome.NOT_RETURNABLE: "Form not in a returnable state",
    ScanOutcome.POSSIBLE_COPY: "Page already returned: possible uncontrolled copy",
    ScanOutcome.CONFLICTING_CODES: "Codes of different forms on one page",
    ScanOutcome.BLANK: "Blank page",
    ScanOutcome.UNREADABLE_PAGE: "Page cannot be read",
    ScanOutcome.NOT_CONTROLLED: "Not a controlled form",
    ScanOutcome.BELOW_SPEC: "Below the capture specification (rescan)",
    ScanOutcome.RESCANNED: "Replaced by a rescan that meets the capture specification",
}


class LinkMethod(enum.Enum):
    """How a scan page came to be linked to a page of an issued form."""

    AUTO = "auto"  # by its QR code, at import or when decoded again
    MANUAL = "manual"  # by a person, with a reason (an exception resolved)


class Disposition(enum.Enum):
    ARCHIVED = "archived"
    DESTROYED = "destroyed"


class RecordState(enum.Enum):
    OPEN = "open"
    TRANSCRIBED = "transcribed"
    VERIFIED = "verified"
    REVIEWED = "reviewed"
    APPROVED = "approved"


class EntryKind(enum.Enum):
    ORIGINAL = "original"
    CORRECTION = "correction"  # changed in Formtrail, with a reason
    PAPER_CORRECTION = "paper-correction"  # a GDP correction made by hand on the sheet, captured as such


class PaperFindingKind(enum.Enum):
    """A good-documentation defect the scan reader found on a returned sheet (paper review by exception)."""

    REQUIRED_BLANK = "required-blank"  # a required entry left empty ("N/A" written is not empty)
    MISSING_DONE_BY = "missing-done-by"  # an entry made without its "done by" initials/date
    MISSING_CHECKED_BY = "missing-checked-by"  # a critical entry without the second person's "checked by"
    CHOICE_CONFLICT = "choice-conflict"  # two or more options ticked, or none where one is required
    SIGNATURE_EMPTY = "signature-empty"  # a wet-signature block left empty
    UNCLEAR_BOX = "unclear-box"  # the reader cannot tell: a person looks
    PAGE_UNREAD = "page-unread"  # the page could not be matched to its template: nothing on it was checked
    # ES-08: the sheet came back on an older template version than the one effective when it was scanned.
    OLDER_VERSION = "older-template-version"

    @property
    def title(self) -> str:
        return _FINDING_TITLES[self]


_FINDING_TITLES = {
    PaperFindingKind.REQUIRED_BLANK: "Required entry blank",
    PaperFindingKind.MISSING_DONE_BY: "Done by missing",
    PaperFindingKind.MISSING_CHECKED_BY: "Checked by missing",
    PaperFindingKind.CHOICE_CONFLICT: "Options ticked wrongly",
    PaperFindingKind.SIGNATURE_EMPTY: "Signature missing",
    PaperFindingKind.UNCLEAR_BOX: "Unclear: look at the scan",
    PaperFindingKind.PAGE_UNREAD: "Page not read: check it by eye",
    PaperFindingKind.OLDER_VERSION: "Older template version",
}


class PaperFindingStatus(enum.Enum):
    OPEN = "open"  # waiting for QA
    RESOLVED = "resolved"  # QA resolved it with a reason or a deviation reference
    SUPERSEDED = "superseded"  # a later reading of the page (or a newer scan of it) no longer finds it
