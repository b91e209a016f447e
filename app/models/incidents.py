"""The incident log (SE-03, Annex 11 §13): integrity failures, failed backups and test-restores, clock anomalies,
lockouts. An incident is opened by the system (never by hand, so none is forgotten), counts its repeats instead of
adding a row per repeat, and is closed only by QA with an assessment (root cause), the action taken (CAPA), a
closing reason and an e-signature. Incidents are controlled data: audited, never deleted."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, Controlled, value_enum
from app.models.checks import at_most

TEXT_LIMIT = 4000


class IncidentKind(enum.Enum):
    CLOCK_ANOMALY = "clock-anomaly"
    VERIFY_FAILED = "verify-failed"
    BACKUP_FAILED = "backup-failed"
    RESTORE_TEST_FAILED = "restore-test-failed"
    LOCKOUT = "lockout"
    CRASH = "crash"

    @property
    def title(self) -> str:
        return {"clock-anomaly": "Clock anomaly", "verify-failed": "Integrity check failed",
                "backup-failed": "Backup failed", "restore-test-failed": "Test-restore failed",
                "lockout": "Account locked out", "crash": "Application crash"}[self.value]


class IncidentStatus(enum.Enum):
    OPEN = "open"
    CLOSED = "closed"


class Incident(Controlled, Base):
    """One incident: what happened (``kind``, ``subject``: the user, workstation or backup it is about), how often
    (``occurrences``, ``last_seen_at``) and, once QA closed it, why it happened and what was done."""

    __tablename__ = "incident"
    __audit_entity__ = "incident"
    __audit_key__ = "audit_label"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[IncidentKind] = mapped_column(value_enum(IncidentKind))
    subject: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(Text, info=at_most(TEXT_LIMIT))
    status: Mapped[IncidentStatus] = mapped_column(value_enum(IncidentStatus))
    opened_at: Mapped[dt.datetime]
    opened_by: Mapped[str] = mapped_column(String(64))
    first_event_seq: Mapped[int | None]  # the audit event that opened it
    occurrences: Mapped[int]
    last_seen_at: Mapped[dt.datetime]
    assessment: Mapped[str | None] = mapped_column(Text, info=at_most(TEXT_LIMIT))
    capa: Mapped[str | None] = mapped_column(Text, info=at_most(TEXT_LIMIT))
    closed_at: Mapped[dt.datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(64))
    closing_reason: Mapped[str | None] = mapped_column(Text, info=at_most(TEXT_LIMIT))
    signature_id: Mapped[int | None]  # the closing e-signature (signature.id)

    @property
    def audit_label(self) -> str:
        """"INC-7": the number QA quotes in the deviation system."""
        return f"INC-{self.id}"

    __table_args__ = (
        Index("ix_incident_status", "status"),
        Index("ix_incident_kind_subject", "kind", "subject"),
    )
