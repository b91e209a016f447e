"""SQLAlchemy 2 typed ORM entities; importing this package registers every table on ``Base.metadata``."""

from app.enums import (
    Disposition,
    EntryKind,
    FileKind,
    FormState,
    IssuanceState,
    LinkMethod,
    PaperFindingKind,
    PaperFindingStatus,
    RecordState,
    Role,
    ScanOutcome,
    SignatureMeaning,
    SourceStatus,
    TemplateStatus,
    UserStatus,
)
from app.models import checks
from app.models.audit import AuditEvent
from app.models.base import Base, Controlled, UTCDateTime
from app.models.issuance import ControlledPdf, Issuance, IssuedForm, SerialCounter, StoredFile
from app.models.paper import PaperFinding, ScanBoxReading, ScanReading
from app.models.records import Entry, Record
from app.models.scans import ScanPage, ScanSource
from app.models.signatures import Signature
from app.models.site import Setting, Site
from app.models.templates import Template, TemplateVersion
from app.models.users import PasswordHistory, RoleGrant, User

# Issue 16's tables, one module per part (their classes are imported from the module itself).
from app.models import governance, incidents, lifecycle, stations  # noqa: E402,F401  isort: skip

# Every table is defined now: each gets its CHECK constraints (enum values, text lengths) from its columns.
checks.install(Base.metadata)

__all__ = [
    "AuditEvent", "Base", "Controlled", "UTCDateTime", "Role", "SignatureMeaning", "UserStatus",
    "Signature", "Setting", "Site", "PasswordHistory", "RoleGrant", "User", "FileKind", "FormState",
    "IssuanceState", "TemplateStatus", "ControlledPdf", "Issuance", "IssuedForm", "SerialCounter", "StoredFile",
    "Template", "TemplateVersion", "Disposition", "ScanOutcome", "LinkMethod", "SourceStatus", "ScanPage", "ScanSource",
    "EntryKind",
    "RecordState", "Entry", "Record",
    "PaperFindingKind", "PaperFindingStatus", "PaperFinding", "ScanBoxReading", "ScanReading",
]
