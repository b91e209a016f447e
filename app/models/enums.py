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
